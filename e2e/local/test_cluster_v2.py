"""Cluster v2 (e2e/scenarios/homes.py): homes by rendezvous ranking,
rebalancing on join, drain to homes, --replicas 2, peers that prove the
cluster secret, internal headers from clients ignored, atomic slot
operations at the primary home, dead static peers, relayed-header
allow-list. Placement is read from the pods' data directories."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest

from e2e.scenarios import bazel, bursts, homes, hotcache, joinraces, trust

from .cluster import LocalCluster
from .pods import ServeOptions
from .stranger import FORGED, Stranger


def _strangers(request, cluster: LocalCluster):
    made: list[Stranger] = []

    def make() -> Stranger:
        stranger = Stranger(cluster.network, cluster.dir)
        made.append(stranger)
        return stranger

    request.addfinalizer(lambda: [s.stop() for s in made])
    return make


# -- one cluster with a secret for the request-level checks --------------------------


@pytest.fixture(scope="module")
def secret_cluster(module_clusters, tig):
    return module_clusters.start(3, tig, cluster_secret=secrets.token_hex(32).encode())


def test_internal_headers_from_clients_are_ignored(secret_cluster, module_clusters):
    trust.internal_headers_are_a_clients(secret_cluster)


def test_bazel_cache_entries_live_at_their_homes_and_read_through_any_pod(secret_cluster, module_clusters):
    bazel.cache_entries_through_any_pod(secret_cluster)


def test_setifnot_race_over_all_pods(secret_cluster, module_clusters):
    trust.setifnot_race_everywhere(secret_cluster, writers=20, rounds=5)


def test_take_race_over_all_pods(secret_cluster, module_clusters):
    trust.take_race_everywhere(secret_cluster, takers=20, rounds=5)


def test_stranger_without_the_secret_gets_no_traffic(request, secret_cluster, module_clusters):
    stranger = _strangers(request, secret_cluster)()
    trust.stranger_gets_nothing(secret_cluster, stranger, FORGED)


# -- no secret: DNS decides who is a peer -----------------------------------------------


@pytest.fixture(scope="module")
def open_cluster(module_clusters, tig):
    return module_clusters.start(2, tig, cluster_secret=None)


def test_without_secret_a_stranger_not_in_dns_gets_no_traffic(request, open_cluster, module_clusters):
    stranger = _strangers(request, open_cluster)()
    trust.stranger_gets_nothing(open_cluster, stranger, FORGED)


def test_relayed_answers_carry_only_allowed_headers(request, open_cluster, module_clusters):
    """Runs last in the module: it makes the stranger a member (in DNS)."""
    member = _strangers(request, open_cluster)()
    open_cluster.publish_extra([member.ip])
    try:
        trust.relayed_headers_are_filtered(open_cluster, member, FORGED)
    finally:
        open_cluster.publish_extra([])


# -- placement and membership changes, a cluster each -----------------------------------


def test_each_block_on_exactly_one_pod_its_home(clusters, tig):
    homes.one_copy_at_its_home(clusters.start(3, tig))


def test_join_moves_a_share_to_the_new_pod_without_failed_reads(clusters, tig):
    homes.rebalance_on_join(clusters.start(2, tig))


def test_take_and_setifnot_have_one_winner_while_a_pod_joins(clusters, tig):
    joinraces.atomic_operations_during_a_join(clusters.start(2, tig))


def test_sigterm_hands_blocks_to_their_homes(clusters, tig):
    cluster = clusters.start(3, tig)
    victim = homes.drain_to_homes(cluster)
    assert cluster.exit_code(victim) == 0, "tig serve exits 0 after a clean SIGTERM shutdown"


def test_replicas_2_survive_kill9_and_a_wiped_data_dir(clusters, tig):
    homes.replicas_survive_a_lost_pod(clusters.start(3, tig, extra_args=("--replicas", "2")))


def test_repeat_reads_of_relayed_blocks_need_no_hop(clusters, tig):
    hotcache.repeat_reads_stay_on_the_reader(clusters.start(2, tig))


def test_a_50000_line_burst_across_pods_costs_one_lookup_per_block(clusters, tig, record_property):
    took = bursts.long_burst_across_pods(clusters.start(3, tig))
    record_property("burst_seconds", round(took, 2))
    print(f"50,000-line burst over 3 pods: {took:.2f} s")


def test_dead_static_peers_cost_nothing(run, clusters, tig):
    """--peers names the three live pods, an address with no listener (a
    namespace without a process: connections are refused) and an address on
    the bridge that nobody has (packets go nowhere)."""
    cluster = LocalCluster(run, ServeOptions(command=(tig[0],)))
    clusters.made.append(cluster)
    subnet, port = cluster.network.subnet, cluster.options.port
    refused = cluster.network.add_namespace()  # the first address of the bridge, .2
    live = [f"{subnet}.{host}" for host in (3, 4, 5)]  # the pods take the next ones, in order
    black_hole = f"{subnet}.250"
    dead = [f"{refused.ip}:{port}", f"{black_hole}:{port}"]
    cluster.options = replace(cluster.options, peers=",".join([f"{ip}:{port}" for ip in live] + dead))
    pods = [cluster.start_pod() for _ in live]
    assert [cluster.ip(pod) for pod in pods] == live, "the harness gave the pods other addresses than planned"
    trust.dead_peers_cost_nothing(cluster, dead)
