"""The arithmetic of the Deployment controller (kubernetes
pkg/controller/deployment/util/deployment_util.go and sync.go), on plain
ReplicaSet dicts: maxSurge/maxUnavailable, the new ReplicaSet's size in a
rolling update, and proportional scaling, which spreads a change of
spec.replicas over every active ReplicaSet of a rollout in proportion to
its size (using the max-replicas annotation each carries), leftovers to the
largest.
"""

from __future__ import annotations

import math

from .. import timestamps

DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"


def _resolve(value, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value or 0)


def is_recreate(deployment: dict) -> bool:
    return (deployment["spec"].get("strategy") or {}).get("type") == "Recreate"


def surge_and_unavailable(deployment: dict) -> tuple[int, int]:
    """MaxSurge and MaxUnavailable (ResolveFenceposts): both 0 means 1 unavailable."""
    spec = deployment["spec"]
    desired = spec.get("replicas", 0)
    if is_recreate(deployment):
        return 0, 0
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = _resolve(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, desired)


def replicas(rs: dict | None) -> int:
    return rs["spec"].get("replicas", 0) if rs else 0


def status(rs: dict | None, field: str) -> int:
    return (rs.get("status") or {}).get(field, 0) if rs else 0


def annotation(rs: dict, name: str) -> int | None:
    value = (rs["metadata"].get("annotations") or {}).get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def created(rs: dict) -> tuple[float, str]:
    """ReplicaSetsByCreationTimestamp: older first, then by name."""
    return timestamps.parse(rs["metadata"]["creationTimestamp"]).timestamp(), rs["metadata"]["name"]


def active(sets: list[dict | None]) -> list[dict]:
    """FilterActiveReplicaSets: those with spec.replicas > 0."""
    return [rs for rs in sets if rs is not None and replicas(rs) > 0]


def find_active_or_latest(new_rs: dict | None, old: list[dict]) -> dict | None:
    """The one ReplicaSet to scale when only one (or none) is active."""
    if new_rs is None and not old:
        return None
    old = sorted(old, key=created, reverse=True)
    live = active(old + [new_rs])
    if not live:
        return new_rs if new_rs is not None else old[0]
    return live[0] if len(live) == 1 else None


def is_saturated(deployment: dict, rs: dict | None) -> bool:
    desired = deployment["spec"].get("replicas", 0)
    return (rs is not None and replicas(rs) == desired and annotation(rs, DESIRED_REPLICAS) == desired
            and status(rs, "availableReplicas") == desired)


def new_rs_replicas(deployment: dict, every: list[dict | None], new_rs: dict | None) -> int:
    """NewRSNewReplicas: how big the new ReplicaSet may be now."""
    desired = deployment["spec"].get("replicas", 0)
    if is_recreate(deployment):
        return desired
    surge, _ = surge_and_unavailable(deployment)
    current = sum(replicas(rs) for rs in every if rs is not None)
    ceiling = desired + surge
    if current >= ceiling:
        return replicas(new_rs)
    return replicas(new_rs) + min(ceiling - current, desired - replicas(new_rs))


def _round(value: float) -> int:
    """integer.RoundToInt32: halves away from zero."""
    return int(value - 0.5) if value < 0 else int(value + 0.5)


def _fraction(rs: dict, deployment: dict) -> int:
    desired = deployment["spec"].get("replicas", 0)
    if desired == 0:
        return -replicas(rs)
    surge, _ = surge_and_unavailable(deployment)
    before = annotation(rs, MAX_REPLICAS)
    if before is None:
        before = (deployment.get("status") or {}).get("replicas", 0)
    if not before:
        return 0
    return _round(replicas(rs) * (desired + surge) / before) - replicas(rs)


def _proportion(rs: dict, deployment: dict, to_add: int, added: int) -> int:
    """GetReplicaSetProportion."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction, allowed = _fraction(rs, deployment), to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def proportional_sizes(deployment: dict, sets: list[dict]) -> tuple[list[tuple[dict, int]], str]:
    """The new size of each active ReplicaSet when spec.replicas changed
    mid-rollout (DeploymentController.scale), in the order they are updated,
    and the direction ("up"/"down") the Events name."""
    desired = deployment["spec"].get("replicas", 0)
    surge, _ = surge_and_unavailable(deployment)
    sets = active(sets)
    allowed = desired + surge if desired > 0 else 0
    to_add = allowed - sum(replicas(rs) for rs in sets)
    direction = ""
    if to_add > 0:  # ReplicaSetsBySizeNewer: larger first, then newer first
        sets.sort(key=lambda rs: (-replicas(rs), -created(rs)[0], created(rs)[1]))
        direction = "up"
    elif to_add < 0:  # ReplicaSetsBySizeOlder: larger first, then older first
        sets.sort(key=lambda rs: (-replicas(rs), created(rs)))
        direction = "down"
    sizes, added = [], 0
    for rs in sets:
        proportion = _proportion(rs, deployment, to_add, added) if to_add else 0
        sizes.append([rs, replicas(rs) + proportion])
        added += proportion
    if sizes and to_add:
        sizes[0][1] = max(0, sizes[0][1] + to_add - added)  # leftovers to the largest
    return [(rs, size) for rs, size in sizes], direction
