"""Mitosis end to end (SPEC §6.4, issue 4): load above normal makes the
operator divide (replicas rise); when the load stops and the pods' lifetimes
run out they retire one at a time, down to minReplicas, never below it.
Across the whole run no client request fails and every acknowledged block
stays readable (each retired pod drains into the others)."""

from __future__ import annotations

import threading
import time

from .cluster import Cluster
from .load import Acked, Outcomes, Workers, reader, verify_all, writer
from .opconfig import OperatorConfig
from .poll import wait_until


class Watch:
    """Samples the cluster in the background and remembers the extremes, and
    when the replicas first rose above `replicas_from` (a surge or divide)."""

    def __init__(self, cluster: Cluster, interval: float, replicas_from: int | None = None) -> None:
        self._cluster = cluster
        self._interval = interval
        self._stop = threading.Event()
        self.fewest_ready: int | None = None
        self.most_terminating = 0
        self._replicas_from = replicas_from
        self.most_replicas = replicas_from or 0
        self.first_rise: float | None = None  # time.monotonic()
        self.first_rise_wall: float | None = None  # time.time(), to line up with logs
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="cluster-watch", daemon=True)

    def start(self) -> "Watch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, terminating = self._cluster.pods(), self._cluster.terminating()
                replicas = self._cluster.replicas() if self._replicas_from is not None else 0
            except Exception as error:  # noqa: BLE001 - reported by the scenario
                self.errors.append(repr(error))
            else:
                self.fewest_ready = len(ready) if self.fewest_ready is None else min(self.fewest_ready, len(ready))
                self.most_terminating = max(self.most_terminating, len(terminating))
                self.most_replicas = max(self.most_replicas, replicas)
                if self._replicas_from is not None and replicas > self._replicas_from and self.first_rise is None:
                    self.first_rise, self.first_rise_wall = time.monotonic(), time.time()
            self._stop.wait(self._interval)


def divide_and_retire(cluster: Cluster, config: OperatorConfig, watch_interval: float = 0.1) -> None:
    wait_until(f"{config.minReplicas} ready pods",
               lambda: cluster.replicas() == config.minReplicas and len(cluster.pods()) == config.minReplicas,
               timeout=120)
    service = cluster.service_url()
    acked = Acked()
    watch = Watch(cluster, watch_interval).start()
    try:
        heavy = _divide(cluster, config, service, acked)
        trickle = _retire(cluster, config, service, acked)
    finally:
        watch.stop()

    lost = verify_all([cluster.url(pod) for pod in cluster.pods()], acked.items())
    problems = [outcomes.summary() for outcomes in heavy + [trickle] if outcomes.failed]
    problems += [f"watching the cluster: {error}" for error in watch.errors[:5]]
    if watch.fewest_ready is None or watch.fewest_ready < config.minReplicas:
        problems.append(f"ready pods dropped to {watch.fewest_ready}, below minReplicas {config.minReplicas}")
    if watch.most_terminating > 1:
        problems.append(f"{watch.most_terminating} pods retired at once")
    if lost.failed:
        problems.append(f"{len(acked)} acknowledged blocks at the end: {lost.summary()}")
    assert not problems, "\n".join(problems)


def _divide(cluster: Cluster, config: OperatorConfig, service: str, acked: Acked) -> list[Outcomes]:
    """Load above normal until the operator has divided and the new pods are
    ready. Many clients, each request on a new connection, so the Service
    spreads the load over every ready pod, old and new."""
    initial = config.minReplicas
    writers = Workers("heavy writers", 2, writer(lambda rng: service, acked, fresh=True)).start()
    readers = Workers("heavy readers", 6, reader(lambda rng: service, acked, fresh=True))
    started = time.monotonic()
    try:
        wait_until("first writes", lambda: len(acked) >= 20, timeout=30)
        readers.start()
        peak = wait_until("the operator divides (replicas rise above the initial count)",
                          lambda: cluster.replicas() > initial and cluster.replicas(),
                          timeout=10 * config.interval + 30)
        rate = (writers.ok() + readers.ok()) / (time.monotonic() - started)
        wait_until(f"{peak} ready pods after the division", lambda: len(cluster.pods()) >= peak, timeout=60)
    finally:
        outcomes = [writers.stop(), readers.stop()]
    assert rate > config.normalRate * initial, f"the heavy load ({rate:.0f}/s) was not above normal"
    assert peak <= config.maxReplicas, f"divided to {peak} replicas, above maxReplicas {config.maxReplicas}"
    return outcomes


def _retire(cluster: Cluster, config: OperatorConfig, service: str, acked: Acked) -> Outcomes:
    """The load stops (a trickle of reads keeps checking the blocks); pods
    expire and retire until the cluster is back at minReplicas."""
    light = Workers("light reader", 1, reader(lambda rng: service, acked, fresh=True), pace=0.5).start()
    at_peak = set(cluster.pods())
    try:
        wait_until(f"retirement down to {config.minReplicas} pods",
                   lambda: (cluster.replicas() == config.minReplicas
                            and len(cluster.pods()) == config.minReplicas
                            and not cluster.terminating()
                            and len(at_peak - set(cluster.pods())) >= len(at_peak) - config.minReplicas),
                   timeout=4 * config.lifetime * (1 + config.lifetimeJitter) + 60)
    finally:
        outcomes = light.stop()
    return outcomes
