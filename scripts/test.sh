#!/usr/bin/env bash
# The whole test suite: builds once, then runs every suite on that build.
# Run as root: the suites mount tmpfs, create network namespaces and run
# containers.
#
# The build is optimised (-c release) with testable imports enabled, in its
# own scratch directory: the multi-pod suites time their peers (probes
# answer within 250 ms), which an unoptimised build on two shared cores does
# not reliably do, and one build serves the unit tests and every suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build=(-c release --scratch-path .build-test)
echo "== build"
scripts/stamp-revision.sh
swift build "${build[@]}" --build-tests -Xswiftc -enable-testing 2>&1 \
  | grep -v "found 1 file(s) which are unhandled" | tail -n 3
bin=.build-test/release

# A suite that hangs must fail with its name, not run into CI's limit and
# take every other result with it. KILL: the test runner ignores TERM.
bounded() {
  local limit=$1; shift
  timeout -s KILL "$limit" "$@" || {
    local rc=$?
    [ "$rc" -eq 137 ] && echo "timed out after ${limit}s: $*" >&2
    return "$rc"
  }
}

echo "== unit and operator integration tests (Swift Testing)"
bounded 1200 swift test "${build[@]}" --skip-build --disable-xctest

export TIG_BIN="$PWD/$bin/tig" TIG_OPERATOR_BIN="$PWD/$bin/tig-operator"

echo "== Kubernetes API emulator"
bounded 600 python3 -m pytest -q -p no:cacheprovider e2e/kubeapi

echo "== pod server (real process, real sockets)"
bounded 900 python3 -m pytest -q -p no:cacheprovider e2e/pod

echo "== client CLI (real tig processes)"
bounded 600 python3 -m pytest -q -p no:cacheprovider e2e/client

echo "== local cluster: pods in network namespaces, dnsmasq, the operator against the emulator"
bounded 1200 python3 -m pytest -q -p no:cacheprovider e2e/local

echo "== packaging: chart, manifests, Dockerfiles (offline static checks)"
checks/packaging.sh

echo "== container: the runtime image built with podman from this build, run and exercised"
checks/container-smoke.sh "$bin"

echo "== sanitizers: fuzzing the front's parsers, unit tests under ASan"
scripts/sanitize.sh
