"""The garbage collector: deletes objects all of whose owners are gone
(background propagation), so deleting a Deployment removes its ReplicaSets
and then their pods (gracefully)."""

from __future__ import annotations

from ..registry import Registry
from ..resources import preferred


class GarbageCollector:
    def __init__(self, registry: Registry):
        self.registry = registry

    def reconcile(self) -> None:
        store = self.registry.store
        live = {obj["metadata"]["uid"] for storage in store.storages() for obj in store.items(storage)}
        for storage in store.storages():
            for obj in store.items(storage):
                meta = obj["metadata"]
                owners = meta.get("ownerReferences") or []
                if owners and not any(ref.get("uid") in live for ref in owners) and not meta.get("deletionTimestamp"):
                    self.registry.delete(preferred(storage), meta.get("namespace", ""), meta["name"])
