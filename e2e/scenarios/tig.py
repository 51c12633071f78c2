"""tig's HTTP API as the scenarios use it, with exact checks of every answer."""

from __future__ import annotations

import hashlib
import re
import secrets

import requests

from .cluster import Cluster
from .web import describe, request


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_path(data: bytes) -> str:
    return f"/{sha(data)}.tig"


def new_key() -> str:
    """A fresh key-slot address: a random 256-bit number, as clients use."""
    return secrets.token_hex(32)


def key_path(key: str) -> str:
    return f"/{key}.tig"


def expect(response: requests.Response, status: int, body: bytes | None = None) -> requests.Response:
    """Assert the exact status and, when given, the exact body. Failures of tig
    answer with an empty body, so callers pass b"" for them."""
    assert response.status_code == status, f"expected {status}: {describe(response)}"
    if body is not None:
        assert response.content == body, f"expected body {body[:120]!r}: {describe(response)}"
    return response


def expect_failure(response: requests.Response, status: int) -> requests.Response:
    return expect(response, status, b"")


def put_content(base: str, data: bytes, *, fresh: bool = False) -> str:
    """Store a content block; the answer must be exactly its path."""
    path = content_path(data)
    expect(request("PUT", base + "/", data=data, fresh=fresh), 200, path.encode())
    return path


def put_slot(base: str, key: str, value: bytes, query: str = "", *, fresh: bool = False) -> None:
    path = key_path(key)
    response = request("PUT", base + path + query, data=value, fresh=fresh)
    expect(response, 200, path.encode())


def get(base: str, path: str, query: str = "", *, fresh: bool = False) -> requests.Response:
    return request("GET", base + path + query, fresh=fresh)


def expect_bytes(base: str, path: str, data: bytes, query: str = "", *, fresh: bool = False) -> None:
    expect(get(base, path, query, fresh=fresh), 200, data)


def holders(cluster: Cluster, path: str) -> list[str]:
    """The pods that hold path themselves: a peer's HEAD is answered from
    local storage only."""
    found = []
    for pod in cluster.pods():
        response = request("HEAD", cluster.url(pod) + path, headers=cluster.peer_headers("HEAD", path))
        assert response.status_code in (200, 404), describe(response)
        if response.status_code == 200:
            found.append(pod)
    return found


def metric_sum(base: str, name: str, **labels: str) -> float:
    """Sum of the samples of one metric family in a pod's /metrics whose
    labels include `labels` (every sample without any)."""
    text = expect(request("GET", base + "/metrics"), 200).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        rest = line[len(name):]
        found: dict[str, str] = {}
        if rest.startswith("{"):
            inside, rest = rest[1:].split("}", 1)  # tig's label values hold no "}"
            found = dict(re.findall(r'(\w+)="([^"]*)"', inside))
        elif not rest.startswith(" "):
            continue  # another family sharing the prefix (e.g. name_bucket)
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(rest.split()[0])
    return total
