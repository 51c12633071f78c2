"""Runs the emulated control plane beside the API server, asynchronously:
its informer cache catches up with the store as changes become due (the
configured lag), the controllers decide on what the cache shows, and they
run again on every change they get to see, once a second for rules that
depend on time (minReadySeconds, expectation timeouts), and whenever the
store changes (the auto-kubelet acts on the store itself, at once). Which
parts run is read from the live config on every pass, so tests can switch
them at run time."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from ..registry import Registry
from ..status import ApiError
from .deployment import DeploymentController
from .gc import GarbageCollector
from .informer import InformerCache
from .kubelet import InstantKubelet
from .replicaset import ReplicaSetController
from .scheduler import Scheduler

log = logging.getLogger("kubeapi.controllers")

_IDLE_TICK = 1.0


class ControlLoop:
    def __init__(self, registry: Registry, config):
        self.registry = registry
        self.config = config
        node = config.node_name
        self.cache = InformerCache(registry.store, config.lag)
        self.replicasets = ReplicaSetController(registry, self.cache, config)
        self._control_plane: list[Callable[[], None]] = [
            GarbageCollector(registry).reconcile,
            DeploymentController(registry, self.cache).reconcile,
            self.replicasets.reconcile,
            Scheduler(registry, self.cache, node).reconcile,
        ]
        self._kubelet = InstantKubelet(registry, node).reconcile

    def run_once(self) -> None:
        self.replicasets.observe(self.cache.advance())
        steps = (self._control_plane if self.config.controllers else []) + \
                ([self._kubelet] if self.config.auto_kubelet else [])
        for step in steps:
            try:
                step()
            except ApiError as error:
                # A controller racing a client loses a conflict now and then; the next pass retries.
                log.debug("controller step failed: %s", error.message)

    async def run(self) -> None:
        store = self.registry.store
        while True:
            seen = store.rv
            try:
                self.run_once()
            except Exception:  # a bug in a controller must not stop the API server
                log.exception("controller pass failed")
            await asyncio.sleep(0)  # let requests in between passes
            if store.rv != seen:
                continue
            wait = _IDLE_TICK
            due = self.cache.next_due()
            if due is not None:
                wait = min(wait, max(0.0, due - time.monotonic()))
            if wait > 0:
                await store.changed.wait(wait)
