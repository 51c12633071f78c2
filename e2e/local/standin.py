"""A stand-in for `tig serve` that tests the harness itself, not tig: it takes
the same flags, answers /healthz and /readyz (on both ports), reports what it sees of the
cluster, and on SIGTERM becomes unready and exits 0 shortly after.

  GET /metrics -> tig_peers, the number of other addresses of the name
  GET /whoami  -> POD_IP
  GET /peers   -> one line per address the --cluster name resolves to (with
                  glibc's getaddrinfo, inside the pod's namespace) except its
                  own: "<ip> <status of GET /whoami there, or the error>"

Run as a script (stdlib only): python3 e2e/local/standin.py serve --listen ...
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXIT_DELAY = 0.3  # a token drain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--listen", required=True)
    parser.add_argument("--admin-listen", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--cluster", required=True)
    options, _ = parser.parse_known_args()
    host, port = options.listen.rsplit(":", 1)
    own_ip = os.environ["POD_IP"]
    draining = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/healthz":
                self._answer(200, "ok")
            elif self.path == "/readyz":
                self._answer(503 if draining.is_set() else 200, "")
            elif self.path == "/metrics":
                self._answer(200, f"tig_peers {len(_resolve(options.cluster, own_ip))}\n")
            elif self.path == "/whoami":
                self._answer(200, own_ip)
            elif self.path == "/peers":
                self._answer(200, "".join(f"{ip} {_probe(ip, port)}\n" for ip in _resolve(options.cluster, own_ip)))
            else:
                self._answer(404, "")

        def _answer(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
            pass

    server = ThreadingHTTPServer((host, int(port)), Handler)
    admin_host, admin_port = options.admin_listen.rsplit(":", 1)
    admin = ThreadingHTTPServer((admin_host, int(admin_port)), Handler)
    threading.Thread(target=admin.serve_forever, daemon=True).start()

    def terminate(*_) -> None:
        draining.set()
        threading.Timer(EXIT_DELAY, server.shutdown).start()

    signal.signal(signal.SIGTERM, terminate)
    print(f"standin listening on {options.listen} as {own_ip}", flush=True)
    server.serve_forever()
    print("standin drained, exiting", flush=True)


def _resolve(name: str, own_ip: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return sorted({info[4][0] for info in infos} - {own_ip})


def _probe(ip: str, port: str) -> str:
    try:
        with urllib.request.urlopen(f"http://{ip}:{port}/whoami", timeout=2) as response:
            return str(response.status)
    except OSError as error:
        return repr(error)


if __name__ == "__main__":
    main()
