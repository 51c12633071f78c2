"""A stranger on the pod network: an HTTP server in a network namespace of
its own (an address on the cluster's bridge) that would like to be a tig
peer but does not know the cluster secret.

It answers every GET and HEAD with 200 and forged bytes, and with headers a
peer must never get through to a client (Set-Cookie and friends); it logs
every request it receives (source address, method, path, headers) as one
JSON line, so a test can tell whether the pods ever talked to it.

  python3 stranger.py serve --listen 0.0.0.0:7777 --log FILE
  python3 stranger.py announce --as IP:PORT URL...   (run inside its namespace)

`announce` sends each pod the announcement a peer makes of itself
(`HEAD /healthz` with `X-Tig-Peer` and `X-Tig-Peer-State: ready`) with every
proof a stranger can make up: a well-formed but wrong HMAC, the no-secret
form `<seconds> -`, a stale garbage one, and none.

The script part uses the standard library only; `Stranger` drives it from
the tests."""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FORGED = b"forged by a stranger: these bytes were never stored in tig\n"
# Headers no tig pod sends; a relay that copies them to its client leaks a peer's say.
HOSTILE_HEADERS = {
    "Set-Cookie": "tig-session=stolen; Path=/",
    "X-Evil": "1",
    "Access-Control-Allow-Origin": "*",
    "Refresh": "0; url=http://evil.example/",
}
PROBE_PATH = "/__stranger_probe"  # the harness's own "are you up" request


def proofs() -> dict[str, str | None]:
    """Proofs a stranger can make up (the real one is an HMAC under the secret)."""
    now = int(time.time())
    return {
        "wrong-hmac": f"{now} {secrets.token_hex(32)}",
        "no-secret-form": f"{now} -",
        "garbage": "123 deadbeef",
        "none": None,
    }


def serve(listen: str, log_path: str) -> None:
    host, port = listen.rsplit(":", 1)
    lock = threading.Lock()
    log = open(log_path, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as peers use

        def _record(self) -> None:
            entry = {"from": self.client_address[0], "method": self.command, "path": self.path,
                     "headers": {k: v for k, v in self.headers.items()}, "at": time.time()}
            with lock:
                log.write(json.dumps(entry) + "\n")

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status: int, body: bytes, *, send_body: bool = True, kind: str = "slot") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Tig-Kind", kind)
            for name, value in HOSTILE_HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._record()
            self._answer(200, FORGED)

        def do_HEAD(self) -> None:  # noqa: N802
            self._record()
            self._answer(200, FORGED, send_body=False)

        def do_PUT(self) -> None:  # noqa: N802
            self._record()
            body = self._body()
            path = self.path.split("?", 1)[0]
            if path == "/":
                path = f"/{hashlib.sha256(body).hexdigest()}.tig"
            self._answer(200, path.encode())

        do_POST = do_PUT  # noqa: N815

        def do_DELETE(self) -> None:  # noqa: N802
            self._record()
            self._answer(200, self.path.split("?", 1)[0].encode())

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    print(f"stranger listening on {listen}", flush=True)
    server.serve_forever()


def announce(identity: str, urls: list[str]) -> None:
    """One line per (pod, proof): `<url> <proof kind> <status or error>`."""
    for url in urls:
        parts = urlsplit(url)
        for kind, proof in proofs().items():
            headers = {"X-Tig-Peer": identity, "X-Tig-Peer-State": "ready"}
            if proof is not None:
                headers["X-Tig-Peer-Auth"] = proof
            try:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                connection.request("HEAD", "/healthz", headers=headers)
                status = str(connection.getresponse().status)
                connection.close()
            except OSError as error:
                status = repr(error)
            print(f"{url} {kind} {status}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve")
    serve_parser.add_argument("--listen", required=True)
    serve_parser.add_argument("--log", required=True)
    announce_parser = sub.add_parser("announce")
    announce_parser.add_argument("--as", dest="identity", required=True)
    announce_parser.add_argument("urls", nargs="+")
    options = parser.parse_args()
    if options.command == "serve":
        serve(options.listen, options.log)
    else:
        announce(options.identity, options.urls)


# -- the driver side (used by the tests, not by the script) -------------------------


class Stranger:
    """The stranger process in a namespace of its own on a cluster's bridge.
    The namespace is the cluster network's, so tearing the cluster down
    also kills the process."""

    STARTUP_TIMEOUT = 10.0

    def __init__(self, network, directory: Path, port: int = 7777) -> None:
        self._network = network
        self.ns = network.add_namespace()
        self.ip = self.ns.ip
        self.port = port
        self.identity = f"{self.ip}:{port}"
        self.url = f"http://{self.identity}"
        self.log_path = directory / f"stranger{self.ns.number}.jsonl"
        self.log_path.touch()
        self._output = directory / f"stranger{self.ns.number}.out"
        with open(self._output, "wb") as output:
            self._process = subprocess.Popen(
                ["ip", "netns", "exec", self.ns.name, sys.executable, __file__, "serve",
                 "--listen", f"0.0.0.0:{port}", "--log", str(self.log_path)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.STARTUP_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"stranger exited with {self._process.returncode}: {self.output()}")
            try:
                connection = http.client.HTTPConnection(self.ip, self.port, timeout=1)
                connection.request("GET", PROBE_PATH)
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"stranger not listening within {self.STARTUP_TIMEOUT}s: {self.output()}")
            time.sleep(0.02)

    def announce(self, urls: list[str]) -> list[str]:
        """Announce itself to the pods from its own address, with every made-up proof."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns.name, sys.executable, __file__, "announce", "--as", self.identity, *urls],
            capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"stranger announce failed: {done.stderr}")
        return done.stdout.splitlines()

    def requests(self) -> list[dict]:
        """Every request it received, except the harness's own probes."""
        entries = []
        for line in self.log_path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                if entry["path"] != PROBE_PATH:
                    entries.append(entry)
        return entries

    def requests_from(self, ips: set[str]) -> list[dict]:
        return [entry for entry in self.requests() if entry["from"] in ips]

    def output(self) -> str:
        return self._output.read_text(errors="replace") if self._output.exists() else ""

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(5)
        self._network.remove(self.ns)


if __name__ == "__main__":
    main()
