"""Fault injection and the request log.

A fault matches API requests by method and path (and optionally query)
regular expressions and, for its next `count` matches, answers a Status
with a chosen code (and Retry-After), drops the connection without an
answer, or delays the request before serving it normally. Every API request
is logged with the status it got, so a test can assert how a client behaved:
that it waited for Retry-After, re-listed after a 410, did not re-list
without need.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web

from .auth import ADMIN_PREFIX
from .responses import error_response
from .status import bad_request, injected


@dataclass
class Fault:
    id: int
    method: str  # regex on the method, e.g. "GET" or "PUT|PATCH"
    path: str  # regex searched in the path
    query: str | None  # regex searched in the raw query string
    status: int | None  # answer this code...
    retry_after: int | None
    drop: bool  # ...or close the connection without an answer...
    delay_ms: int  # ...and/or wait this long first
    remaining: int | None  # None: every match, forever
    message: str | None
    reason: str | None
    hits: int = 0

    @classmethod
    def from_spec(cls, fault_id: int, spec: dict) -> "Fault":
        if not isinstance(spec, dict) or "path" not in spec:
            raise bad_request("a fault needs at least a path regex")
        status, drop, delay = spec.get("status"), bool(spec.get("drop")), int(spec.get("delayMs") or 0)
        if status is None and not drop and not delay:
            raise bad_request("a fault needs status, drop or delayMs")
        for pattern in (spec.get("method"), spec["path"], spec.get("query")):
            try:
                re.compile(pattern or "")
            except re.error as error:
                raise bad_request(f"bad regex {pattern!r}: {error}") from None
        count = spec.get("count", 1)
        return cls(fault_id, spec.get("method") or ".*", spec["path"], spec.get("query"), status,
                   spec.get("retryAfter"), drop, delay, None if count in (None, -1) else int(count),
                   spec.get("message"), spec.get("reason"))

    def matches(self, request: web.Request) -> bool:
        return (re.fullmatch(self.method, request.method, re.IGNORECASE) is not None
                and re.search(self.path, request.path) is not None
                and (self.query is None or re.search(self.query, request.query_string) is not None))

    def describe(self) -> dict:
        return {"id": self.id, "method": self.method, "path": self.path, "query": self.query, "status": self.status,
                "retryAfter": self.retry_after, "drop": self.drop, "delayMs": self.delay_ms,
                "remaining": self.remaining, "hits": self.hits}


class FaultQueue:
    def __init__(self):
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict) -> Fault:
        fault = Fault.from_spec(next(self._ids), spec)
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def describe(self) -> list[dict]:
        return [f.describe() for f in self._faults]

    def take(self, request: web.Request) -> Fault | None:
        """The first queued fault matching the request, with one use consumed."""
        for fault in self._faults:
            if fault.matches(request):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None


class RequestLog:
    LIMIT = 100_000  # oldest entries go first, so a long run cannot exhaust memory

    def __init__(self):
        self.entries: deque[dict] = deque(maxlen=self.LIMIT)
        self._seq = itertools.count(1)

    def start(self, request: web.Request) -> dict:
        entry = {"seq": next(self._seq), "time": time.time(), "method": request.method, "path": request.path,
                 "query": request.query_string, "params": {k: request.query.getall(k) for k in request.query.keys()},
                 "watch": request.query.get("watch", "").lower() in ("true", "1"), "status": None, "user": None,
                 "fault": None}
        self.entries.append(entry)
        return entry

    def since(self, seq: int) -> list[dict]:
        return [e for e in self.entries if e["seq"] > seq]

    def clear(self) -> None:
        self.entries.clear()


class FaultInjector:
    """Middleware: log every API request, then apply the first matching fault."""

    def __init__(self, faults: FaultQueue, log: RequestLog):
        self.faults = faults
        self.log = log

    @staticmethod
    async def record_status(request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare hook: a streaming watch is logged when its headers go out."""
        entry = request.get("log_entry")
        if entry is not None:
            entry["status"] = response.status
            entry["user"] = request.get("user")

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        entry = self.log.start(request)
        request["log_entry"] = entry
        fault = self.faults.take(request)
        if fault is None:
            return await handler(request)
        entry["fault"] = fault.id
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.drop:
            entry["status"] = "dropped"
            request.transport.abort()
            raise asyncio.CancelledError()
        if fault.status is not None:
            return error_response(injected(fault.status, fault.message, fault.reason, fault.retry_after))
        return await handler(request)
