#!/usr/bin/env bash
# Regenerates manifests/tig.yaml: charts/tig rendered with its default values
# (release "tig", namespace "default"). checks/packaging.sh fails when the
# file and the chart disagree.
set -euo pipefail
# shellcheck source=checks/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/../checks/tools.sh"

ensure_python_tools
exec "$TIG_CHECKS_PYTHON" "$TIG_REPO/checks/render.py" manifests
