"""The ReplicaSet controller's expectations (pkg/controller
UIDTrackingControllerExpectations): after creating or deleting pods it
does not act on that ReplicaSet again until its informer has shown it
every one of those creations and deletions, or until they time out
(ExpectationsTimeout, 5 minutes). Without them a lagging cache would make
it create or delete the same pods twice; with them, a deletion it has not
yet observed keeps the ReplicaSet on hold, however the client rescales it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class _Expectation:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)  # "namespace/name" of pods still to be seen going
    since: float = field(default_factory=time.monotonic)


class Expectations:
    def __init__(self, timeout: float = 300.0):
        self.timeout = timeout
        self._by_owner: dict[str, _Expectation] = {}

    def satisfied(self, owner_uid: str) -> bool:
        expectation = self._by_owner.get(owner_uid)
        if expectation is None:
            return True
        if expectation.adds <= 0 and not expectation.deletes:
            return True
        return time.monotonic() - expectation.since > self.timeout

    def expect_creations(self, owner_uid: str, count: int) -> None:
        self._by_owner[owner_uid] = _Expectation(adds=count)

    def expect_deletions(self, owner_uid: str, pod_keys: list[str]) -> None:
        self._by_owner[owner_uid] = _Expectation(deletes=set(pod_keys))

    def creation_observed(self, owner_uid: str) -> None:
        expectation = self._by_owner.get(owner_uid)
        if expectation is not None:
            expectation.adds -= 1

    def deletion_observed(self, owner_uid: str, pod_key: str) -> None:
        expectation = self._by_owner.get(owner_uid)
        if expectation is not None:
            expectation.deletes.discard(pod_key)

    def clear(self) -> None:
        self._by_owner.clear()

    def describe(self) -> dict:
        return {uid: {"adds": e.adds, "deletes": sorted(e.deletes)} for uid, e in self._by_owner.items()
                if e.adds > 0 or e.deletes}
