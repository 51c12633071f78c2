"""Run-time settings of the emulator; the admin API can change them live."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class EmulatorConfig:
    controllers: bool = True  # Deployment/ReplicaSet controllers, scheduler, garbage collector
    auto_kubelet: bool = False  # pods become Running+Ready at once; deleted pods vanish at once
    bookmark_interval: float = 60.0  # seconds between BOOKMARK events on watches that allow them
    node_name: str = "kubeapi-node"  # the one node the scheduler binds pods to

    # Admin API spelling (camelCase JSON) of each live-changeable field.
    _JSON_NAMES = {"controllers": "controllers", "autoKubelet": "auto_kubelet",
                   "bookmarkIntervalSeconds": "bookmark_interval"}

    def to_json(self) -> dict:
        values = asdict(self)
        return {json_name: values[attr] for json_name, attr in self._JSON_NAMES.items()} | {"nodeName": self.node_name}

    def update_from_json(self, body: dict) -> None:
        for json_name, value in body.items():
            attr = self._JSON_NAMES.get(json_name)
            if attr is None:
                raise ValueError(f"unknown or read-only setting: {json_name}")
            setattr(self, attr, float(value) if attr == "bookmark_interval" else bool(value))
