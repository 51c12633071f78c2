"""A rolling restart under write and read load."""

from e2e.scenarios import rolling


def test_rolling_restart_loses_nothing(clusters, tig):
    rolling.rolling_restart_under_load(clusters.start(3, tig))
