"""Pods that die (SIGKILL) or are deleted (SIGTERM) under client load."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from .cluster import Cluster
from .load import Acked, Workers, reader, verify_all
from .poll import wait_until
from .tig import expect, expect_failure, key_path, new_key, put_content, put_slot
from .web import request


def _reads_continue(workers: Workers, cluster: Cluster, since: float, reads: int) -> None:
    """Keep the load running past the event until the survivors have surely
    refreshed their peers twice and served `reads` more requests."""
    mark = workers.ok()
    wait_until(f"{reads} more reads by {workers.name}",
               lambda: workers.ok() >= mark + reads and time.monotonic() - since >= 2 * cluster.peer_refresh(),
               timeout=2 * cluster.peer_refresh() + 60)


def kill9_under_read_load(cluster: Cluster, blocks_per_pod: int = 100) -> None:
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    victim, live = pods[-1], pods[:-1]
    held: dict[str, Acked] = {pod: Acked() for pod in pods}
    for pod in pods:
        for _ in range(blocks_per_pod):
            data = os.urandom(256)
            held[pod].add(put_content(cluster.url(pod), data), data)
    on_live = Acked()
    for pod in live:
        for path, data in held[pod].items():
            on_live.add(path, data)
    live_urls = [cluster.url(pod) for pod in live]
    workers = Workers("readers on live pods", 6,
                      reader(lambda rng: rng.choice(live_urls), on_live)).start()
    try:
        _reads_continue(workers, cluster, time.monotonic(), 200)
        cluster.kill(victim, signal.SIGKILL)
        _reads_continue(workers, cluster, time.monotonic(), 500)
    finally:
        outcomes = workers.stop()
    assert outcomes.failed == 0, outcomes.summary()
    # The victim's blocks died with it (no drain on SIGKILL): a clean 404, everywhere.
    for path, _ in held[victim].items()[:20]:
        for url in live_urls:
            expect_failure(request("GET", url + path), 404)


def drain_under_read_load(cluster: Cluster, blocks: int = 10_000, slots: int = 500) -> str:
    """SIGTERM of a pod holding `blocks` content blocks and `slots` key slots;
    returns the victim's name (the caller may check how it exited)."""
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    victim, survivors = pods[0], pods[1:]
    victim_url = cluster.url(victim)
    content, keyed = Acked(), Acked()

    def store_block(i: int) -> None:
        data = i.to_bytes(4, "big") + os.urandom(60 + i % 400)
        content.add(put_content(victim_url, data), data)

    def store_slot(i: int) -> None:
        key, value = new_key(), f"slot {i} ".encode() + os.urandom(16)
        put_slot(victim_url, key, value, local_only=True)  # placed on the victim itself
        keyed.add(key_path(key), value)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(store_block, range(blocks)))
        list(pool.map(store_slot, range(slots)))
    assert len(content) == blocks and len(keyed) == slots
    everything = Acked()
    for path, data in content.items() + keyed.items():
        everything.add(path, data)

    survivor_urls = [cluster.url(pod) for pod in survivors]
    workers = Workers("readers on survivors", 6,
                      reader(lambda rng: rng.choice(survivor_urls), everything)).start()
    try:
        _reads_continue(workers, cluster, time.monotonic(), 200)
        cluster.kill(victim, signal.SIGTERM)
        cluster.wait_gone(victim, timeout=cluster.drain_timeout() + 15)
        _reads_continue(workers, cluster, time.monotonic(), 500)
    finally:
        during = workers.stop()
    after = verify_all(survivor_urls, everything.items())
    assert during.failed == 0 and after.failed == 0, (
        f"drain of {blocks} blocks and {slots} slots; during it, {during.summary()}\n"
        f"afterwards, {after.summary()}")
    _kinds_survived(survivor_urls[0], content.items()[:50], keyed.items()[:50])
    return victim


def _kinds_survived(url: str, blocks: list[tuple[str, bytes]], slots: list[tuple[str, bytes]]) -> None:
    """A drained content block is still immutable; a drained key slot is still writable."""
    for path, _ in blocks:
        expect_failure(request("PUT", url + path, data=b"overwrite"), 409)
        expect_failure(request("DELETE", url + path), 409)
    for path, _ in slots:
        expect(request("PUT", url + path, data=b"rewritten"), 200, path.encode())
        expect(request("GET", url + path), 200, b"rewritten")
