"""The operator's YAML config (SPEC §6.4): written by e2e/local for its test
operator, read back by e2e/kind from the file it installed with. The config
is flat `key: value` YAML, so a line parser is all that is needed."""

from __future__ import annotations

from dataclasses import dataclass, fields

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """"250ms", "2s", "1h" -> seconds."""
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * _UNITS[unit]
    raise ValueError(f"not a duration: {text!r}")


def format_duration(seconds: float) -> str:
    return f"{int(seconds * 1000)}ms" if seconds != int(seconds) else f"{int(seconds)}s"


@dataclass(frozen=True)
class OperatorConfig:
    namespace: str = "default"
    deployment: str = "tig"
    selector: str = "app.kubernetes.io/name=tig"
    metricsPort: int = 9090  # the pods' admin port
    work: str = "requests"
    lifetime: float = 3600.0
    lifetimeJitter: float = 0.2
    normalRate: float = 200.0
    tolerance: float = 0.1
    minReplicas: int = 2
    maxReplicas: int = 10
    interval: float = 15.0
    leaderElection: bool = True
    dryRun: bool = False

    _DURATIONS = ("lifetime", "interval")

    def to_yaml(self) -> str:
        lines = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self._DURATIONS:
                text = format_duration(value)
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            lines.append(f"{f.name}: {text}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_yaml(cls, text: str) -> "OperatorConfig":
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, _, raw = line.partition(":")
            key, raw = key.strip(), raw.strip().strip('"').strip("'")
            if key not in types:
                continue  # keys the scenarios do not need
            if key in cls._DURATIONS:
                values[key] = parse_duration(raw)
            elif types[key] == "bool":
                values[key] = raw == "true"
            elif types[key] == "int":
                values[key] = int(raw)
            elif types[key] == "float":
                values[key] = float(raw)
            else:
                values[key] = raw
        return cls(**values)
