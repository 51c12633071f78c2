"""Exactly one winner while slots move (issue 10): `take` and `setifnot`
raced through every pod while a pod joins and the slots whose primary home
is now the new pod are handed over to it. A 503 (the cluster could not tell
in time where the slot is, and refuses rather than fork it) is an answer a
client retries; what must never happen is two winners, a value taken twice
or lost, or a slot on two disks."""

from __future__ import annotations

import time
from collections import Counter

from .crosspod import _race
from .homes import DiskCluster, on_disk, store_slots
from .tig import expect_bytes, expect_failure, key_path, metric_sum as metric, new_key
from .web import request

# A client's patience for 503 answers (it retries; this is not synchronisation).
RETRIES = 100
RETRY_PAUSE = 0.05


def _decided(method: str, url: str, data: bytes | None = None):
    for _ in range(RETRIES):
        response = request(method, url, data=data, fresh=True)
        if response.status_code != 503:
            return response
        time.sleep(RETRY_PAUSE)
    return response


def atomic_operations_during_a_join(cluster: DiskCluster, jobs: int = 300, racers: int = 4) -> None:
    old = cluster.pods()
    assert len(old) >= 2, old
    queued = store_slots([cluster.url(pod) for pod in old], jobs)
    targets = [key_path(new_key()) for _ in range(jobs)]
    moved_before = sum(metric(cluster.admin_url(pod), "tig_rebalanced_blocks_total") for pod in old)

    new = cluster.add_pod()
    pods = old + [new]
    urls = [cluster.url(pod) for pod in pods]
    # The rebalancer waits two refreshes after the change, then moves the
    # slots whose home is now the new pod: the rounds span that window.
    problems: list[str] = []
    for index, ((job, value), target) in enumerate(zip(queued.items(), targets)):
        takes = _race([lambda url=urls[(index + i) % len(urls)]: _decided("GET", url + job + "?take=1")
                       for i in range(racers)])
        statuses = Counter(getattr(a, "status_code", repr(a)) for a in takes)
        won = [a.content for a in takes if getattr(a, "status_code", None) == 200]
        if statuses != Counter({200: 1, 404: racers - 1}) or won != [value]:
            problems.append(f"take of {job}: {dict(statuses)}, values {won} (queued {value!r})")

        sets = _race([lambda i=i, url=urls[(index + i) % len(urls)]:
                      _decided("PUT", url + target + "?setifnot=1", f"writer {i}".encode())
                      for i in range(racers)])
        statuses = Counter(getattr(a, "status_code", repr(a)) for a in sets)
        if statuses != Counter({200: 1, 409: racers - 1}):
            problems.append(f"setifnot of {target}: {dict(statuses)}")
        if len(problems) > 10:
            break
    moved = sum(metric(cluster.admin_url(pod), "tig_rebalanced_blocks_total") for pod in old) - moved_before
    assert not problems, f"{len(problems)} races went wrong while {new} joined:\n" + "\n".join(problems)
    assert moved > 0, "no slot moved to the new pod while the races ran: the window was not exercised"

    # Afterwards: every taken slot gone everywhere, every set slot on one disk
    # with the winner's value, read the same through every pod.
    for job in list(queued.items())[:50]:
        for url in urls:
            expect_failure(request("GET", url + job[0]), 404)
    for target in targets:
        assert len(on_disk(cluster, target, pods)) == 1, f"{target} on {on_disk(cluster, target, pods)}"
    for target in targets[:50]:
        value = request("GET", urls[0] + target).content
        assert value.startswith(b"writer "), value
        for url in urls[1:]:
            expect_bytes(url, target, value)
