"""The PATCH flavours this project's clients send:

- JSON merge patch (RFC 7386): maps merge, `null` deletes, lists replace
  (the operator, the Swift test harness).
- Strategic merge patch: like merge patch, except lists that Kubernetes
  declares `patchStrategy: merge` merge element-wise by their merge key
  (pod conditions by `type`, containers by `name`, ...), plus the `$patch`
  directives. Lists not in the table replace, as for merge patch (the
  e2e/local kubelet, as a real kubelet patches pod status).

JSON patch and apply patches answer 415 (a real server accepts them; no
client here sends them).
"""

from __future__ import annotations

import copy

from .status import bad_request, unsupported_media_type

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

# Paths (field names, "[]" for "each element of the list") of the lists that
# Kubernetes merges by key in a strategic merge patch, and that key. A key of
# None means a list of scalars merged as a set (finalizers).
_POD_SPEC_LISTS = {
    ("containers",): "name",
    ("initContainers",): "name",
    ("containers", "[]", "env"): "name",
    ("containers", "[]", "ports"): "containerPort",
    ("containers", "[]", "volumeMounts"): "mountPath",
    ("initContainers", "[]", "env"): "name",
    ("initContainers", "[]", "volumeMounts"): "mountPath",
    ("volumes",): "name",
    ("imagePullSecrets",): "name",
}
_COMMON_LISTS = {
    ("metadata", "ownerReferences"): "uid",
    ("metadata", "finalizers"): None,
}
MERGE_KEYS = {
    "Pod": {**_COMMON_LISTS,
            **{("spec",) + path: key for path, key in _POD_SPEC_LISTS.items()},
            ("status", "conditions"): "type"},
    "Deployment": {**_COMMON_LISTS,
                   **{("spec", "template", "spec") + path: key for path, key in _POD_SPEC_LISTS.items()},
                   ("status", "conditions"): "type"},
    "ReplicaSet": {**_COMMON_LISTS,
                   **{("spec", "template", "spec") + path: key for path, key in _POD_SPEC_LISTS.items()},
                   ("status", "conditions"): "type"},
}


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch, merge_keys: dict, path: tuple = ()):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue  # ordering hints and key retention: ordering is not modelled
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in value]
            continue
        child = path + (key,)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and child in merge_keys:
            result[key] = _merge_list(result.get(key) or [], value, merge_keys[child], merge_keys, child)
        else:
            merged = strategic_merge_patch(result.get(key), value, merge_keys, child)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def _merge_list(current: list, patch: list, key, merge_keys: dict, path: tuple) -> list:
    if key is None:  # a set of scalars
        return current + [v for v in patch if v not in current]
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(item) for item in patch if not (isinstance(item, dict) and "$patch" in item)]
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {key}")
        position = next((i for i, existing in enumerate(result) if existing.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
        elif position is None:
            result.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            result[position] = strategic_merge_patch(result[position], item, merge_keys, path + ("[]",))
    return result


def apply_patch(content_type: str, target: dict, patch, kind: str) -> dict:
    """Apply a PATCH body of the given media type to an object of `kind`."""
    media = content_type.split(";")[0].strip().lower()
    if media == MERGE_PATCH:
        result = merge_patch(target, patch)
    elif media == STRATEGIC_MERGE_PATCH:
        result = strategic_merge_patch(target, patch, MERGE_KEYS.get(kind, _COMMON_LISTS))
    else:
        raise unsupported_media_type(media)
    if not isinstance(result, dict):
        raise bad_request("the patch does not result in an object")
    return result
