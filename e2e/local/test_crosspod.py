"""Write on one pod, read from the others (one 3-pod cluster for the module)."""

import pytest

from e2e.scenarios import crosspod


@pytest.fixture(scope="module")
def cluster(module_clusters, tig):
    return module_clusters.start(3, tig)


@pytest.mark.parametrize("scenario", [
    crosspod.content_block,
    crosspod.conditional_and_range_reads_across_pods,
    crosspod.key_slot,
    crosspod.burst_across_pods,
    crosspod.read_only_channel_across_pods,
    crosspod.write_only_channel_across_pods,
    crosspod.take_race,
    crosspod.setifnot_race,
    crosspod.compare_and_set_race,
], ids=lambda scenario: scenario.__name__)
def test_cross_pod(cluster, scenario):
    scenario(cluster)
