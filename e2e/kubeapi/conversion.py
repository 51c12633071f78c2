"""Conversions between a stored object and the API versions that serve it.

Like a real API server, one storage serves several versions: Events are
stored as core/v1 and also served as events.k8s.io/v1 (renamed fields);
HorizontalPodAutoscalers are stored as autoscaling/v2 and also served as
autoscaling/v1 (whose only metric is a CPU utilisation target).
"""

from __future__ import annotations

import copy

# core/v1 Event field -> events.k8s.io/v1 Event field, where the names differ.
_EVENT_RENAMES = {
    "involvedObject": "regarding",
    "message": "note",
    "reportingComponent": "reportingController",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
}


def _rename(obj: dict, renames: dict) -> dict:
    return {renames.get(k, k): copy.deepcopy(v) for k, v in obj.items()}


def event_to_events_v1(stored: dict) -> dict:
    return _rename(stored, _EVENT_RENAMES)


def event_from_events_v1(obj: dict) -> dict:
    return _rename(obj, {v: k for k, v in _EVENT_RENAMES.items()})


def _is_cpu_utilization(metric: dict) -> bool:
    resource = metric.get("resource") or {}
    return (metric.get("type") == "Resource" and resource.get("name") == "cpu"
            and (resource.get("target") or {}).get("type") == "Utilization")


def hpa_to_v1(stored: dict) -> dict:
    spec, status = stored.get("spec") or {}, stored.get("status") or {}
    out = {"metadata": copy.deepcopy(stored.get("metadata") or {}),
           "spec": {k: copy.deepcopy(spec[k]) for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec},
           "status": {k: copy.deepcopy(status[k]) for k in ("observedGeneration", "lastScaleTime", "currentReplicas",
                                                              "desiredReplicas") if k in status}}
    for metric in spec.get("metrics") or []:
        if _is_cpu_utilization(metric):
            out["spec"]["targetCPUUtilizationPercentage"] = metric["resource"]["target"].get("averageUtilization")
    for metric in status.get("currentMetrics") or []:
        current = (metric.get("resource") or {}).get("current") or {}
        if metric.get("type") == "Resource" and metric["resource"].get("name") == "cpu" \
                and "averageUtilization" in current:
            out["status"]["currentCPUUtilizationPercentage"] = current["averageUtilization"]
    return out


def hpa_from_v1(obj: dict) -> dict:
    spec = copy.deepcopy(obj.get("spec") or {})
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]
    status = copy.deepcopy(obj.get("status") or {})
    status.pop("currentCPUUtilizationPercentage", None)
    return {"metadata": copy.deepcopy(obj.get("metadata") or {}), "spec": spec, "status": status}
