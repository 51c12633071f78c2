"""The generic object semantics of kube-apiserver, shared by every kind:
names and generateName, uid and creationTimestamp, optimistic concurrency on
metadata.resourceVersion, generation, status subresources, no-op updates
that do not bump the resourceVersion, graceful deletion and preconditions.

Request handlers and the emulated controllers both go through here, so a
controller's write produces exactly the events a real one would.
Objects are in stored form; version conversion is the HTTP layer's job.
"""

from __future__ import annotations

import copy
import random
import uuid

from . import timestamps
from .patch import apply_patch
from .resources import ResourceType, preferred
from .schema import check_types
from .status import already_exists, bad_request, conflict, invalid, not_found
from .store import Key, Store

# The alphabet apimachinery uses for generated names: no vowels, no 0/1/3.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

# Metadata only the server sets; a client's values are ignored on update.
_SERVER_OWNED_METADATA = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "generation", "namespace", "name")


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(_NAME_ALPHABET) for _ in range(length))


def _without_resource_version(obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    obj.get("metadata", {}).pop("resourceVersion", None)
    return obj


class Registry:
    def __init__(self, store: Store):
        self.store = store

    def reset(self) -> None:
        self.store.clear()
        namespaces = preferred("namespaces")
        for name in DEFAULT_NAMESPACES:
            self.create(namespaces, "", {"metadata": {"name": name}})

    def key(self, rt: ResourceType, namespace: str, name: str) -> Key:
        return (namespace if rt.namespaced else "", name)

    # -- reads ---------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict:
        obj = self.store.get(rt.storage, self.key(rt, namespace, name))
        if obj is None:
            raise not_found(rt.group, rt.plural, name)
        return obj

    def items(self, rt: ResourceType, namespace: str | None) -> list[dict]:
        return self.store.items(rt.storage, namespace if rt.namespaced else None)

    # -- writes --------------------------------------------------------------

    def create(self, rt: ResourceType, namespace: str, body: dict, dry_run: bool = False) -> dict:
        strategy = rt.strategy
        check_types(strategy.kind, rt.api_version, body)
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            if self.store.get("namespaces", ("", namespace)) is None:
                raise not_found("", "namespaces", namespace)
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise invalid(rt.group, rt.kind, "", [("metadata.name", "Required value: name or generateName is required")])
            meta["name"] = meta["generateName"] + random_suffix()
            while self.store.get(rt.storage, self.key(rt, namespace, meta["name"])) is not None:
                meta["name"] = meta["generateName"] + random_suffix()
        key = self.key(rt, namespace, meta["name"])
        for field in ("uid", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                      "selfLink", "managedFields"):
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = timestamps.rfc3339(timestamps.now())
        if strategy.generation:
            meta["generation"] = 1
        strategy.prepare_for_create(obj)
        causes = strategy.validate(obj)
        if causes:
            raise invalid(rt.group, rt.kind, meta["name"], causes)
        if self.store.get(rt.storage, key) is not None:
            raise already_exists(rt.group, rt.plural, meta["name"])
        if dry_run:
            return obj
        return self.store.create(rt.storage, key, obj)

    def update(self, rt: ResourceType, namespace: str, name: str, body: dict, subresource: str | None = None,
               dry_run: bool = False) -> tuple[dict, bool]:
        """PUT semantics; answers (object, created)."""
        strategy = rt.strategy
        check_types(strategy.kind, rt.api_version, body)
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        key = self.key(rt, namespace, name)
        current = self.store.get(rt.storage, key)
        if current is None:
            if strategy.allow_create_on_update and subresource is None:
                body = copy.deepcopy(body)
                body.setdefault("metadata", {})["name"] = name
                body["metadata"].pop("resourceVersion", None)
                return self.create(rt, namespace, body, dry_run), True
            raise not_found(rt.group, rt.plural, name)
        self._check_preconditions(rt, current, meta.get("uid"), meta.get("resourceVersion"))
        if not meta.get("resourceVersion") and not strategy.allow_unconditional_update:
            raise invalid(rt.group, rt.kind, name,
                          [("metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])

        if subresource == "status":
            new = copy.deepcopy(current)
            new["status"] = copy.deepcopy(body.get("status") or {})
        else:
            new = copy.deepcopy(body)
            new_meta = new.setdefault("metadata", {})
            for field in _SERVER_OWNED_METADATA:
                if field in current["metadata"]:
                    new_meta[field] = current["metadata"][field]
                else:
                    new_meta.pop(field, None)
            if strategy.has_status:
                new["status"] = copy.deepcopy(current.get("status"))
            causes = strategy.validate_update(new, current)
            if causes:
                raise invalid(rt.group, rt.kind, name, causes)
            if strategy.generation and new.get("spec") != current.get("spec"):
                new_meta["generation"] = current["metadata"].get("generation", 1) + 1
        if dry_run:
            return new, False
        # A write that changes nothing is not a write: no new resourceVersion, no event.
        if _without_resource_version(new) == _without_resource_version(current):
            return current, False
        return self.store.update(rt.storage, key, new), False

    def patch(self, rt: ResourceType, namespace: str, name: str, content_type: str, patch_body,
              subresource: str | None = None, dry_run: bool = False) -> dict:
        current = self.get(rt, namespace, name)
        patched = apply_patch(content_type, rt.external(current), patch_body, rt.kind)
        # A resourceVersion in the patch is a precondition, as on a real server.
        patched_rv = (patched.get("metadata") or {}).get("resourceVersion")
        if patched_rv and patched_rv != current["metadata"]["resourceVersion"]:
            raise conflict(rt.group, rt.plural, name)
        body = rt.internal(patched)
        body.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.update(rt, namespace, name, body, subresource, dry_run)[0]

    def delete(self, rt: ResourceType, namespace: str, name: str, grace_period: int | None = None,
               preconditions: dict | None = None, dry_run: bool = False) -> tuple[dict, bool]:
        """DELETE semantics; answers (object, deleted_now). A pod on a node is
        only marked (deletionTimestamp) and stays until deleted with grace 0."""
        if grace_period is not None and grace_period < 0:
            raise invalid(rt.group, rt.kind, name, [("gracePeriodSeconds", "Invalid value: must be >= 0")])
        key = self.key(rt, namespace, name)
        current = self.get(rt, namespace, name)
        preconditions = preconditions or {}
        self._check_preconditions(rt, current, preconditions.get("uid"), preconditions.get("resourceVersion"))
        period = rt.strategy.grace_period(current, grace_period)
        if period > 0:
            deadline = timestamps.in_seconds(period)
            marked = current["metadata"].get("deletionTimestamp")
            if marked and timestamps.parse(marked) <= deadline:
                return current, False  # already terminating at least this soon
            new = copy.deepcopy(current)
            new["metadata"]["deletionTimestamp"] = timestamps.rfc3339(deadline)
            new["metadata"]["deletionGracePeriodSeconds"] = period
            if dry_run:
                return new, False
            return self.store.update(rt.storage, key, new), False
        if dry_run:
            return current, True
        if rt.storage == "namespaces":
            self._delete_namespace_contents(name)
        return self.store.delete(rt.storage, key), True

    def bind(self, namespace: str, name: str, node: str) -> None:
        """What the scheduler's pods/binding does: set the node, mark PodScheduled."""
        key = (namespace, name)
        pod = self.store.get("pods", key)
        if pod is None:
            raise not_found("", "pods", name)
        if pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            raise conflict("", "pods", name, f"pod {name} is already assigned to node \"{pod['spec'].get('nodeName')}\""
                           if pod["spec"].get("nodeName") else "the pod is being deleted")
        pod["spec"]["nodeName"] = node
        conditions = pod.setdefault("status", {}).setdefault("conditions", [])
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": timestamps.rfc3339(timestamps.now())})
        self.store.update("pods", key, pod)

    # -- helpers -------------------------------------------------------------

    def _check_preconditions(self, rt: ResourceType, current: dict, uid: str | None, rv: str | None) -> None:
        meta = current["metadata"]
        if uid and uid != meta["uid"]:
            raise conflict(rt.group, rt.plural, meta["name"],
                           f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta['uid']}")
        if rv and rv != meta["resourceVersion"]:
            raise conflict(rt.group, rt.plural, meta["name"])

    def _delete_namespace_contents(self, namespace: str) -> None:
        # A real namespace deletion is asynchronous (phase Terminating while the
        # namespace controller empties it); here it empties at once.
        for storage in self.store.storages():
            if storage == "namespaces":
                continue
            for obj in self.store.items(storage, namespace):
                self.store.delete(storage, (namespace, obj["metadata"]["name"]))

