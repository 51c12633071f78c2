"""Pods that die (SIGKILL) or are deleted (SIGTERM) under client load."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from .cluster import Cluster
from .load import Acked, Workers, reader, verify_all
from .poll import wait_until
from .rendezvous import home
from .tig import expect, expect_failure, holders, key_path, new_key, put_content, put_slot, sha
from .web import request


def _reads_continue(workers: Workers, cluster: Cluster, since: float, reads: int) -> None:
    """Keep the load running past the event until the survivors have surely
    refreshed their peers twice and served `reads` more requests."""
    mark = workers.ok()
    wait_until(f"{reads} more reads by {workers.name}",
               lambda: workers.ok() >= mark + reads and time.monotonic() - since >= 2 * cluster.peer_refresh(),
               timeout=2 * cluster.peer_refresh() + 60)


def slot_homed_at(cluster: Cluster, pod: str, value: bytes) -> str:
    """A fresh key slot holding value whose home is pod; returns its key.
    Where a slot lives is the cluster's choice, so try fresh keys."""
    for _ in range(60):
        key = new_key()
        put_slot(cluster.url(pod), key, value)
        if holders(cluster, key_path(key)) == [pod]:
            return key
        expect(request("DELETE", cluster.url(pod) + key_path(key)), 200, key_path(key).encode())
    raise AssertionError(f"60 fresh keys all lived elsewhere than {pod}")


def kill9_under_read_load(cluster: Cluster, blocks_per_pod: int = 100) -> None:
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    victim, live = pods[-1], pods[:-1]
    held: dict[str, Acked] = {pod: Acked() for pod in pods}
    for pod in pods:
        for _ in range(blocks_per_pod):
            data = os.urandom(256)
            path = put_content(cluster.url(pod), data)
            [home] = holders(cluster, path)  # R = 1: stored at its home only
            held[home].add(path, data)
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


def drain_under_read_load(cluster: Cluster, blocks: int = 10_000, slots: int = 500, logs: int = 50) -> str:
    """SIGTERM of a pod holding `blocks` content blocks and `slots` key slots,
    read from the other pods throughout, and `logs` slots that clients keep
    appending lines to through the other pods; returns the victim's name (the
    caller may check how it exited)."""
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    victim, survivors = pods[0], pods[1:]
    victim_url = cluster.url(victim)
    content, keyed = Acked(), Acked()

    # Blocks whose home is the victim, written through it as a client: only
    # these are where a settled cluster looks for them (a block placed on a
    # pod that is not its home is found only while membership settles, or
    # once the pod's next pass moved it home).
    members = {cluster.member(pod): pod for pod in pods}

    def store_block(i: int) -> None:
        while True:
            data = i.to_bytes(4, "big") + os.urandom(60 + i % 400)
            if members[home(list(members), sha(data))] == victim:
                content.add(put_content(victim_url, data), data)
                return

    def store_slot(i: int) -> None:
        value = f"slot {i} ".encode() + os.urandom(16)
        keyed.add(key_path(slot_homed_at(cluster, victim, value)), value)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(store_block, range(blocks)))
        list(pool.map(store_slot, range(slots)))
    assert len(content) == blocks and len(keyed) == slots
    misplaced = [path for path, _ in content.items()[:50] if holders(cluster, path) != [victim]]
    assert not misplaced, f"blocks ranked at {victim} by rendezvous.py stored elsewhere: {misplaced}"
    everything = Acked()
    for path, data in content.items() + keyed.items():
        everything.add(path, data)
    log_keys = [slot_homed_at(cluster, victim, b"first\n") for _ in range(logs)]
    appended = AppendedLines([key_path(key) for key in log_keys])

    survivor_urls = [cluster.url(pod) for pod in survivors]
    workers = [
        Workers("readers on survivors", 6, reader(lambda rng: rng.choice(survivor_urls), everything)).start(),
        Workers("appenders on survivors", 3, appended.appender(lambda rng: rng.choice(survivor_urls))).start(),
    ]
    try:
        _reads_continue(workers[0], cluster, time.monotonic(), 200)
        cluster.kill(victim, signal.SIGTERM)
        cluster.wait_gone(victim, timeout=cluster.drain_timeout() + 15)
        _reads_continue(workers[0], cluster, time.monotonic(), 500)
    finally:
        during = [each.stop() for each in workers]
    after = verify_all(survivor_urls, everything.items())
    lost = appended.lost_or_doubled(survivor_urls[0])
    assert all(each.failed == 0 for each in during) and after.failed == 0 and not lost, (
        f"drain of {blocks} blocks, {slots} slots and {logs} appended slots; during it, "
        + "; ".join(each.summary() for each in during)
        + f"\nafterwards, {after.summary()}; appended lines lost or doubled: {lost[:10]}")
    _kinds_survived(survivor_urls[0], content.items()[:50], keyed.items()[:50])
    return victim


class AppendedLines:
    """Slots that clients append unique lines to: every acknowledged line must
    end up in its slot exactly once, wherever the slot moves meanwhile."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self._lock = threading.Lock()
        self._acked: dict[str, list[str]] = {path: ["first"] for path in paths}

    def appender(self, base: Callable[[random.Random], str]) -> Callable[[random.Random], None]:
        def step(rng: random.Random) -> None:
            path, line = rng.choice(self.paths), rng.randbytes(8).hex()
            expect(request("PUT", base(rng) + path + "?append=1", data=f"{line}\n".encode()), 200, path.encode())
            with self._lock:
                self._acked[path].append(line)
        return step

    def lost_or_doubled(self, base: str) -> list[str]:
        """`<path> <line> xN` for every acknowledged line not found exactly once."""
        wrong = []
        for path, lines in self._acked.items():
            body = expect(request("GET", base + path), 200).content.decode()
            found = Counter(body.splitlines())
            missing = [f"{path} {line} x{found[line]}" for line in lines if found[line] != 1]
            if missing:  # what the slot holds instead, for the diagnosis
                missing[0] += f" (of {len(lines)} acknowledged lines; it holds {len(found)} lines, from {body[:40]!r})"
            wrong += missing
        return wrong


def _kinds_survived(url: str, blocks: list[tuple[str, bytes]], slots: list[tuple[str, bytes]]) -> None:
    """A drained content block is still immutable; a drained key slot is still writable."""
    for path, _ in blocks:
        expect_failure(request("PUT", url + path, data=b"overwrite"), 409)
        expect_failure(request("DELETE", url + path), 409)
    for path, _ in slots:
        expect(request("PUT", url + path, data=b"rewritten"), 200, path.encode())
        expect(request("GET", url + path), 200, b"rewritten")
