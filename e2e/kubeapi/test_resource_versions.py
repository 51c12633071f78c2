"""A resourceVersion the store has not reached, as a client meets one after
talking to a newer API server: lists and WatchLists wait for it, then give
up with 504 "Too large resource version"; a plain watch waits for it."""

from __future__ import annotations

import threading
import time

import pytest

from e2e.kubeapi.testkit import LEASES, PODS, Watch, create, pod


def _current(kube) -> int:
    return int(kube.api().get(kube.url + PODS).json()["metadata"]["resourceVersion"])


def _assert_too_large(event: dict, requested: int, current: int) -> None:
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 504, "Timeout")
    assert status["message"] == f"Too large resource version: {requested}, current: {current}"
    assert status["details"] == {"causes": [{"reason": "ResourceVersionTooLarge",
                                             "message": "Too large resource version"}], "retryAfterSeconds": 1}


def test_a_watch_list_from_a_future_resource_version_ends_with_504_after_the_wait(kubeapi):
    kubeapi.configure(controllers=False, tooLargeResourceVersionWaitSeconds=0.5)
    current = _current(kubeapi)
    started = time.monotonic()
    watch = Watch(kubeapi, PODS, sendInitialEvents="true", allowWatchBookmarks="true",
                  resourceVersionMatch="NotOlderThan", resourceVersion=str(current + 10))
    assert time.monotonic() - started >= 0.5  # the answer itself waited
    _assert_too_large(watch.next(), current + 10, current)
    with pytest.raises(StopIteration):
        watch.next()


def test_a_watch_list_is_served_once_the_store_catches_up(kubeapi):
    kubeapi.configure(controllers=False, tooLargeResourceVersionWaitSeconds=5)
    create(kubeapi, PODS, pod("a"))
    current = _current(kubeapi)
    # The store reaches current + 1 while the watch waits for it.
    threading.Timer(0.3, lambda: create(kubeapi, LEASES, {"metadata": {"name": "l"}, "spec": {}})).start()
    watch = Watch(kubeapi, PODS, sendInitialEvents="true", allowWatchBookmarks="true",
                  resourceVersionMatch="NotOlderThan", resourceVersion=str(current + 1))
    added, bookmark = watch.take(2)
    watch.close()
    assert added["type"] == "ADDED" and bookmark["type"] == "BOOKMARK"


def test_a_plain_watch_from_a_future_resource_version_waits_for_it(kubeapi):
    kubeapi.configure(controllers=False, tooLargeResourceVersionWaitSeconds=0.2)
    current = _current(kubeapi)
    watch = Watch(kubeapi, PODS, resourceVersion=str(current + 1))
    time.sleep(0.4)  # longer than the wait: no error, as from kube-apiserver's watch cache
    create(kubeapi, LEASES, {"metadata": {"name": "l"}, "spec": {}})  # current + 1, not a pod
    create(kubeapi, PODS, pod("after"))
    event = watch.next()
    watch.close()
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "after")


def test_a_plain_watch_can_be_made_to_fail_like_a_watch_list(kubeapi):
    kubeapi.configure(controllers=False, tooLargeResourceVersionWaitSeconds=0.2, watchTooLargeResourceVersion="error")
    current = _current(kubeapi)
    watch = Watch(kubeapi, PODS, resourceVersion=str(current + 3))
    _assert_too_large(watch.next(), current + 3, current)
