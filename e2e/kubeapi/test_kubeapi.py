"""Checks that the emulator behaves like a real kube-apiserver where clients
can tell: Status errors, resourceVersions, watch semantics, optimistic
concurrency, Leases. Authentication and RBAC: test_auth.py; controllers:
test_controllers.py; pods' own changes: test_pods.py; faults and the request
log: test_faults.py. Run: python3 -m pytest e2e/kubeapi -q
The `kubeapi` fixture (conftest.py) is the emulator, reset before each test.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time

import pytest
import requests

from e2e.kubeapi.client import start_process
from e2e.kubeapi.testkit import (DEPLOYMENTS, EVENTS, LEASES, MERGE, NS, PODS, STRATEGIC, Watch, assert_status,
                                 create, pod, pods_of, set_ready)


# -- objects ---------------------------------------------------------------------

def test_create_get_and_errors_are_real_status_objects(kubeapi):
    created = create(kubeapi, PODS, pod("a"))
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z") and int(meta["resourceVersion"]) > 0
    assert created["status"]["phase"] == "Pending"
    assert kubeapi.api().get(f"{kubeapi.url}{PODS}/a").json()["metadata"]["uid"] == meta["uid"]
    body = assert_status(kubeapi.api().post(kubeapi.url + PODS, json=pod("a")), 409, "AlreadyExists")
    assert body["message"] == 'pods "a" already exists' and body["details"] == {"name": "a", "kind": "pods"}
    body = assert_status(kubeapi.api().get(f"{kubeapi.url}{DEPLOYMENTS}/nope"), 404, "NotFound")
    assert body["message"] == 'deployments.apps "nope" not found' and body["details"]["group"] == "apps"
    assert_status(kubeapi.api().post(kubeapi.url + "/api/v1/namespaces/nowhere/pods", json=pod("b")), 404, "NotFound")


def test_generate_name_and_resource_versions_increase_globally(kubeapi):
    kubeapi.configure(controllers=False)  # no scheduler writes in between
    first = create(kubeapi, PODS, {**pod(""), "metadata": {"generateName": "web-"}})
    second = create(kubeapi, LEASES, {"metadata": {"name": "l"}, "spec": {}})
    assert first["metadata"]["name"].startswith("web-") and len(first["metadata"]["name"]) == len("web-") + 5
    assert int(second["metadata"]["resourceVersion"]) == int(first["metadata"]["resourceVersion"]) + 1


def test_wire_types_are_checked_like_the_go_decoder(kubeapi):
    create(kubeapi, PODS, pod("a"))
    number_annotation = {"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": -1000}}}
    response = kubeapi.api().patch(f"{kubeapi.url}{PODS}/a", data=json.dumps(number_annotation), headers=MERGE)
    assert_status(response, 400, "BadRequest")
    bad_cost = {"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "cheap"}}}
    response = kubeapi.api().patch(f"{kubeapi.url}{PODS}/a", data=json.dumps(bad_cost), headers=MERGE)
    assert "must be a 32bit integer" in assert_status(response, 422, "Invalid")["message"]
    lease = {"metadata": {"name": "l"}, "spec": {"renewTime": "2024-01-01T00:00:00Z"}}  # MicroTime needs 6 digits
    assert_status(kubeapi.api().post(kubeapi.url + LEASES, json=lease), 400, "BadRequest")


def test_no_op_update_does_not_bump_the_resource_version(kubeapi):
    kubeapi.configure(controllers=False)
    created = create(kubeapi, PODS, pod("a", {"x": "1"}))
    patch = {"metadata": {"labels": {"x": "1"}}}
    same = kubeapi.api().patch(f"{kubeapi.url}{PODS}/a", data=json.dumps(patch), headers=MERGE).json()
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_merge_and_strategic_patch_others_are_415(kubeapi):
    create(kubeapi, PODS, pod("a", {"keep": "1", "drop": "1"}))
    url = f"{kubeapi.url}{PODS}/a"
    patched = kubeapi.api().patch(url, data=json.dumps({"metadata": {"labels": {"drop": None, "new": "2"}}}),
                                  headers=MERGE).json()
    assert patched["metadata"]["labels"] == {"keep": "1", "new": "2"}
    set_ready(kubeapi, "a")
    scheduled = {"status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}}
    merged = kubeapi.api().patch(url + "/status", data=json.dumps(scheduled), headers=STRATEGIC).json()
    assert {c["type"] for c in merged["status"]["conditions"]} == {"Ready", "PodScheduled"}  # merged by type
    replaced = kubeapi.api().patch(url + "/status", data=json.dumps(scheduled), headers=MERGE).json()
    assert [c["type"] for c in replaced["status"]["conditions"]] == ["PodScheduled"]  # merge patch replaces lists
    # No client of this project sends JSON patches or apply patches: not emulated.
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]
    response = kubeapi.api().patch(url, data=json.dumps(ops), headers={"Content-Type": "application/json-patch+json"})
    assert_status(response, 415, "UnsupportedMediaType")
    response = kubeapi.api().patch(url, data="{}", headers={"Content-Type": "application/apply-patch+yaml"})
    assert_status(response, 415, "UnsupportedMediaType")


def test_status_subresource_and_main_resource_touch_separate_parts(kubeapi):
    create(kubeapi, PODS, pod("a"))
    url = f"{kubeapi.url}{PODS}/a"
    ignored = kubeapi.api().patch(url, data=json.dumps({"status": {"phase": "Running"}}), headers=MERGE).json()
    assert ignored["status"]["phase"] == "Pending"
    status_patch = {"status": {"phase": "Running"}, "metadata": {"labels": {"ignored": "yes"}}}
    updated = kubeapi.api().patch(url + "/status", data=json.dumps(status_patch), headers=MERGE).json()
    assert updated["status"]["phase"] == "Running" and "ignored" not in updated["metadata"]["labels"]
    forbidden = {"spec": {"containers": [{"name": "other", "image": "x"}]}}
    response = kubeapi.api().patch(url, data=json.dumps(forbidden), headers=MERGE)
    assert "pod updates may not change fields" in assert_status(response, 422, "Invalid")["message"]


def test_graceful_pod_deletion(kubeapi):
    kubeapi.configure(controllers=False)  # no scheduler: "unbound" stays unscheduled
    create(kubeapi, PODS, pod("bound", node="node-1"))
    create(kubeapi, PODS, pod("unbound"))
    marked = kubeapi.api().delete(f"{kubeapi.url}{PODS}/bound").json()
    assert marked["metadata"]["deletionTimestamp"] and marked["metadata"]["deletionGracePeriodSeconds"] == 30
    assert kubeapi.api().get(f"{kubeapi.url}{PODS}/bound").status_code == 200
    response = kubeapi.api().delete(f"{kubeapi.url}{PODS}/bound", params={"gracePeriodSeconds": "0"})
    assert response.status_code == 200
    assert_status(kubeapi.api().get(f"{kubeapi.url}{PODS}/bound"), 404, "NotFound")
    kubeapi.api().delete(f"{kubeapi.url}{PODS}/unbound")  # no node: nothing to wait for
    assert_status(kubeapi.api().get(f"{kubeapi.url}{PODS}/unbound"), 404, "NotFound")


def test_delete_preconditions(kubeapi):
    create(kubeapi, LEASES, {"metadata": {"name": "l"}, "spec": {}})
    stale = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "1"}}
    assert_status(kubeapi.api().delete(f"{kubeapi.url}{LEASES}/l", json=stale), 409, "Conflict")
    body = kubeapi.api().delete(f"{kubeapi.url}{LEASES}/l").json()
    assert body["kind"] == "Status" and body["status"] == "Success" and body["details"]["name"] == "l"



# -- lists and selectors -------------------------------------------------------------

def test_label_and_field_selectors(kubeapi):
    kubeapi.configure(controllers=False)
    create(kubeapi, PODS, pod("a", {"app": "tig", "tier": "front"}))
    create(kubeapi, PODS, pod("b", {"app": "tig", "tier": "back"}))
    create(kubeapi, PODS, pod("c", {"app": "other"}))
    set_ready(kubeapi, "b")

    def names(**params):
        return [p["metadata"]["name"] for p in pods_of(kubeapi, **params)]

    assert names(labelSelector="app=tig") == ["a", "b"]
    assert names(labelSelector="app==tig,tier!=front") == ["b"]
    assert names(labelSelector="tier!=front") == ["b", "c"]  # != also matches a missing key
    assert names(labelSelector="tier in (front, back)") == ["a", "b"]
    assert names(labelSelector="tier notin (front)") == ["b", "c"]
    assert names(labelSelector="tier") == ["a", "b"]
    assert names(labelSelector="!tier") == ["c"]
    assert names(fieldSelector="metadata.name=c") == ["c"]
    assert names(fieldSelector="status.phase=Running") == ["b"]
    assert names(fieldSelector="status.phase!=Running,metadata.name!=a") == ["c"]
    response = kubeapi.api().get(kubeapi.url + PODS, params={"fieldSelector": "spec.image=x"})
    assert_status(response, 400, "BadRequest")
    assert_status(kubeapi.api().get(kubeapi.url + PODS, params={"labelSelector": "a in (("}), 400, "BadRequest")


def test_lists_are_current_and_wait_for_a_future_resource_version(kubeapi):
    kubeapi.configure(controllers=False, tooLargeResourceVersionWaitSeconds=0.3)
    for name in ("a", "b", "c"):
        create(kubeapi, PODS, pod(name))
    listed = kubeapi.api().get(kubeapi.url + PODS, params={"limit": 2}).json()
    assert listed["kind"] == "PodList" and "kind" not in listed["items"][0]
    assert len(listed["items"]) == 3 and "continue" not in listed["metadata"]  # limit is not emulated
    rv = int(listed["metadata"]["resourceVersion"])
    response = kubeapi.api().get(kubeapi.url + PODS, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
    assert_status(response, 400, "BadRequest")
    started = time.monotonic()
    response = kubeapi.api().get(kubeapi.url + PODS, params={"resourceVersion": rv + 5})
    body = assert_status(response, 504, "Timeout")
    assert time.monotonic() - started >= 0.3
    assert body["message"] == f"Too large resource version: {rv + 5}, current: {rv}"
    assert body["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
    assert body["details"]["retryAfterSeconds"] == 1


# -- watches ---------------------------------------------------------------------

def test_watch_from_resource_version_streams_every_change_in_order(kubeapi):
    kubeapi.configure(controllers=False)
    create(kubeapi, PODS, pod("before"))
    rv = kubeapi.api().get(kubeapi.url + PODS).json()["metadata"]["resourceVersion"]
    create(kubeapi, PODS, pod("a"))
    kubeapi.api().patch(f"{kubeapi.url}{PODS}/a", data='{"metadata":{"labels":{"x":"y"}}}', headers=MERGE)
    kubeapi.api().delete(f"{kubeapi.url}{PODS}/a")
    create(kubeapi, LEASES, {"metadata": {"name": "not-a-pod"}, "spec": {}})
    watch = Watch(kubeapi, PODS, resourceVersion=rv)
    events = watch.take(3)
    create(kubeapi, PODS, pod("live"))
    events.append(watch.next())
    watch.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a"), ("ADDED", "live")]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(rv)
    assert events[0]["object"]["kind"] == "Pod" and events[0]["object"]["apiVersion"] == "v1"


def test_watch_without_resource_version_starts_with_added_events(kubeapi):
    kubeapi.configure(controllers=False)
    create(kubeapi, PODS, pod("a"))
    create(kubeapi, PODS, pod("b"))
    for rv in ("", "0"):
        watch = Watch(kubeapi, PODS, resourceVersion=rv)
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in watch.take(2)] == [("ADDED", "a"), ("ADDED", "b")]
        watch.close()


def test_watch_bookmarks_carry_the_current_resource_version(kubeapi):
    kubeapi.configure(controllers=False, bookmarkIntervalSeconds=0.2)
    rv = kubeapi.api().get(kubeapi.url + PODS).json()["metadata"]["resourceVersion"]
    create(kubeapi, LEASES, {"metadata": {"name": "elsewhere"}, "spec": {}})  # bumps the global resourceVersion
    watch = Watch(kubeapi, PODS, resourceVersion=rv, allowWatchBookmarks="true")
    bookmark = watch.next()
    watch.close()
    assert bookmark["type"] == "BOOKMARK" and bookmark["object"]["kind"] == "Pod"
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) > int(rv)


def test_watch_list_ends_initial_events_with_a_bookmark(kubeapi):
    kubeapi.configure(controllers=False)
    create(kubeapi, PODS, pod("a"))
    watch = Watch(kubeapi, PODS, sendInitialEvents="true", allowWatchBookmarks="true",
                  resourceVersionMatch="NotOlderThan")
    added, bookmark = watch.take(2)
    watch.close()
    assert added["type"] == "ADDED"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_from_a_compacted_resource_version_gets_410_and_closes(kubeapi):
    rv = kubeapi.api().get(kubeapi.url + PODS).json()["metadata"]["resourceVersion"]
    create(kubeapi, PODS, pod("a"))
    kubeapi.compact()
    watch = Watch(kubeapi, PODS, resourceVersion=rv)
    error = watch.next()
    assert error["type"] == "ERROR"
    assert error["object"]["code"] == 410 and error["object"]["reason"] == "Expired"
    assert error["object"]["message"].startswith(f"too old resource version: {rv}")
    with pytest.raises(StopIteration):
        watch.next()


def test_watch_selector_changes_appear_as_added_and_deleted(kubeapi):
    kubeapi.configure(controllers=False)
    create(kubeapi, PODS, pod("a", {"app": "tig"}))
    rv = kubeapi.api().get(kubeapi.url + PODS).json()["metadata"]["resourceVersion"]
    watch = Watch(kubeapi, PODS, resourceVersion=rv, labelSelector="app=tig")
    kubeapi.api().patch(f"{kubeapi.url}{PODS}/a", data='{"metadata":{"labels":{"app":"x"}}}', headers=MERGE)
    kubeapi.api().patch(f"{kubeapi.url}{PODS}/a", data='{"metadata":{"labels":{"app":"tig"}}}', headers=MERGE)
    left, came_back = watch.take(2)
    watch.close()
    assert left["type"] == "DELETED" and came_back["type"] == "ADDED"


def test_watch_timeout_ends_the_stream_cleanly(kubeapi):
    started = time.monotonic()
    watch = Watch(kubeapi, PODS, timeoutSeconds="1", resourceVersion="0")
    with pytest.raises(StopIteration):
        watch.next()
    assert 0.9 < time.monotonic() - started < 3


def test_dropping_watches_severs_open_streams(kubeapi):
    watch = Watch(kubeapi, PODS, resourceVersion="0")
    kubeapi.wait_for(lambda: len(kubeapi.watches()) == 1, timeout=2)
    assert kubeapi.drop_watches() == 1
    with pytest.raises(requests.exceptions.RequestException):
        watch.next()
    kubeapi.wait_for(lambda: kubeapi.watches() == [], timeout=2)



# -- leases --------------------------------------------------------------------------

def test_lease_optimistic_concurrency(kubeapi):
    spec = {"holderIdentity": "op-1", "leaseDurationSeconds": 15, "renewTime": "2024-01-01T00:00:00.000000Z"}
    lease = create(kubeapi, LEASES, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                     "metadata": {"name": "tig-operator"}, "spec": spec})
    response = kubeapi.api().post(kubeapi.url + LEASES, json=lease)
    assert_status(response, 409, "AlreadyExists")
    url = f"{kubeapi.url}{LEASES}/tig-operator"
    renewed = dict(lease, spec={**spec, "renewTime": "2024-01-01T00:00:05.000000Z"})
    first = kubeapi.api().put(url, json=renewed)
    assert first.status_code == 200
    assert int(first.json()["metadata"]["resourceVersion"]) > int(lease["metadata"]["resourceVersion"])
    stale = kubeapi.api().put(url, json=dict(renewed, spec={**spec, "holderIdentity": "op-2"}))
    body = assert_status(stale, 409, "Conflict")
    assert "the object has been modified" in body["message"]
    assert body["details"] == {"name": "tig-operator", "group": "coordination.k8s.io", "kind": "leases"}
    unconditional = {"metadata": {"name": "tig-operator"}, "spec": spec}
    assert_status(kubeapi.api().put(url, json=unconditional), 422, "Invalid")
    assert kubeapi.api().delete(url).status_code == 200
    assert_status(kubeapi.api().get(url), 404, "NotFound")


def test_lease_put_of_a_missing_lease_is_404_create_is_post(kubeapi):
    url = f"{kubeapi.url}{LEASES}/tig-operator"
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "tig-operator"},
             "spec": {"holderIdentity": "op-1", "leaseDurationSeconds": 15}}
    body = assert_status(kubeapi.api().put(url, json=lease), 404, "NotFound")
    assert body["message"] == 'leases.coordination.k8s.io "tig-operator" not found'
    with_version = dict(lease, metadata={"name": "tig-operator", "resourceVersion": "1"})
    assert_status(kubeapi.api().put(url, json=with_version), 404, "NotFound")
    assert_status(kubeapi.api().get(url), 404, "NotFound")  # nothing was created
    assert kubeapi.api().post(kubeapi.url + LEASES, json=lease).status_code == 201



# -- events and autoscalers ------------------------------------------------------------

def test_core_events_with_field_selectors_and_validation(kubeapi):
    event = {"metadata": {"generateName": "tig."}, "involvedObject": {"kind": "Deployment", "name": "tig",
                                                                       "namespace": NS},
             "reason": "Divide", "message": "load 2.3 > 2", "type": "Normal", "source": {"component": "tig-operator"}}
    create(kubeapi, EVENTS, event)
    listed = kubeapi.api().get(kubeapi.url + EVENTS, params={"fieldSelector": "reason=Divide"}).json()["items"]
    assert [e["message"] for e in listed] == ["load 2.3 > 2"]
    wrong_namespace = dict(event, involvedObject={**event["involvedObject"], "namespace": "kube-system"})
    assert_status(kubeapi.api().post(kubeapi.url + EVENTS, json=wrong_namespace), 422, "Invalid")
    new_style = dict(event, eventTime="2024-01-01T00:00:00.000000Z")  # also needs action, reportingInstance, ...
    body = assert_status(kubeapi.api().post(kubeapi.url + EVENTS, json=new_style), 422, "Invalid")
    assert {c["field"] for c in body["details"]["causes"]} == {"reportingComponent", "reportingInstance", "action"}


def test_horizontal_pod_autoscalers_v2_only(kubeapi):
    hpa = {"metadata": {"name": "tig"}, "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "tig"}, "minReplicas": 1,
        "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}}
    create(kubeapi, f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers", hpa)
    v2 = kubeapi.api().get(f"{kubeapi.url}/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers").json()
    assert v2["kind"] == "HorizontalPodAutoscalerList" and v2["items"][0]["spec"]["scaleTargetRef"]["name"] == "tig"
    response = kubeapi.api().get(f"{kubeapi.url}/apis/autoscaling/v1/namespaces/{NS}/horizontalpodautoscalers")
    assert_status(response, 404, "NotFound")  # no client here uses autoscaling/v1: not served



# -- real clients and the command line ----------------------------------------------------

@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_accepts_the_certificate_and_token(kubeapi):
    output = subprocess.run(["curl", "-sS", "--fail", "--cacert", kubeapi.ca_file, "-H",
                             f"Authorization: Bearer {kubeapi.token}", kubeapi.url + PODS],
                            capture_output=True, text=True, timeout=10)
    assert output.returncode == 0, output.stderr
    assert json.loads(output.stdout)["kind"] == "PodList"


def test_command_line_start_writes_the_state_dir(tmp_path):
    with start_process(tmp_path, "--auto-kubelet") as kube:
        assert kube.url == f"https://127.0.0.1:{(tmp_path / 'port').read_text().strip()}"
        kubeconfig = (tmp_path / "kubeconfig").read_text()
        assert f"server: {kube.url}" in kubeconfig and "certificate-authority-data:" in kubeconfig
        assert "client-certificate-data:" in (tmp_path / "kubeconfig-certs").read_text()
        context = ssl.create_default_context(cafile=kube.ca_file)
        assert context.get_ca_certs()[0]["subject"][0][0][1] == "kubeapi-emulator-ca"
        assert kube.api().get(kube.url + "/api/v1/namespaces").status_code == 200
