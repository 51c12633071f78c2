"""The e2e scenarios against a tig release on a Kubernetes cluster (kind):

    python3 -m e2e.kind.scenarios --namespace NS --release NAME [--only NAME ...]

Runs each scenario of e2e/scenarios with the kind driver (driver.py), prints
PASS/FAIL per scenario with the pods' logs on failure, waits for the
Deployment to settle between scenarios, and ends with "N passed, N failed"
(exit status 1 if any failed). The operator scenario runs last; it needs the
chart's operator to be enabled with lifetimes short enough to expire during
the run, and the Deployment at operator.config.minReplicas when it starts.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import Callable

from e2e.scenarios import crosspod, failures, forwarding, mitosis, readme, rolling

from .driver import KindCluster


def _scenarios(cluster: KindCluster, drain_blocks: int, with_operator: bool) -> dict[str, Callable[[], None]]:
    scenarios: dict[str, Callable[[], None]] = {
        "readme": lambda: readme.run(cluster),
        **{f"cross-pod:{check.__name__}": (lambda check=check: check(cluster)) for check in (
            crosspod.content_block, crosspod.key_slot, crosspod.burst_across_pods,
            crosspod.read_only_channel_across_pods, crosspod.write_only_channel_across_pods,
            crosspod.take_race, crosspod.setifnot_race)},
        "forwarded-requests-stay-local": lambda: forwarding.forwarded_requests_stay_local(cluster),
        "kill9-under-read-load": lambda: failures.kill9_under_read_load(cluster),
        "drain-under-read-load": lambda: failures.drain_under_read_load(cluster, blocks=drain_blocks),
        "rolling-restart-under-load": lambda: rolling.rolling_restart_under_load(cluster),
    }
    if with_operator:
        scenarios["operator-divides-and-retires"] = lambda: mitosis.divide_and_retire(
            cluster, cluster.operator_config(), watch_interval=1.0)
    return scenarios


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m e2e.kind.scenarios", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--release", required=True)
    parser.add_argument("--deployment", help="the tig Deployment (default: the chart's name for the release)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these scenarios")
    parser.add_argument("--drain-blocks", type=int, default=10_000, help="blocks on the pod that drains")
    parser.add_argument("--no-operator", action="store_true", help="skip the operator scenario")
    args = parser.parse_args()
    deployment = args.deployment or (args.release if "tig" in args.release else f"{args.release}-tig")

    cluster = KindCluster(args.namespace, deployment)
    passed = failed = 0
    try:
        scenarios = _scenarios(cluster, args.drain_blocks, not args.no_operator)
        unknown = set(args.only or []) - set(scenarios)
        if unknown:
            parser.error(f"unknown scenarios {sorted(unknown)}; known: {sorted(scenarios)}")
        for name, scenario in scenarios.items():
            if args.only and name not in args.only:
                continue
            started = time.monotonic()
            print(f"RUN  {name}", flush=True)
            try:
                scenario()
                passed += 1
                print(f"PASS {name} ({time.monotonic() - started:.1f}s)", flush=True)
            except Exception:  # noqa: BLE001 - every scenario runs; failures are reported
                failed += 1
                print(f"FAIL {name} ({time.monotonic() - started:.1f}s)\n{traceback.format_exc()}"
                      f"{cluster.report()}", flush=True)
            cluster.settle()
    finally:
        cluster.close()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
