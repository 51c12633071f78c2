"""Self-tests of the harness with a stand-in pod process (standin.py), so the
infrastructure is known to work before tig is judged by it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from e2e.scenarios.opconfig import OperatorConfig
from e2e.scenarios.poll import wait_until
from e2e.scenarios.web import request

from . import cleanup
from .conftest import REPO, STANDIN
from .kube import MERGE
from .netns import ip

NAME = "tig-headless.default.svc.cluster.local"


def resolve_in(cluster, pod: str) -> list[str]:
    """The headless name as glibc's getaddrinfo sees it inside the pod's namespace."""
    out = subprocess.run(["ip", "netns", "exec", cluster.netns(pod), "getent", "ahosts", NAME],
                         capture_output=True, text=True).stdout
    return sorted({line.split()[0] for line in out.splitlines()})


def ips(cluster, pods) -> list[str]:
    return sorted(cluster.ip(pod) for pod in pods)


def test_pods_resolve_and_reach_each_other(clusters):
    cluster = clusters.start(3, STANDIN)
    pods = cluster.pods()
    assert len(pods) == 3
    for pod in pods:
        assert resolve_in(cluster, pod) == ips(cluster, pods)
        assert request("GET", cluster.url(pod) + "/whoami").text == cluster.ip(pod)
        others = ips(cluster, [p for p in pods if p != pod])
        assert request("GET", cluster.url(pod) + "/peers").text == "".join(f"{ip} 200\n" for ip in others)


def test_dns_and_service_follow_membership(clusters):
    cluster = clusters.start(2, STANDIN)
    first, second = cluster.pods()
    third = cluster.add_pod()
    for pod in (first, second, third):
        assert resolve_in(cluster, pod) == ips(cluster, [first, second, third])
    served = {request("GET", cluster.service_url() + "/whoami", fresh=True).text for _ in range(12)}
    assert served == set(ips(cluster, [first, second, third]))

    cluster.kill(first, signal.SIGTERM)  # withdrawn from DNS and the Service before the signal
    assert cluster.terminating() == [first]
    assert resolve_in(cluster, second) == ips(cluster, [second, third])
    served = {request("GET", cluster.service_url() + "/whoami", fresh=True).text for _ in range(12)}
    assert served == set(ips(cluster, [second, third]))
    cluster.wait_gone(first, timeout=10)
    assert cluster.exit_code(first) == 0
    assert cluster.netns(first) not in ip("netns", "list").split()

    cluster.kill(second, signal.SIGKILL)
    assert cluster.exit_code(second) == -signal.SIGKILL
    assert cluster.pods() == [third] and cluster.terminating() == []
    assert resolve_in(cluster, third) == [cluster.ip(third)]


def test_rolling_restart_replaces_every_pod(clusters):
    cluster = clusters.start(2, STANDIN)
    before = cluster.pods()
    cluster.rolling_restart()
    after = cluster.pods()
    assert len(after) == 2 and not set(before) & set(after)
    for pod in after:
        assert resolve_in(cluster, pod) == ips(cluster, after)


def test_close_leaves_nothing(run, clusters):
    cluster = clusters.start(2, STANDIN)
    namespaces = [cluster.netns(pod) for pod in cluster.pods()]
    cluster.close()
    clusters.made.remove(cluster)
    left = cleanup.find().get(run.id)
    assert left is None or (not left.namespaces and not left.links and not left.pids), left
    assert not set(namespaces) & set(ip("netns", "list").split())


CRASHING_RUN = textwrap.dedent(f"""
    import os, signal, sys
    sys.path.insert(0, {str(REPO)!r})
    from e2e.local.cluster import LocalCluster
    from e2e.local.names import Run, global_lock
    from e2e.local.pods import ServeOptions
    with global_lock():
        run = Run()
    LocalCluster(run, ServeOptions(command={STANDIN!r})).start_pods(2)
    print(run.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_cleanup_removes_a_crashed_run_and_spares_live_ones(run, clusters):
    live = clusters.start(1, STANDIN)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_RUN], capture_output=True, text=True)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    crashed_id = crashed.stdout.strip()
    left = cleanup.find()[crashed_id]
    assert len(left.namespaces) == 2 and len(left.links) == 3 and len(left.pids) == 3, left  # 2 pods + dnsmasq

    removed = cleanup.clean()
    assert crashed_id in removed and run.id not in removed
    assert crashed_id not in cleanup.find()
    assert request("GET", live.admin_url(live.pods()[0]) + "/healthz").status_code == 200


def test_kubelet_follows_the_deployment(control_planes):
    config = OperatorConfig()
    cluster, emulator, kubelet = control_planes.start(STANDIN, config, replicas=2)
    pods_path = f"/api/v1/namespaces/{config.namespace}/pods"
    scale_path = f"/apis/apps/v1/namespaces/{config.namespace}/deployments/{config.deployment}/scale"

    def api_pods() -> dict[str, dict]:
        return {pod["metadata"]["name"]: pod
                for pod in emulator.api.get(pods_path, labelSelector=config.selector)["items"]}

    def settled(count: int) -> bool:
        pods = api_pods()
        return (len(pods) == count and sorted(pods) == sorted(cluster.pods()) and not cluster.terminating()
                and all(is_ready(pod) and pod["status"]["podIP"] == cluster.ip(name) for name, pod in pods.items()))

    wait_until("two pods running and ready in the API", lambda: settled(2), timeout=30)
    emulator.api.patch(scale_path, {"spec": {"replicas": 3}}, content_type=MERGE)
    wait_until("three pods", lambda: settled(3), timeout=30)
    names_before = set(cluster.pods())
    for pod in cluster.pods():
        assert resolve_in(cluster, pod) == ips(cluster, cluster.pods())

    emulator.api.patch(scale_path, {"spec": {"replicas": 1}}, content_type=MERGE)
    wait_until("one pod, the others drained and deleted", lambda: settled(1), timeout=30)
    [survivor] = cluster.pods()
    for gone in names_before - {survivor}:
        assert cluster.exit_code(gone) == 0, f"{gone} was not stopped with SIGTERM"
    assert resolve_in(cluster, survivor) == [cluster.ip(survivor)]
    assert cluster.replicas() == 1
    assert kubelet.errors == []


def is_ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return pod["status"].get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in conditions)
