"""Using the emulator from Python tests and harnesses.

    from e2e.kubeapi.client import start_thread, start_process

    with start_thread(tmp_path) as kube:          # in this process (fast)
        kube.api().get(kube.url + "/api/v1/namespaces/default/pods")
        kube.add_fault("GET", r"/pods$", status=429, retry_after=1)

    with start_process(tmp_path, "--auto-kubelet") as kube:   # a child process
        ...

Both give a `KubeAPI`: the URL, the paths of the state files, `requests`
sessions that trust the CA and send the harness's (admin) or the
operator's current token, and one method per admin endpoint.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import requests

from ..scenarios.poll import wait_until

_REPO_ROOT = Path(__file__).resolve().parents[2]


class KubeAPI:
    def __init__(self, url: str, state_dir: str | os.PathLike):
        self.url = url
        self.state_dir = Path(state_dir)
        self.ca_file = str(self.state_dir / "ca.crt")
        self.token_file = str(self.state_dir / "token")  # the harness: system:masters
        self.kubeconfig_admin = str(self.state_dir / "kubeconfig-admin")
        self.operator_token_file = str(self.state_dir / "operator-token")  # the operator: the chart's Role
        self.kubeconfig = str(self.state_dir / "kubeconfig")
        self.kubeconfig_certs = str(self.state_dir / "kubeconfig-certs")
        self.client_cert = (str(self.state_dir / "client.crt"), str(self.state_dir / "client.key"))
        self._admin = self.session()

    @property
    def token(self) -> str:
        """The current admin token, read from the state dir (it changes on rotation)."""
        return Path(self.token_file).read_text().strip()

    @property
    def operator_token(self) -> str:
        """The operator service account's current token."""
        return Path(self.operator_token_file).read_text().strip()

    def session(self) -> requests.Session:
        """A session that trusts the emulator's CA and sends no credentials.
        trust_env is off: REQUESTS_CA_BUNDLE or proxy settings in the
        environment would otherwise override the CA (a requests quirk)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_file
        return session

    def api(self, token: str | None = None) -> requests.Session:
        """A session authenticated with the current admin (or the given) token."""
        session = self.session()
        session.headers["Authorization"] = f"Bearer {token or self.token}"
        return session

    def operator_api(self) -> requests.Session:
        """A session as the operator's service account (bound to the chart's Role)."""
        return self.api(self.operator_token)

    # -- admin endpoints -----------------------------------------------------

    def _call(self, method: str, path: str, **kwargs) -> dict:
        response = self._admin.request(method, f"{self.url}/_emulator/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def add_fault(self, method: str, path: str, *, query: str | None = None, user: str | None = None,
                  status: int | None = None, retry_after: int | None = None, drop: bool = False, delay_ms: int = 0,
                  count: int | None = 1, duration_seconds: float | None = None, message: str | None = None) -> dict:
        """Queue a fault for the next `count` matching requests (None: all) and/or
        for `duration_seconds` (then every match unless a count is given)."""
        spec = {"method": method, "path": path, "query": query, "user": user, "status": status,
                "retryAfter": retry_after, "drop": drop, "delayMs": delay_ms, "message": message}
        if duration_seconds is not None:
            spec["durationSeconds"] = duration_seconds
            if count != 1:
                spec["count"] = count
        else:
            spec["count"] = count
        return self._call("POST", "faults", json=spec)["faults"][0]

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def requests(self, since: int = 0) -> list[dict]:
        return self._call("GET", "requests", params={"since": since})["requests"]

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def watches(self) -> list[dict]:
        return self._call("GET", "watches")["watches"]

    def drop_watches(self) -> int:
        return self._call("POST", "watches/drop")["dropped"]

    def compact(self) -> int:
        return int(self._call("POST", "compact")["compactedResourceVersion"])

    def objects(self, resource: str | None = None, namespace: str | None = None) -> dict:
        params = {k: v for k, v in (("resource", resource), ("namespace", namespace)) if v}
        return self._call("GET", "objects", params=params)

    def reset(self) -> None:
        self._call("POST", "reset")

    def rotate_tokens(self, revoke_old_after: float = 0.0, credential: str | None = None) -> dict[str, str]:
        """New tokens for `credential`, or for both default ones; answers credential -> token."""
        body = {"revokeOldAfterSeconds": revoke_old_after} | ({"credential": credential} if credential else {})
        return self._call("POST", "tokens/rotate", json=body)["tokens"]

    def mint_token(self, name: str, user: str | None = None, groups: list[str] | None = None) -> dict:
        """A credential of its own (default: the operator's service account), with
        DIR/token-NAME and DIR/kubeconfig-NAME; answers token, tokenFile, kubeconfig."""
        return self._call("POST", "tokens", json={"name": name, "user": user, "groups": groups})

    # -- what nodes do to pods -------------------------------------------------

    def set_ready(self, name: str, ready: bool, namespace: str = "default") -> dict:
        return self._call("POST", f"pods/{namespace}/{name}/ready", json={"ready": ready})

    def flap(self, name: str, interval: float = 0.5, times: int = 4, namespace: str = "default") -> None:
        self._call("POST", f"pods/{namespace}/{name}/flap", json={"intervalSeconds": interval, "times": times})

    def finish_pod(self, name: str, phase: str = "Failed", reason: str | None = None, namespace: str = "default",
                   message: str | None = None) -> dict:
        """phase Failed (reason Evicted unless given) or Succeeded."""
        return self._call("POST", f"pods/{namespace}/{name}/phase",
                          json={"phase": phase, "reason": reason, "message": message})

    def configure(self, **settings) -> dict:
        """E.g. configure(autoKubelet=True, bookmarkIntervalSeconds=0.5, controllers=False)."""
        return self._call("PATCH", "config", json=settings)

    # -- conveniences --------------------------------------------------------

    def wait_for(self, condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.05):
        """Poll until `condition()` is truthy; answers its value or raises TimeoutError."""
        return wait_until("condition", condition, timeout, interval)


def acting_spans(entries: list[dict], acts=None) -> list[tuple[str, float, float]]:
    """The request log as turns: (credential, first, last) for each maximal run
    of acting requests (by default: every write) by one credential. Two actors
    at once show up as interleaved turns, or as a turn that starts before the
    previous actor's last request has ended."""
    acts = acts or (lambda e: e["method"] in ("POST", "PUT", "PATCH", "DELETE"))
    spans: list[list] = []
    for entry in sorted((e for e in entries if acts(e)), key=lambda e: e["time"]):
        end = entry["end"] or entry["time"]
        if spans and spans[-1][0] == entry["credential"]:
            spans[-1][2] = max(spans[-1][2], end)
        else:
            spans.append([entry["credential"], entry["time"], end])
    return [tuple(span) for span in spans]


class RunningEmulator(KubeAPI):
    """A KubeAPI that owns the emulator it talks to; stop() or `with` ends it."""

    def __init__(self, url: str, state_dir, stopper: Callable[[], None]):
        super().__init__(url, state_dir)
        self._stopper = stopper

    def stop(self) -> None:
        self._stopper()

    def __enter__(self) -> "RunningEmulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_thread(state_dir: str | os.PathLike, **options) -> RunningEmulator:
    """Run the emulator on a background thread of this process. `options` are
    those of server.Emulator (host, port, config, extra_sans, history_limit,
    rbac_objects)."""
    from .server import EmulatorThread  # aiohttp is only needed by whoever runs the server

    thread = EmulatorThread(state_dir, **options)
    url = thread.start()
    return RunningEmulator(url, state_dir, thread.stop)


def start_process(state_dir: str | os.PathLike, *arguments: str) -> RunningEmulator:
    """Run `python3 -m e2e.kubeapi --state-dir DIR ARGUMENTS...` as a child
    process and wait for its `kubeapi listening on URL` line."""
    process = subprocess.Popen([sys.executable, "-m", "e2e.kubeapi", "--state-dir", str(state_dir), *arguments],
                               cwd=_REPO_ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # empty if the process died first
    if not line.startswith("kubeapi listening on "):
        process.kill()
        raise RuntimeError(f"kubeapi emulator did not start: {line!r}")

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    return RunningEmulator(line.strip().rsplit(" ", 1)[1], state_dir, stop)
