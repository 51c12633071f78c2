"""LIST with the resourceVersion semantics of a real API server.

- resourceVersion unset: the most recent state.
- "0": any state (served as the current one; like the watch cache, `limit`
  is ignored and everything comes in one page).
- R with resourceVersionMatch=NotOlderThan (the default without `limit`):
  the current state, after waiting up to 3 s for R to exist (else 504).
- R with resourceVersionMatch=Exact, or with `limit`: the state exactly at
  R, rebuilt from the change history; 410 Expired once R is compacted.
- `limit`/`continue`: pages of one consistent snapshot; a continue token
  whose snapshot has been compacted answers 410 Expired.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass

from .resources import ResourceType
from .selector import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from .status import ApiError, bad_request, expired, too_large_resource_version
from .store import Store

_WAIT_FOR_RESOURCE_VERSION = 3.0  # seconds, as kube-apiserver waits for a future RV


@dataclass
class Filter:
    labels: LabelSelector
    fields: FieldSelector

    @classmethod
    def from_query(cls, rt: ResourceType, query) -> "Filter":
        return cls(parse_label_selector(query.get("labelSelector")),
                   parse_field_selector(query.get("fieldSelector"), rt.strategy.field_labels))

    def matches(self, rt: ResourceType, obj: dict) -> bool:
        return (self.labels.matches(obj["metadata"].get("labels"))
                and self.fields.matches(rt.strategy.field_values(obj)))


def number_param(query, name: str, default: float | None = None) -> float | None:
    """A numeric query parameter; a malformed one is a 400, as on a real server."""
    text = query.get(name, "")
    if text == "":
        return default
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        raise bad_request(f'{name}: Invalid value: "{text}": must be a number') from None


def parse_resource_version(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f'resourceVersion: Invalid value: "{text}": must be an integer') from None
    if value < 0:
        raise bad_request(f'resourceVersion: Invalid value: "{text}": must be non-negative')
    return value


async def wait_for_resource_version(store: Store, rv: int) -> None:
    deadline = time.monotonic() + _WAIT_FOR_RESOURCE_VERSION
    while store.rv < rv:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise too_large_resource_version(rv, store.rv)
        await store.changed.wait(remaining)


def _encode_continue(rv: int, last_key: tuple[str, str]) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": rv, "start": f"{last_key[0]}/{last_key[1]}\x00"}
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, _, name = decoded["start"].rstrip("\x00").partition("/")
        return int(decoded["rv"]), (namespace, name)
    except (ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid: illegal base64 data") from None


def _key(obj: dict) -> tuple[str, str]:
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


async def list_objects(store: Store, rt: ResourceType, namespace: str | None, query) -> tuple[list[dict], dict]:
    """The matching stored objects of one page, and the list's metadata."""
    selection = Filter.from_query(rt, query)
    rv_text = query.get("resourceVersion", "")
    match = query.get("resourceVersionMatch", "")
    limit = int(number_param(query, "limit", 0))
    token = query.get("continue", "")
    scope = namespace if rt.namespaced else None
    if match and not rv_text:
        raise bad_request("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match not in ("", "Exact", "NotOlderThan"):
        raise bad_request(f'resourceVersionMatch: Unsupported value: "{match}"')

    start_after = None
    if token:
        if rv_text:
            raise bad_request("specifying resource version is not allowed when using continue")
        list_rv, start_after = _decode_continue(token)
        try:
            objects = store.snapshot(rt.storage, list_rv, scope)
        except ApiError:
            raise expired("The provided continue parameter is too old to display a consistent list result. "
                          "You can start a new list without the continue parameter.") from None
    elif rv_text in ("", "0"):
        objects, list_rv = store.items(rt.storage, scope), store.rv
        if rv_text == "0":
            limit = 0
    else:
        requested = parse_resource_version(rv_text)
        await wait_for_resource_version(store, requested)
        if match == "Exact" or (limit and not match):
            objects, list_rv = store.snapshot(rt.storage, requested, scope), requested
        else:
            objects, list_rv = store.items(rt.storage, scope), store.rv

    selected = [o for o in objects if selection.matches(rt, o) and (start_after is None or _key(o) > start_after)]
    meta = {"resourceVersion": str(list_rv)}
    if limit and len(selected) > limit:
        selected, rest = selected[:limit], selected[limit:]
        meta["continue"] = _encode_continue(list_rv, _key(selected[-1]))
        meta["remainingItemCount"] = len(rest)
    return selected, meta

