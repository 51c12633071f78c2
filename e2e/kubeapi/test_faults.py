"""Fault injection (a slow, briefly unavailable or throttling API server)
and the request log (who did what when, and what they were answered)."""

from __future__ import annotations

import time

import pytest
import requests

from e2e.kubeapi.client import acting_spans
from e2e.kubeapi.testkit import LEASES, PODS, Watch, assert_status, create, pod, pods_of


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


def test_a_time_bounded_fault_makes_the_server_briefly_unavailable(kubeapi):
    kubeapi.add_fault(".*", "/", status=503, duration_seconds=0.5)
    for _ in range(3):  # every request while it lasts, not just one
        body = assert_status(kubeapi.api().get(kubeapi.url + PODS), 503, "ServiceUnavailable")
        assert body["message"] == "The server is currently unable to handle the request"
    time.sleep(0.6)
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200
    assert kubeapi.faults() == []  # expired faults are gone


def test_a_slow_server_delays_every_request_for_a_while(kubeapi):
    kubeapi.add_fault(".*", "/", delay_ms=200, duration_seconds=1.0)
    started = time.monotonic()
    kubeapi.api().get(kubeapi.url + PODS).raise_for_status()
    kubeapi.api().get(kubeapi.url + PODS).raise_for_status()
    assert time.monotonic() - started >= 0.4


def test_throttling_one_identity_leaves_the_others_alone(kubeapi):
    fault = kubeapi.add_fault(".*", "/", user="operator", status=429, retry_after=1, count=None)
    response = kubeapi.operator_api().get(kubeapi.url + PODS)
    assert_status(response, 429, "TooManyRequests")
    assert response.headers["Retry-After"] == "1"
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200  # the admin is not throttled
    faulted = kubeapi.requests()[-2]
    assert (faulted["credential"], faulted["status"], faulted["fault"]) == ("operator", 429, fault["id"])


def test_the_request_log_says_who_did_what_when(kubeapi):
    before = time.time()
    kubeapi.operator_api().get(kubeapi.url + PODS, headers={"User-Agent": "tig-operator"})
    watch = Watch(kubeapi, PODS, resourceVersion="0", timeoutSeconds="1")
    with pytest.raises(StopIteration):
        watch.next()
    assert_status(kubeapi.operator_api().delete(f"{kubeapi.url}{PODS}/x"), 403, "Forbidden")
    listed, watched, refused = kubeapi.wait_for(
        lambda: (log := kubeapi.requests()) and log[1]["end"] is not None and log, timeout=3)
    assert listed["user"] == "system:serviceaccount:default:tig-operator" and listed["userAgent"] == "tig-operator"
    assert (listed["method"], listed["path"], listed["status"], listed["watch"]) == ("GET", PODS, 200, False)
    assert before <= listed["time"] <= listed["end"] <= watched["time"]
    assert watched["watch"] and watched["credential"] == "admin" and watched["end"] - watched["time"] >= 0.9
    assert (refused["method"], refused["status"]) == ("DELETE", 403)
    assert refused["remote"].startswith("127.0.0.1:")
    assert [e["seq"] for e in kubeapi.requests(since=listed["seq"])] == [watched["seq"], refused["seq"]]


def test_turns_of_two_replicas_of_one_service_account(kubeapi):
    """How a two-operator test checks "never two actors at once": each replica
    gets a token of its own, the request log names it on every request."""
    a, b = (kubeapi.api(token=kubeapi.mint_token(name)["token"]) for name in ("replica-a", "replica-b"))
    lease = {"metadata": {"name": "tig-operator"}, "spec": {"holderIdentity": "replica-a"}}
    created = a.post(kubeapi.url + LEASES, json=lease).json()
    renewed = dict(created, spec={"holderIdentity": "replica-a", "leaseDurationSeconds": 15})
    a.put(f"{kubeapi.url}{LEASES}/tig-operator", json=renewed).raise_for_status()
    b.get(f"{kubeapi.url}{LEASES}/tig-operator").raise_for_status()  # a read is no act
    taken = dict(created, spec={"holderIdentity": "replica-b"})  # from the version before a's renewal
    assert_status(b.put(f"{kubeapi.url}{LEASES}/tig-operator", json=taken), 409, "Conflict")  # stale: refused
    turns = acting_spans(kubeapi.requests())
    assert [turn[0] for turn in turns] == ["replica-a", "replica-b"]
    assert turns[0][2] <= turns[1][1]  # a's last write ended before b's first began
