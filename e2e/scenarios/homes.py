"""Cluster v2 (SPEC §6.2, §6.3): every address has homes, the top R members
of a rendezvous ranking over the live members; writes through any pod land
at the homes only, reads through any pod go to them in one hop, blocks move
in the background when a pod joins and are handed over when one drains;
atomic key-slot operations run at the primary home; peers prove the cluster
secret and nothing a client or a stranger sends is taken for a peer's word.

Placement is read from the pods' data directories (a block is the file
`<64 hex>.tig`; append-journal records have mode 0600 and are skipped), so
"on exactly one pod" is a fact about the disks, not something the pods say
about themselves: an internal header from the test would be a client's and
must be ignored (that is one of the things checked here).

The driver must offer, besides the Cluster interface, `data_dir(pod)` (the
pod's --data directory) and `ip(pod)`."""

from __future__ import annotations

import os
import re
import signal
import stat
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from .cluster import Cluster
from .load import Acked, Workers, reader, verify_all
from .poll import wait_until
from .tig import metric_sum as metric, content_path, expect, expect_bytes, key_path, new_key, put_content, put_slot
from .web import request

BLOCK_FILE = re.compile(r"[0-9a-f]{64}\.tig")
JOURNAL_MODE = 0o600

# Headers a peer could add to its answer that tig never sends: none may reach a client.
HOSTILE_HEADERS = ("set-cookie", "x-evil", "access-control-allow-origin", "refresh")


class DiskCluster(Cluster, Protocol):
    def data_dir(self, pod: str) -> Path: ...

    def ip(self, pod: str) -> str: ...


# -- placement, from the disks --------------------------------------------------------


def stored(cluster: DiskCluster, pod: str) -> set[str]:
    """Paths of the blocks and slots in the pod's data directory."""
    found = set()
    with os.scandir(cluster.data_dir(pod)) as entries:
        for entry in entries:
            if not BLOCK_FILE.fullmatch(entry.name):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # replaced or moved meanwhile
            if stat.S_ISREG(status.st_mode) and status.st_mode & 0o7777 != JOURNAL_MODE:
                found.add("/" + entry.name)
    return found


def placement(cluster: DiskCluster, paths, pods: list[str]) -> dict[str, list[str]]:
    """path -> the pods (of `pods`) that hold it on disk."""
    held = {pod: stored(cluster, pod) for pod in pods}
    return {path: [pod for pod in pods if path in held[pod]] for path in paths}


def on_disk(cluster: DiskCluster, path: str, pods: list[str] | None = None) -> list[str]:
    return placement(cluster, [path], pods or cluster.pods())[path]


def not_exactly(where: dict[str, list[str]], copies: int) -> dict[str, list[str]]:
    return {path: pods for path, pods in where.items() if len(pods) != copies}


def shown(wrong: dict, limit: int = 8) -> str:
    items = list(wrong.items())
    return f"{len(items)} of them, e.g. {items[:limit]}"


# -- metrics --------------------------------------------------------------------------




# -- writing ----------------------------------------------------------------------------


def store_blocks(urls: list[str], count: int, threads: int = 8) -> Acked:
    """`count` fresh content blocks, written round-robin through `urls`."""
    acked = Acked()

    def one(i: int) -> None:
        data = i.to_bytes(4, "big") + os.urandom(60 + i % 900)
        acked.add(put_content(urls[i % len(urls)], data), data)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    assert len(acked) == count
    return acked


def store_slots(urls: list[str], count: int) -> Acked:
    acked = Acked()
    for i in range(count):
        key, value = new_key(), f"slot {i} ".encode() + os.urandom(8)
        put_slot(urls[i % len(urls)], key, value)
        acked.add(key_path(key), value)
    return acked


def rewrite_moves_nothing(cluster: DiskCluster, items: list[tuple[str, bytes]], pods: list[str],
                          where: dict[str, list[str]]) -> dict[str, tuple[list[str], list[str]]]:
    """Write each block (or slot, with its own value) again through every pod.
    A write lands at the address's home(s), so a block that sits at its
    home gains no copy; one that sits elsewhere gains one at its home.
    Returns the blocks whose placement changed: (before, after)."""
    for path, data in items:
        for pod in pods:
            if content_path(data) == path:
                put_content(cluster.url(pod), data)
            else:
                expect(request("PUT", cluster.url(pod) + path, data=data), 200, path.encode())
    now = placement(cluster, [path for path, _ in items], pods)
    return {path: (where[path], now[path]) for path, _ in items if now[path] != where[path]}


