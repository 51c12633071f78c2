"""The Deployment controller (kubernetes pkg/controller/deployment), deciding
on its lagging informer cache and writing with the cached resourceVersions
(a stale write gets 409 and is retried on the next pass):

- one ReplicaSet per pod template, `<deployment>-<pod-template-hash>`;
- a scaling event (an active ReplicaSet whose desired-replicas annotation
  differs from spec.replicas): with one active ReplicaSet it is resized;
  during a rollout every active ReplicaSet is resized in proportion
  (rollout.py), so old and new pods keep their ratio;
- otherwise a rollout step: RollingUpdate (scale the new ReplicaSet up
  within maxSurge, then old ones down within maxUnavailable, unhealthy
  pods first) or Recreate (old ones to 0, and once their pods are gone the
  new one to spec.replicas);
- status and the Available/Progressing conditions from the ReplicaSets.
"""

from __future__ import annotations

import copy
import json

from .. import timestamps
from ..registry import Registry
from ..status import ApiError
from . import rollout
from .common import DEPLOYMENTS, REPLICASETS, controller_uid, owner_reference, record_event
from .informer import InformerCache
from .rollout import DESIRED_REPLICAS, MAX_REPLICAS, replicas, status

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
REVISION = "deployment.kubernetes.io/revision"


def template_hash(template: dict) -> str:
    """A stable short hash of a pod template, spelled like apimachinery's
    SafeEncodeString(fmt.Sprint(fnv32a(...)))."""
    value = 0x811C9DC5
    for byte in json.dumps(template, sort_keys=True).encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in str(value))


