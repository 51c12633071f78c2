"""The ReplicaSet controller: keep as many active pods as spec.replicas,
deciding on its (lagging) informer cache as kube-controller-manager does.

- Active pods: not terminating and not finished (Failed or Succeeded pods
  are not counted, and stay listed until someone deletes them).
- Too few: create pods from the template (`<replicaset>-<5 chars>`, owned
  by the ReplicaSet), then wait to observe them (expectations.py).
- Too many: delete (gracefully, no preconditions) the pods ranked first by
  ranking.py, on the pods' state *as the cache has it*, then wait to
  observe the deletions.
- Status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
  observedGeneration) from the cached pods, written on the cached
  ReplicaSet (a stale one gets 409 and is retried on the next pass).
"""

from __future__ import annotations

from ..registry import Registry
from ..status import ApiError
from ..store import Change
from ..strategies import is_pod_ready
from .common import (PODS, REPLICASETS, controller_uid, is_active, is_available, is_terminating, owner_reference,
                     record_event)
from .expectations import Expectations
from .informer import InformerCache
from .ranking import pods_to_delete

BURST_REPLICAS = 500  # the most pods one sync creates or deletes


def _pod_key(pod: dict) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


class ReplicaSetController:
    COMPONENT = "replicaset-controller"

    def __init__(self, registry: Registry, cache: InformerCache, config):
        self.registry = registry
        self.cache = cache
        self.config = config
        self.expectations = Expectations(config.expectations_timeout)

    def observe(self, changes: list[Change]) -> None:
        """What the pod event handlers do with expectations (addPod, updatePod, deletePod)."""
        for change in changes:
            if change.storage != "pods":
                continue
            owner = controller_uid(change.obj)
            if owner is None:
                continue
            if change.type == "ADDED":
                if is_terminating(change.obj):
                    self.expectations.deletion_observed(owner, _pod_key(change.obj))
                else:
                    self.expectations.creation_observed(owner)
            elif change.type == "DELETED" or (is_terminating(change.obj) and not is_terminating(change.old or {})):
                self.expectations.deletion_observed(owner, _pod_key(change.obj))

    def reconcile(self) -> None:
        self.expectations.timeout = self.config.expectations_timeout
        for rs in self.cache.items("replicasets"):
            if not rs["metadata"].get("deletionTimestamp"):
                try:
                    self._sync(rs)
                except ApiError:
                    pass  # e.g. 409 on a status write from a stale cache: the next pass retries

    def _sync(self, rs: dict) -> None:
        meta, spec = rs["metadata"], rs["spec"]
        namespace_pods = self.cache.items("pods", meta["namespace"])
        active = [p for p in namespace_pods if controller_uid(p) == meta["uid"] and is_active(p)]
        if self.expectations.satisfied(meta["uid"]):
            difference = len(active) - spec.get("replicas", 0)
            if difference < 0:
                self._create_pods(rs, min(-difference, BURST_REPLICAS))
            elif difference > 0:
                siblings = self._sibling_uids(rs)
                related = [p for p in namespace_pods if controller_uid(p) in siblings]
                victims = pods_to_delete(active, related, min(difference, BURST_REPLICAS),
                                         self.config.pod_deletion_cost)
                self._delete_pods(rs, victims)
        self._update_status(rs, active)

    def _sibling_uids(self, rs: dict) -> set[str]:
        """ReplicaSets with the same controlling owner (one Deployment's history)."""
        owner = controller_uid(rs)
        if owner is None:
            return {rs["metadata"]["uid"]}
        return {other["metadata"]["uid"] for other in self.cache.items("replicasets", rs["metadata"]["namespace"])
                if controller_uid(other) == owner}

    def _create_pods(self, rs: dict, count: int) -> None:
        uid = rs["metadata"]["uid"]
        self.expectations.expect_creations(uid, count)
        template = rs["spec"].get("template") or {}
        template_meta = template.get("metadata") or {}
        for _ in range(count):
            pod = {"metadata": {"generateName": rs["metadata"]["name"] + "-",
                                "labels": dict(template_meta.get("labels") or {}),
                                "ownerReferences": [owner_reference(REPLICASETS, rs)]},
                   "spec": template.get("spec") or {}}
            if template_meta.get("annotations"):
                pod["metadata"]["annotations"] = dict(template_meta["annotations"])
            try:
                created = self.registry.create(PODS, rs["metadata"]["namespace"], pod)
            except ApiError:
                self.expectations.creation_observed(uid)  # it will never be seen
                continue
            record_event(self.registry, REPLICASETS, rs, "SuccessfulCreate",
                         f"Created pod: {created['metadata']['name']}", self.COMPONENT)

    def _delete_pods(self, rs: dict, victims: list[dict]) -> None:
        uid = rs["metadata"]["uid"]
        self.expectations.expect_deletions(uid, [_pod_key(p) for p in victims])
        for pod in victims:
            try:
                self.registry.delete(PODS, rs["metadata"]["namespace"], pod["metadata"]["name"])
            except ApiError:  # already gone: its deletion will not be observed from here
                self.expectations.deletion_observed(uid, _pod_key(pod))
                continue
            record_event(self.registry, REPLICASETS, rs, "SuccessfulDelete",
                         f"Deleted pod: {pod['metadata']['name']}", self.COMPONENT)

    def _update_status(self, rs: dict, pods: list[dict]) -> None:
        template_labels = ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = rs["spec"].get("minReadySeconds", 0)
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(1 for p in pods
                                        if template_labels.items() <= (p["metadata"].get("labels") or {}).items()),
            "readyReplicas": sum(1 for p in pods if is_pod_ready(p)),
            "availableReplicas": sum(1 for p in pods if is_available(p, min_ready)),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if status != rs.get("status"):
            rs["status"] = status
            self.registry.update(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"], rs,
                                 subresource="status")
