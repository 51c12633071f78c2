"""The Deployment controller: one ReplicaSet per pod template (named
`<deployment>-<pod-template-hash>`), scaled to spec.replicas; a template
change rolls over to a new ReplicaSet (RollingUpdate honouring maxSurge and
maxUnavailable, or Recreate); status aggregated from the ReplicaSets.
"""

from __future__ import annotations

import copy
import json
import math

from .. import timestamps
from ..registry import Registry
from .common import DEPLOYMENTS, REPLICASETS, controller_uid, owner_reference, record_event

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
REVISION = "deployment.kubernetes.io/revision"


def template_hash(template: dict) -> str:
    """A stable short hash of a pod template, spelled like apimachinery's
    SafeEncodeString(fmt.Sprint(fnv32a(...)))."""
    value = 0x811C9DC5
    for byte in json.dumps(template, sort_keys=True).encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in str(value))


def _resolve(value, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value or 0)


def surge_and_unavailable(deployment: dict) -> tuple[int, int]:
    spec = deployment["spec"]
    desired = spec.get("replicas", 0)
    if (spec.get("strategy") or {}).get("type") == "Recreate":
        return 0, desired
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = _resolve(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _replicas(rs: dict) -> int:
    return rs["spec"].get("replicas", 0)


def _status(rs: dict, field: str) -> int:
    return (rs.get("status") or {}).get(field, 0)


class DeploymentController:
    COMPONENT = "deployment-controller"

    def __init__(self, registry: Registry):
        self.registry = registry

    def reconcile(self) -> None:
        for deployment in self.registry.store.items("deployments"):
            if not deployment["metadata"].get("deletionTimestamp"):
                self._sync(deployment)

    def _sync(self, deployment: dict) -> None:
        meta = deployment["metadata"]
        owned = [rs for rs in self.registry.store.items("replicasets", meta["namespace"])
                 if controller_uid(rs) == meta["uid"]]
        owned.sort(key=lambda rs: (rs["metadata"]["creationTimestamp"], rs["metadata"]["name"]))
        wanted = template_hash(deployment["spec"]["template"])
        new_rs = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == wanted),
                      None)
        old = [rs for rs in owned if rs is not new_rs]
        if not deployment["spec"].get("paused"):
            if new_rs is None:
                new_rs = self._create_replicaset(deployment, wanted, old)
            elif (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
                self._recreate(deployment, new_rs, old)
            else:
                self._roll(deployment, new_rs, old)
        self._update_status(deployment, new_rs, old)

    def _create_replicaset(self, deployment: dict, pod_hash: str, old: list[dict]) -> dict:
        meta, spec = deployment["metadata"], deployment["spec"]
        template = copy.deepcopy(spec["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
        selector = copy.deepcopy(spec["selector"])
        selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
        surge, _ = surge_and_unavailable(deployment)
        old_total = sum(_replicas(rs) for rs in old)
        if (spec.get("strategy") or {}).get("type") == "Recreate" and old_total:
            replicas = 0
        else:
            replicas = max(0, min(spec.get("replicas", 0), spec.get("replicas", 0) + surge - old_total))
        revision = 1 + max([int((rs["metadata"].get("annotations") or {}).get(REVISION, "0")) for rs in old],
                           default=0)
        rs = self.registry.create(REPLICASETS, meta["namespace"], {
            "metadata": {"name": f"{meta['name']}-{pod_hash}", "labels": dict(template["metadata"]["labels"]),
                         "annotations": {REVISION: str(revision),
                                         "deployment.kubernetes.io/desired-replicas": str(spec.get("replicas", 0)),
                                         "deployment.kubernetes.io/max-replicas": str(spec.get("replicas", 0) + surge)},
                         "ownerReferences": [owner_reference(DEPLOYMENTS, deployment)]},
            "spec": {"replicas": replicas, "minReadySeconds": spec.get("minReadySeconds", 0),
                     "selector": selector, "template": template}})
        self._annotate_revision(deployment, str(revision))
        record_event(self.registry, DEPLOYMENTS, deployment, "ScalingReplicaSet",
                     f"Scaled up replica set {rs['metadata']['name']} from 0 to {replicas}", self.COMPONENT)
        return rs

    def _annotate_revision(self, deployment: dict, revision: str) -> None:
        current = self.registry.get(DEPLOYMENTS, deployment["metadata"]["namespace"], deployment["metadata"]["name"])
        current["metadata"].setdefault("annotations", {})[REVISION] = revision
        self.registry.update(DEPLOYMENTS, current["metadata"]["namespace"], current["metadata"]["name"], current)

    def _scale(self, deployment: dict, rs: dict, replicas: int) -> None:
        before = _replicas(rs)
        if before == replicas:
            return
        rs["spec"]["replicas"] = replicas
        annotations = rs["metadata"].setdefault("annotations", {})
        annotations["deployment.kubernetes.io/desired-replicas"] = str(deployment["spec"].get("replicas", 0))
        updated, _ = self.registry.update(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"], rs)
        rs.update(updated)
        direction = "up" if replicas > before else "down"
        record_event(self.registry, DEPLOYMENTS, deployment, "ScalingReplicaSet",
                     f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {replicas}",
                     self.COMPONENT)

    def _recreate(self, deployment: dict, new_rs: dict, old: list[dict]) -> None:
        for rs in old:
            self._scale(deployment, rs, 0)
        old_pods_left = any(_status(rs, "replicas") for rs in old)
        if not old_pods_left:
            self._scale(deployment, new_rs, deployment["spec"].get("replicas", 0))

    def _roll(self, deployment: dict, new_rs: dict, old: list[dict]) -> None:
        desired = deployment["spec"].get("replicas", 0)
        if not any(_replicas(rs) for rs in old):
            self._scale(deployment, new_rs, desired)  # plain scaling: no rollout in progress
            return
        surge, unavailable = surge_and_unavailable(deployment)
        # Scale the new ReplicaSet up within maxSurge; a pass that scales up does nothing else.
        if _replicas(new_rs) > desired:
            self._scale(deployment, new_rs, desired)
            return
        total = _replicas(new_rs) + sum(_replicas(rs) for rs in old)
        if _replicas(new_rs) < desired and total < desired + surge:
            self._scale(deployment, new_rs,
                        _replicas(new_rs) + min(desired + surge - total, desired - _replicas(new_rs)))
            return
        # Scale old ReplicaSets down within maxUnavailable: unhealthy pods first, then by availability.
        min_available = desired - unavailable
        new_unavailable = _replicas(new_rs) - _status(new_rs, "availableReplicas")
        budget = total - min_available - new_unavailable
        for rs in old:
            unhealthy = _replicas(rs) - _status(rs, "availableReplicas")
            if budget <= 0:
                break
            if _replicas(rs) and unhealthy > 0:
                cut = min(budget, unhealthy)
                self._scale(deployment, rs, _replicas(rs) - cut)
                budget -= cut
        available = _status(new_rs, "availableReplicas") + sum(_status(rs, "availableReplicas") for rs in old)
        excess = available - min_available
        for rs in old:
            if excess <= 0:
                break
            cut = min(_replicas(rs), excess)
            if cut:
                self._scale(deployment, rs, _replicas(rs) - cut)
                excess -= cut

    def _update_status(self, deployment: dict, new_rs: dict | None, old: list[dict]) -> None:
        current = self.registry.get(DEPLOYMENTS, deployment["metadata"]["namespace"], deployment["metadata"]["name"])
        every = ([new_rs] if new_rs else []) + old
        desired = current["spec"].get("replicas", 0)
        _, unavailable = surge_and_unavailable(current)
        available = sum(_status(rs, "availableReplicas") for rs in every)
        updated = _status(new_rs, "replicas") if new_rs else 0
        total_spec = sum(_replicas(rs) for rs in every)
        status = {
            "observedGeneration": current["metadata"].get("generation", 1),
            "replicas": sum(_status(rs, "replicas") for rs in every),
            "updatedReplicas": updated,
            "readyReplicas": sum(_status(rs, "readyReplicas") for rs in every),
            "availableReplicas": available,
        }
        if total_spec - available > 0:
            status["unavailableReplicas"] = total_spec - available
        old_status = current.get("status") or {}
        complete = (new_rs is not None and updated == desired and available == desired
                    and status["replicas"] == desired)
        name = new_rs["metadata"]["name"] if new_rs else current["metadata"]["name"]
        status["conditions"] = [
            self._condition(old_status, "Available", available >= desired - unavailable,
                            ("MinimumReplicasAvailable", "Deployment has minimum availability.")
                            if available >= desired - unavailable else
                            ("MinimumReplicasUnavailable", "Deployment does not have minimum availability.")),
            self._condition(old_status, "Progressing", True,
                            ("NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
                            if complete else ("ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')),
        ]
        if status != old_status:
            current["status"] = status
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
