"""LIST with the resourceVersion semantics of a real API server (served
from its watch cache):

- resourceVersion unset or "0": the current state.
- R (resourceVersionMatch unset or NotOlderThan): the current state, after
  waiting for the store to reach R; if it does not within the wait (3 s on
  kube-apiserver, `tooLargeResourceVersionWaitSeconds` here), 504 Timeout
  "Too large resource version".
- resourceVersionMatch=Exact, `limit`/`continue`: not emulated (no client
  of this project pages or asks for a past state). `limit` is ignored, as
  the watch cache ignores it for resourceVersion "0", so the answer never
  carries a continue token; Exact and `continue` answer 400.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .resources import ResourceType
from .selector import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from .status import bad_request, too_large_resource_version
from .store import Store


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


async def wait_for_resource_version(store: Store, rv: int, wait: float) -> None:
    """Until the store reaches `rv`; 504 "Too large resource version" after `wait` seconds."""
    deadline = time.monotonic() + wait
    while store.rv < rv:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise too_large_resource_version(rv, store.rv)
        await store.changed.wait(remaining)


async def list_objects(store: Store, rt: ResourceType, namespace: str | None, query,
                       wait: float = 3.0) -> tuple[list[dict], dict]:
    """The matching stored objects, and the list's metadata."""
    selection = Filter.from_query(rt, query)
    rv_text = query.get("resourceVersion", "")
    match = query.get("resourceVersionMatch", "")
    number_param(query, "limit", 0)  # malformed: 400, as on a real server; otherwise ignored
    scope = namespace if rt.namespaced else None
    if match and not rv_text:
        raise bad_request("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match not in ("", "Exact", "NotOlderThan"):
        raise bad_request(f'resourceVersionMatch: Unsupported value: "{match}"')
    if match == "Exact" or query.get("continue"):
        raise bad_request("the kubeapi emulator serves only current lists (no resourceVersionMatch=Exact, no continue)")
    if rv_text not in ("", "0"):
        await wait_for_resource_version(store, parse_resource_version(rv_text), wait)
    selected = [o for o in store.items(rt.storage, scope) if selection.matches(rt, o)]
    return selected, {"resourceVersion": str(store.rv)}
