"""Fault injection: an API server that is slow, briefly unavailable, or
throttling, as a client meets one on a real cluster.

A fault matches API requests by method, path, query and user (regular
expressions) and, for its next `count` matches and/or for `durationSeconds`
after it was queued, answers a Status with a chosen code (503 for an
unavailable server, 429 with Retry-After for API priority and fairness
throttling, ...), drops the connection without an answer, or delays the
request (`delayMs`) before serving it normally. It is checked after the
request is logged and before authorization, so an unauthenticated or
forbidden request can be faulted too (a real server under load refuses
before looking).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import dataclass

from aiohttp import web

from .auth import ADMIN_PREFIX, LOG_ENTRY_KEY, USER_KEY
from .responses import error_response
from .status import bad_request, injected


@dataclass
class Fault:
    id: int
    method: str  # regex on the method, e.g. "GET" or "PUT|PATCH"
    path: str  # regex searched in the path
    query: str | None  # regex searched in the raw query string
    user: str | None  # regex on the user name, or on the credential name
    status: int | None  # answer this code...
    retry_after: int | None
    drop: bool  # ...or close the connection without an answer...
    delay_ms: int  # ...and/or wait this long first
    remaining: int | None  # None: every match
    until: float | None  # monotonic deadline of a time-bounded fault
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
        for pattern in (spec.get("method"), spec["path"], spec.get("query"), spec.get("user")):
            try:
                re.compile(pattern or "")
            except re.error as error:
                raise bad_request(f"bad regex {pattern!r}: {error}") from None
        duration = spec.get("durationSeconds")
        # A time-bounded fault affects every match until it expires, unless a count is given too.
        count = spec.get("count", None if duration is not None else 1)
        return cls(fault_id, spec.get("method") or ".*", spec["path"], spec.get("query"), spec.get("user"), status,
                   spec.get("retryAfter"), drop, delay, None if count in (None, -1) else int(count),
                   time.monotonic() + float(duration) if duration is not None else None,
                   spec.get("message"), spec.get("reason"))

    @property
    def expired(self) -> bool:
        return (self.remaining is not None and self.remaining <= 0) or \
            (self.until is not None and time.monotonic() >= self.until)

    def matches(self, request: web.Request) -> bool:
        user = request.get(USER_KEY)
        return (re.fullmatch(self.method, request.method, re.IGNORECASE) is not None
                and re.search(self.path, request.path) is not None
                and (self.query is None or re.search(self.query, request.query_string) is not None)
                and (self.user is None or (user is not None and (re.fullmatch(self.user, user.name) is not None
                                                                 or re.fullmatch(self.user, user.credential)))))

    def describe(self) -> dict:
        left = None if self.until is None else max(0.0, self.until - time.monotonic())
        return {"id": self.id, "method": self.method, "path": self.path, "query": self.query, "user": self.user,
                "status": self.status, "retryAfter": self.retry_after, "drop": self.drop, "delayMs": self.delay_ms,
                "remaining": self.remaining, "secondsLeft": left, "hits": self.hits}


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
        self._faults = [f for f in self._faults if not f.expired]
        return [f.describe() for f in self._faults]

    def take(self, request: web.Request) -> Fault | None:
        """The first live fault matching the request, with one use consumed."""
        self._faults = [f for f in self._faults if not f.expired]
        for fault in self._faults:
            if fault.matches(request):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None


class FaultInjector:
    """Middleware (after the request log): apply the first matching fault."""

    def __init__(self, faults: FaultQueue):
        self.faults = faults

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        fault = self.faults.take(request)
        if fault is None:
            return await handler(request)
        entry = request.get(LOG_ENTRY_KEY)
        if entry is not None:
            entry["fault"] = fault.id
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.drop:
            if entry is not None:
                entry["status"] = "dropped"
            request.transport.abort()
            raise asyncio.CancelledError()
        if fault.status is not None:
            return error_response(injected(fault.status, fault.message, fault.reason, fault.retry_after))
        return await handler(request)
