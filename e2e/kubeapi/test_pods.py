"""What nodes do to pods behind their owners' backs, and how the control
plane takes it: readiness that flaps, evictions (Failed, reason Evicted)
and completions (Succeeded) that stay listed until someone deletes them."""

from __future__ import annotations

import json
import time

from e2e.kubeapi.testkit import (DEPLOYMENTS, MERGE, PODS, Watch, assert_status, create, deployment, pod, pods_of,
                                 set_ready, wait_pods)

SELECTOR = "app.kubernetes.io/name=tig"
REPLICASETS = "/apis/apps/v1/namespaces/default/replicasets"


def _condition(pod: dict, kind: str) -> dict:
    return next(c for c in pod["status"]["conditions"] if c["type"] == kind)


def _running(kube, count: int) -> list[str]:
    """The pods of the Deployment, Running and Ready with a running tig container."""
    names = [p["metadata"]["name"] for p in wait_pods(kube, count, fieldSelector="spec.nodeName=kubeapi-node")]
    container = {"status": {"containerStatuses": [{"name": "tig", "ready": True, "restartCount": 0,
                                                   "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}]}}
    for name in names:
        set_ready(kube, name)
        kube.api().patch(f"{kube.url}{PODS}/{name}/status", data=json.dumps(container),
                         headers=MERGE).raise_for_status()
    return names


def test_readiness_goes_false_and_back_as_a_probe_would_set_it(kubeapi):
    kubeapi.configure(controllers=False)
    create(kubeapi, PODS, pod("a"))
    set_ready(kubeapi, "a")
    down = kubeapi.set_ready("a", False)
    ready = _condition(down, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")
    assert ready["lastTransitionTime"] != "2024-01-01T00:00:00Z"
    assert _condition(down, "ContainersReady")["status"] == "False"
    assert down["status"]["phase"] == "Running"  # not ready is not stopped
    assert _condition(kubeapi.set_ready("a", True), "Ready")["status"] == "True"


def test_readiness_flaps(kubeapi):
    kubeapi.configure(controllers=False)
    create(kubeapi, PODS, pod("a"))
    set_ready(kubeapi, "a")
    rv = kubeapi.api().get(kubeapi.url + PODS).json()["metadata"]["resourceVersion"]
    watch = Watch(kubeapi, PODS, resourceVersion=rv)
    kubeapi.flap("a", interval=0.1, times=4)
    states = [_condition(e["object"], "Ready")["status"] for e in watch.take(4)]
    watch.close()
    assert states == ["False", "True", "False", "True"]


def test_a_pod_that_is_not_ready_at_the_scale_down_goes_first_whatever_its_cost(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    keep, retire = _running(kubeapi, 2)
    cost = {"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "-1000"}}}
    kubeapi.api().patch(f"{kubeapi.url}{PODS}/{retire}", data=json.dumps(cost), headers=MERGE).raise_for_status()
    kubeapi.set_ready(keep, False)  # a readiness probe failing just then
    time.sleep(0.3)
    kubeapi.api().patch(f"{kubeapi.url}{DEPLOYMENTS}/tig/scale", data='{"spec":{"replicas":1}}',
                        headers=MERGE).raise_for_status()
    marked = kubeapi.wait_for(lambda: [p["metadata"]["name"] for p in pods_of(kubeapi)
                                       if p["metadata"].get("deletionTimestamp")], timeout=5)
    assert marked == [keep]


def test_an_evicted_pod_is_replaced_but_stays_listed_until_deleted(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=2))
    evicted = _running(kubeapi, 2)[0]
    failed = kubeapi.finish_pod(evicted)
    status = failed["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "Evicted")
    assert status["message"].startswith("The node was low on resource")
    assert _condition(failed, "Ready")["status"] == "False"
    assert _condition(failed, "DisruptionTarget")["reason"] == "TerminationByKubelet"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137
    listed = wait_pods(kubeapi, 3, labelSelector=SELECTOR)  # a replacement; the evicted one still matches
    assert [p["status"]["phase"] for p in listed if p["metadata"]["name"] == evicted] == ["Failed"]
    assert not any(p["metadata"].get("deletionTimestamp") for p in listed)  # nobody deletes it

    def replicaset_counts_active_pods_only():
        rs = kubeapi.api().get(kubeapi.url + REPLICASETS).json()["items"][0]
        return rs["status"].get("replicas") == 2
    kubeapi.wait_for(replicaset_counts_active_pods_only, timeout=5)
    response = kubeapi.api().post(f"{kubeapi.url}/_emulator/pods/default/{evicted}/ready", json={"ready": True})
    assert_status(response, 400, "BadRequest")
    kubeapi.api().delete(f"{kubeapi.url}{PODS}/{evicted}").raise_for_status()  # finished: gone at once
    assert_status(kubeapi.api().get(f"{kubeapi.url}{PODS}/{evicted}"), 404, "NotFound")


def test_a_completed_pod_is_succeeded_and_replaced(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=1))
    done = _running(kubeapi, 1)[0]
    finished = kubeapi.finish_pod(done, "Succeeded")
    assert finished["status"]["phase"] == "Succeeded"
    assert _condition(finished, "Ready")["reason"] == "PodCompleted"
    terminated = finished["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    live = wait_pods(kubeapi, 1, fieldSelector="status.phase!=Succeeded,status.phase!=Failed")
    assert done not in [p["metadata"]["name"] for p in live]
    assert len(pods_of(kubeapi, labelSelector=SELECTOR)) == 2  # the replacement and the completed one
