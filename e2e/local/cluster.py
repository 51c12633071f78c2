"""The local driver: a Cluster (e2e/scenarios/cluster.py) of pods in network
namespaces, with dnsmasq as cluster DNS and a balancer as the Service.

Like the endpoints controller, it publishes a pod in DNS and the Service only
once /readyz answers, and withdraws it before signalling it to stop. Nothing
re-creates a pod that is gone unless asked (add_pod, or the kubelet)."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from e2e.scenarios.balancer import Balancer
from e2e.scenarios.cluster import PEER_AUTH, peer_proof
from e2e.scenarios.poll import wait_until
from e2e.scenarios.tig import metric_sum

from .dns import Dnsmasq
from .names import Run
from .netns import Network
from .pods import PodProcess, ServeOptions

READY_TIMEOUT = 30.0
EXIT_AFTER_SIGKILL = 5.0

STARTING, READY, TERMINATING, GONE = "starting", "ready", "terminating", "gone"


class LocalCluster:
    def __init__(self, run: Run, options: ServeOptions) -> None:
        self.options = options
        self.dir = run.dir / f"cluster{run.number()}"
        self.dir.mkdir()
        self._lock = threading.RLock()
        self._pods: dict[str, PodProcess] = {}  # every pod ever started, for its log
        self._states: dict[str, str] = {}
        self._extra_dns: list[str] = []  # addresses published under the name that are no pod of ours
        self.network = Network(run)
        try:
            self.dns = Dnsmasq(self.dir, self.network.gateway, options.cluster_name)
        except BaseException:
            self.network.destroy()
            raise
        self.balancer = Balancer()

    # -- pod lifecycle (the kubelet drives these too) ---------------------

    def start_pods(self, count: int) -> list[str]:
        """Start count pods; returns once each of them knows all the others."""
        with ThreadPoolExecutor(count) as pool:
            names = list(pool.map(lambda _: self.start_pod(), range(count)))
        self.wait_converged()
        return names

    def wait_converged(self) -> None:
        """Wait until every ready pod counts all other ready pods as peers
        (its tig_peers gauge): its DNS refresh has seen the current set."""
        def converged() -> bool:
            ready = self.pods()
            return all(metric_sum(self.admin_url(pod), "tig_peers") == len(ready) - 1 for pod in ready)
        wait_until("every pod knows its peers", converged, timeout=3 * self.options.peer_refresh + 10)

    def start_pod(self, name: str | None = None) -> str:
        """Start a pod and return once it is ready and published."""
        ns = self.network.add_namespace()
        name = name or f"pod{ns.number}"
        with self._lock:
            if name in self._pods:
                raise ValueError(f"pod {name} exists")
            pod = self._pods[name] = PodProcess(name, ns, self.options, self.dir / name)
            self._states[name] = STARTING
        try:
            pod.wait_ready(READY_TIMEOUT)
        except BaseException:
            self._remove(name, signal.SIGKILL, EXIT_AFTER_SIGKILL)
            raise
        with self._lock:
            if self._states[name] == STARTING:
                self._states[name] = READY
                self._publish()
        return name

    def begin_termination(self, name: str) -> None:
        """Withdraw the pod from DNS and the Service, then SIGTERM it."""
        with self._lock:
            if self._states[name] not in (STARTING, READY):
                return
            self._states[name] = TERMINATING
            self._publish()
        self._pods[name].send(signal.SIGTERM)

    def finish(self, name: str, timeout: float) -> int:
        """Wait for a terminating pod to exit and tear its network down; returns
        its exit status. A pod that overstays is killed and reported."""
        status = self._pods[name].wait_exit(timeout)
        if status is None:
            self._remove(name, signal.SIGKILL, EXIT_AFTER_SIGKILL)
            raise AssertionError(f"pod {name} did not exit within {timeout:.0f}s of SIGTERM:\n{self.logs(name)}")
        self._remove(name, None, 0)
        return status

    def exit_code(self, name: str) -> int | None:
        return self._pods[name].returncode

    def ip(self, name: str) -> str:
        return self._pods[name].ns.ip

    def netns(self, name: str) -> str:
        return self._pods[name].ns.name

    def pid(self, name: str) -> int:
        return self._pods[name].pid

    def data_dir(self, name: str) -> Path:
        """The pod's --data directory (it stays after the pod is gone)."""
        return self._pods[name].data

    def publish_extra(self, addresses: list[str]) -> None:
        """Also answer the headless name with these addresses (processes that
        are not pods of this cluster, e.g. a stranger posing as one)."""
        with self._lock:
            self._extra_dns = list(addresses)
            self._publish()

    def state(self, name: str) -> str:
        with self._lock:
            return self._states[name]

    def _remove(self, name: str, sig: signal.Signals | None, timeout: float) -> None:
        pod = self._pods[name]
        if sig is not None:
            pod.send(sig)
            pod.wait_exit(timeout)
        with self._lock:
            was_published = self._states[name] == READY
            self._states[name] = GONE
            if was_published:
                self._publish()
        self.network.remove(pod.ns)

    def _publish(self) -> None:
        with self._lock:
            ready = [self._pods[name] for name in self.pods()]
            self.dns.publish([pod.ns.ip for pod in ready] + self._extra_dns)
            self.balancer.set_backends([(pod.ns.ip, self.options.port) for pod in ready])

    # -- the Cluster interface ---------------------------------------------

    def pods(self) -> list[str]:
        with self._lock:
            return [name for name, state in self._states.items() if state == READY]

    def terminating(self) -> list[str]:
        with self._lock:
            return [name for name, state in self._states.items() if state == TERMINATING]

    def url(self, pod: str) -> str:
        return self._pods[pod].url

    def member(self, pod: str) -> str:
        return f"{self.ip(pod)}:{self.options.port}"

    def admin_url(self, pod: str) -> str:
        return self._pods[pod].admin_url

    def service_url(self) -> str:
        return self.balancer.url

    def kill(self, pod: str, sig: signal.Signals) -> None:
        if sig == signal.SIGTERM:
            self.begin_termination(pod)
        else:
            self._remove(pod, sig, EXIT_AFTER_SIGKILL)

    def wait_gone(self, pod: str, timeout: float) -> None:
        if self.state(pod) != GONE:
            self.finish(pod, timeout)

    def add_pod(self) -> str:
        return self.start_pod()

    def rolling_restart(self) -> None:
        for old in self.pods():
            self.add_pod()
            self.kill(old, signal.SIGTERM)
            self.wait_gone(old, self.options.drain_timeout + 15)

    def replicas(self) -> int:
        with self._lock:
            return sum(1 for state in self._states.values() if state in (STARTING, READY))

    def logs(self, pod: str) -> str:
        return self._pods[pod].log()

    def peer_refresh(self) -> float:
        return self.options.peer_refresh

    def drain_timeout(self) -> float:
        return self.options.drain_timeout

    def peer_headers(self, method: str, uri: str) -> dict[str, str]:
        if self.options.cluster_secret is None:
            return {PEER_AUTH: f"{int(time.time())} -"}  # counts only from a member's address
        return peer_proof(self.options.cluster_secret, method, uri)

    def settle(self) -> None:
        """Nothing re-creates pods here; settled means the pods know each other."""
        self.wait_converged()

    # -- reporting and teardown ----------------------------------------------

    def report(self) -> str:
        """Every pod's log tail, and the DNS log, for a failed test."""
        with self._lock:
            states = dict(self._states)
        parts = [f"=== pod {name} ({state}, {self._pods[name].ns.ip}, exit {self._pods[name].returncode}) ===\n"
                 f"{self._pods[name].log()}" for name, state in states.items()]
        parts.append(f"=== dnsmasq ===\n{self.dns.log()[-4000:]}")
        return "\n".join(parts)

    def close(self) -> None:
        for name, pod in list(self._pods.items()):
            if self.state(name) != GONE:
                self._remove(name, signal.SIGKILL, EXIT_AFTER_SIGKILL)
        self.balancer.close()
        self.dns.stop()
        self.network.destroy()
