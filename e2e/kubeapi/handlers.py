"""HTTP handlers of the Kubernetes API: every verb on every resource path
(`/api/v1/...`, `/apis/GROUP/VERSION/...`), in JSON. No discovery, OpenAPI
or Table output: no client of this project asks for them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web

from . import scale
from .config import EmulatorConfig
from .listing import list_objects, number_param
from .rbac import is_watch
from .registry import Registry
from .resources import ResourceType, lookup
from .responses import json_response
from .status import bad_request, method_not_allowed, resource_not_found, success_status, unsupported_media_type
from .watch import WatchHub


@dataclass(frozen=True)
class Target:
    rt: ResourceType
    namespace: str | None  # None: all namespaces, or a cluster-scoped kind
    name: str | None
    subresource: str | None


def resolve(group: str, version: str, tail: str) -> Target:
    """Map the part of a path after the group version to what it names."""
    segments = tail.split("/")
    namespace = None
    if segments[0] == "namespaces" and len(segments) >= 3:
        namespace, segments = segments[1], segments[2:]
    if not 1 <= len(segments) <= 3 or not all(segments):
        raise resource_not_found()
    rt = lookup(group, version, segments[0])
    if rt is None or (namespace is not None and not rt.namespaced):
        raise resource_not_found()
    name = segments[1] if len(segments) > 1 else None
    subresource = segments[2] if len(segments) > 2 else None
    if (subresource and subresource not in rt.subresources) or (rt.namespaced and name and namespace is None):
        raise resource_not_found()
    return Target(rt, namespace, name, subresource)


async def _json_body(request: web.Request, patch: bool = False):
    content_type = request.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
    if not patch and content_type != "application/json":
        raise unsupported_media_type(content_type)
    text = await request.text()
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as error:
        raise bad_request(f"couldn't get version/kind; json parse error: {error}") from None


def _dry_run(request: web.Request) -> bool:
    return "All" in request.query.getall("dryRun", [])


class ApiHandlers:
    def __init__(self, registry: Registry, hub: WatchHub, config: EmulatorConfig):
        self.registry = registry
        self.hub = hub
        self.config = config

    def routes(self) -> list:
        return [
            web.route("*", "/api/v1/{tail:.+}", self.core_resource),
            web.route("*", "/apis/{group}/{version}/{tail:.+}", self.group_resource),
        ]

    async def core_resource(self, request: web.Request) -> web.StreamResponse:
        return await self._dispatch(request, resolve("", "v1", request.match_info["tail"]))

    async def group_resource(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await self._dispatch(request, resolve(info["group"], info["version"], info["tail"]))

    async def _dispatch(self, request: web.Request, target: Target) -> web.StreamResponse:
        method = request.method
        if target.name is None:
            if method == "GET":
                if is_watch(request.query):
                    return await self.hub.serve(request, target.rt, target.namespace, target.rt.external)
                return await self._list(request, target)
            if method == "POST" and (target.namespace is not None or not target.rt.namespaced):
                return await self._create(request, target)
        elif target.subresource == "scale":
            if method in ("GET", "PUT", "PATCH"):
                return await self._scale(request, target)
        elif method == "GET":
            obj = self.registry.get(target.rt, target.namespace or "", target.name)
            return json_response(target.rt.external(obj))
        elif method == "PUT":
            return await self._update(request, target)
        elif method == "PATCH":
            return await self._patch(request, target)
        elif method == "DELETE" and target.subresource is None:
            return await self._delete(request, target)
        raise method_not_allowed(method, request.path)

    async def _list(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rt
        items, meta = await list_objects(self.registry.store, rt, target.namespace, request.query,
                                         self.config.too_large_rv_wait)
        # Items of a typed list carry no kind/apiVersion, as on a real server.
        return json_response({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta,
                              "items": [rt.to_version(o) for o in items]})

    async def _create(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rt
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        created = self.registry.create(rt, target.namespace or "", rt.internal(body), _dry_run(request))
        return json_response(rt.external(created), 201)

    async def _update(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rt
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        obj, created = self.registry.update(rt, target.namespace or "", target.name, rt.internal(body),
                                            target.subresource, _dry_run(request))
        return json_response(rt.external(obj), 201 if created else 200)

    async def _patch(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rt
        body = await _json_body(request, patch=True)
        obj = self.registry.patch(rt, target.namespace or "", target.name, request.headers.get("Content-Type", ""),
                                  body, target.subresource, _dry_run(request))
        return json_response(rt.external(obj))

    async def _delete(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rt
        options = await _json_body(request) or {}
        grace = number_param(request.query, "gracePeriodSeconds", options.get("gracePeriodSeconds"))
        obj, _ = self.registry.delete(rt, target.namespace or "", target.name,
                                      int(grace) if grace is not None else None,
                                      options.get("preconditions"), _dry_run(request))
        if rt.strategy.return_deleted_object:
            return json_response(rt.external(obj))
        details = {"name": target.name, "kind": rt.plural, "uid": obj["metadata"]["uid"]}
        if rt.group:
            details["group"] = rt.group
        return json_response(success_status(details))

    async def _scale(self, request: web.Request, target: Target) -> web.Response:
        args = (self.registry, target.rt, target.namespace or "", target.name)
        if request.method == "GET":
            return json_response(scale.get_scale(*args))
        body = await _json_body(request, patch=request.method == "PATCH")
        if request.method == "PUT":
            if not isinstance(body, dict):
                raise bad_request("the request body must be a JSON object")
            return json_response(scale.update_scale(*args, body, _dry_run(request)))
        return json_response(scale.patch_scale(*args, request.headers.get("Content-Type", ""), body,
                                               _dry_run(request)))
