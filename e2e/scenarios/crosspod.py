"""Write on one pod, read from the others: every pod answers for every block
in the cluster (SPEC §6.2). Placement is checked with X-Tig-Forwarded HEADs
(answered from local storage only), so "on another pod" is a fact, not a hope."""

from __future__ import annotations

import os
import threading

from .cluster import Cluster
from .tig import (content_path, expect, expect_bytes, expect_failure, holders, key_path, new_key,
                  put_content, put_slot)
from .web import request

RACE_ROUNDS = 8


def three_pods(cluster: Cluster) -> tuple[str, str, str]:
    pods = cluster.pods()
    assert len(pods) >= 3, f"need three ready pods, have {pods}"
    return pods[0], pods[1], pods[2]


def content_block(cluster: Cluster) -> None:
    a, b, c = three_pods(cluster)
    for size in (1, 100_000, 4 << 20):  # the big one is streamed through the forwarding pod
        data = os.urandom(size)
        path = put_content(cluster.url(a), data)
        [home] = holders(cluster, path)  # stored once, at its home, whichever pod received it
        for reader in (a, b, c):
            expect_bytes(cluster.url(reader), path, data)
            head = expect(request("HEAD", cluster.url(reader) + path), 200)
            assert head.headers["Content-Length"] == str(size), head.headers
    missing = content_path(os.urandom(64))
    for pod in (a, b, c):
        expect_failure(request("GET", cluster.url(pod) + missing), 404)
        expect_failure(request("HEAD", cluster.url(pod) + missing), 404)