def _keep_reading(workers: Workers, cluster: Cluster, reads: int) -> None:
    """Let the load run past an event until the pods have surely refreshed
    their peers twice and `reads` more requests were served."""
    since, mark = time.monotonic(), workers.ok()
    wait_until(f"{reads} more reads by {workers.name}",
               lambda: workers.ok() >= mark + reads and time.monotonic() - since >= 2 * cluster.peer_refresh(),
               timeout=2 * cluster.peer_refresh() + 60)


# -- homes ------------------------------------------------------------------------------


def one_copy_at_its_home(cluster: DiskCluster, blocks: int = 300, slots: int = 60) -> None:
    """R=1, a steady cluster: every block written through one pod lands on
    exactly one pod's disk, chosen by its address (so spread over all pods,
    not kept by the receiver), and is read through any pod."""
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    a, b, c = pods[0], pods[1], pods[2]
    urls = [cluster.url(pod) for pod in pods]
    content = store_blocks([cluster.url(a)], blocks)
    where = placement(cluster, [path for path, _ in content.items()], pods)
    wrong = not_exactly(where, 1)
    assert not wrong, f"content blocks written through {a} not on exactly one pod: {shown(wrong)}"
    spread = Counter(holders[0] for holders in where.values())
    for pod in pods:
        assert spread[pod] >= blocks / (3 * len(pods)), (
            f"{blocks} blocks written through {a} are placed by address on all pods, found {dict(spread)}")

    # The home is a property of the address: the same bytes written again
    # through other pods add no copy, and stay where they are.
    for path, data in content.items()[:30]:
        for pod in (b, c):
            put_content(cluster.url(pod), data)
    again = placement(cluster, [path for path, _ in content.items()[:30]], pods)
    moved = {path: held for path, held in again.items() if held != where[path]}
    assert not moved, f"rewriting blocks through other pods changed where they are: {shown(moved)}"

    keyed = store_slots([cluster.url(a)], slots)
    slot_where = placement(cluster, [path for path, _ in keyed.items()], pods)
    wrong = not_exactly(slot_where, 1)
    assert not wrong, f"key slots written through {a} not on exactly one pod: {shown(wrong)}"
    assert len(set(held[0] for held in slot_where.values())) >= 2, f"{slots} new slots all on one pod: {slot_where}"
    # An update through another pod reaches the same single copy.
    for path, _ in keyed.items()[:10]:
        value = b"updated " + os.urandom(4)
        expect(request("PUT", cluster.url(b) + path, data=value), 200, path.encode())
        keyed.add(path, value)
        assert on_disk(cluster, path, pods) == slot_where[path], f"update of {path} through {b}"

    total = sum(metric(cluster.admin_url(pod), "tig_blocks") for pod in pods)
    assert total == blocks + slots, f"tig_blocks summed over the pods is {total}, stored {blocks} + {slots} once each"

    _reads_take_one_hop(cluster, a, b, c, where)

    # Every block and slot, read through each pod that is not its home.
    everything = content.items() + keyed.items()
    homes = {**where, **slot_where}
    for pod in pods:
        others = [(path, data) for path, data in everything if homes[path] != [pod]]
        outcome = verify_all([cluster.url(pod)], others)
        assert outcome.failed == 0, f"reading through {pod}: {outcome.summary()}"


def _reads_take_one_hop(cluster: DiskCluster, a: str, b: str, c: str, where: dict[str, list[str]]) -> None:
    """Reads through b of blocks homed on c go to c directly: the bystander a
    serves no part of them (no broadcast), while c serves each of them.
    Fresh blocks each round (never read through b before, so nothing could
    answer them from a cache); the cluster must be steady, so rounds repeat
    until one is clean or the deadline passes."""
    reads = 20
    rounds: list[str] = []

    def clean_round() -> bool:
        fresh = [(path, data) for path, data in store_blocks([cluster.url(a)], 3 * reads + 30).items()
                 if on_disk(cluster, path, [a, b, c]) == [c]][:reads]
        assert len(fresh) >= reads // 2, "too few fresh blocks landed on c"
        at_a = metric(cluster.admin_url(a), "tig_requests_total")
        at_c = metric(cluster.admin_url(c), "tig_requests_total")
        for path, data in fresh:
            expect_bytes(cluster.url(b), path, data)
        delta_a = metric(cluster.admin_url(a), "tig_requests_total") - at_a
        delta_c = metric(cluster.admin_url(c), "tig_requests_total") - at_c
        rounds.append(f"{len(fresh)} reads: bystander +{delta_a:.0f}, home +{delta_c:.0f}")
        return delta_a < len(fresh) / 2 and delta_c >= len(fresh)

    try:
        wait_until("reads through one pod go to the home only", clean_round,
                   timeout=6 * cluster.peer_refresh() + 20, interval=0.2)
    except TimeoutError as error:
        raise AssertionError(f"{error}; requests served per round by the bystander {a} and the home {c} "
                             f"while {b} read: {rounds}") from None


