"""Helpers of the emulator's own tests: object bodies, a watch reader,
Status assertions, waiting for pods."""

from __future__ import annotations

import json

import requests

NS = "default"
PODS = f"/api/v1/namespaces/{NS}/pods"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"
EVENTS = f"/api/v1/namespaces/{NS}/events"
MERGE = {"Content-Type": "application/merge-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
SELECTOR = {"app.kubernetes.io/name": "tig"}


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
