"""An instant kubelet (`--auto-kubelet`), for tests with no harness playing
the node: a pod bound to the node becomes Running and Ready at once with a
fake IP, and a pod marked for deletion is removed at once (DELETE with
gracePeriodSeconds=0, as the kubelet does when its containers have stopped).
"""

from __future__ import annotations

import ipaddress
import itertools

from .. import timestamps
from ..registry import Registry
from .common import PODS

_POD_NETWORK = ipaddress.ip_network("10.244.0.0/16")
HOST_IP = "10.0.0.10"


class InstantKubelet:
    def __init__(self, registry: Registry, node_name: str):
        self.registry = registry
        self.node_name = node_name
        self._addresses = itertools.islice(_POD_NETWORK.hosts(), 1, None)

    def reconcile(self) -> None:
        for pod in self.registry.store.items("pods"):
            meta = pod["metadata"]
            if pod["spec"].get("nodeName") != self.node_name:
                continue
            if meta.get("deletionTimestamp"):
                self.registry.delete(PODS, meta["namespace"], meta["name"], grace_period=0)
            elif (pod.get("status") or {}).get("phase") == "Pending":
                pod["status"] = self._running_status(pod)
                self.registry.update(PODS, meta["namespace"], meta["name"], pod, subresource="status")

    def _running_status(self, pod: dict) -> dict:
        now = timestamps.rfc3339(timestamps.now())
        ip = str(next(self._addresses))
        scheduled = next((c for c in pod["status"].get("conditions") or [] if c.get("type") == "PodScheduled"),
                         {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
        conditions = [{"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                      for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")]
        return {
            "phase": "Running",
            "conditions": conditions + [scheduled],
            "hostIP": HOST_IP, "hostIPs": [{"ip": HOST_IP}],
            "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": now,
            "qosClass": pod["status"].get("qosClass", "BestEffort"),
            "containerStatuses": [{
                "name": container["name"], "state": {"running": {"startedAt": now}}, "lastState": {},
                "ready": True, "restartCount": 0, "image": container.get("image", ""), "imageID": "",
                "containerID": f"containerd://{pod['metadata']['uid'].replace('-', '')}{index}", "started": True,
            } for index, container in enumerate(pod["spec"].get("containers") or [])],
        }
