"""What a node does to a pod behind its owners' backs, for the harness to
trigger (admin API `/_emulator/pods/NS/NAME/...`), written to the pod's
status as the kubelet writes it:

- readiness: the Ready and ContainersReady conditions (and each container's
  `ready`) go False or True with a new lastTransitionTime, as a failing or
  recovering readiness probe makes them; `flap` toggles them repeatedly;
- `Failed` with reason `Evicted` (the node ran out of a resource): every
  container terminated, Ready False, a DisruptionTarget condition;
- `Succeeded`: every container exited 0.

A finished pod is no longer active (its ReplicaSet replaces it) but stays
listed, matching its selector, until someone deletes it; deleting it is
immediate (nothing left to stop).
"""

from __future__ import annotations

import asyncio
import copy

from . import timestamps
from .registry import Registry
from .resources import preferred
from .status import bad_request

PODS = preferred("pods")
EVICTED_MESSAGE = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki."


def _now() -> str:
    return timestamps.rfc3339(timestamps.now())


def _set_condition(status: dict, kind: str, value: bool, now: str, reason: str | None = None,
                   message: str | None = None) -> None:
    conditions = status.setdefault("conditions", [])
    wanted = "True" if value else "False"
    condition = next((c for c in conditions if c.get("type") == kind), None)
    if condition is None:
        condition = {"type": kind, "lastProbeTime": None}
        conditions.append(condition)
    if condition.get("status") != wanted:
        condition["lastTransitionTime"] = now
    condition["status"] = wanted
    for field, text in (("reason", reason), ("message", message)):
        if text:
            condition[field] = text
        else:
            condition.pop(field, None)


def _write_status(registry: Registry, namespace: str, name: str, change) -> dict:
    pod = registry.get(PODS, namespace, name)
    status = copy.deepcopy(pod.get("status") or {})
    change(status)
    pod["status"] = status
    return PODS.external(registry.update(PODS, namespace, name, pod, subresource="status")[0])


def set_ready(registry: Registry, namespace: str, name: str, ready: bool) -> dict:
    def change(status: dict) -> None:
        if status.get("phase") in ("Failed", "Succeeded"):
            raise bad_request(f"pod {name} has finished ({status['phase']}); its readiness cannot change")
        now = _now()
        reason = None if ready else "ContainersNotReady"
        _set_condition(status, "Ready", ready, now, reason)
        _set_condition(status, "ContainersReady", ready, now, reason)
        for container in status.get("containerStatuses") or []:
            container["ready"] = ready

    return _write_status(registry, namespace, name, change)


def finish(registry: Registry, namespace: str, name: str, phase: str, reason: str | None = None,
           message: str | None = None) -> dict:
    if phase not in ("Failed", "Succeeded"):
        raise bad_request(f'phase: Unsupported value: "{phase}": supported values: "Failed", "Succeeded"')
    if phase == "Failed" and reason is None:
        reason, message = "Evicted", message or EVICTED_MESSAGE

    def change(status: dict) -> None:
        now = _now()
        status["phase"] = phase
        for field, text in (("reason", reason), ("message", message)):
            if text:
                status[field] = text
        why = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        _set_condition(status, "Ready", False, now, why)
        _set_condition(status, "ContainersReady", False, now, why)
        if reason == "Evicted":
            _set_condition(status, "DisruptionTarget", True, now, "TerminationByKubelet", message)
        code = 0 if phase == "Succeeded" else 137
        for container in status.get("containerStatuses") or []:
            started = ((container.get("state") or {}).get("running") or {}).get("startedAt", now)
            container["ready"] = False
            container["started"] = False
            container["state"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                                 "startedAt": started, "finishedAt": now}}

    return _write_status(registry, namespace, name, change)


async def flap(registry: Registry, namespace: str, name: str, interval: float, times: int) -> None:
    """Toggle readiness `times` times, `interval` seconds apart, starting with not Ready."""
    ready = False
    for _ in range(times):
        try:
            set_ready(registry, namespace, name, ready)
        except Exception:  # noqa: BLE001 - the pod went away or finished: nothing left to flap
            return
        ready = not ready
        await asyncio.sleep(interval)
