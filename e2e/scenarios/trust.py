"""Cluster v2, trust (SPEC §6.2): peers prove the cluster secret, and
nothing a client or a stranger sends is taken for a peer's word; atomic
key-slot operations run at the primary home, so races have one winner; a
dead peer costs nothing. Placement is read from the pods' disks (see
`homes`)."""

from __future__ import annotations

import os
import random
import secrets
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from .crosspod import _race
from .load import Acked, verify_all
from .poll import wait_until
from .tig import metric_sum as metric, content_path, expect, expect_bytes, expect_failure, key_path, new_key, put_content, put_slot
from .web import describe, request
from .homes import DiskCluster, HOSTILE_HEADERS, shown, not_exactly, on_disk, placement




# -- clients cannot speak for peers ---------------------------------------------------


def internal_header_sets() -> list[tuple[str, dict[str, str]]]:
    """Every internal header a client might send, alone and together, with
    proofs it can make up (it does not know the secret)."""
    now = int(time.time())
    sets = [
        ("forwarded", {"X-Tig-Forwarded": "x"}),
        ("no-channel", {"X-Tig-No-Channel": "1"}),
        ("list-times", {"X-Tig-List-Times": "1"}),
        ("bogus-auth", {"X-Tig-Peer-Auth": "123 deadbeef"}),
        ("wrong-hmac", {"X-Tig-Peer-Auth": f"{now} {secrets.token_hex(32)}"}),
        ("no-secret-form", {"X-Tig-Peer-Auth": f"{now} -"}),
    ]
    everything: dict[str, str] = {}
    for _, headers in sets:
        everything.update(headers)
    everything["X-Tig-Peer-Auth"] = f"{now} -"
    return sets + [("all", everything)]


def internal_headers_are_a_clients(cluster: DiskCluster) -> None:
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    pairs = [(pods[i], pods[(i + 1) % len(pods)]) for i in range(len(pods))]

    for name, headers in internal_header_sets():
        # setifnot through two pods: the second one must go to the slot's
        # primary home (where the first one's write is), not write locally.
        for first, second in pairs:
            path = key_path(new_key())
            expect(request("PUT", cluster.url(first) + path + "?setifnot=1", data=first.encode(), headers=headers),
                   200, path.encode())
            second_answer = request("PUT", cluster.url(second) + path + "?setifnot=1", data=second.encode(),
                                    headers=headers)
            assert second_answer.status_code == 409 and second_answer.content == b"", (
                f"[{name}] setifnot of {path} through {first} answered 200, then through {second}: "
                f"{describe(second_answer)} (expected 409)")
            for pod in pods:
                expect_bytes(cluster.url(pod), path, first.encode())
            assert len(on_disk(cluster, path, pods)) == 1, f"[{name}] {path}: {on_disk(cluster, path, pods)}"

    # Reads of a block and a slot held by another pod are still answered.
    data = os.urandom(500)
    block = put_content(cluster.url(pods[0]), data)
    key = new_key()
    put_slot(cluster.url(pods[0]), key, b"slot value")
    slot = key_path(key)
    for path, value in ((block, data), (slot, b"slot value")):
        [home] = on_disk(cluster, path, pods)
        for pod in pods:
            if pod == home:
                continue
            for name, headers in internal_header_sets():
                answer = request("GET", cluster.url(pod) + path, headers=headers)
                assert answer.status_code == 200 and answer.content == value, (
                    f"[{name}] GET through {pod} of {path} held by {home}: {describe(answer)}")
                head = request("HEAD", cluster.url(pod) + path, headers=headers)
                assert head.status_code == 200 and head.headers.get("Content-Length") == str(len(value)), (
                    f"[{name}] HEAD through {pod} of {path} held by {home}: {describe(head)} {dict(head.headers)}")

    # take and DELETE with internal headers, through a pod that is not the home.
    for name, headers in internal_header_sets():
        for operation in ("take", "delete"):
            key = new_key()
            path = key_path(key)
            put_slot(cluster.url(pods[0]), key, b"job")
            [home] = on_disk(cluster, path, pods)
            via = next(pod for pod in pods if pod != home)
            if operation == "take":
                answer = request("GET", cluster.url(via) + path + "?take=1", headers=headers)
                expected = b"job"
            else:
                answer = request("DELETE", cluster.url(via) + path, headers=headers)
                expected = path.encode()
            assert answer.status_code == 200 and answer.content == expected, (
                f"[{name}] {operation} through {via} of a slot held by {home}: {describe(answer)}")
            for pod in pods:
                expect_failure(request("GET", cluster.url(pod) + path), 404)
            assert on_disk(cluster, path, pods) == [], f"[{name}] {operation}: {path} still on disk"

    # X-Tig-No-Channel from a client does not stop a read-only channel.
    target = new_key()
    put_slot(cluster.url(pods[1]), target, b"channel target")
    channel = put_content(cluster.url(pods[2]), f"Read only channel to tig {key_path(target)}".encode())
    for pod in pods:
        answer = request("GET", cluster.url(pod) + channel, headers={"X-Tig-No-Channel": "1"})
        assert answer.status_code == 200 and answer.content == b"channel target", (
            f"GET of a read-only channel through {pod} with X-Tig-No-Channel: {describe(answer)}")

    # X-Tig-List-Times changes nothing about a (refused) listing.
    for pod in pods:
        plain = request("GET", cluster.url(pod) + "/")
        marked = request("GET", cluster.url(pod) + "/", headers={"X-Tig-List-Times": "1"})
        assert (marked.status_code, marked.content) == (plain.status_code, plain.content), (
            f"listing through {pod}: without the header {describe(plain)}, with it {describe(marked)}")


