"""python3 -m e2e.kubeapi --state-dir DIR [--port 0] [--host 127.0.0.1] ..."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from .config import EmulatorConfig
from .rolechart import load_file
from .server import Emulator


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m e2e.kubeapi",
                                     description="HTTPS Kubernetes API server emulator for tests.")
    parser.add_argument("--state-dir", required=True, help="where ca.crt, token, kubeconfig, ... are written")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: any free port)")
    parser.add_argument("--san", action="append", default=[],
                        help="extra subject alternative name (IP or DNS) for the server certificate; repeatable")
    parser.add_argument("--no-controllers", action="store_true",
                        help="do not emulate the Deployment/ReplicaSet controllers, scheduler and garbage collector")
    parser.add_argument("--auto-kubelet", action="store_true",
                        help="make bound pods Running+Ready at once and remove pods marked for deletion at once")
    parser.add_argument("--bookmark-interval", type=float, default=60.0,
                        help="seconds between watch BOOKMARK events (default 60)")
    parser.add_argument("--history", type=int, default=10000,
                        help="changes kept for watch replay before older resourceVersions expire (default 10000)")
    parser.add_argument("--role", metavar="FILE",
                        help="Role/RoleBinding YAML or JSON to enforce (default: the chart's operator Role)")
    parser.add_argument("--no-rbac", action="store_true", help="let every authenticated user do everything")
    parser.add_argument("--informer-lag", type=float, default=0.1,
                        help="seconds the controllers' view lags behind the store (default 0.1)")
    parser.add_argument("--too-large-rv-wait", type=float, default=3.0,
                        help="seconds a list waits for a future resourceVersion before 504 (default 3)")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args()


async def _serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(controllers=not args.no_controllers, auto_kubelet=args.auto_kubelet,
                            bookmark_interval=args.bookmark_interval, rbac=not args.no_rbac,
                            informer_lag=args.informer_lag, too_large_rv_wait=args.too_large_rv_wait)
    policy = load_file(args.role) if args.role else None
    emulator = Emulator(args.state_dir, args.host, args.port, config, tuple(args.san), args.history, policy)
    url = await emulator.start()
    print(f"kubeapi listening on {url}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()
    await emulator.stop()


def main() -> None:
    args = _arguments()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
