"""Which pods a ReplicaSet deletes first when it has too many: kubernetes
pkg/controller/controller_utils.go `ActivePodsWithRanks.Less` as sorted by
pkg/controller/replicaset `getPodsToDelete`, with LogarithmicScaleDown
(default on):

  1. unassigned (no spec.nodeName) before assigned
  2. Pending before Unknown before Running
  3. not Ready before Ready
  4. lower controller.kubernetes.io/pod-deletion-cost first (missing or
     invalid = 0), when the PodDeletionCost feature gate is on (default)
  5. more active pods of the same owner on its node first ("doubled up")
  6. both Ready: ready more recently first (log2 buckets of time since
     ready; an unknown ready time counts as most recent), ties by uid
  7. more container restarts first
  8. created more recently first (log2 buckets of age), ties by uid

So a deletion cost only chooses among pods equal on rules 1-3: a not-Ready
pod goes before a Ready one whatever their costs.
"""

from __future__ import annotations

import functools
import math
import time

from .. import timestamps
from ..strategies import POD_DELETION_COST, is_pod_ready, parse_deletion_cost
from .common import is_active, ready_since

_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def _log_rank(moment: float, now: float) -> int:
    elapsed = now - moment
    return int(math.log2(elapsed * 1e9)) if elapsed > 0 else -1


def _restarts(pod: dict) -> int:
    return max([c.get("restartCount", 0) for c in (pod.get("status") or {}).get("containerStatuses") or []],
               default=0)


def _created(pod: dict) -> float | None:
    created = pod["metadata"].get("creationTimestamp")
    return timestamps.parse(created).timestamp() if created else None


def _cost(pod: dict) -> int:
    return parse_deletion_cost((pod["metadata"].get("annotations") or {}).get(POD_DELETION_COST)) or 0


def _by_time(moment_a: float | None, moment_b: float | None, uid_order: int, now: float) -> int:
    """Rules 6 and 8: the more recent first; an unknown moment counts as the most recent."""
    if not moment_a or not moment_b:  # afterOrZero
        return -1 if not moment_a else 1
    difference = _log_rank(moment_a, now) - _log_rank(moment_b, now)
    return uid_order if difference == 0 else difference


def compare(a: tuple[dict, int], b: tuple[dict, int], now: float, deletion_cost: bool = True) -> int:
    """Negative when pod `a` is deleted before pod `b`."""
    (pa, rank_a), (pb, rank_b) = a, b
    node_a, node_b = pa["spec"].get("nodeName", ""), pb["spec"].get("nodeName", "")
    if node_a != node_b and (not node_a or not node_b):
        return -1 if not node_a else 1
    phase_a = _PHASE_ORDER.get((pa.get("status") or {}).get("phase"), 0)
    phase_b = _PHASE_ORDER.get((pb.get("status") or {}).get("phase"), 0)
    if phase_a != phase_b:
        return phase_a - phase_b
    ready_a, ready_b = is_pod_ready(pa), is_pod_ready(pb)
    if ready_a != ready_b:
        return -1 if not ready_a else 1
    if deletion_cost and _cost(pa) != _cost(pb):
        return -1 if _cost(pa) < _cost(pb) else 1
    if rank_a != rank_b:
        return -1 if rank_a > rank_b else 1
    uid_order = -1 if pa["metadata"]["uid"] < pb["metadata"]["uid"] else 1
    if ready_a and ready_b:
        since_a, since_b = ready_since(pa), ready_since(pb)
        if since_a != since_b:
            return _by_time(since_a, since_b, uid_order, now)
    if _restarts(pa) != _restarts(pb):
        return -1 if _restarts(pa) > _restarts(pb) else 1
    created_a, created_b = _created(pa), _created(pb)
    if created_a != created_b:
        return _by_time(created_a, created_b, uid_order, now)
    return 0


def pods_to_delete(pods: list[dict], related: list[dict], count: int, deletion_cost: bool = True) -> list[dict]:
    """The `count` pods of `pods` the ReplicaSet controller deletes first.
    `related` are the pods of every ReplicaSet of the same owner."""
    if count >= len(pods):
        return list(pods)
    per_node: dict[str, int] = {}
    for pod in related:
        if is_active(pod):
            node = pod["spec"].get("nodeName", "")
            per_node[node] = per_node.get(node, 0) + 1
    ranked = [(pod, per_node.get(pod["spec"].get("nodeName", ""), 0)) for pod in pods]
    now = time.time()
    ranked.sort(key=functools.cmp_to_key(lambda a, b: compare(a, b, now, deletion_cost)))
    return [pod for pod, _ in ranked[:count]]
