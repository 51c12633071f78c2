"""The emulated control plane, held to kube-controller-manager's behaviour:
the ReplicaSet controller's choice of pods (ActivePodsWithRanks), its
informer lag and expectations, the Deployment controller's rollouts and
proportional scaling, the /scale subresource's preconditions."""

from __future__ import annotations

import json
import time

from e2e.kubeapi.controllers.ranking import pods_to_delete
from e2e.kubeapi.testkit import (DEPLOYMENTS, MERGE, PODS, assert_status, create, deployment, pods_of, set_ready,
                                 wait_pods)

COST = "controller.kubernetes.io/pod-deletion-cost"
REPLICASETS = "/apis/apps/v1/namespaces/default/replicasets"


def test_scale_up_creates_pending_pods_owned_by_a_replicaset(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    pods = wait_pods(kubeapi, 2, labelSelector="app.kubernetes.io/name=tig")
    owner = pods[0]["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "ReplicaSet" and owner["controller"] is True and owner["name"].startswith("tig-")
    assert pods[0]["metadata"]["name"].startswith(owner["name"] + "-")
    assert pods[0]["status"]["phase"] == "Pending" and pods[0]["spec"]["containers"][0]["image"] == "tig:dev"
    scale_url = f"{kubeapi.url}{DEPLOYMENTS}/tig/scale"
    scale = kubeapi.api().get(scale_url).json()
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    assert scale["status"]["selector"] == "app.kubernetes.io/name=tig"
    patched = kubeapi.api().patch(scale_url, data='{"spec":{"replicas":4}}', headers=MERGE).json()
    assert patched["spec"]["replicas"] == 4
    wait_pods(kubeapi, 4)
    assert kubeapi.api().get(f"{kubeapi.url}{DEPLOYMENTS}/tig").json()["metadata"]["generation"] == 2


def test_scale_put_with_a_stale_resource_version_conflicts(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment())
    scale_url = f"{kubeapi.url}{DEPLOYMENTS}/tig/scale"
    scale = kubeapi.api().get(scale_url).json()
    scale["spec"]["replicas"] = 3
    assert kubeapi.api().put(scale_url, json=scale).status_code == 200
    scale["spec"]["replicas"] = 5
    assert_status(kubeapi.api().put(scale_url, json=scale), 409, "Conflict")


def test_deployment_status_counts_ready_pods(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=3))
    pods = wait_pods(kubeapi, 3)
    set_ready(kubeapi, pods[0]["metadata"]["name"])
    set_ready(kubeapi, pods[1]["metadata"]["name"])

    def status():
        body = kubeapi.api().get(f"{kubeapi.url}{DEPLOYMENTS}/tig").json()["status"]
        return body if body.get("readyReplicas") == 2 else None

    body = kubeapi.wait_for(status, timeout=5)
    assert body["replicas"] == 3 and body["availableReplicas"] == 2 and body["observedGeneration"] == 1


def _scale_to(kube, replicas: int) -> None:
    kube.api().patch(f"{kube.url}{DEPLOYMENTS}/tig/scale", data=json.dumps({"spec": {"replicas": replicas}}),
                     headers=MERGE).raise_for_status()


def _marked(kube) -> list[str]:
    return [p["metadata"]["name"] for p in pods_of(kube) if p["metadata"].get("deletionTimestamp")]


def test_scale_down_removes_the_lowest_deletion_cost_among_ready_pods(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=3))
    names = [p["metadata"]["name"] for p in wait_pods(kubeapi, 3, fieldSelector="spec.nodeName=kubeapi-node")]
    for name in names:
        set_ready(kubeapi, name)
    retiree = names[1]
    annotate = {"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "-1000"}}}
    kubeapi.api().patch(f"{kubeapi.url}{PODS}/{retiree}", data=json.dumps(annotate), headers=MERGE).raise_for_status()
    _scale_to(kubeapi, 2)
    assert kubeapi.wait_for(lambda: _marked(kubeapi), timeout=5) == [retiree]
    # The marked pod stays (terminating) until its kubelet deletes it with grace 0.
    kubeapi.api().delete(f"{kubeapi.url}{PODS}/{retiree}", params={"gracePeriodSeconds": "0"}).raise_for_status()
    assert len(wait_pods(kubeapi, 2)) == 2


def test_scale_down_removes_a_not_ready_pod_before_a_cheaper_ready_one(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    ready, not_ready = [p["metadata"]["name"] for p in wait_pods(kubeapi, 2, fieldSelector="spec.nodeName=kubeapi-node")]
    set_ready(kubeapi, ready)
    annotate = {"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "-1000"}}}
    kubeapi.api().patch(f"{kubeapi.url}{PODS}/{ready}", data=json.dumps(annotate), headers=MERGE).raise_for_status()
    _scale_to(kubeapi, 1)
    assert kubeapi.wait_for(lambda: _marked(kubeapi), timeout=5) == [not_ready]


def test_scale_down_among_equal_pods_removes_the_more_recently_ready(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    old, new = [p["metadata"]["name"] for p in wait_pods(kubeapi, 2, fieldSelector="spec.nodeName=kubeapi-node")]
    set_ready(kubeapi, old, "2020-01-01T00:00:00Z")
    set_ready(kubeapi, new, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    _scale_to(kubeapi, 1)
    assert kubeapi.wait_for(lambda: _marked(kubeapi), timeout=5) == [new]


def test_auto_kubelet_runs_pods_and_finishes_deletions(kubeapi):
    kubeapi.configure(autoKubelet=True)
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    kubeapi.wait_for(lambda: len(pods_of(kubeapi, fieldSelector="status.phase=Running")) == 2, timeout=5)
    assert all(p["status"]["podIP"].startswith("10.244.") for p in pods_of(kubeapi))
    _scale_to(kubeapi, 1)
    wait_pods(kubeapi, 1)
    kubeapi.api().delete(f"{kubeapi.url}{DEPLOYMENTS}/tig").raise_for_status()
    wait_pods(kubeapi, 0)  # the garbage collector removes the ReplicaSet, then its pods


def test_scale_patch_with_a_stale_resource_version_conflicts(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment())
    scale_url = f"{kubeapi.url}{DEPLOYMENTS}/tig/scale"
    seen = kubeapi.api().get(scale_url).json()["metadata"]["resourceVersion"]
    _scale_to(kubeapi, 3)  # someone else's write in between
    stale = {"metadata": {"resourceVersion": seen}, "spec": {"replicas": 5}}
    body = assert_status(kubeapi.api().patch(scale_url, data=json.dumps(stale), headers=MERGE), 409, "Conflict")
    assert body["message"].startswith('Operation cannot be fulfilled on deployments.apps "tig"')
    assert kubeapi.api().get(scale_url).json()["spec"]["replicas"] == 3
    current = kubeapi.api().get(scale_url).json()["metadata"]["resourceVersion"]
    fresh = {"metadata": {"resourceVersion": current}, "spec": {"replicas": 5}}
    assert kubeapi.api().patch(scale_url, data=json.dumps(fresh), headers=MERGE).json()["spec"]["replicas"] == 5


def _annotate(kube, name: str, cost: str) -> None:
    body = {"metadata": {"annotations": {COST: cost}}}
    kube.api().patch(f"{kube.url}{PODS}/{name}", data=json.dumps(body), headers=MERGE).raise_for_status()


def test_the_controller_acts_on_its_lagging_view(kubeapi):
    kubeapi.configure(informerLagSeconds=0.6)
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    time.sleep(0.3)
    assert pods_of(kubeapi) == []  # the Deployment is not even seen yet
    assert len(wait_pods(kubeapi, 2)) == 2


def test_a_deletion_cost_the_controller_has_not_seen_yet_does_not_count(kubeapi):
    """The pod informer lags: the scale-down is decided on the pods as they
    were, so the pod annotated a moment ago is not the one removed."""
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    older, newer = [p["metadata"]["name"] for p in wait_pods(kubeapi, 2, fieldSelector="spec.nodeName=kubeapi-node")]
    set_ready(kubeapi, older, "2020-01-01T00:00:00Z")
    set_ready(kubeapi, newer, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    time.sleep(0.3)  # both readinesses seen
    kubeapi.configure(informerLagByResource={"pods": 1.5})
    _annotate(kubeapi, older, "-1000")  # meant: remove the older one
    _scale_to(kubeapi, 1)
    assert kubeapi.wait_for(lambda: _marked(kubeapi), timeout=5) == [newer]


def test_expectations_keep_a_lagging_controller_from_deleting_twice(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=3))
    for name in [p["metadata"]["name"] for p in wait_pods(kubeapi, 3, fieldSelector="spec.nodeName=kubeapi-node")]:
        set_ready(kubeapi, name)
    time.sleep(0.3)
    kubeapi.configure(informerLagByResource={"pods": 0.6})
    _scale_to(kubeapi, 2)
    kubeapi.wait_for(lambda: _marked(kubeapi), timeout=3)
    time.sleep(0.9)  # many passes with a stale view of the pods
    assert len(_marked(kubeapi)) == 1


def _rollout_fixture(kubeapi) -> tuple[str, str]:
    """10 replicas, maxSurge 3, maxUnavailable 2, a new template whose pods never
    become available (no kubelet): the rollout stops at old 8, new 5."""
    body = deployment(replicas=10)
    body["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    create(kubeapi, DEPLOYMENTS, body)
    kubeapi.wait_for(lambda: len(_replicasets(kubeapi)) == 1 and _sizes(kubeapi) == [10], timeout=5)
    old = _replicasets(kubeapi)[0]["metadata"]["name"]
    image = {"spec": {"template": {"spec": {"containers": [{"name": "tig", "image": "tig:broken"}]}}}}
    kubeapi.api().patch(f"{kubeapi.url}{DEPLOYMENTS}/tig", data=json.dumps(image),
                        headers={"Content-Type": "application/strategic-merge-patch+json"}).raise_for_status()
    kubeapi.wait_for(lambda: _by_name(kubeapi).get(old) == 8 and sum(_sizes(kubeapi)) == 13, timeout=5)
    new = next(name for name in _by_name(kubeapi) if name != old)
    return old, new


def _replicasets(kube) -> list[dict]:
    return kube.api().get(kube.url + REPLICASETS).json()["items"]


def _by_name(kube) -> dict[str, int]:
    return {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in _replicasets(kube)}


def _sizes(kube) -> list[int]:
    return sorted(_by_name(kube).values())


def test_scaling_mid_rollout_is_proportional(kubeapi):
    old, new = _rollout_fixture(kubeapi)
    assert _by_name(kubeapi) == {old: 8, new: 5}
    _scale_to(kubeapi, 15)  # 18 allowed: 5 more, spread 8:5 (the Kubernetes documentation's example)
    kubeapi.wait_for(lambda: _by_name(kubeapi) == {old: 11, new: 7}, timeout=5)
    _scale_to(kubeapi, 5)  # 8 allowed: 10 fewer, the older one first on ties
    kubeapi.wait_for(lambda: sum(_sizes(kubeapi)) == 8, timeout=5)
    assert _by_name(kubeapi) == {old: 5, new: 3}
    annotations = {rs["metadata"]["name"]: rs["metadata"]["annotations"] for rs in _replicasets(kubeapi)}
    assert all(a["deployment.kubernetes.io/desired-replicas"] == "5" and
               a["deployment.kubernetes.io/max-replicas"] == "8" for a in annotations.values())


def _ranked(**fields) -> dict:
    """A pod for the ranking: Running, Ready since 2020, on node n1, created 2020."""
    meta = {"name": fields.get("name", "p"), "uid": fields.get("uid", fields.get("name", "p")),
            "creationTimestamp": fields.get("created", "2020-01-01T00:00:00Z"),
            "annotations": {COST: fields["cost"]} if "cost" in fields else {}}
    ready = fields.get("ready", True)
    status = {"phase": fields.get("phase", "Running"),
              "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                              "lastTransitionTime": fields.get("ready_since", "2020-01-01T00:00:00Z")}],
              "containerStatuses": [{"name": "tig", "restartCount": fields.get("restarts", 0)}]}
    return {"metadata": meta, "spec": {"nodeName": fields.get("node", "n1")}, "status": status}


def test_the_deletion_ranking_rule_by_rule():
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def first(*pods, gate=True):
        return pods_to_delete(list(pods), list(pods), 1, gate)[0]["metadata"]["name"]

    cheap = dict(cost="-100")
    assert first(_ranked(name="a", **cheap), _ranked(name="b", node="")) == "b"  # 1. unassigned
    assert first(_ranked(name="a", **cheap), _ranked(name="b", phase="Pending")) == "b"  # 2. Pending
    assert first(_ranked(name="a", **cheap), _ranked(name="b", phase="Unknown")) == "b"  # 2. Unknown < Running
    assert first(_ranked(name="a", **cheap), _ranked(name="b", ready=False)) == "b"  # 3. not Ready
    assert first(_ranked(name="a", cost="5"), _ranked(name="b", cost="-5")) == "b"  # 4. lower cost
    assert first(_ranked(name="a", cost="5"), _ranked(name="b", cost="-5", ready_since=now), gate=False) == "b"
    assert first(_ranked(name="a", cost="-5", ready_since=now), _ranked(name="b", cost="5"), gate=False) == "a"
    doubled = [_ranked(name="a", node="n1"), _ranked(name="b", node="n2"), _ranked(name="c", node="n2")]
    assert pods_to_delete(doubled[:2], doubled, 1)[0]["metadata"]["name"] == "b"  # 5. doubled up
    assert first(_ranked(name="a"), _ranked(name="b", ready_since=now)) == "b"  # 6. more recently ready
    assert first(_ranked(name="a"), _ranked(name="b", restarts=3)) == "b"  # 7. restarts
    assert first(_ranked(name="a"), _ranked(name="b", created=now)) == "b"  # 8. newer
    # 6. ready times in the same log2 bucket: the lower uid, though b was ready a second later
    assert first(_ranked(name="b", uid="2", ready_since="2020-01-01T00:00:01Z"), _ranked(name="a", uid="1")) == "a"
