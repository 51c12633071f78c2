"""A pod added to the cluster is found through DNS within one refresh period
(SPEC §6.1), in both directions."""

from __future__ import annotations

import os
import time

from .cluster import Cluster
from .poll import wait_until
from .tig import expect_bytes, get, put_content

# Beyond one refresh period: a probe round (--peer-timeout) and scheduling.
SLACK = 1.0


def new_pod_is_discovered(cluster: Cluster) -> None:
    old = cluster.pods()
    old_data = os.urandom(500)
    old_path = put_content(cluster.url(old[0]), old_data)
    new = cluster.add_pod()  # returns once the new pod is ready and in DNS
    published = time.monotonic()
    # The new pod resolved the name when it started, so it knows the old ones now.
    expect_bytes(cluster.url(new), old_path, old_data)
    new_data = os.urandom(500)
    new_path = put_content(cluster.url(new), new_data)
    for pod in old:
        remaining = cluster.peer_refresh() + SLACK - (time.monotonic() - published)
        wait_until(f"{pod} reads a block of the new pod {new}",
                   lambda pod=pod: get(cluster.url(pod), new_path).content == new_data,
                   timeout=max(remaining, 0.0))
