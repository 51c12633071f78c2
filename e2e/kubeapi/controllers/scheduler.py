"""The scheduler: binds every unscheduled pod to the emulator's one node.
Binding is a separate write after creation, as on a real cluster, so a
watcher sees ADDED (Pending, no node) then MODIFIED (nodeName set)."""

from __future__ import annotations

from ..registry import Registry


class Scheduler:
    def __init__(self, registry: Registry, node_name: str):
        self.registry = registry
        self.node_name = node_name

    def reconcile(self) -> None:
        for pod in self.registry.store.items("pods"):
            if not pod["spec"].get("nodeName") and not pod["metadata"].get("deletionTimestamp") \
                    and pod["spec"].get("schedulerName", "default-scheduler") == "default-scheduler":
                self.registry.bind(pod["metadata"]["namespace"], pod["metadata"]["name"], self.node_name)
