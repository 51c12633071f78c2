"""Watch streams, with the semantics of kube-apiserver's watch cache.

- From resourceVersion R: every change after R, in order, one JSON event per
  line over chunked transfer encoding.
- resourceVersion "" or "0": first a synthetic ADDED for every current
  object, then every change after that state.
- R older than the retained history: one ERROR event carrying a 410 Expired
  Status, then the stream ends (the client must re-list).
- Selectors are applied to both the old and the new state of each change, so
  an object that stops matching arrives as DELETED and one that starts
  matching as ADDED.
- allowWatchBookmarks: a BOOKMARK every bookmark interval carrying the
  resourceVersion up to which the client has seen everything.
- sendInitialEvents (WatchList): the ADDED events end with a BOOKMARK
  annotated `k8s.io/initial-events-end`. With a resourceVersion R newer than
  the store's, the watch cache first waits for R (3 s on kube-apiserver,
  `tooLargeResourceVersionWaitSeconds` here); still not there, the stream
  is one ERROR event carrying a 504 Timeout Status "Too large resource
  version: R, current: C" (cause ResourceVersionTooLarge, retryAfterSeconds
  1), as kube-apiserver reports every error after the resourceVersion is
  parsed. A plain watch from a future R waits for R indefinitely on
  kube-apiserver (the watch cache has no upper bound); the setting
  `watchTooLargeResourceVersion: "error"` treats it like a WatchList.
- timeoutSeconds ends the stream cleanly; without it, after 30 minutes.

The hub also lets a test sever every open stream abruptly.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import web

from .auth import USER_KEY
from .config import EmulatorConfig
from .listing import Filter, number_param, parse_resource_version, wait_for_resource_version
from .resources import ResourceType
from .status import ApiError, bad_request
from .store import Change, Store

_DEFAULT_TIMEOUT = 1800.0

# What Go's JSON encoder writes for the empty typed object of a bookmark.
_BOOKMARK_BODIES = {
    "Pod": {"spec": {"containers": None}, "status": {}},
    "Deployment": {"spec": {"selector": None, "template": {"metadata": {"creationTimestamp": None},
                                                          "spec": {"containers": None}},
                            "strategy": {}}, "status": {}},
    "ReplicaSet": {"spec": {"selector": None, "template": {"metadata": {"creationTimestamp": None},
                                                          "spec": {"containers": None}}}, "status": {}},
    "Lease": {"spec": {}},
}


@dataclass
class Watcher:
    id: int
    resource: str
    namespace: str | None
    query: str
    user: str
    request: web.Request
    started: float = field(default_factory=time.time)
    dropped: bool = False

    def describe(self) -> dict:
        return {"id": self.id, "resource": self.resource, "namespace": self.namespace, "query": self.query,
                "user": self.user, "started": self.started}


def _encode_line(event: dict) -> bytes:
    return (json.dumps(event, separators=(",", ":")) + "\n").encode()


def _flag(query, name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


class WatchHub:
    def __init__(self, store: Store, config: EmulatorConfig):
        self.store = store
        self.config = config
        self._watchers: dict[int, Watcher] = {}
        self._ids = itertools.count(1)

    def describe(self) -> list[dict]:
        return [w.describe() for w in self._watchers.values()]

    def drop_all(self) -> int:
        """Sever every open stream mid-flight, as a broken connection or an
        API server restart would: no final chunk, no clean close."""
        dropped = list(self._watchers.values())
        for watcher in dropped:
            watcher.dropped = True
            if watcher.request.transport is not None:
                watcher.request.transport.abort()
        self.store.changed.notify()
        return len(dropped)

    async def serve(self, request: web.Request, rt: ResourceType, namespace: str | None,
                    encode: Callable[[dict], dict]) -> web.StreamResponse:
        """Stream a watch; `encode` turns a stored object into what the client asked for."""
        query = request.query
        selection = Filter.from_query(rt, query)
        rv_text = query.get("resourceVersion", "")
        initial_events = _flag(query, "sendInitialEvents")
        bookmarks = _flag(query, "allowWatchBookmarks")
        if initial_events and (not bookmarks or query.get("resourceVersionMatch") != "NotOlderThan"):
            raise bad_request("sendInitialEvents requires allowWatchBookmarks=true and "
                              "resourceVersionMatch=NotOlderThan")
        requested_rv = None if rv_text in ("", "0") else parse_resource_version(rv_text)
        start_rv = None if initial_events else requested_rv
        timeout = number_param(query, "timeoutSeconds", _DEFAULT_TIMEOUT)
        scope = namespace if rt.namespaced else None
        too_large = None
        if requested_rv is not None and requested_rv > self.store.rv and \
                (initial_events or self.config.watch_too_large_resource_version == "error"):
            try:
                await wait_for_resource_version(self.store, requested_rv, self.config.too_large_rv_wait)
            except ApiError as error:
                too_large = error

        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        watcher = Watcher(next(self._ids), rt.plural, scope, request.query_string,
                          getattr(request.get(USER_KEY), "name", ""), request)
        self._watchers[watcher.id] = watcher
        try:
            if too_large is not None:
                await response.write(_encode_line({"type": "ERROR", "object": too_large.status()}))
            else:
                await self._stream(response, watcher, rt, scope, selection, start_rv, initial_events, bookmarks,
                                   timeout, encode)
        except ConnectionError:
            pass  # the client went away mid-write: nothing left to send
        finally:
            del self._watchers[watcher.id]
        return response

    async def _stream(self, response, watcher, rt, scope, selection, start_rv, initial_events, bookmarks,
                      timeout, encode) -> None:
        deadline = time.monotonic() + timeout
        if start_rv is None:
            cursor = self.store.rv
            for obj in self.store.items(rt.storage, scope):
                if selection.matches(rt, obj):
                    await response.write(_encode_line({"type": "ADDED", "object": encode(obj)}))
            if initial_events:
                await response.write(_encode_line(self._bookmark(rt, cursor, initial_events_end=True)))
        else:
            cursor = start_rv
            try:
                self.store.changes_after(cursor)
            except ApiError as error:
                await response.write(_encode_line({"type": "ERROR", "object": error.status()}))
                return
        last_bookmark = time.monotonic()
        while not watcher.dropped:
            now = time.monotonic()
            if now >= deadline:
                break
            if self.store.rv > cursor:
                upto = self.store.rv
                try:
                    changes = self.store.changes_after(cursor)
                except ApiError:
                    # This watcher fell behind the retained history (a slow
                    # reader); like the watch cache, end the stream so the
                    # client resumes and learns it must re-list.
                    break
                for change in changes:
                    event = self._event(change, rt, scope, selection)
                    if event is not None:
                        await response.write(_encode_line({"type": event[0], "object": encode(event[1])}))
                cursor = upto
                continue
            # Read the interval each time: tests may change it while streams are open.
            next_bookmark = last_bookmark + self.config.bookmark_interval
            if bookmarks and now >= next_bookmark:
                await response.write(_encode_line(self._bookmark(rt, cursor)))
                last_bookmark = now
                continue
            wake_at = min(deadline, next_bookmark) if bookmarks else deadline
            await self.store.changed.wait(max(0.0, wake_at - time.monotonic()))

    @staticmethod
    def _event(change: Change, rt: ResourceType, scope: str | None, selection: Filter) -> tuple[str, dict] | None:
        if change.storage != rt.storage or (scope is not None and change.key[0] != scope):
            return None
        was = change.old is not None and selection.matches(rt, change.old)
        if change.type == "DELETED":
            return ("DELETED", change.obj) if was else None
        now = selection.matches(rt, change.obj)
        if now:
            return ("MODIFIED" if was else "ADDED", change.obj)
        if was:
            # It left the selection: the client sees it go, at this change's resourceVersion.
            gone = json.loads(json.dumps(change.old))
            gone["metadata"]["resourceVersion"] = str(change.rv)
            return "DELETED", gone
        return None

    @staticmethod
    def _bookmark(rt: ResourceType, rv: int, initial_events_end: bool = False) -> dict:
        metadata = {"resourceVersion": str(rv), "creationTimestamp": None}
        if initial_events_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        body = json.loads(json.dumps(_BOOKMARK_BODIES.get(rt.kind, {})))
        return {"type": "BOOKMARK", "object": {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": metadata,
                                               **body}}
