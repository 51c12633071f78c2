"""Pods that crash (SIGKILL) or are deleted (SIGTERM, drain) under load."""

from e2e.scenarios import failures


def test_kill9_keeps_reads_of_live_pods_working(clusters, tig):
    failures.kill9_under_read_load(clusters.start(3, tig))


def test_sigterm_drains_10000_blocks_under_read_load(clusters, tig):
    cluster = clusters.start(3, tig)
    victim = failures.drain_under_read_load(cluster, blocks=10_000)
    assert cluster.exit_code(victim) == 0, "tig serve exits 0 after a clean SIGTERM shutdown (DESIGN.md)"
