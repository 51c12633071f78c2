"""The hot cache (issue 10, `--hot-cache-size`): a pod that relayed a
content block from its home answers the next read of it itself, with no
hop; key slots, partial reads, reads that do not reset the timer and
blocks above the entry limit are never kept away from home.

Needs a steady cluster of at least two pods and the DiskCluster driver
(placement is read from the disks, see homes.py)."""

from __future__ import annotations

import os

from .homes import DiskCluster, on_disk, store_blocks
from .tig import expect, expect_bytes, get, key_path, metric_sum as metric, new_key, put_content, put_slot
from .web import request

LARGEST_ENTRY = 256 * 1024


def repeat_reads_stay_on_the_reader(cluster: DiskCluster) -> None:
    a, b = cluster.pods()[:2]
    reader, home = cluster.url(a), cluster.url(b)
    blocks = [(path, data) for path, data in store_blocks([reader], 60).items() if on_disk(cluster, path, [a, b]) == [b]]
    assert len(blocks) >= 10, f"too few of 60 blocks landed on {b}"
    blocks = blocks[:10]

    def served_by_home(reads) -> float:
        before = metric(cluster.admin_url(b), "tig_requests_total")
        reads()
        return metric(cluster.admin_url(b), "tig_requests_total") - before

    # The first read of each is relayed from the home and kept; the next two
    # (GET and HEAD) are answered by the reader alone, with the same bytes.
    first = served_by_home(lambda: [expect_bytes(reader, path, data) for path, data in blocks])
    assert first == len(blocks), f"the first reads through {a}: the home served {first}, expected {len(blocks)}"
    hits = metric(cluster.admin_url(a), "tig_hot_cache_hits_total")

    def again() -> None:
        for path, data in blocks:
            response = expect(get(reader, path), 200, data)
            assert response.headers.get("ETag") == f'"{path[1:65]}"', response.headers
            head = expect(request("HEAD", reader + path), 200)
            assert head.headers.get("Content-Length") == str(len(data)), head.headers
    assert served_by_home(again) == 0, "repeat reads of relayed blocks still went to their home"
    assert metric(cluster.admin_url(a), "tig_hot_cache_hits_total") - hits == 2 * len(blocks)
    assert metric(cluster.admin_url(a), "tig_hot_cache_bytes") >= sum(len(data) for _, data in blocks)
    # Nothing was stored on the reader's disk: the cache is memory only.
    assert all(on_disk(cluster, path, [a, b]) == [b] for path, _ in blocks)

    # Never kept: a key slot (its value changes), a range, a read that does not
    # reset the block's timer, and a block above the entry limit.
    for _ in range(40):  # a key whose slot lives on the home, not on the reader
        key = new_key()
        slot = key_path(key)
        put_slot(home, key, b"first value")
        if on_disk(cluster, slot, [a, b]) == [b]:
            break
    assert on_disk(cluster, slot, [a, b]) == [b], f"40 new slots all landed on {a}"
    expect_bytes(reader, slot, b"first value")
    put_slot(home, key, b"second value")
    assert served_by_home(lambda: expect_bytes(reader, slot, b"second value")) == 1

    fresh = [(path, data) for path, data in store_blocks([reader], 40).items()
             if on_disk(cluster, path, [a, b]) == [b]][:2]
    assert len(fresh) == 2, f"too few fresh blocks landed on {b}"
    (ranged, ranged_data), (untouched, untouched_data) = fresh
    expect(request("GET", reader + ranged, headers={"Range": "bytes=0-9"}), 206, ranged_data[:10])
    assert served_by_home(lambda: expect_bytes(reader, ranged, ranged_data)) == 1, "a range read filled the cache"
    expect_bytes(reader, untouched, untouched_data, "?chtimes=0")
    assert served_by_home(lambda: expect_bytes(reader, untouched, untouched_data)) == 1, \
        "a read that left the timer alone filled the cache"

    for size in (LARGEST_ENTRY + 1, 2 * LARGEST_ENTRY):
        large = os.urandom(size)
        path = put_content(reader, large)
        if on_disk(cluster, path, [a, b]) != [b]:
            continue
        expect_bytes(reader, path, large)
        assert served_by_home(lambda: expect_bytes(reader, path, large)) == 1, f"a {size}-byte block was cached"
