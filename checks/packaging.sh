#!/usr/bin/env bash
# Offline static checks of the Kubernetes packaging: charts/tig (helm lint
# --strict, Kubernetes 1.28 and 1.33 schemas, the chart's contract), operator/,
# manifests/ drift, the chart README's values table, the Dockerfiles
# (hadolint), checkov, yamllint and shellcheck. Installs its tools on first
# use; exits 1 if any check fails. See checks/packaging_checks.py.
#
#   checks/packaging.sh
set -euo pipefail
# shellcheck source=checks/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

ensure_debian_tools shellcheck:shellcheck git:git
ensure_python_tools
exec "$TIG_CHECKS_PYTHON" "$TIG_REPO/checks/packaging_checks.py" "$@"
