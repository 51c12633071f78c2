"""Server-side printing: the `meta.k8s.io Table` form kubectl asks for with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with the columns
`kubectl get` shows for each kind on a real cluster."""

from __future__ import annotations

from typing import Callable

from . import timestamps
from .resources import ResourceType
from .selector import selector_from_object


def table_version(accept: str | None) -> str | None:
    """The Table version the Accept header prefers over plain JSON, if any."""
    for media_range in (accept or "").split(","):
        parts = [p.strip() for p in media_range.split(";")]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return params["v"]
        if parts[0] in ("application/json", "*/*", "application/*") and "as" not in params:
            return None
    return None


def _age(obj: dict) -> str:
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    return timestamps.human_duration((timestamps.now() - timestamps.parse(created)).total_seconds())


def _column(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": kind, "format": fmt, "description": name, "priority": priority}


def _pod_status(pod: dict) -> str:
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return waiting["reason"]
    return status.get("reason") or status.get("phase") or "Unknown"


def _pod_row(pod: dict) -> list:
    status = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(c.get("restartCount", 0) for c in statuses)
    return [pod["metadata"]["name"], f"{ready}/{len(containers)}", _pod_status(pod), str(restarts), _age(pod),
            status.get("podIP") or "<none>", (pod.get("spec") or {}).get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", "<none>"]


def _deployment_row(d: dict) -> list:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return [d["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), _age(d),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            str(selector_from_object(spec.get("selector")))]


def _replicaset_row(rs: dict) -> list:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    return [rs["metadata"]["name"], spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), _age(rs)]


def _lease_row(lease: dict) -> list:
    return [lease["metadata"]["name"], (lease.get("spec") or {}).get("holderIdentity") or "", _age(lease)]


def _event_row(event: dict) -> list:
    involved = event.get("involvedObject") or event.get("regarding") or {}
    return [_age(event), event.get("type", ""), event.get("reason", ""),
            f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}",
            event.get("message") or event.get("note") or ""]


def _hpa_row(hpa: dict) -> list:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    return [hpa["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}", "<unknown>",
            spec.get("minReplicas", 1), spec.get("maxReplicas", 0), status.get("currentReplicas", 0), _age(hpa)]


def _namespace_row(ns: dict) -> list:
    return [ns["metadata"]["name"], (ns.get("status") or {}).get("phase", ""), _age(ns)]


_NAME = _column("Name", fmt="name")
_AGE = _column("Age")

_TABLES: dict[str, tuple[list[dict], Callable[[dict], list]]] = {
    "Pod": ([_NAME, _column("Ready"), _column("Status"), _column("Restarts"), _AGE, _column("IP", priority=1),
             _column("Node", priority=1), _column("Nominated Node", priority=1),
             _column("Readiness Gates", priority=1)], _pod_row),
    "Deployment": ([_NAME, _column("Ready"), _column("Up-to-date", "integer"), _column("Available", "integer"), _AGE,
                    _column("Containers", priority=1), _column("Images", priority=1),
                    _column("Selector", priority=1)], _deployment_row),
    "ReplicaSet": ([_NAME, _column("Desired", "integer"), _column("Current", "integer"), _column("Ready", "integer"),
                    _AGE], _replicaset_row),
    "Lease": ([_NAME, _column("Holder"), _AGE], _lease_row),
    "Event": ([_column("Last Seen"), _column("Type"), _column("Reason"), _column("Object"), _column("Message")],
              _event_row),
    "HorizontalPodAutoscaler": ([_NAME, _column("Reference"), _column("Targets"), _column("MinPods", "integer"),
                                 _column("MaxPods", "integer"), _column("Replicas", "integer"), _AGE], _hpa_row),
    "Namespace": ([_NAME, _column("Status"), _AGE], _namespace_row),
}


def _row_object(rt: ResourceType, obj: dict, include_object: str, version: str):
    if include_object == "None":
        return None
    if include_object == "Object":
        return rt.external(obj)
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}", "metadata": obj["metadata"]}


def table(rt: ResourceType, objects: list[dict], version: str, include_object: str | None,
          list_meta: dict | None = None) -> dict:
    """A Table of stored objects as `rt` serves them."""
    columns, row = _TABLES[rt.kind]
    rows = []
    for obj in objects:
        versioned = rt.to_version(obj)
        entry = {"cells": row(versioned)}
        row_object = _row_object(rt, obj, include_object or "Metadata", version)
        if row_object is not None:
            entry["object"] = row_object
        rows.append(entry)
    return {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": list_meta or {},
            "columnDefinitions": columns, "rows": rows}
