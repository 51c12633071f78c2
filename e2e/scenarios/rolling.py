"""A rolling restart under write and read load loses no acknowledged block and
fails no client request: each old pod drains into the others as it stops."""

from __future__ import annotations

from .cluster import Cluster
from .load import Acked, Workers, reader, verify_all, writer
from .poll import wait_until


def rolling_restart_under_load(cluster: Cluster) -> None:
    before = set(cluster.pods())
    service = cluster.service_url()
    acked = Acked()
    writers = Workers("writers", 3, writer(lambda rng: service, acked, fresh=True)).start()
    readers = Workers("readers", 3, reader(lambda rng: service, acked, fresh=True))
    try:
        wait_until("first writes", lambda: len(acked) >= 50, timeout=30)
        readers.start()
        wait_until("load running", lambda: len(acked) >= 200 and readers.ok() >= 200, timeout=60)
        cluster.rolling_restart()
        written = len(acked)
        wait_until("writes after the restart", lambda: len(acked) >= written + 100, timeout=60)
    finally:
        write_outcomes, read_outcomes = writers.stop(), readers.stop()
    after = cluster.pods()
    assert not before & set(after), f"pods {before & set(after)} were not replaced"
    lost = verify_all([cluster.url(pod) for pod in after], acked.items())
    assert write_outcomes.failed == read_outcomes.failed == lost.failed == 0, (
        f"{write_outcomes.summary()}\n{read_outcomes.summary()}\n"
        f"{len(acked)} acknowledged blocks after the restart, {lost.summary()}")