# -- membership changes -------------------------------------------------------------


def rebalance_on_join(cluster: DiskCluster, blocks: int = 600) -> str:
    """A pod joins a cluster of R=1 pods under read load: about 1/N of the
    blocks move to it, each block ends on exactly one pod, no block moves
    between the pods that were already there (rendezvous), and no read
    fails meanwhile. Returns the new pod."""
    old = cluster.pods()
    assert len(old) >= 2, old
    content = store_blocks([cluster.url(pod) for pod in old], blocks)
    paths = [path for path, _ in content.items()]
    before = placement(cluster, paths, old)
    wrong = not_exactly(before, 1)
    assert not wrong, f"before the join, blocks not on exactly one pod: {shown(wrong)}"

    workers = Workers("readers through every ready pod", 6,
                      reader(lambda rng: cluster.url(rng.choice(cluster.pods())), content), pace=0.002).start()
    snapshots: list[dict[str, list[str]]] = []
    try:
        _keep_reading(workers, cluster, 100)
        new = cluster.add_pod()
        pods = old + [new]

        def settled() -> bool:
            # Every block on one pod, the new pod holding its share, and the
            # same placement as one refresh ago (the background pass is done).
            now = placement(cluster, paths, pods)
            last = snapshots[-1] if snapshots else None
            snapshots.append(now)
            share = sum(1 for held in now.values() if held == [new])
            return (last == now and not not_exactly(now, 1) and share >= blocks / (3 * len(pods)))

        try:
            wait_until("blocks handed over to the new pod", settled, timeout=90, interval=cluster.peer_refresh())
        except TimeoutError as error:
            last = snapshots[-1]
            raise AssertionError(
                f"{error}: {sum(1 for held in last.values() if held == [new])} of {blocks} blocks on {new} only; "
                f"not on exactly one pod: {shown(not_exactly(last, 1))}") from None
        _keep_reading(workers, cluster, 300)
    finally:
        outcome = workers.stop()
    assert outcome.failed == 0, f"reads during the rebalance: {outcome.summary()}"
    after = snapshots[-1]
    between_old = {path: (before[path], held) for path, held in after.items() if held not in (before[path], [new])}
    assert not between_old, f"blocks moved from one old pod to another: {shown(between_old)}"
    share = sum(1 for held in after.values() if held == [new]) / blocks
    assert 0.15 <= share <= 0.55, f"the new pod took {share:.0%} of the blocks, expected about 1/{len(pods)}"
    everyone = verify_all([cluster.url(pod) for pod in pods], content.items())
    assert everyone.failed == 0, everyone.summary()
    sample = [(path, data) for path, data in content.items() if after[path] == [new]][:30] + \
        [(path, data) for path, data in content.items() if after[path] != [new]][:30]
    off_home = rewrite_moves_nothing(cluster, sample, pods, after)
    assert not off_home, f"after the rebalance, blocks not at their home (a rewrite added a copy): {shown(off_home)}"
    return new


