"""Helpers the emulated controllers share: ownership, readiness, Events."""

from __future__ import annotations

import time

from .. import timestamps
from ..registry import Registry
from ..resources import ResourceType, preferred
from ..strategies import is_pod_ready

PODS = preferred("pods")
REPLICASETS = preferred("replicasets")
DEPLOYMENTS = preferred("deployments")
EVENTS = preferred("events")


def controller_uid(obj: dict) -> str | None:
    """The uid of the object's managing controller (the ownerReference with controller: true)."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def owner_reference(rt: ResourceType, owner: dict) -> dict:
    return {"apiVersion": rt.api_version, "kind": rt.kind, "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def is_terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_active(pod: dict) -> bool:
    """What the ReplicaSet controller counts: not terminating and not finished."""
    return not is_terminating(pod) and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def ready_since(pod: dict) -> float | None:
    """When the pod became Ready (unix time), or None if it is not Ready."""
    if not is_pod_ready(pod):
        return None
    for condition in pod["status"]["conditions"]:
        if condition.get("type") == "Ready" and condition.get("lastTransitionTime"):
            return timestamps.parse(condition["lastTransitionTime"]).timestamp()
    return 0.0


def is_available(pod: dict, min_ready_seconds: int) -> bool:
    since = ready_since(pod)
    return since is not None and since + min_ready_seconds <= time.time()


def record_event(registry: Registry, rt: ResourceType, obj: dict, reason: str, message: str,
                 component: str) -> None:
    """A core/v1 Event about `obj`, as client-go's event recorder writes it."""
    meta = obj["metadata"]
    now = timestamps.rfc3339(timestamps.now())
    registry.create(EVENTS, meta["namespace"], {
        "metadata": {"name": f"{meta['name']}.{time.time_ns():x}", "namespace": meta["namespace"]},
        "involvedObject": {"kind": rt.kind, "namespace": meta["namespace"], "name": meta["name"],
                           "uid": meta["uid"], "apiVersion": rt.api_version,
                           "resourceVersion": meta.get("resourceVersion", "")},
        "reason": reason, "message": message, "type": "Normal", "source": {"component": component},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "reportingComponent": component, "reportingInstance": ""})
