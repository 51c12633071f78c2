"""The original readme's curl examples through the Service of a 3-pod cluster."""

from e2e.scenarios import readme


def test_readme_examples_through_the_service(clusters, tig):
    readme.run(clusters.start(3, tig))
