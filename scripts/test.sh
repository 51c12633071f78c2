#!/usr/bin/env bash
# The whole test suite: builds once (debug), then runs every suite on that
# build. Run as root: the suites mount tmpfs and create network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== build"
swift build --build-tests 2>&1 | grep -v "found 1 file(s) which are unhandled" | tail -n 3

echo "== unit tests (Swift Testing)"
swift test --skip-build --disable-xctest

echo "== Kubernetes API emulator"
python3 -m pytest -q -p no:cacheprovider e2e/kubeapi

export TIG_BIN="$PWD/.build/debug/tig"
echo "== pod server (real process, real sockets)"
python3 -m pytest -q -p no:cacheprovider e2e/pod

echo "== client CLI (real tig processes)"
python3 -m pytest -q -p no:cacheprovider e2e/client

echo "== packaging: chart, manifests, Dockerfiles (offline static checks)"
checks/packaging.sh

echo "== container: the runtime image built with podman from this build, run and exercised"
checks/container-smoke.sh .build/debug
