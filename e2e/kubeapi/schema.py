"""Type checks that the real API server's Go JSON decoder would make.

Kubernetes decodes request bodies into typed Go structs, so a number where a
string belongs (an annotation value written as -1000), a string where an
int32 belongs ("3" replicas), or a MicroTime without its six fractional
digits is refused with 400 before any validation. A client that is wrong
about a wire type must fail here as it would against a cluster. Only the
fields of the kinds this emulator serves (and that clients plausibly write)
are listed; unknown fields pass through, as Kubernetes silently drops them.
"""

from __future__ import annotations

import re

from .status import bad_request

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_MICRO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")

_META = {
    "metadata": "object",
    "metadata.name": "string",
    "metadata.generateName": "string",
    "metadata.namespace": "string",
    "metadata.uid": "string",
    "metadata.resourceVersion": "string",
    "metadata.generation": "int64",
    "metadata.labels": "map[string]string",
    "metadata.annotations": "map[string]string",
    "metadata.creationTimestamp": "Time",
    "metadata.deletionTimestamp": "Time",
    "metadata.deletionGracePeriodSeconds": "int64",
    "metadata.finalizers": "[]string",
    "metadata.ownerReferences": "list",
}

_POD_SPEC = {
    "containers": "list",
    "containers[].name": "string",
    "containers[].image": "string",
    "nodeName": "string",
    "terminationGracePeriodSeconds": "int64",
    "activeDeadlineSeconds": "int64",
}

FIELD_TYPES = {
    "Pod": {
        **_META,
        **{"spec." + k: v for k, v in _POD_SPEC.items()},
        "status.phase": "string",
        "status.podIP": "string",
        "status.hostIP": "string",
        "status.startTime": "Time",
        "status.conditions": "list",
        "status.conditions[].type": "string",
        "status.conditions[].status": "string",
        "status.conditions[].lastTransitionTime": "Time",
        "status.conditions[].lastProbeTime": "Time",
    },
    "Deployment": {
        **_META,
        "spec.replicas": "int32",
        "spec.minReadySeconds": "int32",
        "spec.paused": "bool",
        "spec.selector": "object",
        "spec.selector.matchLabels": "map[string]string",
        "spec.template.metadata.labels": "map[string]string",
        "spec.template.metadata.annotations": "map[string]string",
        **{"spec.template.spec." + k: v for k, v in _POD_SPEC.items()},
    },
    "ReplicaSet": {**_META, "spec.replicas": "int32"},
    "Scale": {**_META, "spec.replicas": "int32"},
    "Lease": {
        **_META,
        "spec.holderIdentity": "string",
        "spec.leaseDurationSeconds": "int32",
        "spec.acquireTime": "MicroTime",
        "spec.renewTime": "MicroTime",
        "spec.leaseTransitions": "int32",
    },
    "Event": {
        **_META,
        "involvedObject": "object",
        "involvedObject.kind": "string",
        "involvedObject.name": "string",
        "involvedObject.namespace": "string",
        "involvedObject.uid": "string",
        "involvedObject.apiVersion": "string",
        "reason": "string",
        "message": "string",
        "type": "string",
        "count": "int32",
        "firstTimestamp": "Time",
        "lastTimestamp": "Time",
        "eventTime": "MicroTime",
        "source.component": "string",
        "reportingComponent": "string",
        "reportingInstance": "string",
    },
    "HorizontalPodAutoscaler": {
        **_META,
        "spec.minReplicas": "int32",
        "spec.maxReplicas": "int32",
        "spec.scaleTargetRef.kind": "string",
        "spec.scaleTargetRef.name": "string",
    },
    "Namespace": dict(_META),
}


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fits(value, go_type: str) -> bool:
    if value is None:  # JSON null decodes to the zero value in Go
        return True
    if go_type == "string":
        return isinstance(value, str)
    if go_type in ("int32", "int64"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            return False
        bits = 31 if go_type == "int32" else 63
        return -(2 ** bits) <= value < 2 ** bits
    if go_type == "bool":
        return isinstance(value, bool)
    if go_type == "Time":
        return isinstance(value, str) and bool(_TIME.match(value))
    if go_type == "MicroTime":
        return isinstance(value, str) and bool(_MICRO_TIME.match(value))
    if go_type == "map[string]string":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if go_type == "[]string":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if go_type == "list":
        return isinstance(value, list)
    return isinstance(value, dict)  # "object"


def _values_at(obj, parts: list[str]):
    """Yield every value at a dotted path; `name[]` steps into each list element."""
    if not parts:
        yield obj
        return
    if not isinstance(obj, dict):
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = obj.get(head[:-2])
        if isinstance(items, list):
            for item in items:
                yield from _values_at(item, rest)
    elif head in obj:
        yield from _values_at(obj[head], rest)


def check_types(kind: str, api_version: str, obj) -> None:
    """Refuse `obj` with the decoder's 400 if a known field has the wrong JSON type."""
    if not isinstance(obj, dict):
        raise bad_request(f"{kind} in version \"{api_version}\" cannot be handled as a {kind}: "
                          f"json: cannot unmarshal {_json_type(obj)} into Go value of type {kind}")
    for path, go_type in FIELD_TYPES.get(kind, _META).items():
        for value in _values_at(obj, path.split(".")):
            if _fits(value, go_type):
                continue
            if go_type in ("Time", "MicroTime") and isinstance(value, str):
                layout = "2006-01-02T15:04:05.000000Z07:00" if go_type == "MicroTime" else "2006-01-02T15:04:05Z07:00"
                problem = f'parsing time "{value}" as "{layout}": cannot parse'
            else:
                shown = f"number {value}" if _json_type(value) == "number" else _json_type(value)
                problem = f"json: cannot unmarshal {shown} into Go struct field {kind}.{path} of type {go_type}"
            raise bad_request(f'{kind} in version "{api_version}" cannot be handled as a {kind}: {problem}')
