"""A minimal OpenAPI v3 surface: just enough for kubectl to learn that the
server supports server-side field validation (the `fieldValidation` query
parameter on each kind's PATCH operation), so `kubectl create/apply`
validate on the server instead of downloading full schemas. The emulator
accepts that parameter and, having no schemas, does not enforce it."""

from __future__ import annotations

from .resources import RESOURCES, ResourceType

_HASH = "0"  # the documents never change while the server runs


def _prefix(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root() -> dict:
    versions = sorted({_prefix(r.group, r.version) for r in RESOURCES})
    return {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={_HASH}"} for path in versions}}


def _patch_operation(rt: ResourceType) -> dict:
    return {"patch": {
        "operationId": f"patch{rt.kind}",
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}],
        "responses": {"200": {"description": "OK"}},
    }}


def group_version(path: str) -> dict | None:
    served = [r for r in RESOURCES if _prefix(r.group, r.version) == path]
    if not served:
        return None
    paths = {}
    for rt in served:
        scope = f"/{path}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"/{path}/{rt.plural}"
        paths[f"{scope}/{{name}}"] = _patch_operation(rt)
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
            "components": {"schemas": {}}}
