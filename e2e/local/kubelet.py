"""The kubelet of the local cluster: it follows the Pods of a Kubernetes API
(the emulator in e2e/kubeapi) and runs them as local pods.

- A Pending Pod, once the scheduler has bound it to a node (the emulator has
  one node and this kubelet runs it), is started as a `tig serve` process in
  its own namespace, and once /readyz answers its status says Running and
  Ready, with its IP.
- A Pod marked with a deletionTimestamp is reported not Ready, withdrawn from
  DNS and the Service, sent SIGTERM (so it drains), and when the process has
  exited the object is deleted with gracePeriodSeconds=0.
- A Pod deleted outright while running is killed.

Failures of these steps are kept in `errors`; a test asserts there are none."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone

from .cluster import LocalCluster
from .kube import ApiError, KubeAPI

WATCH_SECONDS = 2  # each watch request ends after this, so stop() is noticed
EXIT_MARGIN = 15.0  # beyond --drain-timeout before a terminating pod counts as stuck


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _conditions(ready: bool, now: str) -> list[dict]:
    status = "True" if ready else "False"
    return [{"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now}
            for kind in ("Ready", "ContainersReady")]


class Kubelet:
    def __init__(self, api: KubeAPI, cluster: LocalCluster, namespace: str, selector: str) -> None:
        self._api = api
        self._cluster = cluster
        self._pods_path = f"/api/v1/namespaces/{namespace}/pods"
        self._selector = selector
        self._lock = threading.Lock()
        self._started: dict[str, Future] = {}  # pod uid -> the start of its process
        self._terminating: set[str] = set()
        self._workers = ThreadPoolExecutor(16, thread_name_prefix="kubelet")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="kubelet-watch", daemon=True)
        self.errors: list[str] = []

    def start(self) -> "Kubelet":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._workers.shutdown(wait=True)

    # -- following the API -------------------------------------------------

    def _follow(self) -> None:
        """List, then watch from the list's resourceVersion; relist when the
        version is too old (410) or a request fails."""
        while not self._stop.is_set():
            try:
                listing = self._api.get(self._pods_path, labelSelector=self._selector)
                for pod in listing["items"]:
                    self._sync(pod)
                version = listing["metadata"]["resourceVersion"]
                while not self._stop.is_set():
                    version = self._watch_once(version)
            except _Relist:
                continue
            except Exception as error:  # noqa: BLE001 - the API may be briefly unavailable
                if not self._stop.is_set():
                    self._record(f"following pods: {error!r}")
                    self._stop.wait(0.2)

    def _watch_once(self, version: str) -> str:
        for event in self._api.watch(self._pods_path, labelSelector=self._selector, resourceVersion=version,
                                     allowWatchBookmarks="true", timeoutSeconds=WATCH_SECONDS):
            kind, pod = event["type"], event["object"]
            if kind == "ERROR":
                raise _Relist()  # e.g. 410 Gone: the version is too old
            version = pod["metadata"]["resourceVersion"]
            if kind == "DELETED":
                self._forget(pod)
            elif kind != "BOOKMARK":
                self._sync(pod)
            if self._stop.is_set():
                break
        return version

    def _sync(self, pod: dict) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        with self._lock:
            if meta.get("deletionTimestamp"):
                if uid not in self._terminating:
                    self._terminating.add(uid)
                    self._workers.submit(self._guard, self._terminate, pod, self._started.get(uid))
            elif (uid not in self._started and pod["spec"].get("nodeName")
                  and (pod.get("status") or {}).get("phase", "Pending") == "Pending"):
                self._started[uid] = self._workers.submit(self._guard, self._run, pod)

    def _forget(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        with self._lock:
            start = self._started.get(uid)
            if uid in self._terminating or start is None:
                return
            self._terminating.add(uid)
        self._workers.submit(self._guard, self._kill, pod, start)

    # -- acting on one pod -------------------------------------------------

    def _run(self, pod: dict) -> None:
        name = pod["metadata"]["name"]
        self._cluster.start_pod(name)
        now = _now()
        ip = self._cluster.ip(name)
        containers = pod["spec"].get("containers") or [{"name": "tig", "image": "tig"}]
        self._api.patch(f"{self._pods_path}/{name}/status", {"status": {
            "phase": "Running", "hostIP": self._cluster.network.gateway, "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": now, "conditions": _conditions(True, now),
            "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                                   "containerID": f"local://{self._cluster.pid(name)}", "ready": True,
                                   "started": True, "restartCount": 0, "state": {"running": {"startedAt": now}}}
                                  for c in containers]}})

    def _terminate(self, pod: dict, start: Future | None) -> None:
        name = pod["metadata"]["name"]
        # A deletion that arrives while the pod starts waits for the start.
        if start is not None and start.exception() is None:
            try:
                self._api.patch(f"{self._pods_path}/{name}/status",
                                {"status": {"conditions": _conditions(False, _now())}})
            except ApiError as error:
                if error.status != 404:
                    raise
            self._cluster.begin_termination(name)
            self._cluster.finish(name, self._cluster.drain_timeout() + EXIT_MARGIN)
        try:
            self._api.delete(f"{self._pods_path}/{name}", gracePeriodSeconds=0)
        except ApiError as error:
            if error.status != 404:
                raise

    def _kill(self, pod: dict, start: Future) -> None:
        if start.exception() is None:
            self._cluster.kill(pod["metadata"]["name"], signal.SIGKILL)

    def _guard(self, action, *args) -> None:
        try:
            action(*args)
        except Exception as error:  # noqa: BLE001 - kept for the test to report
            self._record(f"{action.__name__} {args[0]['metadata']['name']}: {error!r}")
            raise

    def _record(self, message: str) -> None:
        with self._lock:
            self.errors.append(f"{time.strftime('%H:%M:%S')} {message}")


class _Relist(Exception):
    """The watch cannot continue from its resourceVersion."""
