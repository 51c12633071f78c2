"""Peer requests are answered locally and never forwarded again (SPEC §6.2):
loops between pods are impossible. Only a member's request, proven by the
cluster secret, counts as one: a client that sends the internal headers
itself is answered as any client."""

from __future__ import annotations

import os
import time

from .cluster import PEER_AUTH, Cluster
from .tig import expect, expect_failure, holders, key_path, metric_sum, new_key, put_content, put_slot
from .web import request

FORGED = {
    "X-Tig-Forwarded": "e2e",  # the header older versions trusted
    PEER_AUTH: f"{int(time.time())} {'0' * 64}",
    "X-Tig-No-Channel": "1",
}


def forwarded_requests_stay_local(cluster: Cluster) -> None:
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    data = os.urandom(300)
    path = put_content(cluster.url(pods[0]), data)
    [home] = holders(cluster, path)  # R = 1: one copy, at its home
    key = new_key()
    slot = key_path(key)
    put_slot(cluster.url(pods[0]), key, b"a slot")
    [slot_home] = holders(cluster, slot)
    other = next(pod for pod in pods if pod not in (home, slot_home)) if len(pods) > 2 else None
    asker = other or next(pod for pod in pods if pod != home)

    forwarded_before = metric_sum(cluster.admin_url(asker), "tig_forwarded_total")
    for target, holder in ((path, home), (slot, slot_home)):
        if holder == asker:
            continue
        for method, query in (("GET", ""), ("HEAD", ""), ("GET", "?take=1"), ("DELETE", "")):
            headers = cluster.peer_headers(method, target + query)
            expect_failure(request(method, cluster.url(asker) + target + query, headers=headers), 404)
    assert metric_sum(cluster.admin_url(asker), "tig_forwarded_total") == forwarded_before, \
        "a peer's request was forwarded again"

    # Forged internal headers make a client's request nothing else: it is
    # answered from the cluster, not from the receiving pod's own storage.
    expect(request("GET", cluster.url(asker) + path, headers=FORGED), 200, data)
    expect(request("HEAD", cluster.url(asker) + path, headers=FORGED), 200)
    expect(request("GET", cluster.url(asker) + slot, headers=FORGED), 200, b"a slot")
    assert metric_sum(cluster.admin_url(asker), "tig_forwarded_total") > forwarded_before
    assert holders(cluster, path) == [home] and holders(cluster, slot) == [slot_home]
