"""The pod network: a Linux bridge with its own /24 (10.77.<k>.0/24, the host
end is .1), and per pod a network namespace joined to it by a veth pair
(eth0 inside, loopback up) whose resolver is the run's DNS server on the
bridge, as in a Kubernetes pod (search path and ndots included)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass

from . import names

SUBNET_PREFIX = "10.77"
RESOLV_CONF = ("nameserver {server}\n"
               "search default.svc.cluster.local svc.cluster.local cluster.local\n"
               "options ndots:5 timeout:1 attempts:2\n")


def ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _taken_subnets() -> set[int]:
    """Third octets of 10.77.x.0/24 that any address or route on the host uses."""
    taken = set()
    entries = json.loads(ip("-j", "-4", "route", "show", "table", "all") or "[]")
    for link in json.loads(ip("-j", "-4", "addr") or "[]"):
        entries += [{"dst": a["local"]} for a in link.get("addr_info", [])]
    for entry in entries:
        parts = entry.get("dst", "").split("/")[0].split(".")
        if len(parts) == 4 and ".".join(parts[:2]) == SUBNET_PREFIX:
            taken.add(int(parts[2]))
    return taken


@dataclass(frozen=True)
class Namespace:
    name: str
    number: int  # unique in the run; names the pod when nothing else does
    ip: str
    veth: str


def kill_processes_in(netns: str) -> None:
    """SIGKILL whatever still runs in a namespace of ours, so it can go."""
    for pid in ip("netns", "pids", netns).split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


def remove_namespace(name: str) -> None:
    kill_processes_in(name)
    ip("netns", "del", name)
    shutil.rmtree(names.ETC_NETNS / name, ignore_errors=True)


def remove_link(name: str) -> None:
    try:
        ip("link", "del", name)
    except RuntimeError:
        pass  # already gone with its peer


class Network:
    MAX_PODS = 253  # .2 ... .254

    def __init__(self, run: names.Run) -> None:
        self._run = run
        self.bridge = names.bridge(run.id, run.number())
        self._next_host = 2
        self._allocation = threading.Lock()  # pods start in parallel
        self._namespaces: dict[str, Namespace] = {}
        with names.global_lock():
            free = sorted(set(range(256)) - _taken_subnets())
            if not free:
                raise RuntimeError(f"every {SUBNET_PREFIX}.x.0/24 is in use")
            self.subnet = f"{SUBNET_PREFIX}.{random.choice(free)}"
            # A fixed address: otherwise the bridge takes the lowest one of its
            # ports and changes it when that port goes, and every pod's ARP
            # entry for the gateway (the DNS server) goes stale for seconds.
            mac = "02:" + ":".join(f"{random.randrange(256):02x}" for _ in range(5))
            ip("link", "add", self.bridge, "address", mac, "type", "bridge")
            ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")

    @property
    def gateway(self) -> str:
        return f"{self.subnet}.1"

    def add_namespace(self) -> Namespace:
        with self._allocation:
            if self._next_host > self.MAX_PODS + 1:
                raise RuntimeError(f"no pod address left in {self.subnet}.0/24")
            host = self._next_host
            self._next_host += 1
            number = self._run.number()
            ns = Namespace(names.netns(self._run.id, number), number, f"{self.subnet}.{host}",
                           names.veth(self._run.id, number))
            self._namespaces[ns.name] = ns
        (names.ETC_NETNS / ns.name).mkdir(parents=True)
        (names.ETC_NETNS / ns.name / "resolv.conf").write_text(RESOLV_CONF.format(server=self.gateway))
        ip("netns", "add", ns.name)
        ip("link", "add", ns.veth, "type", "veth", "peer", "name", "eth0", "netns", ns.name)
        ip("-n", ns.name, "addr", "add", f"{ns.ip}/24", "dev", "eth0")
        ip("-n", ns.name, "link", "set", "eth0", "up")
        ip("-n", ns.name, "link", "set", "lo", "up")
        ip("link", "set", ns.veth, "master", self.bridge, "up")
        return ns

    def remove(self, ns: Namespace) -> None:
        """Tear a pod's network down: its address disappears, as a deleted pod's does."""
        with self._allocation:
            if self._namespaces.pop(ns.name, None) is None:
                return
        remove_link(ns.veth)
        remove_namespace(ns.name)

    def destroy(self) -> None:
        for ns in list(self._namespaces.values()):
            self.remove(ns)
        remove_link(self.bridge)
