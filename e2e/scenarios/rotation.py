"""A full rotation under steady load (issue 12): every pod of a cluster at
minReplicas reaches the end of its life and is replaced, one at a time,
make before break — a new pod is Ready before an old one is asked to leave,
so the Ready count never drops below minReplicas. No client request fails
and every acknowledged block stays readable.

Returns what was measured (time taken, fewest Ready pods, the operator's
API requests) for the operator's README; nothing here asserts a duration."""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from typing import Callable

from .cluster import Cluster
from .load import Acked, Workers, reader, verify_all, writer
from .mitosis import Watch
from .opconfig import OperatorConfig
from .poll import wait_until


@dataclass
class Rotation:
    pods: int
    seconds: float  # from the first surge to the last original pod gone
    fewest_ready: int
    most_replicas: int
    requests: int  # client requests served (none failed), from before the first surge to the end
    api_requests: dict[str, int] = field(default_factory=dict)  # the operator's, by verb

    def table_row(self) -> str:
        verbs = ", ".join(f"{verb} {count}" for verb, count in sorted(self.api_requests.items()))
        return (f"| {self.pods} | {self.seconds:.1f} s | {self.fewest_ready} | {self.most_replicas} | "
                f"{sum(self.api_requests.values())} ({verbs}) | {self.requests} |")


def rotate_under_load(cluster: Cluster, config: OperatorConfig,
                      api_requests: Callable[[float, float], list[dict]] | None = None) -> Rotation:
    """`api_requests(start, end)`: the operator's API requests between two
    wall-clock times (the emulator's request log), when there is one."""
    size = config.minReplicas
    wait_until(f"{size} ready pods", lambda: cluster.replicas() == size and len(cluster.pods()) == size,
               timeout=120)
    originals = set(cluster.pods())
    acked = Acked()
    service = cluster.service_url()
    # Steady, light load through the Service: a new connection per request, so
    # every Ready pod (old and new) serves some of it.
    writers = Workers("steady writers", 1, writer(lambda rng: service, acked, fresh=True), pace=0.02).start()
    wait_until("first writes", lambda: len(acked) >= 10, timeout=30)
    readers = Workers("steady readers", 2, reader(lambda rng: service, acked, fresh=True), pace=0.02).start()
    watch = Watch(cluster, 0.05, replicas_from=size).start()
    try:
        wait_until("every original pod retired and the cluster back at its size",
                   lambda: (not originals & set(cluster.pods()) and not cluster.terminating()
                            and cluster.replicas() == size and len(cluster.pods()) == size),
                   timeout=config.lifetime * (1 + config.lifetimeJitter) + size * 30 + 60)
        ended = time.monotonic()
    finally:
        watch.stop()
        outcomes = [writers.stop(), readers.stop()]
    wall_end = time.time()

    lost = verify_all([cluster.url(pod) for pod in cluster.pods()], acked.items())
    problems = [o.summary() for o in outcomes if o.failed]
    problems += [f"sampling the cluster: {error}" for error in watch.errors[:5]]
    if watch.fewest_ready is None or watch.fewest_ready < size:
        problems.append(f"Ready pods dropped to {watch.fewest_ready}, below minReplicas {size}")
    if watch.most_replicas > size + 1:
        problems.append(f"replicas rose to {watch.most_replicas}: more than one surge at a time")
    if watch.first_rise is None:
        problems.append("no surge was seen: a pod left before its replacement was asked for")
    if lost.failed:
        problems.append(f"{len(acked)} acknowledged blocks at the end: {lost.summary()}")
    assert not problems, "\n".join(problems)

    verbs: dict[str, int] = collections.Counter()
    for entry in api_requests(watch.first_rise_wall or wall_end, wall_end) if api_requests else []:
        verbs[_verb(entry)] += 1
    return Rotation(pods=size, seconds=ended - (watch.first_rise or ended), fewest_ready=watch.fewest_ready or 0,
                    most_replicas=watch.most_replicas, requests=sum(o.ok for o in outcomes),
                    api_requests=dict(verbs))


def _verb(entry: dict) -> str:
    """The request as an audit log names it: watch, list, get, patch, update, create."""
    method = entry["method"]
    if method == "GET":
        if entry.get("watch"):
            return "watch"
        return "list" if entry["path"].rstrip("/").split("/")[-1] in ("pods", "horizontalpodautoscalers", "leases") \
            else "get"
    return {"PUT": "update", "POST": "create", "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower())
