"""One pod's process: `tig serve` (or a stand-in taking the same flags) inside
its network namespace, POD_IP set as the downward API sets it, output in a
log file, and the lifecycle a kubelet drives: start, ready, signal, exit."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from e2e.scenarios.opconfig import format_duration
from e2e.scenarios.web import request

from .netns import Namespace

LOG_TAIL_LINES = 200


@dataclass(frozen=True)
class ServeOptions:
    command: tuple[str, ...]  # the program before "serve": (TIG_BIN,) or the stand-in
    cluster_name: str = "tig-headless.default.svc.cluster.local"
    port: int = 7777
    admin_port: int = 9090  # metrics, probes and the listing
    peer_refresh: float = 1.0
    retention: str = "10m"
    drain_timeout: float = 25.0  # the product's default
    log_level: str = "info"
    peers: str | None = None  # a static --peers list instead of --cluster (the DNS name)
    # The pods' cluster secret (the chart generates one); None runs them
    # without, so that only the addresses DNS names are peers.
    cluster_secret: bytes | None = b"e2e cluster secret, not for production"
    extra_args: tuple[str, ...] = ()  # more flags, e.g. --replicas 2, --cluster-secret-file F

    def argv(self, data_dir: Path) -> list[str]:
        membership = ["--peers", self.peers] if self.peers is not None else ["--cluster", self.cluster_name]
        if self.cluster_secret is not None:
            membership += ["--cluster-secret-file", str(self.secret_file(data_dir))]
        return [*self.command, "serve",
                "--listen", f"0.0.0.0:{self.port}",
                "--admin-listen", f"0.0.0.0:{self.admin_port}",
                "--data", str(data_dir),
                *membership,
                "--peer-refresh", format_duration(self.peer_refresh),
                "--retention", self.retention,
                "--drain-timeout", format_duration(self.drain_timeout),
                "--log-level", self.log_level,
                *self.extra_args]

    @staticmethod
    def secret_file(data_dir: Path) -> Path:
        return data_dir.parent / "cluster-secret"


class PodProcess:
    def __init__(self, name: str, ns: Namespace, options: ServeOptions, directory: Path) -> None:
        self.name = name
        self.ns = ns
        self.url = f"http://{ns.ip}:{options.port}"
        self.admin_url = f"http://{ns.ip}:{options.admin_port}"
        data = self.data = directory / "data"
        data.mkdir(parents=True)
        if options.cluster_secret is not None:
            secret = ServeOptions.secret_file(data)
            secret.write_bytes(options.cluster_secret)
            secret.chmod(0o400)  # as the chart mounts it
        self.log_path = directory / "log"
        with open(self.log_path, "wb") as log:
            # A clean environment: only what a container would get, so no
            # TIG_* or APIKEY of the calling shell changes the pod's behaviour.
            # A session of its own keeps the terminal's Ctrl-C away from pods.
            self._process = subprocess.Popen(
                ["ip", "netns", "exec", ns.name, "env", "-i", f"PATH={os.environ.get('PATH', '/usr/bin:/bin')}",
                 f"POD_IP={ns.ip}", *options.argv(data)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self._process.pid  # `ip netns exec` and `env` exec, so this is the server itself

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"pod {self.name} exited with {self._process.returncode} before it was ready:\n"
                                   f"{self.log()}")
            try:
                if request("GET", self.admin_url + "/readyz", timeout=1.0).status_code == 200:
                    return
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"pod {self.name} not ready within {timeout}s:\n{self.log()}")
            time.sleep(0.02)

    def send(self, sig: signal.Signals) -> None:
        if self._process.poll() is None:
            self._process.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status (negative: killed by that signal), or None on timeout."""
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    @property
    def returncode(self) -> int | None:
        return self._process.poll()

    def log(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        skipped = len(lines) - LOG_TAIL_LINES
        head = [f"... ({skipped} earlier lines)"] if skipped > 0 else []
        return "\n".join(head + lines[-LOG_TAIL_LINES:])
