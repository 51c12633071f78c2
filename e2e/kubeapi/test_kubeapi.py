"""Checks that the emulator behaves like a real kube-apiserver where clients
can tell: Status errors, resourceVersions, watch semantics, optimistic
concurrency, the ReplicaSet controller's choice of pods, authentication,
fault injection. Run: python3 -m pytest e2e/kubeapi -q
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

from e2e.kubeapi.certs import ClusterPKI
from e2e.kubeapi.client import start_process

NS = "default"
PODS = f"/api/v1/namespaces/{NS}/pods"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"
EVENTS = f"/api/v1/namespaces/{NS}/events"
MERGE = {"Content-Type": "application/merge-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
SELECTOR = {"app.kubernetes.io/name": "tig"}


# -- helpers -------------------------------------------------------------------

def pod(name: str, labels: dict | None = None, node: str | None = None) -> dict:
    spec = {"containers": [{"name": "tig", "image": "tig:dev"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def deployment(name: str = "tig", replicas: int = 2) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": SELECTOR},
                     "template": {"metadata": {"labels": SELECTOR},
                                  "spec": {"containers": [{"name": "tig", "image": "tig:dev"}]}}}}


def create(kube, path: str, body: dict) -> dict:
    response = kube.api().post(kube.url + path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def assert_status(response: requests.Response, code: int, reason: str) -> dict:
    assert response.status_code == code, response.text
    body = response.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason
    return body


class Watch:
    """A watch stream read event by event."""

    def __init__(self, kube, path: str, **params):
        self.response = kube.api().get(kube.url + path, params={"watch": "1", **params}, stream=True, timeout=(5, 5))
        assert self.response.status_code == 200, self.response.text
        self.lines = self.response.iter_lines()

    def next(self) -> dict:
        return json.loads(next(self.lines))

    def take(self, count: int) -> list[dict]:
        return [self.next() for _ in range(count)]

    def close(self) -> None:
        self.response.close()


def pods_of(kube, **params) -> list[dict]:
    return kube.api().get(kube.url + PODS, params=params).json()["items"]


def set_ready(kube, name: str, ready_since: str = "2024-01-01T00:00:00Z") -> None:
    status = {"status": {"phase": "Running", "podIP": "10.1.0.1", "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": ready_since}]}}
    response = kube.api().patch(f"{kube.url}{PODS}/{name}/status", data=json.dumps(status), headers=STRATEGIC)
    assert response.status_code == 200, response.text


def wait_pods(kube, count: int, **params) -> list[dict]:
    kube.wait_for(lambda: len(pods_of(kube, **params)) == count, timeout=5)
    return pods_of(kube, **params)


# -- discovery, auth -------------------------------------------------------------

def test_discovery_serves_every_group(kubeapi):
    api = kubeapi.api()
    assert api.get(kubeapi.url + "/version").json()["major"] == "1"
    groups = {g["name"]: g for g in api.get(kubeapi.url + "/apis").json()["groups"]}
    assert {"apps", "coordination.k8s.io", "autoscaling", "events.k8s.io"} <= set(groups)
    assert groups["autoscaling"]["preferredVersion"]["version"] == "v2"
    apps = {r["name"]: r for r in api.get(kubeapi.url + "/apis/apps/v1").json()["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale" and apps["deployments/scale"]["group"] == "autoscaling"
    assert_status(api.get(kubeapi.url + "/apis/apps/v1/namespaces/default/widgets"), 404, "NotFound")


def test_requests_without_valid_credentials_are_401(kubeapi):
    assert_status(kubeapi.session().get(kubeapi.url + PODS), 401, "Unauthorized")
    assert_status(kubeapi.api(token="wrong").get(kubeapi.url + PODS), 401, "Unauthorized")
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200


def test_client_certificate_signed_by_the_ca_authenticates(kubeapi):
    session = kubeapi.session()
    session.cert = kubeapi.client_cert
    assert session.get(kubeapi.url + PODS).status_code == 200
    assert kubeapi.requests()[-1]["user"] == "kubeapi-admin"


def test_client_certificate_from_another_ca_fails_the_handshake(kubeapi, tmp_path):
    stranger = ClusterPKI("127.0.0.1").client
    (tmp_path / "c.crt").write_bytes(stranger.cert_pem)
    (tmp_path / "c.key").write_bytes(stranger.key_pem)
    # With TLS 1.3 the client learns of the rejection on its first read, not in the handshake.
    with pytest.raises(requests.exceptions.ConnectionError):
        kubeapi.session().get(kubeapi.url + PODS, cert=(str(tmp_path / "c.crt"), str(tmp_path / "c.key")))


def test_token_rotation_revokes_the_old_token(kubeapi):
    old = kubeapi.token
    new = kubeapi.rotate_token()
    assert new != old and kubeapi.token == new  # the token file was rewritten
    assert f"token: {new}" in open(kubeapi.kubeconfig).read()
    assert_status(kubeapi.api(token=old).get(kubeapi.url + PODS), 401, "Unauthorized")
    assert kubeapi.api(token=new).get(kubeapi.url + PODS).status_code == 200


def test_token_rotation_with_grace_keeps_the_old_token_for_a_while(kubeapi):
    old = kubeapi.token
    kubeapi.rotate_token(revoke_old_after=0.3)
    assert kubeapi.api(token=old).get(kubeapi.url + PODS).status_code == 200
    time.sleep(0.5)
    assert kubeapi.api(token=old).get(kubeapi.url + PODS).status_code == 401


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


def test_merge_strategic_and_json_patch(kubeapi):
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
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]
    response = kubeapi.api().patch(url, data=json.dumps(ops), headers={"Content-Type": "application/json-patch+json"})
    assert response.json()["metadata"]["annotations"] == {"a": "b"}
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


def test_list_items_pagination_and_exact_resource_version(kubeapi):
    kubeapi.configure(controllers=False)
    for name in ("a", "b", "c"):
        create(kubeapi, PODS, pod(name))
    listed = kubeapi.api().get(kubeapi.url + PODS).json()
    assert listed["kind"] == "PodList" and "kind" not in listed["items"][0]
    rv = listed["metadata"]["resourceVersion"]
    page = kubeapi.api().get(kubeapi.url + PODS, params={"limit": 2}).json()
    assert [p["metadata"]["name"] for p in page["items"]] == ["a", "b"] and page["metadata"]["remainingItemCount"] == 1
    create(kubeapi, PODS, pod("d"))  # after the snapshot: not in the next page
    rest = kubeapi.api().get(kubeapi.url + PODS, params={"limit": 2, "continue": page["metadata"]["continue"]}).json()
    assert [p["metadata"]["name"] for p in rest["items"]] == ["c"]
    exact = kubeapi.api().get(kubeapi.url + PODS, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
    assert len(exact.json()["items"]) == 3
    kubeapi.compact()
    response = kubeapi.api().get(kubeapi.url + PODS, params={"limit": 2, "continue": page["metadata"]["continue"]})
    assert_status(response, 410, "Expired")
    response = kubeapi.api().get(kubeapi.url + PODS, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
    assert_status(response, 410, "Expired")


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


# -- deployments and the ReplicaSet controller --------------------------------------

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


# -- events and autoscalers ------------------------------------------------------------

def test_events_are_served_in_both_api_groups(kubeapi):
    event = {"metadata": {"generateName": "tig."}, "involvedObject": {"kind": "Deployment", "name": "tig",
                                                                       "namespace": NS},
             "reason": "Divide", "message": "load 2.3 > 2", "type": "Normal", "source": {"component": "tig-operator"}}
    create(kubeapi, EVENTS, event)
    listed = kubeapi.api().get(kubeapi.url + EVENTS, params={"fieldSelector": "reason=Divide"}).json()["items"]
    assert [e["message"] for e in listed] == ["load 2.3 > 2"]
    modern = kubeapi.api().get(f"{kubeapi.url}/apis/events.k8s.io/v1/namespaces/{NS}/events").json()["items"]
    assert modern[0]["note"] == "load 2.3 > 2" and modern[0]["regarding"]["name"] == "tig"
    wrong_namespace = dict(event, involvedObject={**event["involvedObject"], "namespace": "kube-system"})
    assert_status(kubeapi.api().post(kubeapi.url + EVENTS, json=wrong_namespace), 422, "Invalid")
    new_style = dict(event, eventTime="2024-01-01T00:00:00.000000Z")  # also needs action, reportingInstance, ...
    body = assert_status(kubeapi.api().post(kubeapi.url + EVENTS, json=new_style), 422, "Invalid")
    assert {c["field"] for c in body["details"]["causes"]} == {"reportingComponent", "reportingInstance", "action"}


def test_horizontal_pod_autoscalers_v2_and_v1(kubeapi):
    hpa = {"metadata": {"name": "tig"}, "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "tig"}, "minReplicas": 1,
        "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}}
    create(kubeapi, f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers", hpa)
    v1 = kubeapi.api().get(f"{kubeapi.url}/apis/autoscaling/v1/namespaces/{NS}/horizontalpodautoscalers").json()
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["items"][0]["spec"]["scaleTargetRef"]["name"] == "tig"
    assert v1["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 80


# -- faults and the request log ---------------------------------------------------------

def test_fault_answers_429_with_retry_after_then_recovers(kubeapi):
    kubeapi.add_fault("GET", r"/pods$", status=429, retry_after=2, count=1)
    first = kubeapi.api().get(kubeapi.url + PODS)
    body = assert_status(first, 429, "TooManyRequests")
    assert first.headers["Retry-After"] == "2" and body["details"]["retryAfterSeconds"] == 2
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200
    log = [(r["method"], r["path"], r["status"]) for r in kubeapi.requests()]
    assert log == [("GET", PODS, 429), ("GET", PODS, 200)]


def test_fault_by_query_500_and_delay(kubeapi):
    kubeapi.add_fault("GET", r"/pods$", query=r"watch=1", status=500, count=None)
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200
    assert_status(kubeapi.api().get(kubeapi.url + PODS, params={"watch": "1"}), 500, "InternalError")
    kubeapi.clear_faults()
    kubeapi.add_fault("GET", r"/pods$", delay_ms=300)
    started = time.monotonic()
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_drops_the_connection(kubeapi):
    kubeapi.add_fault("POST", "/leases", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        kubeapi.api().post(kubeapi.url + LEASES, json={"metadata": {"name": "l"}, "spec": {}})
    assert kubeapi.requests()[-1]["status"] == "dropped"
    assert kubeapi.api().get(f"{kubeapi.url}{LEASES}/l").status_code == 404  # never reached the handler


def test_reset_forgets_objects_and_expires_old_resource_versions(kubeapi):
    create(kubeapi, PODS, pod("a"))
    rv = kubeapi.api().get(kubeapi.url + PODS).json()["metadata"]["resourceVersion"]
    kubeapi.reset()
    assert pods_of(kubeapi) == []
    assert Watch(kubeapi, PODS, resourceVersion=rv).next()["object"]["code"] == 410
    assert set(kubeapi.objects()["objects"]) == {"namespaces"}


# -- real clients and the command line ----------------------------------------------------

@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_accepts_the_certificate_and_token(kubeapi):
    output = subprocess.run(["curl", "-sS", "--fail", "--cacert", kubeapi.ca_file, "-H",
                             f"Authorization: Bearer {kubeapi.token}", kubeapi.url + PODS],
                            capture_output=True, text=True, timeout=10)
    assert output.returncode == 0, output.stderr
    assert json.loads(output.stdout)["kind"] == "PodList"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kubectl_get_and_scale(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=1))
    create(kubeapi, LEASES, {"metadata": {"name": "tig-operator"}, "spec": {"holderIdentity": "op-1"}})

    def kubectl(config: str, *arguments: str) -> str:
        result = subprocess.run(["kubectl", "--kubeconfig", config, *arguments], capture_output=True, text=True,
                                timeout=20)
        assert result.returncode == 0, result.stderr
        return result.stdout

    kubectl(kubeapi.kubeconfig, "scale", "deployment", "tig", "--replicas=3")
    wait_pods(kubeapi, 3)
    listing = kubectl(kubeapi.kubeconfig_certs, "get", "pods,deployments,leases")
    assert "deployment.apps/tig" in listing and "lease.coordination.k8s.io/tig-operator" in listing
    assert listing.count("pod/tig-") == 3


def test_command_line_start_writes_the_state_dir(tmp_path):
    with start_process(tmp_path, "--auto-kubelet") as kube:
        assert kube.url == f"https://127.0.0.1:{(tmp_path / 'port').read_text().strip()}"
        kubeconfig = (tmp_path / "kubeconfig").read_text()
        assert f"server: {kube.url}" in kubeconfig and "certificate-authority-data:" in kubeconfig
        assert "client-certificate-data:" in (tmp_path / "kubeconfig-certs").read_text()
        context = ssl.create_default_context(cafile=kube.ca_file)
        assert context.get_ca_certs()[0]["subject"][0][0][1] == "kubeapi-emulator-ca"
        assert kube.api().get(kube.url + "/api/v1/namespaces").status_code == 200
