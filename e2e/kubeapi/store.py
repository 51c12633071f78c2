"""Object storage: what etcd and the watch cache are to a real API server.

One global resourceVersion counter is bumped by every write (as etcd's
revision is), and every write is appended to a bounded history of changes.
Watches replay that history from any resourceVersion still inside it; a
resourceVersion older than the compaction point answers 410 Expired, which
is what forces a well-behaved client to re-list. Subscribers get every
change as it happens (the emulated controllers' informer feeds on them).

Everything runs on one asyncio loop, so there is no locking; objects are
deep-copied on the way in and out so callers can never alias stored state.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from dataclasses import dataclass
from typing import Callable

from .status import expired

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds


@dataclass(frozen=True)
class Change:
    rv: int
    type: str  # ADDED, MODIFIED or DELETED
    storage: str
    key: Key
    obj: dict  # the state after the change; for DELETED the last state, stamped with the deletion's rv
    old: dict | None  # the state before (None for ADDED)


class Notifier:
    """Wakes every waiter once per notify(); waiters re-check state themselves."""

    def __init__(self):
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


class Store:
    def __init__(self, history_limit: int = 10000):
        self.history_limit = history_limit
        self.rv = 0
        self.compacted_rv = 0  # changes at or below this rv are no longer replayable
        self._objects: dict[str, dict[Key, dict]] = {}
        self._history: deque[Change] = deque()
        self.changed = Notifier()
        # Called with every Change as it happens, and with None when the store
        # is cleared: how the controllers' informer cache is fed.
        self.subscribers: list[Callable[[Change | None], None]] = []

    # -- reads ---------------------------------------------------------------

    def get(self, storage: str, key: Key) -> dict | None:
        obj = self._objects.get(storage, {}).get(key)
        return copy.deepcopy(obj) if obj is not None else None

    def items(self, storage: str, namespace: str | None = None) -> list[dict]:
        """Current objects in key order (etcd's order), optionally of one namespace."""
        objects = self._objects.get(storage, {})
        return [copy.deepcopy(objects[k]) for k in sorted(objects) if namespace is None or k[0] == namespace]

    def storages(self) -> list[str]:
        return sorted(self._objects)

    def changes_after(self, rv: int) -> list[Change]:
        """Every change with a resourceVersion above `rv`, oldest first."""
        if rv < self.compacted_rv:
            raise expired(f"too old resource version: {rv} ({self.compacted_rv})")
        newer = []
        for change in reversed(self._history):
            if change.rv <= rv:
                break
            newer.append(change)
        newer.reverse()
        return newer

    # -- writes --------------------------------------------------------------

    def create(self, storage: str, key: Key, obj: dict) -> dict:
        stored = self._stamp(obj)
        self._objects.setdefault(storage, {})[key] = stored
        self._record(Change(self.rv, "ADDED", storage, key, stored, None))
        return copy.deepcopy(stored)

    def update(self, storage: str, key: Key, obj: dict) -> dict:
        old = self._objects[storage][key]
        stored = self._stamp(obj)
        self._objects[storage][key] = stored
        self._record(Change(self.rv, "MODIFIED", storage, key, stored, old))
        return copy.deepcopy(stored)

    def delete(self, storage: str, key: Key) -> dict:
        old = self._objects[storage].pop(key)
        # The DELETED event carries the deletion's resourceVersion, as etcd's does.
        last = self._stamp(old)
        self._record(Change(self.rv, "DELETED", storage, key, last, old))
        return copy.deepcopy(last)

    def compact(self) -> int:
        """Forget all history: every resourceVersion before now becomes too old."""
        self._history.clear()
        self.compacted_rv = self.rv
        return self.compacted_rv

    def clear(self) -> None:
        """Drop every object and all history. The counter steps past every
        resourceVersion handed out before, so all of them answer 410 rather
        than being reused for different states."""
        self._objects.clear()
        self.rv += 1
        self.compact()
        for subscriber in self.subscribers:
            subscriber(None)
        self.changed.notify()

    def _stamp(self, obj: dict) -> dict:
        self.rv += 1
        stored = copy.deepcopy(obj)
        stored.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        return stored

    def _record(self, change: Change) -> None:
        self._history.append(change)
        while len(self._history) > self.history_limit:
            self.compacted_rv = self._history.popleft().rv
        for subscriber in self.subscribers:
            subscriber(change)
        self.changed.notify()
