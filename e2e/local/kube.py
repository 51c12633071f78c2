"""A minimal Kubernetes API client for the harness (the kubelet and the test
setup): HTTPS with the cluster CA and a bearer token (re-read per request, as
it may rotate), JSON bodies, list and watch."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Iterator

import requests

TIMEOUT = 10.0
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


class ApiError(Exception):
    def __init__(self, method: str, path: str, response: requests.Response) -> None:
        super().__init__(f"{method} {path} -> {response.status_code} {response.text[:300]}")
        self.status = response.status_code


class KubeAPI:
    def __init__(self, server: str, token_file: Path, ca_file: Path) -> None:
        self.server = server.rstrip("/")
        self._token_file = token_file
        self._ca_file = str(ca_file)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.trust_env = False
            session.verify = self._ca_file
            self._local.session = session
        return self._local.session

    def request(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
                content_type: str = "application/json", stream: bool = False,
                timeout: float | None = TIMEOUT) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token_file.read_text().strip()}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body)
        response = self._session().request(method, self.server + path, params=params, data=data,
                                           headers=headers, stream=stream, timeout=timeout)
        if response.status_code >= 400:
            raise ApiError(method, path, response)
        return response

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params).json()

    def create(self, path: str, body: dict) -> dict:
        return self.request("POST", path, body=body).json()

    def patch(self, path: str, body: dict, content_type: str = STRATEGIC_MERGE) -> dict:
        return self.request("PATCH", path, body=body, content_type=content_type).json()

    def delete(self, path: str, **params) -> None:
        self.request("DELETE", path, params=params)

    def watch(self, path: str, **params) -> Iterator[dict]:
        """The events of one watch request, until the server ends the stream
        (pass timeoutSeconds to bound it)."""
        with self.request("GET", path, params={**params, "watch": "true"}, stream=True,
                          timeout=(TIMEOUT, TIMEOUT + float(params.get("timeoutSeconds", 0)))) as response:
            for line in response.iter_lines():
                if line:
                    yield json.loads(line)
