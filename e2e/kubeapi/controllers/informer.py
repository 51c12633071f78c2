"""What the emulated control plane sees: the store through shared informers
that lag behind it, as kube-controller-manager's do.

Every change reaches this cache `lag(storage)` seconds after it happened
(per resource, so pods can lag more than ReplicaSets), in order per
resource. Controllers decide on this view and write to the real registry:
a write based on a stale object fails with 409 like a real controller's,
and a decision taken on stale pods (an annotation or a readiness change
not seen yet) is exactly the race a client of a real cluster must survive.
A reset of the store empties the cache at once (a relist).
"""

from __future__ import annotations

import copy
import time
from collections import deque
from typing import Callable

from ..store import Change, Key, Store


class InformerCache:
    def __init__(self, store: Store, lag: Callable[[str], float]):
        self._lag = lag
        self._objects: dict[str, dict[Key, dict]] = {}
        self._pending: dict[str, deque[tuple[float, Change]]] = {}
        for storage in store.storages():  # the initial list
            self._objects[storage] = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
                                      for o in store.items(storage)}
        store.subscribers.append(self._receive)

    def _receive(self, change: Change | None) -> None:
        if change is None:
            self._objects.clear()
            self._pending.clear()
            return
        self._pending.setdefault(change.storage, deque()).append((time.monotonic(), change))

    def advance(self, now: float | None = None) -> list[Change]:
        """Apply every change that is due; answers them, oldest first per resource."""
        now = time.monotonic() if now is None else now
        applied = []
        for storage, pending in self._pending.items():
            lag = self._lag(storage)
            objects = self._objects.setdefault(storage, {})
            while pending and pending[0][0] + lag <= now:
                change = pending.popleft()[1]
                if change.type == "DELETED":
                    objects.pop(change.key, None)
                else:
                    objects[change.key] = change.obj
                applied.append(change)
        return applied

    def next_due(self) -> float | None:
        """When (monotonic) the next pending change becomes visible, if any."""
        due = [pending[0][0] + self._lag(storage) for storage, pending in self._pending.items() if pending]
        return min(due, default=None)

    # -- reads (copies, so a controller can change what it got) -----------------

    def items(self, storage: str, namespace: str | None = None) -> list[dict]:
        objects = self._objects.get(storage, {})
        return [copy.deepcopy(objects[k]) for k in sorted(objects) if namespace is None or k[0] == namespace]