# -- atomic operations at the primary home --------------------------------------------


def setifnot_race_everywhere(cluster: DiskCluster, writers: int = 20, rounds: int = 5) -> None:
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    for round_ in range(rounds):
        path = key_path(new_key())
        senders = [pods[i % len(pods)] for i in range(writers)]
        answers = _race([lambda i=i, pod=pod: request("PUT", cluster.url(pod) + path + "?setifnot=1",
                                                      data=f"writer {i}".encode())
                         for i, pod in enumerate(senders)])
        statuses = Counter(getattr(a, "status_code", repr(a)) for a in answers)
        assert statuses == Counter({200: 1, 409: writers - 1}), (
            f"round {round_}: {writers} setifnot of {path} through {pods}: {dict(statuses)}")
        [winner] = [i for i, a in enumerate(answers) if a.status_code == 200]
        expect(answers[winner], 200, path.encode())
        assert all(a.content == b"" for a in answers if a.status_code == 409)
        for pod in pods:
            expect_bytes(cluster.url(pod), path, f"writer {winner}".encode())
        assert len(on_disk(cluster, path, pods)) == 1


def take_race_everywhere(cluster: DiskCluster, takers: int = 20, rounds: int = 5) -> None:
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    for round_ in range(rounds):
        key = new_key()
        path = key_path(key)
        value = f"job {round_} ".encode() + os.urandom(8)
        put_slot(cluster.url(pods[round_ % len(pods)]), key, value)
        answers = _race([lambda pod=pods[i % len(pods)]: request("GET", cluster.url(pod) + path + "?take=1")
                         for i in range(takers)])
        statuses = Counter(getattr(a, "status_code", repr(a)) for a in answers)
        assert statuses == Counter({200: 1, 404: takers - 1}), (
            f"round {round_}: {takers} takes of {path} through {pods}: {dict(statuses)}")
        assert [a.content for a in answers if a.status_code == 200] == [value]
        assert all(a.content == b"" for a in answers if a.status_code == 404)
        for pod in pods:
            expect_failure(request("GET", cluster.url(pod) + path), 404)
        assert on_disk(cluster, path, pods) == []


# -- strangers ----------------------------------------------------------------------------


class StrangerLike(Protocol):
    identity: str

    def announce(self, urls: list[str]) -> list[str]: ...

    def requests_from(self, ips: set[str]) -> list[dict]: ...


def _hostile(response) -> list[str]:
    return [name for name in HOSTILE_HEADERS if name in {key.lower() for key in response.headers}]


def stranger_gets_nothing(cluster: DiskCluster, stranger: StrangerLike, forged: bytes) -> None:
    """A process that announces itself as a ready peer (with made-up proofs)
    but is not one: the pods never send it a request and never serve its
    bytes, while they store, read and miss blocks as usual. Runs the traffic
    over three announcement lifetimes' worth of peer refreshes, renewing the
    announcement each round, since what is checked is an absence."""
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    urls = [cluster.url(pod) for pod in pods]
    pod_ips = {cluster.ip(pod) for pod in pods}
    lines = stranger.announce(urls)
    # A stranger's /healthz is not served on the public port (only a member's is).
    assert len(lines) == 4 * len(urls) and all(line.split()[-1] == "404" for line in lines), (
        f"the stranger's announcements were not refused by the pods: {lines}")

    wrong: list[str] = []
    acked = Acked()
    rounds = 0
    since = time.monotonic()
    while rounds < 3 or time.monotonic() - since < 4 * cluster.peer_refresh():
        rounds += 1
        stranger.announce(urls)
        for i, pod in enumerate(pods):
            url = cluster.url(pod)
            for path in (content_path(os.urandom(40)), key_path(new_key())):
                for method in ("GET", "HEAD"):
                    answer = request(method, url + path)
                    if answer.status_code != 404 or answer.content != b"" or _hostile(answer) \
                            or forged in answer.content:
                        wrong.append(f"{describe(answer)} {dict(answer.headers)}")
            data = os.urandom(200)
            acked.add(put_content(url, data), data)
            key = new_key()
            put_slot(url, key, b"slot " + key.encode())
            acked.add(key_path(key), b"slot " + key.encode())
            path, value = acked.sample(random.Random(rounds * 31 + i))
            answer = request("GET", cluster.url(pods[(i + 1) % len(pods)]) + path)
            if answer.status_code != 200 or answer.content != value or _hostile(answer):
                wrong.append(f"{describe(answer)} {dict(answer.headers)}")
    assert not wrong, f"answers that were not the cluster's own ({len(wrong)}): {wrong[:5]}"
    reached = stranger.requests_from(pod_ips)
    assert not reached, (f"the pods sent {len(reached)} requests to the stranger {stranger.identity}, e.g. "
                         f"{[(r['from'], r['method'], r['path']) for r in reached[:5]]}")
    for pod in pods:
        peers = metric(cluster.admin_url(pod), "tig_peers")
        assert peers == len(pods) - 1, f"{pod} counts {peers:.0f} peers; the cluster has {len(pods)} pods"
    everything = verify_all(urls, acked.items())
    assert everything.failed == 0, everything.summary()


