"""The `/scale` subresource of Deployments and ReplicaSets: an
autoscaling/v1 Scale view whose resourceVersion is the owner's, so a PUT
with a stale one is a 409 Conflict exactly as on a real server."""

from __future__ import annotations

import copy

from .patch import apply_patch
from .registry import Registry
from .resources import ResourceType
from .schema import check_types
from .selector import selector_from_object
from .status import conflict, invalid


def scale_of(obj: dict) -> dict:
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": obj["spec"].get("replicas", 0)},
        "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                   "selector": str(selector_from_object(obj["spec"].get("selector")))},
    }


def get_scale(registry: Registry, rt: ResourceType, namespace: str, name: str) -> dict:
    return scale_of(registry.get(rt, namespace, name))


def update_scale(registry: Registry, rt: ResourceType, namespace: str, name: str, body: dict,
                 dry_run: bool = False) -> dict:
    check_types("Scale", "autoscaling/v1", body)
    current = registry.get(rt, namespace, name)
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv and rv != current["metadata"]["resourceVersion"]:
        raise conflict(rt.group, rt.plural, name)
    replicas = (body.get("spec") or {}).get("replicas") or 0
    if replicas < 0:
        raise invalid("autoscaling", "Scale", name,
                      [("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")])
    new = copy.deepcopy(current)
    new["spec"]["replicas"] = replicas
    updated, _ = registry.update(rt, namespace, name, new, dry_run=dry_run)
    return scale_of(updated)


def patch_scale(registry: Registry, rt: ResourceType, namespace: str, name: str, content_type: str, patch_body,
                dry_run: bool = False) -> dict:
    current = get_scale(registry, rt, namespace, name)
    patched = apply_patch(content_type, current, patch_body, "Scale")
    return update_scale(registry, rt, namespace, name, patched, dry_run)
