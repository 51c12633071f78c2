"""A request marked X-Tig-Forwarded is never forwarded again."""

from e2e.scenarios import forwarding


def test_forwarded_requests_stay_local(clusters, tig):
    forwarding.forwarded_requests_stay_local(clusters.start(3, tig))