def relayed_headers_are_filtered(cluster: DiskCluster, peer: StrangerLike, forged: bytes) -> None:
    """A member (its address is in DNS; no secret configured) answers reads
    with its own bytes and hostile headers: what the pods relay carries only
    tig's own headers; Set-Cookie and the rest never reach the client.
    Reads of fresh key slots through the pods reach it for the slots it is
    the home of."""
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    relayed: list = []
    leaked: list[str] = []

    def reads_reach_the_peer() -> bool:
        for pod in pods:
            for method in ("GET", "HEAD"):
                answer = request(method, cluster.url(pod) + key_path(new_key()))
                if _hostile(answer):
                    leaked.append(f"{describe(answer)} {dict(answer.headers)}")
                if answer.status_code == 200:
                    relayed.append(answer)
        return sum(1 for a in relayed if a.request.method == "GET") >= 6

    try:
        wait_until("reads through the pods relayed from the member in DNS", reads_reach_the_peer,
                   timeout=4 * cluster.peer_refresh() + 20, interval=0.1)
    except TimeoutError as error:
        raise AssertionError(f"{error}; the member received "
                             f"{len(peer.requests_from({cluster.ip(p) for p in pods}))} requests from the pods") from None
    assert not leaked, f"headers of a peer's answer reached the client: {leaked[:5]}"
    for answer in relayed:
        if answer.request.method == "GET":
            assert answer.content == forged, f"a 200 that is not the member's answer: {describe(answer)}"
        assert answer.headers.get("Content-Length") == str(len(forged)), (describe(answer), dict(answer.headers))


# -- dead peers -------------------------------------------------------------------------


def dead_peers_cost_nothing(cluster: DiskCluster, dead: list[str], count: int = 12) -> None:
    """A static peer list naming addresses where nothing answers: writes of
    content and of new key slots through the live pods succeed (the next
    member in rank takes what a dead home would get), reads of missing
    addresses are clean 404s, and everything written is read through every
    live pod. Requests run in parallel, so a slow failure shows as failures,
    not as an endless test."""
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    urls = [cluster.url(pod) for pod in pods]
    content, keyed = Acked(), Acked()
    failures: list[str] = []

    def attempt(kind: str, i: int) -> None:
        url = urls[i % len(urls)]
        try:
            if kind == "content":
                data = os.urandom(100 + i)
                content.add(put_content(url, data), data)
            elif kind == "slot":
                key = new_key()
                put_slot(url, key, f"slot {i}".encode())
                keyed.add(key_path(key), f"slot {i}".encode())
            elif kind == "missing content":
                expect_failure(request("GET", url + content_path(os.urandom(33))), 404)
            elif kind == "missing slot":
                expect_failure(request("GET", url + key_path(new_key())), 404)
            else:
                expect_failure(request("HEAD", url + content_path(os.urandom(34))), 404)
        except Exception as error:  # noqa: BLE001 - all reported together
            failures.append(f"{kind} #{i} through {url}: {(str(error).splitlines() or [repr(error)])[0]}")

    kinds = ["content", "slot", "missing content", "missing slot", "missing head"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda job: attempt(*job), [(kind, i) for i in range(count) for kind in kinds]))
    errors = sum(metric(cluster.admin_url(pod), "tig_forwarded_total", result="error") for pod in pods)
    assert not failures, (f"with dead peers {dead} in the static list, {len(failures)} of {count * len(kinds)} "
                          f"requests failed (tig_forwarded_total{{result=\"error\"}} {errors:.0f}): {failures[:6]}")
    where = placement(cluster, [path for path, _ in content.items() + keyed.items()], pods)
    wrong = not_exactly(where, 1)
    assert not wrong, f"acknowledged writes not on exactly one live pod: {shown(wrong)}"
    for url in urls:
        outcome = verify_all([url], content.items() + keyed.items())
        assert outcome.failed == 0, f"through {url}: {outcome.summary()}"
