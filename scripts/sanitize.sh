#!/usr/bin/env bash
# Sanitizers, the last stage of scripts/test.sh (issue 11):
#
# 1. libFuzzer on the request-facing parsers of the front (Sources/tig-fuzz:
#    request targets and queries, block paths, burst lists, API key
#    credentials, peer proofs), built with -sanitize=fuzzer,address and run
#    for TIG_FUZZ_SECONDS (60); the committed seeds in fuzz/corpus (the
#    regress-* ones are past findings) are run first. Any crash, trap,
#    broken property or ASan report fails the stage, and the input is kept
#    in .build-fuzz/findings/.
# 2. The unit tests of TigAddress, TigStore, TigHTTP and TigCluster under
#    AddressSanitizer (a debug build of its own).
#
# Each build has its own scratch directory, so neither disturbs the main
# build in .build-test. Linked with lld: gold fails on libFuzzer's archive
# (an internal error), and lld lets SwiftPM's renamed main stand.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${TIG_FUZZ_SECONDS:-60}
unhandled="found 1 file(s) which are unhandled"
took() { echo "   ($((SECONDS - $1)) s)"; }

start=$SECONDS
echo "-- fuzz: build tig-fuzz (-sanitize=fuzzer,address, release)"
swift build -c release --scratch-path .build-fuzz --product tig-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld 2>&1 \
  | grep -v "$unhandled" | tail -n 3
took "$start"

start=$SECONDS
echo "-- fuzz: ${fuzz_seconds}s on the front's parsers, seeds from fuzz/corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
findings=.build-fuzz/findings
rm -rf "$findings"
mkdir -p "$work/corpus" "$findings"
status=0
# The Swift runtime's own backtracer is left on: its trace names the Swift
# frames of a trap, which libFuzzer's does not.
.build-fuzz/release/tig-fuzz "$work/corpus" fuzz/corpus \
  -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$findings/" -print_final_stats=1 >"$work/log" 2>&1 || status=$?
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$work/log" || true
if ((status != 0)); then
  grep -vE "^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)" "$work/log" | tail -n 80
  for input in "$findings"/*; do
    [[ -f $input ]] || continue
    echo "finding: $input (replay: .build-fuzz/release/tig-fuzz $input)"
    od -A d -c "$input" | head -n 8
  done
  echo "fuzz: tig-fuzz failed (exit $status)" >&2
  exit 1
fi
took "$start"

start=$SECONDS
echo "-- AddressSanitizer: build the tests (debug)"
swift build --build-tests --sanitize=address --scratch-path .build-asan 2>&1 \
  | grep -v "$unhandled" | tail -n 3
took "$start"

start=$SECONDS
echo "-- AddressSanitizer: TigAddress, TigStore, TigHTTP and TigCluster unit tests"
# LeakSanitizer is on; scripts/lsan-suppressions.txt says what it may ignore.
# The full log only when they fail; else the summary line.
# Swift's crash backtracer hangs under ASan: a crash must end the run.
LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0" SWIFT_BACKTRACE=enable=no \
  timeout -s KILL 1200 swift test --skip-build --sanitize=address --scratch-path .build-asan --disable-xctest \
    --filter '^(TigAddressTests|TigStoreTests|TigHTTPTests|TigClusterTests)\.' >"$work/tests" 2>&1 \
  || { cat "$work/tests"; echo "AddressSanitizer: unit tests failed" >&2; exit 1; }
grep -E "^✔ Test run|^✘ Test run" "$work/tests"
took "$start"
