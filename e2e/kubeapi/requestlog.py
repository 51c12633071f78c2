"""The request log: who did what, when, and what they were answered, like
an audit log. Every API request (not the admin API) gets an entry:

  seq, time (arrival, unix seconds), end (when the answer, or the watch
  stream, was finished; None while open), method, path, query (raw),
  params, watch, status (the HTTP code, "dropped" for a connection closed
  without an answer, None while unanswered), user, groups, credential (the
  name of the token or "client-certificate": tells apart two processes of
  one service account when each got its own token), userAgent, remote
  (peer address), fault (id of the injected fault, if any), and what the
  authorizer is asked: verb, apiGroup, resource (with its subresource, as
  "deployments/scale"), name.

Tests read it through GET /_emulator/requests to check how a client
behaved: that it waited for Retry-After, re-listed after a 410, never acted
while another replica held the Lease.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

from aiohttp import web

from .auth import ADMIN_PREFIX, LOG_ENTRY_KEY, USER_KEY, Authenticator
from .rbac import attributes, is_watch


class RequestLog:
    LIMIT = 100_000  # oldest entries go first, so a long run cannot exhaust memory

    def __init__(self, authenticator: Authenticator):
        self.authenticator = authenticator
        self.entries: deque[dict] = deque(maxlen=self.LIMIT)
        self._seq = itertools.count(1)

    def start(self, request: web.Request) -> dict:
        user = self.authenticator.authenticate(request)
        request[USER_KEY] = user
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        asked = attributes(request.method, request.path, request.query)
        entry = {"seq": next(self._seq), "time": time.time(), "end": None, "method": request.method,
                 "path": request.path, "query": request.query_string,
                 "params": {k: request.query.getall(k) for k in request.query.keys()},
                 "watch": is_watch(request.query), "status": None,
                 "user": user.name if user else None, "groups": list(user.groups) if user else [],
                 "credential": user.credential if user else None,
                 "userAgent": request.headers.get("User-Agent"),
                 "remote": f"{peer[0]}:{peer[1]}" if peer else None, "fault": None,
                 "verb": asked.verb, "apiGroup": asked.api_group, "resource": asked.combined_resource,
                 "name": asked.name}
        self.entries.append(entry)
        return entry

    def since(self, seq: int) -> list[dict]:
        return [e for e in self.entries if e["seq"] > seq]

    def clear(self) -> None:
        self.entries.clear()

    @staticmethod
    async def record_status(request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare hook: a streaming watch is logged when its headers go out."""
        entry = request.get(LOG_ENTRY_KEY)
        if entry is not None and entry["status"] is None:
            entry["status"] = response.status

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        entry = self.start(request)
        request[LOG_ENTRY_KEY] = entry
        try:
            return await handler(request)
        finally:
            entry["end"] = time.time()
