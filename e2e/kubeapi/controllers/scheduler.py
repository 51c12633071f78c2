"""The scheduler: binds every unscheduled pod it sees (through its lagging
informer) to the emulator's one node. Binding is a separate write after
creation, as on a real cluster, so a watcher sees ADDED (Pending, no node)
then MODIFIED (nodeName set); a pod bound or deleted meanwhile is a 409/404
and skipped."""

from __future__ import annotations

from ..registry import Registry
from ..status import ApiError
from .informer import InformerCache


class Scheduler:
    def __init__(self, registry: Registry, cache: InformerCache, node_name: str):
        self.registry = registry
        self.cache = cache
        self.node_name = node_name

    def reconcile(self) -> None:
        for pod in self.cache.items("pods"):
            if not pod["spec"].get("nodeName") and not pod["metadata"].get("deletionTimestamp") \
                    and pod["spec"].get("schedulerName", "default-scheduler") == "default-scheduler":
                try:
                    self.registry.bind(pod["metadata"]["namespace"], pod["metadata"]["name"], self.node_name)
                except ApiError:
                    pass
