#!/usr/bin/env bash
# tig benchmark: tig vs nginx (static files) vs redis, one run, on 127.0.0.1.
#
#   bench/run.sh                 # everything (~2-3 minutes with the defaults)
#   bench/run.sh get latency     # only some benchmarks (bench/run.sh --help)
#   BENCH_SECONDS=5 bench/run.sh # shorter runs
#   bench/run.sh scaling [--rebalance]  # bench/cluster.py: 1/2/4/8 local pods
#   bench/run.sh rotation        # the operator rotating 5 local pods under load (~1 min)
#
# Installs nginx-light, redis-server and wrk when missing (Debian), builds the
# release binary first only with BENCH_BUILD=1, then runs bench/bench.py with
# TIG_BIN (default .build/release/tig), which starts and stops every server
# itself and writes the report to stdout and bench/out/latest.md. Not part of CI.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

build_if_asked() {
    # The release build is not started implicitly (builds on this 2-core
    # machine are scheduled by hand); BENCH_BUILD=1 asks for it.
    if [[ "${BENCH_BUILD:-0}" == 1 ]]; then
        echo "bench: swift build -c release --product tig" >&2
        (cd "$repo" && swift build -c release --product tig >&2)
    fi
}

# `scaling`: the cluster scaling benchmark (bench/cluster.py; only python3 and
# tig, none of the tools below). TIG_BIN defaults there to .build/release/tig,
# else .build-test/release/tig.
if [[ "${1:-}" == scaling ]]; then
    shift
    build_if_asked
    exec python3 "$here/cluster.py" "$@"
fi

# `rotation`: the real operator against the API emulator rotating 5 pods of
# the local harness under steady load (e2e/local/test_rotation.py, which also
# checks make-before-break); prints the operator README's table row.
if [[ "${1:-}" == rotation ]]; then
    shift
    build_if_asked
    report=$(mktemp)
    trap 'rm -f "$report"' EXIT
    export TIG_BIN="${TIG_BIN:-$repo/.build/release/tig}"
    export TIG_OPERATOR_BIN="${TIG_OPERATOR_BIN:-$repo/.build/release/tig-operator}"
    (cd "$repo" && TIG_ROTATION_REPORT="$report" python3 -m pytest -q -p no:cacheprovider e2e/local/test_rotation.py)
    echo "| pods | rotation (first surge → last original gone) | fewest Ready | most replicas | operator API requests | client requests |"
    echo "| --- | --- | --- | --- | --- | --- |"
    cat "$report"
    exit 0
fi

missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
command -v wrk >/dev/null || missing+=(wrk)
command -v openssl >/dev/null || missing+=(openssl)
command -v python3 >/dev/null || missing+=(python3)

policy_created=""
cleanup() {
    if [[ -n "$policy_created" ]]; then
        rm -f /usr/sbin/policy-rc.d
    fi
}
trap cleanup EXIT

if ((${#missing[@]})); then
    echo "bench: installing ${missing[*]}" >&2
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo=(sudo)
    fi
    # Keep the packages' post-install scripts from starting system-wide
    # nginx/redis services (they would listen on all interfaces).
    if [[ ! -e /usr/sbin/policy-rc.d && $(id -u) -eq 0 ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_created=1
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >&2
fi

build_if_asked
export TIG_BIN="${TIG_BIN:-$repo/.build/release/tig}"

cleanup
policy_created=""
exec python3 "$here/bench.py" "$@"
