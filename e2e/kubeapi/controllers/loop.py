"""Runs the emulated controllers after every change to the store (and once
a second, for rules that depend on time such as minReadySeconds), until
nothing more changes. Which controllers run is read from the live config on
every pass, so tests can switch them at run time."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from ..registry import Registry
from ..status import ApiError
from .deployment import DeploymentController
from .gc import GarbageCollector
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
        self._control_plane: list[Callable[[], None]] = [
            GarbageCollector(registry).reconcile,
            DeploymentController(registry).reconcile,
            ReplicaSetController(registry).reconcile,
            Scheduler(registry, node).reconcile,
        ]
        self._kubelet = InstantKubelet(registry, node).reconcile

    def run_once(self) -> None:
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
            if store.rv == seen:
                await store.changed.wait(_IDLE_TICK)
