"""Run-time settings of the emulator; the admin API can change them live
(GET/PATCH /_emulator/config, camelCase names)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EmulatorConfig:
    controllers: bool = True  # Deployment/ReplicaSet controllers, scheduler, garbage collector
    auto_kubelet: bool = False  # pods become Running+Ready at once; deleted pods vanish at once
    bookmark_interval: float = 60.0  # seconds between BOOKMARK events on watches that allow them
    rbac: bool = True  # authorize every request against the Role (system:masters aside)
    # How far behind the store the controllers' informer cache is, in seconds
    # (kube-controller-manager's shared informers: usually milliseconds, seconds under load).
    informer_lag: float = 0.1
    informer_lag_by_resource: dict[str, float] = field(default_factory=dict)  # e.g. {"pods": 2.0}
    # How long the ReplicaSet controller waits to observe its own creations and
    # deletions before it acts on that ReplicaSet again (ExpectationsTimeout: 5 min).
    expectations_timeout: float = 300.0
    pod_deletion_cost: bool = True  # the PodDeletionCost feature gate (on by default since 1.22)
    # How long a list (or WatchList) waits for a resourceVersion the store has
    # not reached before 504 "Too large resource version" (kube-apiserver: 3 s).
    too_large_rv_wait: float = 3.0
    watch_too_large_resource_version: str = "wait"  # a plain watch from a future RV: "wait" (real) or "error"
    node_name: str = "kubeapi-node"  # the one node the scheduler binds pods to

    # Admin API spelling of each live-changeable field, and its type.
    _JSON_NAMES = {"controllers": ("controllers", bool), "autoKubelet": ("auto_kubelet", bool),
                   "bookmarkIntervalSeconds": ("bookmark_interval", float), "rbac": ("rbac", bool),
                   "informerLagSeconds": ("informer_lag", float),
                   "informerLagByResource": ("informer_lag_by_resource", dict),
                   "expectationsTimeoutSeconds": ("expectations_timeout", float),
                   "podDeletionCost": ("pod_deletion_cost", bool),
                   "tooLargeResourceVersionWaitSeconds": ("too_large_rv_wait", float),
                   "watchTooLargeResourceVersion": ("watch_too_large_resource_version", str)}

    def lag(self, storage: str) -> float:
        return float(self.informer_lag_by_resource.get(storage, self.informer_lag))

    def to_json(self) -> dict:
        return {name: getattr(self, attr) for name, (attr, _) in self._JSON_NAMES.items()} | \
            {"nodeName": self.node_name}

    def update_from_json(self, body: dict) -> None:
        if not isinstance(body, dict):
            raise ValueError("settings must be a JSON object")
        for json_name, value in body.items():
            if json_name not in self._JSON_NAMES:
                raise ValueError(f"unknown or read-only setting: {json_name}")
            attr, kind = self._JSON_NAMES[json_name]
            if kind is dict:
                value = {str(k): float(v) for k, v in dict(value).items()}
            elif kind is str and value not in ("wait", "error"):
                raise ValueError(f"{json_name}: expected \"wait\" or \"error\", got {value!r}")
            else:
                value = kind(value)
            setattr(self, attr, value)
