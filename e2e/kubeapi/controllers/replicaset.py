"""The ReplicaSet controller: keep as many active pods as spec.replicas.

Too few: create pods from the template (`<replicaset>-<5 chars>`, owned by
the ReplicaSet). Too many: delete (gracefully) the pods the real controller
would pick, ranked like `ActivePodsWithRanks` in kubernetes
pkg/controller/controller_utils.go, with LogarithmicScaleDown (default on):

  1. unscheduled before scheduled
  2. Pending before Unknown before Running
  3. not Ready before Ready
  4. lower controller.kubernetes.io/pod-deletion-cost first (missing or invalid = 0)
  5. more Ready pods of the same owners on its node first
  6. both Ready: ready more recently first (log2 buckets of time since ready)
  7. more container restarts first
  8. created more recently first (log2 buckets of age), then lower uid

So a pod-deletion-cost only chooses among pods equal on rules 1-3: a
not-Ready pod is removed before a Ready one whatever its cost.
"""

from __future__ import annotations

import functools
import math
import time

from .. import timestamps
from ..registry import Registry
from ..strategies import POD_DELETION_COST, is_pod_ready, parse_deletion_cost
from .common import (PODS, REPLICASETS, controller_uid, is_active, is_available, owner_reference, ready_since,
                     record_event)

_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def _log_rank(moment: float | None, now: float) -> int:
    elapsed = now - (moment or now)
    return int(math.log2(elapsed * 1e9)) if elapsed > 0 else -1


def _restarts(pod: dict) -> int:
    return max([c.get("restartCount", 0) for c in (pod.get("status") or {}).get("containerStatuses") or []],
               default=0)


def _created(pod: dict) -> float | None:
    created = pod["metadata"].get("creationTimestamp")
    return timestamps.parse(created).timestamp() if created else None


def _compare(a: tuple[dict, int], b: tuple[dict, int], now: float) -> int:
    """Negative when pod `a` should be deleted before pod `b`."""
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
    cost_a = parse_deletion_cost((pa["metadata"].get("annotations") or {}).get(POD_DELETION_COST)) or 0
    cost_b = parse_deletion_cost((pb["metadata"].get("annotations") or {}).get(POD_DELETION_COST)) or 0
    if cost_a != cost_b:
        return -1 if cost_a < cost_b else 1
    if rank_a != rank_b:
        return -1 if rank_a > rank_b else 1
    uid_order = -1 if pa["metadata"]["uid"] < pb["metadata"]["uid"] else 1
    if ready_a and ready_b:
        since_a, since_b = ready_since(pa), ready_since(pb)
        if since_a != since_b:
            if not since_a or not since_b:  # an unknown ready time counts as the most recent
                return -1 if not since_a else 1
            difference = _log_rank(since_a, now) - _log_rank(since_b, now)
            return uid_order if difference == 0 else difference
    if _restarts(pa) != _restarts(pb):
        return -1 if _restarts(pa) > _restarts(pb) else 1
    created_a, created_b = _created(pa), _created(pb)
    if created_a != created_b:
        if not created_a or not created_b:
            return -1 if not created_a else 1
        difference = _log_rank(created_a, now) - _log_rank(created_b, now)
        return uid_order if difference == 0 else difference
    return 0


def pods_to_delete(pods: list[dict], related: list[dict], count: int) -> list[dict]:
    """The `count` pods of `pods` the ReplicaSet controller deletes first.
    `related` are the active pods of every ReplicaSet of the same owner."""
    per_node: dict[str, int] = {}
    for pod in related:
        if is_pod_ready(pod):
            node = pod["spec"].get("nodeName", "")
            per_node[node] = per_node.get(node, 0) + 1
    ranked = [(pod, per_node.get(pod["spec"].get("nodeName", ""), 0)) for pod in pods]
    now = time.time()
    ranked.sort(key=functools.cmp_to_key(lambda a, b: _compare(a, b, now)))
    return [pod for pod, _ in ranked[:count]]


class ReplicaSetController:
    COMPONENT = "replicaset-controller"

    def __init__(self, registry: Registry):
        self.registry = registry

    def reconcile(self) -> None:
        for rs in self.registry.store.items("replicasets"):
            if not rs["metadata"].get("deletionTimestamp"):
                self._sync(rs)

    def _sync(self, rs: dict) -> None:
        meta, spec = rs["metadata"], rs["spec"]
        namespace_pods = self.registry.store.items("pods", meta["namespace"])
        owned = [p for p in namespace_pods if controller_uid(p) == meta["uid"]]
        active = [p for p in owned if is_active(p)]
        difference = len(active) - spec.get("replicas", 0)
        if difference < 0:
            for _ in range(-difference):
                self._create_pod(rs)
        elif difference > 0:
            siblings = self._sibling_uids(rs)
            related = [p for p in namespace_pods if controller_uid(p) in siblings and is_active(p)]
            for pod in pods_to_delete(active, related, difference):
                self.registry.delete(PODS, meta["namespace"], pod["metadata"]["name"])
                record_event(self.registry, REPLICASETS, rs, "SuccessfulDelete",
                             f"Deleted pod: {pod['metadata']['name']}", self.COMPONENT)
        self._update_status(rs)

    def _sibling_uids(self, rs: dict) -> set[str]:
        """ReplicaSets with the same controlling owner (one Deployment's history)."""
        owner = controller_uid(rs)
        if owner is None:
            return {rs["metadata"]["uid"]}
        return {other["metadata"]["uid"] for other in self.registry.store.items("replicasets", rs["metadata"]["namespace"])
                if controller_uid(other) == owner}

    def _create_pod(self, rs: dict) -> None:
        template = rs["spec"].get("template") or {}
        template_meta = template.get("metadata") or {}
        pod = {"metadata": {"generateName": rs["metadata"]["name"] + "-",
                            "labels": dict(template_meta.get("labels") or {}),
                            "ownerReferences": [owner_reference(REPLICASETS, rs)]},
               "spec": template.get("spec") or {}}
        if template_meta.get("annotations"):
            pod["metadata"]["annotations"] = dict(template_meta["annotations"])
        created = self.registry.create(PODS, rs["metadata"]["namespace"], pod)
        record_event(self.registry, REPLICASETS, rs, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                     self.COMPONENT)

    def _update_status(self, rs: dict) -> None:
        current = self.registry.store.get("replicasets", (rs["metadata"]["namespace"], rs["metadata"]["name"]))
        pods = [p for p in self.registry.store.items("pods", rs["metadata"]["namespace"])
                if controller_uid(p) == current["metadata"]["uid"] and is_active(p)]
        template_labels = ((current["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = current["spec"].get("minReadySeconds", 0)
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(1 for p in pods
                                        if template_labels.items() <= (p["metadata"].get("labels") or {}).items()),
            "readyReplicas": sum(1 for p in pods if is_pod_ready(p)),
            "availableReplicas": sum(1 for p in pods if is_available(p, min_ready)),
            "observedGeneration": current["metadata"].get("generation", 1),
        }
        if status != current.get("status"):
            current["status"] = status
            self.registry.update(REPLICASETS, current["metadata"]["namespace"], current["metadata"]["name"], current,
                                 subresource="status")