class DeploymentController:
    COMPONENT = "deployment-controller"

    def __init__(self, registry: Registry, cache: InformerCache):
        self.registry = registry
        self.cache = cache

    def reconcile(self) -> None:
        for deployment in self.cache.items("deployments"):
            if not deployment["metadata"].get("deletionTimestamp"):
                try:
                    self._sync(deployment)
                except ApiError:
                    pass  # a conflict with a newer version: the next pass works on that one

    def _sync(self, deployment: dict) -> None:
        meta = deployment["metadata"]
        owned = sorted((rs for rs in self.cache.items("replicasets", meta["namespace"])
                        if controller_uid(rs) == meta["uid"]), key=rollout.created)
        wanted = template_hash(deployment["spec"]["template"])
        new_rs = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == wanted),
                      None)
        old = [rs for rs in owned if rs is not new_rs]
        desired = deployment["spec"].get("replicas", 0)
        if deployment["spec"].get("paused"):
            pass
        elif any(rollout.annotation(rs, DESIRED_REPLICAS) not in (None, desired) for rs in rollout.active(owned)):
            self._scale(deployment, new_rs, old)
        elif rollout.is_recreate(deployment):
            new_rs = self._recreate(deployment, new_rs, old)
        else:
            new_rs = self._roll(deployment, new_rs, old)
        self._update_status(deployment, new_rs, old)

    # -- scaling events --------------------------------------------------------

    def _scale(self, deployment: dict, new_rs: dict | None, old: list[dict]) -> None:
        desired = deployment["spec"].get("replicas", 0)
        only = rollout.find_active_or_latest(new_rs, old)
        if only is not None:
            self._resize(deployment, only, desired)
        elif rollout.is_saturated(deployment, new_rs):
            for rs in rollout.active(old):
                self._resize(deployment, rs, 0)
        elif not rollout.is_recreate(deployment):
            sizes, direction = rollout.proportional_sizes(deployment, old + ([new_rs] if new_rs else []))
            for rs, size in sizes:
                self._resize(deployment, rs, size, direction)

    def _resize(self, deployment: dict, rs: dict, size: int, direction: str = "") -> bool:
        """scaleReplicaSet: a new size and/or the replica annotations; an Event when the size changed."""
        desired = deployment["spec"].get("replicas", 0)
        surge, _ = rollout.surge_and_unavailable(deployment)
        before = replicas(rs)
        annotations = rs["metadata"].setdefault("annotations", {})
        wanted = {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(desired + surge)}
        if before == size and all(annotations.get(k) == v for k, v in wanted.items()):
            return False
        rs["spec"]["replicas"] = size
        annotations.update(wanted)
        updated, _ = self.registry.update(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"], rs)
        rs.clear()
        rs.update(updated)
        if before != size:
            direction = direction or ("up" if size > before else "down")
            record_event(self.registry, DEPLOYMENTS, deployment, "ScalingReplicaSet",
                         f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {size}",
                         self.COMPONENT)
        return before != size

    # -- rollouts ----------------------------------------------------------------

    def _create_replicaset(self, deployment: dict, old: list[dict], size: int) -> dict:
        meta, spec = deployment["metadata"], deployment["spec"]
        pod_hash = template_hash(spec["template"])
        template = copy.deepcopy(spec["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
        selector = copy.deepcopy(spec["selector"])
        selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
        surge, _ = rollout.surge_and_unavailable(deployment)
        revision = 1 + max([rollout.annotation(rs, REVISION) or 0 for rs in old], default=0)
        desired = spec.get("replicas", 0)
        rs = self.registry.create(REPLICASETS, meta["namespace"], {
            "metadata": {"name": f"{meta['name']}-{pod_hash}", "labels": dict(template["metadata"]["labels"]),
                         "annotations": {REVISION: str(revision), DESIRED_REPLICAS: str(desired),
                                         MAX_REPLICAS: str(desired + surge)},
                         "ownerReferences": [owner_reference(DEPLOYMENTS, deployment)]},
            "spec": {"replicas": size, "minReadySeconds": spec.get("minReadySeconds", 0),
                     "selector": selector, "template": template}})
        current = self.registry.get(DEPLOYMENTS, meta["namespace"], meta["name"])
        current["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
        self.registry.update(DEPLOYMENTS, meta["namespace"], meta["name"], current)
        if size:
            record_event(self.registry, DEPLOYMENTS, deployment, "ScalingReplicaSet",
                         f"Scaled up replica set {rs['metadata']['name']} from 0 to {size}", self.COMPONENT)
        return rs

    def _recreate(self, deployment: dict, new_rs: dict | None, old: list[dict]) -> dict | None:
        for rs in rollout.active(old):
            self._resize(deployment, rs, 0)
        if any(status(rs, "replicas") for rs in old):
            return new_rs  # old pods still running: wait for them to go
        desired = deployment["spec"].get("replicas", 0)
        if new_rs is None:
            return self._create_replicaset(deployment, old, desired)
        self._resize(deployment, new_rs, desired)
        return new_rs

    def _roll(self, deployment: dict, new_rs: dict | None, old: list[dict]) -> dict:
        desired = deployment["spec"].get("replicas", 0)
        if new_rs is None:
            return self._create_replicaset(deployment, old, rollout.new_rs_replicas(deployment, old, None))
        every = old + [new_rs]
        # reconcileNewReplicaSet: a pass that scales the new ReplicaSet does nothing else.
        if replicas(new_rs) > desired:
            if self._resize(deployment, new_rs, desired):
                return new_rs
        elif replicas(new_rs) < desired:
            if self._resize(deployment, new_rs, rollout.new_rs_replicas(deployment, every, new_rs)):
                return new_rs
        self._scale_down_old(deployment, new_rs, old)
        return new_rs

    def _scale_down_old(self, deployment: dict, new_rs: dict, old: list[dict]) -> None:
        """reconcileOldReplicaSets: unhealthy pods first, then by availability."""
        old_live = sorted(rollout.active(old), key=rollout.created)
        if not old_live:
            return
        desired = deployment["spec"].get("replicas", 0)
        _, unavailable = rollout.surge_and_unavailable(deployment)
        min_available = desired - unavailable
        total = sum(replicas(rs) for rs in old_live) + replicas(new_rs)
        budget = total - min_available - (replicas(new_rs) - status(new_rs, "availableReplicas"))
        if budget <= 0:
            return
        cleaned = 0
        for rs in old_live:  # cleanupUnhealthyReplicas
            unhealthy = replicas(rs) - status(rs, "availableReplicas")
            if cleaned >= budget or unhealthy <= 0:
                continue
            cut = min(budget - cleaned, unhealthy)
            self._resize(deployment, rs, replicas(rs) - cut)
            cleaned += cut
        available = sum(status(rs, "availableReplicas") for rs in old_live) + status(new_rs, "availableReplicas")
        excess = available - min_available  # scaleDownOldReplicaSetsForRollingUpdate
        for rs in old_live:
            if excess <= 0:
                break
            cut = min(replicas(rs), excess)
            if cut:
                self._resize(deployment, rs, replicas(rs) - cut)
                excess -= cut

    # -- status ------------------------------------------------------------------

    def _update_status(self, deployment: dict, new_rs: dict | None, old: list[dict]) -> None:
        every = ([new_rs] if new_rs else []) + old
        desired = deployment["spec"].get("replicas", 0)
        _, unavailable = rollout.surge_and_unavailable(deployment)
        available = sum(status(rs, "availableReplicas") for rs in every)
        updated = status(new_rs, "replicas")
        total_spec = sum(replicas(rs) for rs in every)
        new_status = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": sum(status(rs, "replicas") for rs in every),
            "updatedReplicas": updated,
            "readyReplicas": sum(status(rs, "readyReplicas") for rs in every),
            "availableReplicas": available,
        }
        if total_spec - available > 0:
            new_status["unavailableReplicas"] = total_spec - available
        old_status = deployment.get("status") or {}
        complete = (new_rs is not None and updated == desired and available == desired
                    and new_status["replicas"] == desired)
        name = new_rs["metadata"]["name"] if new_rs else deployment["metadata"]["name"]
        enough = available >= desired - unavailable
        new_status["conditions"] = [
            self._condition(old_status, "Available", enough,
                            ("MinimumReplicasAvailable", "Deployment has minimum availability.") if enough else
                            ("MinimumReplicasUnavailable", "Deployment does not have minimum availability.")),
            self._condition(old_status, "Progressing", True,
                            ("NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
                            if complete else ("ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')),
        ]
        if new_status != old_status:
            current = self.registry.get(DEPLOYMENTS, deployment["metadata"]["namespace"],
                                        deployment["metadata"]["name"])
            if current["metadata"]["resourceVersion"] != deployment["metadata"]["resourceVersion"]:
                return  # the cache is behind: decide again on the newer Deployment
            current["status"] = new_status
            self.registry.update(DEPLOYMENTS, current["metadata"]["namespace"], current["metadata"]["name"], current,
                                 subresource="status")

    @staticmethod
    def _condition(old_status: dict, kind: str, ok: bool, reason_message: tuple[str, str]) -> dict:
        reason, message = reason_message
        state = "True" if ok else "False"
        previous = next((c for c in old_status.get("conditions") or [] if c.get("type") == kind), None)
        if previous and (previous.get("status"), previous.get("reason"), previous.get("message")) == \
                (state, reason, message):
            return previous  # unchanged: keep its timestamps so status does not churn
        now = timestamps.rfc3339(timestamps.now())
        transition = previous["lastTransitionTime"] if previous and previous.get("status") == state else now
        return {"type": kind, "status": state, "lastUpdateTime": now, "lastTransitionTime": transition,
                "reason": reason, "message": message}
