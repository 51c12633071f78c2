"""The driver interface every scenario is written against.

A driver hides how pods are run (network namespaces, or Kubernetes through
kubectl). Pod names are opaque strings; URLs are reachable from the process
that runs the scenarios.
"""

from __future__ import annotations

import hashlib
import hmac
import signal
import time
from typing import Protocol


class Cluster(Protocol):
    def pods(self) -> list[str]:
        """Pods that are ready and not terminating, in a stable order."""

    def terminating(self) -> list[str]:
        """Pods told to stop that have not exited yet."""

    def url(self, pod: str) -> str:
        """Base URL of one pod (no trailing slash)."""

    def member(self, pod: str) -> str:
        """The pod as the members name each other (`ip:port`), which ranks
        it for placement (see rendezvous.py)."""

    def admin_url(self, pod: str) -> str:
        """Base URL of one pod's admin port: /metrics, probes, the listing."""

    def service_url(self) -> str:
        """Base URL that spreads connections over the ready pods, like a Service.

        A request sent on a fresh connection may land on any ready pod."""

    def kill(self, pod: str, sig: signal.Signals) -> None:
        """SIGKILL: the pod crashes and is gone when this returns.
        SIGTERM: graceful deletion; the pod leaves the Service and DNS first,
        then drains; use wait_gone to wait for its exit."""

    def wait_gone(self, pod: str, timeout: float) -> None:
        """Wait until the pod's process has exited and its address is gone."""

    def add_pod(self) -> str:
        """Start one more pod; returns once it is ready and published in DNS."""

    def rolling_restart(self) -> None:
        """Replace every pod, one at a time, a new pod ready before an old one
        stops (maxSurge 1, maxUnavailable 0); returns when all are replaced."""

    def replicas(self) -> int:
        """The desired number of pods (the Deployment's spec.replicas)."""

    def logs(self, pod: str) -> str:
        """The pod's log (the tail, for a long one)."""

    def peer_refresh(self) -> float:
        """Seconds between two DNS resolutions of the headless name by a pod."""

    def drain_timeout(self) -> float:
        """The pods' --drain-timeout in seconds."""

    def settle(self) -> None:
        """Wait until the cluster is back at its desired size with every pod
        ready (after a scenario that removed pods)."""

    def peer_headers(self, method: str, uri: str) -> dict[str, str]:
        """Headers that make one request a peer's (the proof of the cluster
        secret): the receiving pod answers it from its own storage only."""


PEER_AUTH = "X-Tig-Peer-Auth"
"""Header carrying a peer request's proof (SPEC §6.2, docs/DESIGN.md#cluster)."""


def peer_proof(secret: bytes, method: str, uri: str, now: float | None = None) -> dict[str, str]:
    """The proof a member sends: the HMAC-SHA-256 of "<seconds> <METHOD> <uri>"
    under the cluster secret."""
    seconds = int(time.time() if now is None else now)
    mac = hmac.new(secret, f"{seconds} {method} {uri}".encode(), hashlib.sha256).hexdigest()
    return {PEER_AUTH: f"{seconds} {mac}"}