def drain_to_homes(cluster: DiskCluster, blocks: int = 600, slots: int = 100) -> str:
    """SIGTERM of a pod under read load: its blocks and slots go to their
    homes among the survivors (one copy each), the survivors' own blocks
    stay where they are, nothing is lost and no read fails. Returns the
    victim (the caller checks its exit status)."""
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    urls = [cluster.url(pod) for pod in pods]
    content = store_blocks(urls, blocks)
    keyed = store_slots(urls, slots)
    everything = Acked()
    for path, data in content.items() + keyed.items():
        everything.add(path, data)
    paths = [path for path, _ in everything.items()]
    before = placement(cluster, paths, pods)
    wrong = not_exactly(before, 1)
    assert not wrong, f"before the drain, not on exactly one pod: {shown(wrong)}"
    victim, survivors = pods[0], pods[1:]
    on_victim = [path for path in paths if before[path] == [victim]]
    assert len(on_victim) >= len(paths) / (3 * len(pods)), f"only {len(on_victim)} blocks on the victim"

    survivor_urls = [cluster.url(pod) for pod in survivors]
    workers = Workers("readers through the survivors", 6,
                      reader(lambda rng: rng.choice(survivor_urls), everything), pace=0.002).start()
    try:
        _keep_reading(workers, cluster, 100)
        cluster.kill(victim, signal.SIGTERM)
        cluster.wait_gone(victim, timeout=cluster.drain_timeout() + 15)
        _keep_reading(workers, cluster, 300)
    finally:
        outcome = workers.stop()
    assert outcome.failed == 0, f"reads while {victim} drained: {outcome.summary()}"
    lost = verify_all(survivor_urls, everything.items())
    assert lost.failed == 0, f"after the drain of {victim}: {lost.summary()}"

    last: list[dict[str, list[str]]] = []

    def one_copy_each() -> bool:
        last[:] = [placement(cluster, paths, survivors)]
        return not not_exactly(last[0], 1)

    try:
        wait_until("every block on exactly one survivor", one_copy_each, timeout=30, interval=0.5)
    except TimeoutError as error:
        raise AssertionError(f"{error}: {shown(not_exactly(last[0], 1))}") from None
    after = last[0]
    stayed = {path: (before[path], after[path]) for path in paths
              if before[path] != [victim] and after[path] != before[path]}
    assert not stayed, f"blocks of the survivors moved although their home did not leave: {shown(stayed)}"
    items = dict(everything.items())
    sample = [(path, items[path]) for path in on_victim[:40]] + \
        [(path, items[path]) for path in paths if before[path] != [victim]][:20]
    off_home = rewrite_moves_nothing(cluster, sample, survivors, after)
    assert not off_home, (f"blocks {victim} handed over are not at their homes among the survivors "
                          f"(a rewrite added a copy): {shown(off_home)}")
    return victim


def replicas_survive_a_lost_pod(cluster: DiskCluster, blocks: int = 300) -> None:
    """--replicas 2: every content block is on two pods' disks; after kill -9
    of one pod and the loss of its data, every acknowledged block is still
    read through the remaining pods, and writes through them still work."""
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    urls = [cluster.url(pod) for pod in pods]
    content = store_blocks(urls, blocks)
    paths = [path for path, _ in content.items()]
    where = placement(cluster, paths, pods)
    wrong = not_exactly(where, 2)
    assert not wrong, f"with --replicas 2, content blocks not on exactly two pods: {shown(wrong)}"
    pairs = Counter(tuple(held) for held in where.values())
    assert len(pairs) >= 2, f"every block on the same two pods: {dict(pairs)}"
    total = sum(metric(cluster.admin_url(pod), "tig_blocks") for pod in pods)
    assert total == 2 * blocks, f"tig_blocks summed over the pods is {total}, stored {blocks} twice each"

    victim, survivors = pods[0], pods[1:]
    on_victim = sum(1 for held in where.values() if victim in held)
    assert on_victim > 0
    data_dir = cluster.data_dir(victim)
    cluster.kill(victim, signal.SIGKILL)
    for entry in os.scandir(data_dir):
        os.unlink(entry.path)  # the pod's emptyDir is gone with it
    survivor_urls = [cluster.url(pod) for pod in survivors]
    right_away = verify_all(survivor_urls, content.items())
    assert right_away.failed == 0, (f"right after kill -9 of {victim} (it held {on_victim} of {blocks}): "
                                    f"{right_away.summary()}")
    written = store_blocks(survivor_urls, 40)
    assert not not_exactly(placement(cluster, [p for p, _ in written.items()], survivors), 2), \
        "blocks written to the two survivors with --replicas 2 are on both"

    # Once the survivors have surely re-resolved their peers, still all there.
    since = time.monotonic()
    wait_until("two peer refreshes", lambda: time.monotonic() - since >= 2 * cluster.peer_refresh()
               and verify_all(survivor_urls, written.items()[:5]).failed == 0, timeout=60)
    later = verify_all(survivor_urls, content.items() + written.items())
    assert later.failed == 0, f"after the survivors refreshed their peers: {later.summary()}"

    # The survivors restore two copies of what the lost pod held: each
    # block it shared with one survivor is copied to the other.
    every = paths + [p for p, _ in written.items()]
    wait_until("every block on both survivors again",
               lambda: not not_exactly(placement(cluster, every, survivors), 2), timeout=60)
