"""The Bazel remote-cache protocol across the cluster (issue 13): entries
written through any pod live at their homes, one copy each, and are read
through every pod; the CAS rules hold where the entry lives."""

from __future__ import annotations

import os

from .homes import DiskCluster, not_exactly, placement, shown
from .tig import expect, expect_failure, key_path, put_slot, sha
from .web import request


def cache_entries_through_any_pod(cluster: DiskCluster, entries: int = 30) -> None:
    pods = cluster.pods()
    assert len(pods) >= 3, pods
    urls = [cluster.url(pod) for pod in pods]
    blobs = [os.urandom(2000) for _ in range(entries)]
    for i, blob in enumerate(blobs):
        writer = urls[i % len(urls)]
        expect(request("PUT", f"{writer}/build/cas/{sha(blob)}", data=blob), 200)
        expect(request("PUT", f"{writer}/build/ac/{sha(blob)}", data=b"result " + blob[:8]), 200)
    where = placement(cluster, ["/" + sha(blob) + ".tig" for blob in blobs], pods)
    wrong = not_exactly(where, 1)
    assert not wrong, f"CAS entries not on exactly one pod: {shown(wrong)}"
    assert len({held[0] for held in where.values()}) >= 2, "every entry on one pod: not placed by hash"
    for blob in blobs:
        for url in urls:
            expect(request("GET", f"{url}/build/cas/{sha(blob)}"), 200, blob)
            expect(request("GET", f"{url}/build/ac/{sha(blob)}"), 200, b"result " + blob[:8])
            expect_failure(request("GET", f"{url}/other/ac/{sha(blob)}"), 404)

    # Refused where the entry would live, through any pod: other bytes, and a
    # key slot squatting at a hash.
    mismatch = os.urandom(100)
    for url in urls:
        expect_failure(request("PUT", f"{url}/cas/{sha(b'not these')}", data=mismatch), 400)
    squatted = sha(os.urandom(40))
    put_slot(urls[0], squatted, b"a squatter")
    for url in urls:
        expect_failure(request("GET", f"{url}/cas/{squatted}"), 404)
        expect_failure(request("HEAD", f"{url}/cas/{squatted}"), 404)
        expect(request("GET", url + key_path(squatted)), 200, b"a squatter")
