"""A request carrying X-Tig-Forwarded is answered locally and never forwarded
again (SPEC §6.2): loops between pods are impossible."""

from __future__ import annotations

import os

from .cluster import FORWARDED, Cluster
from .tig import expect, expect_failure, holders, key_path, metric_sum, new_key, put_content, put_slot
from .web import request

MARKED = {FORWARDED: "e2e"}


def forwarded_requests_stay_local(cluster: Cluster) -> None:
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    a, b = pods[0], pods[1]
    data = os.urandom(300)
    path = put_content(cluster.url(a), data)
    assert holders(cluster, path) == [a]
    key = new_key()
    put_slot(cluster.url(a), key, b"slot on a", local_only=True)
    slot = key_path(key)

    forwarded_before = metric_sum(cluster.url(b), "tig_forwarded_total")
    for target in (path, slot):
        expect_failure(request("GET", cluster.url(b) + target, headers=MARKED), 404)
        expect_failure(request("HEAD", cluster.url(b) + target, headers=MARKED), 404)
        expect_failure(request("GET", cluster.url(b) + target + "?take=1", headers=MARKED), 404)
        expect_failure(request("DELETE", cluster.url(b) + target, headers=MARKED), 404)
    assert metric_sum(cluster.url(b), "tig_forwarded_total") == forwarded_before, \
        "a request marked X-Tig-Forwarded was forwarded"

    # The same requests without the mark are forwarded to the holder.
    expect(request("GET", cluster.url(b) + path), 200, data)
    expect(request("GET", cluster.url(b) + slot), 200, b"slot on a")
    assert metric_sum(cluster.url(b), "tig_forwarded_total") > forwarded_before
    assert holders(cluster, path) == [a] and holders(cluster, slot) == [a]

    # A marked write is stored by the receiver itself, even though a peer holds the slot.
    expect(request("PUT", cluster.url(b) + slot, data=b"slot on b", headers=MARKED), 200, slot.encode())
    assert holders(cluster, slot) == [a, b]
    expect(request("GET", cluster.url(a) + slot, headers=MARKED), 200, b"slot on a")
    expect(request("GET", cluster.url(b) + slot, headers=MARKED), 200, b"slot on b")
