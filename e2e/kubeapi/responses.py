"""JSON responses as kube-apiserver writes them: compact JSON ended by a
newline, `Content-Type: application/json`."""

from __future__ import annotations

import json

from aiohttp import web

from .status import ApiError


def json_response(body, status: int = 200, headers: dict | None = None) -> web.Response:
    text = json.dumps(body, separators=(",", ":")) + "\n"
    return web.Response(text=text, status=status, content_type="application/json", headers=headers)


def error_response(error: ApiError) -> web.Response:
    return json_response(error.status(), error.code, error.headers)
