"""The cluster DNS: dnsmasq on the bridge address only, with no upstream,
answering the headless Service name with the addresses of the live, ready
pods from a hosts file. Publishing a new set rewrites the file and sends
SIGHUP; names under cluster.local that are not in the file are NXDOMAIN,
as CoreDNS answers a headless Service without ready endpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

STARTUP_TIMEOUT = 10.0


class Dnsmasq:
    def __init__(self, directory: Path, listen: str, name: str) -> None:
        self.name = name
        self._hosts = directory / "headless.hosts"
        self._log = directory / "dnsmasq.log"
        self._hosts.write_text("")
        self._process = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll",
             f"--addn-hosts={self._hosts}", f"--listen-address={listen}", "--bind-interfaces",
             "--local=/cluster.local/", "--local-ttl=0", "--cache-size=0", "--user=root",
             f"--log-facility={self._log}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reloads = 1  # the first read of the (empty) hosts file at start
        try:
            self._wait_log(f"read {self._hosts}", self._reloads, "dnsmasq did not start")
        except BaseException:  # also Ctrl-C: never leave the process behind
            self.stop()
            raise

    def publish(self, addresses: list[str]) -> None:
        """Answer the name with exactly these addresses from now on; returns
        once dnsmasq has re-read its hosts file."""
        temporary = self._hosts.with_suffix(".new")
        temporary.write_text("".join(f"{address} {self.name}\n" for address in addresses))
        os.replace(temporary, self._hosts)
        self._process.send_signal(signal.SIGHUP)
        self._reloads += 1
        self._wait_log(f"read {self._hosts}", self._reloads, "dnsmasq did not reload its hosts file")

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _count(self, needle: str) -> int:
        return self.log().count(needle)

    def _wait_log(self, needle: str, count: int, failure: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while self._count(needle) < count:
            if self._process.poll() is not None:
                raise RuntimeError(f"{failure}: exited {self._process.returncode}: "
                                   f"{self._process.stderr.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{failure} within {STARTUP_TIMEOUT}s; log:\n{self.log()}")
            time.sleep(0.01)
