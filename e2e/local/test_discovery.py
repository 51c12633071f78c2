"""A new pod is discovered within one DNS refresh period."""

from e2e.scenarios import discovery


def test_new_pod_is_discovered_within_one_refresh(clusters, tig):
    discovery.new_pod_is_discovered(clusters.start(2, tig))
