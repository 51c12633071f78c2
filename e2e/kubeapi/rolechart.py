"""The RBAC policy the emulator enforces: the operator's Role and RoleBinding
from the Helm chart (charts/tig/templates/operator/role.yaml and
rolebinding.yaml), or Role/RoleBinding (ClusterRole/ClusterRoleBinding)
objects from a YAML or JSON file given with --role.

The chart is rendered here without Helm (it is not installed where the
tests run) by a deliberately small template engine that knows exactly the
constructs those two templates use: `if` on a value, the helpers named
below, `.Release.*`, `quote` and `nindent`. Anything else in them is an
error naming the construct, never a silently wrong policy; `--role FILE`
is the way out. The helpers follow charts/tig/templates/_helpers.tpl.
The defaults render the chart as checks/render.py does for manifests/:
release `tig` in namespace `default`, with the operator enabled.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Callable

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "tig"
TEMPLATES = ("templates/operator/role.yaml", "templates/operator/rolebinding.yaml")
RBAC_KINDS = ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")

_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)


class RoleChartError(Exception):
    pass


def _trunc_trim(text: str) -> str:
    """`| trunc 63 | trimSuffix "-"`."""
    return text[:63].removesuffix("-")


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class _Context:
    def __init__(self, chart: Path, release: str, namespace: str, values: dict):
        self.chart_name = yaml.safe_load((chart / "Chart.yaml").read_text())["name"]
        self.release, self.namespace, self.values = release, namespace, values
        self.helpers: dict[str, Callable[[], str]] = {
            "tig.fullname": self.fullname,
            "tig.operatorFullname": lambda: _trunc_trim(f"{self.fullname()}-operator"),
            "tig.leaseName": lambda: f"{self.fullname()}-operator",
            "tig.operatorServiceAccountName": self.operator_service_account,
            # Labels mean nothing to RBAC; one stands in for the chart's set.
            "tig.labels": lambda: "app.kubernetes.io/part-of: tig",
        }

    def value(self, path: str):
        node = {"Values": self.values, "Release": {"Name": self.release, "Namespace": self.namespace}}
        for part in path.lstrip(".").split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def fullname(self) -> str:
        if self.values.get("fullnameOverride"):
            return _trunc_trim(self.values["fullnameOverride"])
        name = self.values.get("nameOverride") or self.chart_name
        return _trunc_trim(self.release if name in self.release else f"{self.release}-{name}")

    def operator_service_account(self) -> str:
        account = (self.values.get("operator") or {}).get("serviceAccount") or {}
        if account.get("create"):
            return account.get("name") or self.helpers["tig.operatorFullname"]()
        return account.get("name") or "default"


def _split_pipeline(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "|" and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return parts + [current.strip()]


def _evaluate(action: str, context: _Context, source: str) -> str:
    commands = _split_pipeline(action)
    head = commands[0]
    include = re.fullmatch(r'include "([^"]+)" (\.|\(dict .*\))', head)
    if include:
        helper = context.helpers.get(include.group(1))
        if helper is None:
            raise RoleChartError(f"{source}: helper {include.group(1)!r} is not known to e2e/kubeapi/rolechart.py")
        value = helper()
    elif re.fullmatch(r"\.(Release|Values)(\.\w+)+", head):
        value = context.value(head)
        value = "" if value is None else str(value)
    else:
        raise RoleChartError(f"{source}: template action {{{{ {action} }}}} is not supported; use --role FILE")
    for command in commands[1:]:
        if command == "quote":
            value = json.dumps(value)
        elif (indent := re.fullmatch(r"nindent (\d+)", command)):
            pad = " " * int(indent.group(1))
            value = "\n" + "\n".join(pad + line for line in value.splitlines())
        else:
            raise RoleChartError(f"{source}: template function {command!r} is not supported; use --role FILE")
    return value


def render_template(text: str, context: _Context, source: str = "template") -> str:
    """The template rendered: text, `if`/`else`/`end` on values, output actions."""
    output: list[str] = []
    emitting: list[bool] = []  # one entry per open `if`: does its current branch emit?
    trim_next = False
    position = 0
    for match in _ACTION.finditer(text):
        chunk = text[position:match.start()]
        if trim_next:
            chunk = chunk.lstrip()
        if match.group(1):
            chunk = chunk.rstrip()
        if all(emitting):
            output.append(chunk)
        position, trim_next = match.end(), bool(match.group(3))
        action = match.group(2).strip()
        if action.startswith("/*"):
            continue
        if action.startswith("if "):
            emitting.append(bool(context.value(action[3:].strip())))
        elif action == "else":
            emitting[-1] = not emitting[-1]
        elif action == "end":
            emitting.pop()
        elif all(emitting):
            output.append(_evaluate(action, context, source))
    tail = text[position:]
    output.append(tail.lstrip() if trim_next else tail)
    if emitting:
        raise RoleChartError(f"{source}: unclosed if")
    return "".join(output)


def render_chart(chart: Path = CHART, release: str = "tig", namespace: str = "default",
                 values: dict | None = None) -> list[dict]:
    """The Role and RoleBinding the chart installs for the operator."""
    defaults = yaml.safe_load((chart / "values.yaml").read_text()) or {}
    merged = _merge(_merge(defaults, {"operator": {"enabled": True}}), values or {})
    context = _Context(chart, release, namespace, merged)
    objects = []
    for name in TEMPLATES:
        rendered = render_template((chart / name).read_text(), context, name)
        objects += [obj for obj in yaml.safe_load_all(rendered) if obj]
    return objects


def load_file(path: str | Path) -> list[dict]:
    """RBAC objects from a YAML (several documents allowed) or JSON file."""
    text = Path(path).read_text()
    documents = [d for d in yaml.safe_load_all(text) if d]
    objects = []
    for document in documents:
        objects += document.get("items", []) if document.get("kind", "").endswith("List") else [document]
    found = [obj for obj in objects if obj.get("kind") in RBAC_KINDS]
    if not any(obj["kind"] in ("Role", "ClusterRole") for obj in found):
        raise RoleChartError(f"{path}: no Role or ClusterRole in it")
    if not any(obj["kind"].endswith("Binding") for obj in found):
        # A bare Role is the operator's: bind it to the operator's service account.
        role = next(obj for obj in found if obj["kind"] in ("Role", "ClusterRole"))
        namespace = role["metadata"].get("namespace", "default")
        found.append({"kind": "RoleBinding", "metadata": {"name": role["metadata"]["name"], "namespace": namespace},
                      "roleRef": {"kind": role["kind"], "name": role["metadata"]["name"]},
                      "subjects": [{"kind": "ServiceAccount", "name": "tig-operator", "namespace": namespace}]})
    return found
