"""HTTP plumbing for every scenario: no proxies from the environment, no
automatic retries (a failed request must show up as a failure), one pooled
session per thread."""

from __future__ import annotations

import threading

import requests

TIMEOUT = 10.0

_local = threading.local()


def session() -> requests.Session:
    s = getattr(_local, "session", None)
    if s is None:
        s = requests.Session()
        s.trust_env = False  # an http_proxy in the environment must never see pod traffic
        _local.session = s
    return s


def request(method: str, url: str, *, fresh: bool = False, headers: dict | None = None,
            timeout: float = TIMEOUT, **kwargs) -> requests.Response:
    """One request. fresh=True uses a new connection that is closed after the
    answer, so a balancer in front of the pods picks a backend per request (a
    kept-alive connection would stay pinned to one pod)."""
    headers = dict(headers or {})
    if fresh:
        headers["Connection"] = "close"
    return session().request(method, url, headers=headers, timeout=timeout, **kwargs)


def describe(response: requests.Response) -> str:
    body = response.content
    shown = body[:120] + (b"..." if len(body) > 120 else b"")
    return f"{response.request.method} {response.url} -> {response.status_code} {shown!r}"