def conditional_and_range_reads_across_pods(cluster: Cluster) -> None:
    """A pod that does not hold the block passes If-None-Match, Range and
    If-Range on to its home, and relays the home's 304, 206 or 416 with the
    validators (SPEC §3 holds through any pod)."""
    data = os.urandom(300_000)
    path = put_content(cluster.url(cluster.pods()[0]), data)
    [home] = holders(cluster, path)
    others = [pod for pod in cluster.pods() if pod != home]
    assert others, "need a pod that does not hold the block"
    for reader in others:
        url = cluster.url(reader) + path
        whole = expect(request("GET", url), 200, data)
        etag = whole.headers["ETag"]
        assert etag == f'"{path[1:65]}"' and whole.headers["Cache-Control"].endswith("immutable"), whole.headers
        not_modified = request("GET", url, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304 and not_modified.content == b"", not_modified.status_code
        assert not_modified.headers["ETag"] == etag
        part = request("GET", url, headers={"Range": "bytes=1000-1999", "If-Range": etag})
        assert part.status_code == 206 and part.content == data[1000:2000], part.status_code
        assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
        past = request("GET", url, headers={"Range": f"bytes={len(data)}-"})
        assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"
    assert holders(cluster, path) == [home], "conditional reads copy nothing"


def key_slot(cluster: Cluster) -> None:
    a, b, c = three_pods(cluster)
    key = new_key()
    path = key_path(key)
    put_slot(cluster.url(a), key, b"v1")
    [owner] = holders(cluster, path)  # one copy, wherever the cluster placed it
    for reader in (b, c):
        expect_bytes(cluster.url(reader), path, b"v1")
    put_slot(cluster.url(b), key, b"v2")
    assert holders(cluster, path) == [owner], "an update must reach the existing slot, not make a second one"
    for reader in (a, c):
        expect_bytes(cluster.url(reader), path, b"v2")
    for writer, part in ((a, b"+a"), (b, b"+b"), (c, b"+c")):
        put_slot(cluster.url(writer), key, part, "?append=1")
    expect_bytes(cluster.url(b), path, b"v2+a+b+c")
    expect(request("DELETE", cluster.url(c) + path), 200, path.encode())
    for pod in (a, b, c):
        expect_failure(request("GET", cluster.url(pod) + path), 404)
    assert holders(cluster, path) == []


def burst_across_pods(cluster: Cluster) -> None:
    pods = three_pods(cluster)
    # Parts until they live on three different pods (each at its home).
    parts, paths, homes = [], [], set()
    while len(homes) < 3:
        assert len(parts) < 40, f"40 parts all landed on {homes}"
        part = os.urandom(1000 + len(parts))
        paths.append(put_content(cluster.url(pods[len(parts) % 3]), part))
        parts.append(part)
        [home] = holders(cluster, paths[-1])
        homes.add(home)
    listing = "".join(p + "\n" for p in paths).encode()
    list_path = put_content(cluster.url(pods[1]), listing)
    for reader in pods:
        expect_bytes(cluster.url(reader), list_path, b"".join(parts), "?burst=1")
    # One missing line fails the whole burst, cluster-wide, with nothing sent.
    broken = put_content(cluster.url(pods[0]), listing + content_path(os.urandom(32)).encode() + b"\n")
    for reader in pods:
        expect_failure(request("GET", cluster.url(reader) + broken + "?burst=1"), 404)


def _slot_not_on(cluster: Cluster, via: str, value: bytes, avoid: set[str]) -> tuple[str, str]:
    """Write a fresh key slot whose home is not one of avoid; returns (key, pod).
    Where a new slot lives is the cluster's choice, so try fresh keys."""
    for _ in range(20):
        key = new_key()
        put_slot(via, key, value)
        [owner] = holders(cluster, key_path(key))
        if owner not in avoid:
            return key, owner
        expect(request("DELETE", via + key_path(key)), 200, key_path(key).encode())
    raise AssertionError(f"20 fresh keys all landed on {avoid}")


def read_only_channel_across_pods(cluster: Cluster) -> None:
    a, b, c = three_pods(cluster)
    # As a content block, on a pod other than the target's: the marker names
    # the target, so try targets until the marker's home is another pod.
    for _ in range(20):
        target, target_pod = _slot_not_on(cluster, cluster.url(a), b"first", set())
        target_path = key_path(target)
        marker = f"Read only channel to tig {target_path}".encode()
        channel = put_content(cluster.url(a), marker)
        [marker_pod] = holders(cluster, channel)
        if marker_pod != target_pod:
            break
        expect(request("DELETE", cluster.url(a) + target_path), 200, target_path.encode())
    else:
        raise AssertionError("20 markers all lived with their targets")
    for reader in (a, b, c):
        expect_bytes(cluster.url(reader), channel, b"first")
    put_slot(cluster.url(marker_pod), target, b"second")
    for reader in (a, b, c):
        expect_bytes(cluster.url(reader), channel, b"second")
        expect_failure(request("PUT", cluster.url(reader) + channel, data=b"x"), 409)
        expect_failure(request("DELETE", cluster.url(reader) + channel), 409)
    # As a key slot whose home differs from the target's.
    slot_channel, slot_pod = _slot_not_on(cluster, cluster.url(b), b"placeholder", {target_pod})
    put_slot(cluster.url(c), slot_channel, marker)
    assert holders(cluster, key_path(slot_channel)) == [slot_pod]
    for reader in (a, b, c):
        expect_bytes(cluster.url(reader), key_path(slot_channel), b"second")
        expect_failure(request("PUT", cluster.url(reader) + key_path(slot_channel), data=b"x"), 409)
    expect_bytes(cluster.url(a), target_path, b"second")


def write_only_channel_across_pods(cluster: Cluster) -> None:
    a, b, c = three_pods(cluster)
    target, target_pod = _slot_not_on(cluster, cluster.url(a), b"log:", set())
    channel, channel_pod = _slot_not_on(cluster, cluster.url(b), b"placeholder", {target_pod})
    channel_path = key_path(channel)
    put_slot(cluster.url(a), channel, f"Write only channel to tig {key_path(target)}".encode())
    for writer, line in ((a, b"a;"), (b, b"b;"), (c, b"c;")):
        put_slot(cluster.url(writer), channel, line, "?append=1")
    for reader in (a, b, c):
        expect_bytes(cluster.url(reader), key_path(target), b"log:a;b;c;")
        expect_failure(request("GET", cluster.url(reader) + channel_path), 403)
        expect_failure(request("DELETE", cluster.url(reader) + channel_path), 409)
    assert holders(cluster, channel_path) == [channel_pod]
    assert holders(cluster, key_path(target)) == [target_pod]


def _race(calls: list) -> list:
    """Run the calls at the same instant, one thread each; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # noqa: BLE001 - reported by the caller
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def take_race(cluster: Cluster) -> None:
    pods = three_pods(cluster)
    for round_ in range(RACE_ROUNDS):
        first, second = pods[round_ % 3], pods[(round_ + 1) % 3]
        key = new_key()
        value = f"job {round_}".encode()
        put_slot(cluster.url(pods[(round_ + 2) % 3]), key, value)
        answers = _race([lambda pod=pod: request("GET", cluster.url(pod) + key_path(key) + "?take=1")
                         for pod in (first, second)])
        statuses = sorted((getattr(a, "status_code", repr(a)) for a in answers), key=str)
        assert statuses == [200, 404], f"round {round_}: take from {first} and {second}: {answers}"
        winner = next(a for a in answers if a.status_code == 200)
        loser = next(a for a in answers if a.status_code == 404)
        assert winner.content == value and loser.content == b"", answers
        for pod in pods:
            expect_failure(request("GET", cluster.url(pod) + key_path(key)), 404)


def setifnot_race(cluster: Cluster) -> None:
    pods = three_pods(cluster)
    for round_ in range(RACE_ROUNDS):
        key = new_key()
        path = key_path(key)
        answers = _race([lambda pod=pod: request("PUT", cluster.url(pod) + path + "?setifnot=1", data=pod.encode())
                         for pod in pods])
        statuses = sorted((getattr(a, "status_code", repr(a)) for a in answers), key=str)
        assert statuses == [200, 409, 409], f"round {round_}: setifnot from {pods}: {answers}"
        [winner] = [pod for pod, a in zip(pods, answers) if a.status_code == 200]
        for pod, answer in zip(pods, answers):
            expect(answer, 200 if pod == winner else 409, path.encode() if pod == winner else b"")
        for pod in pods:
            expect_bytes(cluster.url(pod), path, winner.encode())
        assert len(holders(cluster, path)) == 1


def compare_and_set_race(cluster: Cluster) -> None:
    """`If-Match` on a slot is decided at its primary: of writers on every pod
    presenting the tag they read (each through its own pod), exactly one
    wins, and the tag it read is stale for the others (SPEC §3)."""
    pods = three_pods(cluster)
    for round_ in range(RACE_ROUNDS):
        key = new_key()
        path = key_path(key)
        put_slot(cluster.url(pods[round_ % 3]), key, b"start")
        tags = {pod: expect(request("GET", cluster.url(pod) + path), 200, b"start").headers["ETag"] for pod in pods}
        assert len(set(tags.values())) == 1, f"every pod answers the same tag: {tags}"
        answers = _race([lambda pod=pod: request("PUT", cluster.url(pod) + path, headers={"If-Match": tags[pod]},
                                                 data=pod.encode()) for pod in pods])
        statuses = sorted((getattr(a, "status_code", repr(a)) for a in answers), key=str)
        assert statuses == [200, 412, 412], f"round {round_}: If-Match from {pods}: {answers}"
        [winner] = [pod for pod, a in zip(pods, answers) if a.status_code == 200]
        for pod in pods:
            expect_bytes(cluster.url(pod), path, winner.encode())
        assert len(holders(cluster, path)) == 1
