"""The resources the emulator serves: one entry per (group, version, resource),
each naming its storage, its kind, its subresources and its conversion.
Discovery, routing and the request handlers are all driven by this table.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

from . import conversion
from .strategies import STRATEGIES, Strategy

# Every resource here supports every verb (deletecollection aside).
ALL_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


def _identity(obj: dict) -> dict:
    return copy.deepcopy(obj)


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    storage: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # stored form -> this version (without kind/apiVersion), and back
    to_version: Callable[[dict], dict] = field(default=_identity, compare=False)
    from_version: Callable[[dict], dict] = field(default=_identity, compare=False)

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

    def internal(self, body: dict) -> dict:
        """A request body of this version in stored form."""
        body = {k: v for k, v in body.items() if k not in ("kind", "apiVersion")}
        return self.from_version(body)


RESOURCES = [
    ResourceType("", "v1", "pods", "pod", "Pod", "pods", ("po",), ("all",), subresources=("status",)),
    ResourceType("", "v1", "events", "event", "Event", "events", ("ev",)),
    ResourceType("", "v1", "namespaces", "namespace", "Namespace", "namespaces", ("ns",)),
    ResourceType("apps", "v1", "deployments", "deployment", "Deployment", "deployments", ("deploy",), ("all",),
                 subresources=("status", "scale")),
    ResourceType("apps", "v1", "replicasets", "replicaset", "ReplicaSet", "replicasets", ("rs",), ("all",),
                 subresources=("status", "scale")),
    ResourceType("coordination.k8s.io", "v1", "leases", "lease", "Lease", "leases"),
    ResourceType("events.k8s.io", "v1", "events", "event", "Event", "events", ("ev",),
                 to_version=conversion.event_to_events_v1, from_version=conversion.event_from_events_v1),
    ResourceType("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
                 "HorizontalPodAutoscaler", "horizontalpodautoscalers", ("hpa",), ("all",), subresources=("status",)),
    ResourceType("autoscaling", "v1", "horizontalpodautoscalers", "horizontalpodautoscaler",
                 "HorizontalPodAutoscaler", "horizontalpodautoscalers", ("hpa",), ("all",), subresources=("status",),
                 to_version=conversion.hpa_to_v1, from_version=conversion.hpa_from_v1),
]

# The version each group prefers, listed first in discovery.
PREFERRED_VERSIONS = {"": "v1", "apps": "v1", "coordination.k8s.io": "v1", "events.k8s.io": "v1",
                      "autoscaling": "v2"}

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def preferred(storage: str) -> ResourceType:
    """The resource type a storage is served as by default (for dumps and controllers)."""
    return next(r for r in RESOURCES if r.storage == storage and PREFERRED_VERSIONS[r.group] == r.version
                and r.group == STRATEGIES[storage].group)


def group_versions() -> dict[str, list[str]]:
    """Each group with its versions, preferred first."""
    versions: dict[str, list[str]] = {}
    for r in RESOURCES:
        listed = versions.setdefault(r.group, [])
        if r.version not in listed:
            listed.append(r.version)
    for group, listed in versions.items():
        listed.sort(key=lambda v: v != PREFERRED_VERSIONS[group])
    return versions
