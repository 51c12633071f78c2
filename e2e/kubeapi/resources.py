"""The resources the emulator serves: one entry per (group, version, resource),
each naming its storage, its kind and its subresources. Routing and the
request handlers are driven by this table. One version per kind: the ones
this project's clients use (no events.k8s.io/v1, no autoscaling/v1, so no
conversion between versions)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .strategies import STRATEGIES, Strategy


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    subresources: tuple[str, ...] = ()

    @property
    def storage(self) -> str:
        return self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def strategy(self) -> Strategy:
        return STRATEGIES[self.storage]

    @property
    def namespaced(self) -> bool:
        return self.strategy.namespaced

    def external(self, stored: dict) -> dict:
        """The object as this API version serves it, with kind and apiVersion first."""
        return {"kind": self.kind, "apiVersion": self.api_version, **self.to_version(stored)}

    @staticmethod
    def to_version(stored: dict) -> dict:
        """The stored form as served (without kind/apiVersion): the same, one version per kind."""
        return copy.deepcopy(stored)

    def internal(self, body: dict) -> dict:
        """A request body of this version in stored form."""
        return copy.deepcopy({k: v for k, v in body.items() if k not in ("kind", "apiVersion")})


RESOURCES = [
    ResourceType("", "v1", "pods", "Pod", ("status",)),
    ResourceType("", "v1", "events", "Event"),
    ResourceType("", "v1", "namespaces", "Namespace"),
    ResourceType("apps", "v1", "deployments", "Deployment", ("status", "scale")),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", ("status", "scale")),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease"),
    ResourceType("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", ("status",)),
]

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_STORAGE = {r.storage: r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def preferred(storage: str) -> ResourceType:
    """The resource type a storage is served as (for dumps and controllers)."""
    return _BY_STORAGE[storage]
