"""A real `tig serve` process on a loopback port, for the single-pod suite."""

import os
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import requests
import urllib3

from ..scenarios.poll import wait_until

# The health probe of an HTTPS server uses a throwaway certificate.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

REPO = Path(__file__).resolve().parents[2]
TIG_BIN = os.environ.get("TIG_BIN", str(REPO / ".build" / "debug" / "tig"))


def free_port(besides=None) -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port != besides:
            return port


def poll(condition, timeout=10.0, message="condition"):
    """Waits for `condition()` to be truthy; fails after `timeout` seconds."""
    return wait_until(message, condition, timeout, interval=0.02)


class TigProcess:
    """Starts `tig serve` with a data directory of its own (or a given one)."""

    def __init__(self, *extra_args, data=None, env=None, scheme="http", port=None, admin_port=None, pass_admin_flag=True):
        self.owned_data = data is None
        self.data = Path(data or tempfile.mkdtemp(prefix="tig-pod-"))
        # A port probed free can be taken (by any process's outgoing
        # connection) before tig binds it; ports chosen here are then chosen
        # again, ports a test named are not.
        self.ports_chosen_here = port is None and admin_port is None
        self.scheme = scheme
        self.pass_admin_flag = pass_admin_flag
        port = port or free_port()
        self.use_ports(port, admin_port or free_port(besides=port))
        self.extra_args = list(extra_args)
        self.env = {k: v for k, v in os.environ.items() if k not in ("APIKEY", "TIG_DATA", "TIG_CLUSTER", "TIG_PEERS", "TIG_ADMIN_LISTEN")}
        self.env.update(env or {})
        self.log_path = Path(tempfile.mkstemp(prefix="tig-pod-", suffix=".log")[1])
        self.process = None

    def use_ports(self, port, admin_port):
        self.port, self.admin_port = port, admin_port
        self.url = f"{self.scheme}://127.0.0.1:{port}"
        # Metrics, probes and the listing answer on the admin port only.
        self.admin_url = f"http://127.0.0.1:{admin_port}"

    def start(self, attempts=5):
        for attempt in range(attempts):
            self.log = open(self.log_path, "ab")
            logged_before = self.log_path.stat().st_size
            self.process = subprocess.Popen(
                [TIG_BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data), *self.admin_flag(),
                 *self.extra_args],
                stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
            try:
                poll(self._healthy, message=f"tig on {self.url} (log: {self.log_text()})")
                return self
            except TimeoutError:
                this_attempt = self.log_text().encode(errors="replace")[logged_before:]
                lost_port_race = self.process.poll() is not None and b"Address already in use" in this_attempt
                if not (lost_port_race and self.ports_chosen_here) or attempt == attempts - 1:
                    raise
                self.log.close()
                port = free_port()
                self.use_ports(port, free_port(besides=port))
        return self

    def admin_flag(self):
        return ["--admin-listen", f"127.0.0.1:{self.admin_port}"] if self.pass_admin_flag else []

    def _healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(f"tig exited with {self.process.returncode}: {self.log_text()}")
        try:
            return requests.get(self.admin_url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig=signal.SIGKILL):
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()

    def files(self):
        return sorted(p.name for p in self.data.iterdir())

    def block_files(self):
        return [name for name in self.files() if name.endswith(".tig")]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def metric(url, name, labels="", absent=None):
    """The value of one Prometheus sample, e.g. metric(url, "tig_blocks");
    `absent` when there is no such sample (request series appear on first
    use), else a missing sample fails."""
    import re
    text = requests.get(url + "/metrics", timeout=5).text
    match = re.search(rf"^{re.escape(name + labels)} ([0-9.e+]+)$", text, re.MULTILINE)
    if match is None:
        if absent is not None:
            return absent
        raise AssertionError(f"no sample {name}{labels} in:\n{text}")
    return float(match.group(1))


def make_certificate(directory, name="127.0.0.1"):
    """A self-signed key and certificate for `name` (an IP address or a DNS
    name) in `directory`; returns their paths."""
    key, cert = directory / "tig.key", directory / "tig.crt"
    alt = f"IP:{name}" if name.replace(".", "").isdigit() else f"DNS:{name}"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName={alt}"],
                   check=True, capture_output=True)
    return key, cert
