"""Label and field selectors with the grammar and semantics of apimachinery.

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`,
`!k`, comma-separated (a comma inside parentheses belongs to the set).
`!=` and `notin` also match objects without the key, as in Kubernetes.
Field selectors: `f=v`, `f==v`, `f!=v` over the fields each resource
supports; an unsupported field is a 400, as on a real server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .status import bad_request

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present  # "!"

    def __str__(self) -> str:
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{self.values[0]}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(sorted(self.values))})"
        return self.key if self.op == "exists" else f"!{self.key}"


class LabelSelector:
    def __init__(self, requirements: list[Requirement]):
        self.requirements = requirements

    def matches(self, labels: dict | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        # apimachinery sorts requirements by key when printing a selector.
        return ",".join(str(r) for r in sorted(self.requirements, key=lambda r: r.key))


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


_SET_TERM = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\(([^()]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*$")


def _check_key(key: str, selector: str) -> None:
    if not _LABEL_KEY.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key \"{key}\" in selector \"{selector}\"")


def _check_value(value: str, selector: str) -> None:
    if not _LABEL_VALUE.match(value):
        raise bad_request(f"unable to parse requirement: invalid label value: \"{value}\" in selector \"{selector}\"")


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the `labelSelector` query parameter; empty selects everything."""
    if not text or not text.strip():
        return LabelSelector([])
    requirements = []
    for term in _split_top_level(text):
        if not term.strip():
            raise bad_request(f"found '', expected: identifier in selector \"{text}\"")
        set_match = _SET_TERM.match(term)
        eq_match = _EQ_TERM.match(term)
        if set_match:
            key, op, raw = set_match.groups()
            values = tuple(v.strip() for v in raw.split(",")) if raw.strip() else ()
            _check_key(key, text)
            for value in values:
                _check_value(value, text)
            requirements.append(Requirement(key, op, values))
        elif eq_match:
            key, op, value = eq_match.groups()
            _check_key(key, text)
            _check_value(value, text)
            requirements.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
        else:
            key = term.strip()
            op = "exists"
            if key.startswith("!"):
                key, op = key[1:].strip(), "!"
            _check_key(key, text)
            requirements.append(Requirement(key, op))
    return LabelSelector(requirements)


def selector_from_object(spec_selector: dict | None) -> LabelSelector:
    """The `matchLabels`/`matchExpressions` form used in Deployment specs."""
    spec_selector = spec_selector or {}
    requirements = [Requirement(k, "=", (v,)) for k, v in (spec_selector.get("matchLabels") or {}).items()]
    operator_names = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expression in spec_selector.get("matchExpressions") or []:
        requirements.append(Requirement(expression["key"], operator_names[expression["operator"]],
                                        tuple(expression.get("values") or ())))
    return LabelSelector(requirements)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    negate: bool
    value: str


class FieldSelector:
    def __init__(self, requirements: list[FieldRequirement]):
        self.requirements = requirements

    def matches(self, fields: dict[str, str]) -> bool:
        for r in self.requirements:
            equal = fields.get(r.field, "") == r.value
            if equal == r.negate:
                return False
        return True


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_field_selector(text: str | None, supported: frozenset[str]) -> FieldSelector:
    """Parse `fieldSelector`; fields outside `supported` answer 400 like Kubernetes."""
    if not text or not text.strip():
        return FieldSelector([])
    requirements = []
    for term in _split_unescaped(text, ","):
        match = re.match(r"^(.*?)(==|!=|=)(.*)$", term)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, value = match.groups()
        field = field.strip()
        if field not in supported:
            raise bad_request(f'field label not supported: {field}')
        requirements.append(FieldRequirement(field, op == "!=", _unescape(value)))
    return FieldSelector(requirements)
