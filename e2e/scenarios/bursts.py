"""Long bursts across pods (issue 10): a 50,000-line burst whose lines name
blocks homed on every pod is answered completely and correctly; each
distinct block held elsewhere is looked up and fetched once, however many
lines name it (cost linear in the blocks, never per line or quadratic); and
the pod serving it keeps answering other requests meanwhile.

Needs the DiskCluster driver (placement from the disks, see homes.py)."""

from __future__ import annotations

import hashlib
import random
import time

from .homes import DiskCluster, on_disk, store_blocks
from .load import Workers, reader
from .tig import metric_sum as metric, put_content
from .web import request


def long_burst_across_pods(cluster: DiskCluster, distinct: int = 2000, lines: int = 50_000) -> float:
    """Returns the seconds the burst took (for the record, never asserted)."""
    pods = cluster.pods()
    assert len(pods) >= 2, pods
    reader_pod = pods[0]
    base = cluster.url(reader_pod)
    blocks = store_blocks([cluster.url(pod) for pod in pods], distinct)
    items = blocks.items()
    elsewhere = [path for path, _ in items if on_disk(cluster, path, pods) != [reader_pod]]
    assert len(elsewhere) >= distinct // 4, f"only {len(elsewhere)} of {distinct} blocks are homed on other pods"

    order = [items[i % distinct] for i in range(lines)]
    random.Random(7).shuffle(order)
    listing = "".join(path + "\n" for path, _ in order).encode()
    # The list itself homed on the reading pod, so that pod runs the burst
    # (empty lines are skipped, and change the list's address).
    for padding in range(64):
        list_path = put_content(base, listing + b"\n" * padding)
        if on_disk(cluster, list_path, pods) == [reader_pod]:
            break
    else:
        raise AssertionError(f"no padding of the list landed it on {reader_pod}")
    expected = hashlib.sha256(b"".join(data for _, data in order)).hexdigest()

    others = pods[1:]
    served_before = {pod: metric(cluster.admin_url(pod), "tig_requests_total") for pod in others}
    beside = Workers("reads beside the burst", 2, reader(lambda rng: base, blocks), pace=0.01).start()
    started = time.monotonic()
    try:
        response = request("GET", base + list_path + "?burst=1", timeout=300)
    finally:
        outcome = beside.stop()
    took = time.monotonic() - started

    assert response.status_code == 200, response.status_code
    assert len(response.content) == sum(len(data) for _, data in order)
    assert hashlib.sha256(response.content).hexdigest() == expected, "the burst's bytes differ from its lines' blocks"
    assert outcome.failed == 0, f"requests beside the burst: {outcome.summary()}"
    assert outcome.ok > 0, "no request beside the burst was answered while it ran"
    # One lookup and one fetch per distinct remote block, plus the reads
    # beside it: a per-line cost would be some 2 × 50,000 × (N-1)/N.
    peer_requests = sum(metric(cluster.admin_url(pod), "tig_requests_total") - served_before[pod] for pod in others)
    bound = 2 * len(elsewhere) + outcome.ok
    assert peer_requests <= bound, (
        f"the other pods served {peer_requests:.0f} requests for a burst of {lines} lines naming "
        f"{len(elsewhere)} blocks they hold (and {outcome.ok} reads beside it); at most {bound} expected")
    return took
