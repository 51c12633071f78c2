"""The test-control API under /_emulator/ (no authentication): faults, the
request log, watch severing, compaction, state dumps, reset, credentials
(rotation, new tokens), what nodes do to pods (readiness, eviction,
completion) and live settings. README.md documents every endpoint."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import asyncio

from aiohttp import web

from . import podcontrol
from .resources import preferred
from .responses import json_response
from .status import bad_request

if TYPE_CHECKING:
    from .server import Emulator


async def _json(request: web.Request, default):
    text = await request.text()
    if not text.strip():
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise bad_request(f"invalid JSON: {error}") from None


class AdminApi:
    def __init__(self, emulator: "Emulator"):
        self.emulator = emulator
        self._tasks: set[asyncio.Task] = set()

    def routes(self) -> list:
        return [
            web.get("/_emulator/requests", self.requests),
            web.delete("/_emulator/requests", self.clear_requests),
            web.get("/_emulator/faults", self.faults),
            web.post("/_emulator/faults", self.add_faults),
            web.delete("/_emulator/faults", self.clear_faults),
            web.delete("/_emulator/faults/{id}", self.remove_fault),
            web.get("/_emulator/watches", self.watches),
            web.post("/_emulator/watches/drop", self.drop_watches),
            web.post("/_emulator/compact", self.compact),
            web.get("/_emulator/objects", self.objects),
            web.post("/_emulator/reset", self.reset),
            web.post("/_emulator/tokens/rotate", self.rotate_token),
            web.post("/_emulator/tokens", self.mint_token),
            web.post("/_emulator/pods/{namespace}/{name}/ready", self.pod_ready),
            web.post("/_emulator/pods/{namespace}/{name}/flap", self.pod_flap),
            web.post("/_emulator/pods/{namespace}/{name}/phase", self.pod_phase),
            web.get("/_emulator/config", self.config),
            web.patch("/_emulator/config", self.update_config),
        ]

    async def requests(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return json_response({"requests": self.emulator.request_log.since(since)})

    async def clear_requests(self, request: web.Request) -> web.Response:
        self.emulator.request_log.clear()
        return json_response({})

    async def faults(self, request: web.Request) -> web.Response:
        return json_response({"faults": self.emulator.faults.describe()})

    async def add_faults(self, request: web.Request) -> web.Response:
        body = await _json(request, None)
        specs = body if isinstance(body, list) else [body]
        added = [self.emulator.faults.add(spec).describe() for spec in specs]
        return json_response({"faults": added}, 201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.emulator.faults.clear()
        return json_response({})

    async def remove_fault(self, request: web.Request) -> web.Response:
        if not self.emulator.faults.remove(int(request.match_info["id"])):
            raise web.HTTPNotFound()
        return json_response({})

    async def watches(self, request: web.Request) -> web.Response:
        return json_response({"watches": self.emulator.hub.describe()})

    async def drop_watches(self, request: web.Request) -> web.Response:
        return json_response({"dropped": self.emulator.hub.drop_all()})

    async def compact(self, request: web.Request) -> web.Response:
        return json_response({"compactedResourceVersion": str(self.emulator.store.compact())})

    async def objects(self, request: web.Request) -> web.Response:
        store = self.emulator.store
        wanted = request.query.get("resource")
        namespace = request.query.get("namespace")
        dump = {}
        for storage in store.storages():
            if wanted and storage != wanted:
                continue
            rt = preferred(storage)
            dump[storage] = [rt.external(obj) for obj in store.items(storage, namespace if rt.namespaced else None)]
        return json_response({"resourceVersion": str(store.rv), "compactedResourceVersion": str(store.compacted_rv),
                              "objects": dump})

    async def reset(self, request: web.Request) -> web.Response:
        self.emulator.reset()
        return json_response({"resourceVersion": str(self.emulator.store.rv)})

    async def rotate_token(self, request: web.Request) -> web.Response:
        body = await _json(request, {})
        tokens = self.emulator.rotate_tokens(float(body.get("revokeOldAfterSeconds", 0)), body.get("credential"))
        return json_response({"token": tokens.get("admin"), "tokens": tokens})

    async def mint_token(self, request: web.Request) -> web.Response:
        body = await _json(request, {})
        if not isinstance(body, dict) or not body.get("name"):
            raise bad_request("a credential needs a name")
        return json_response(self.emulator.mint_token(str(body["name"]), body.get("user"), body.get("groups")), 201)

    def _pod(self, request: web.Request) -> tuple:
        return self.emulator.registry, request.match_info["namespace"], request.match_info["name"]

    async def pod_ready(self, request: web.Request) -> web.Response:
        body = await _json(request, {})
        return json_response(podcontrol.set_ready(*self._pod(request), bool(body.get("ready", True))))

    async def pod_flap(self, request: web.Request) -> web.Response:
        body = await _json(request, {})
        registry, namespace, name = self._pod(request)
        registry.get(podcontrol.PODS, namespace, name)  # 404 now rather than never
        task = asyncio.get_running_loop().create_task(podcontrol.flap(
            registry, namespace, name, float(body.get("intervalSeconds", 0.5)), int(body.get("times", 4))))
        self._tasks.add(task)  # a task nobody references may be collected before it ends
        task.add_done_callback(self._tasks.discard)
        return json_response({}, 202)

    async def pod_phase(self, request: web.Request) -> web.Response:
        body = await _json(request, {})
        return json_response(podcontrol.finish(*self._pod(request), str(body.get("phase", "Failed")),
                                               body.get("reason"), body.get("message")))

    async def config(self, request: web.Request) -> web.Response:
        return json_response(self.emulator.config.to_json())

    async def update_config(self, request: web.Request) -> web.Response:
        try:
            self.emulator.config.update_from_json(await _json(request, {}))
        except (ValueError, TypeError) as error:
            raise bad_request(str(error)) from None
        self.emulator.store.changed.notify()  # wake watches and controllers to the new settings
        return json_response(self.emulator.config.to_json())
