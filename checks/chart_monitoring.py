"""Checks of the chart's monitoring and routing objects, for checks/packaging_checks.py.

kubernetes-validate knows only the built-in kinds (and exits 0 on others), so
the custom resources the chart renders — ServiceMonitor, PodMonitor,
PrometheusRule (Prometheus Operator) and HTTPRoute (Gateway API) — are
validated here with jsonschema against their CRDs' openAPIV3Schema, vendored
in checks/crd-schemas/ (checks/crd-schemas/README.md says from where). As with
`kubectl --validate=strict`, a field a schema does not declare is an error.

The alert rules' PromQL is parsed with promql-parser (the Rust parser
Prometheus-compatible tools use), and every metric a rule or a dashboard panel
reads must be one the tig or tig-operator sources define (collected from
Sources/ with regular expressions), or one of the few EXTERNAL_METRICS below.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import jsonschema
import promql_parser

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "checks" / "crd-schemas"
SOURCES = REPO / "Sources"
DASHBOARD = REPO / "charts" / "tig" / "dashboards" / "tig.json"
OPERATIONS = REPO / "docs" / "operations.md"

# Metrics the rules may read that tig does not define, and where they come from.
EXTERNAL_METRICS = {
    "up": "Prometheus itself: 1 when the last scrape of a target succeeded",
    "kube_deployment_spec_replicas": "kube-state-metrics (monitoring.prometheusRule.kubeStateMetrics)",
    "kube_deployment_status_replicas_available": "kube-state-metrics (monitoring.prometheusRule.kubeStateMetrics)",
}
SEVERITIES = {"critical", "warning", "info"}
# Grafana's own variables in range selectors, replaced before parsing.
GRAFANA_INTERVALS = re.compile(r"\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}")


# --- custom resources against their CRD schemas ---------------------------------------


def _strict(schema: object) -> object:
    """A CRD schema as a JSON schema that refuses undeclared fields (the API
    server would prune them silently) and honours `nullable`."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) if key not in ("enum", "default", "example", "required") else value for key, value in schema.items()}
    if "properties" in schema:
        out["properties"] = {name: _strict(value) for name, value in schema["properties"].items()}
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        if "additionalProperties" not in schema and not preserve:
            out["additionalProperties"] = False
    if schema.get("nullable") is True and isinstance(schema.get("type"), str):
        out["type"] = [schema["type"], "null"]
    if isinstance(schema.get("pattern"), str) and "(?i)" in schema["pattern"][1:]:
        # Go's RE2 takes `^(?i)…`; Python's re wants global flags first.
        out["pattern"] = "(?i)" + schema["pattern"].replace("(?i)", "")
    return out


# What every object's metadata must look like; the CRD schemas say only `type: object`.
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"},
        "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 63}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


@cache
def crd_validators() -> dict[tuple[str, str], tuple[jsonschema.protocols.Validator, dict]]:
    """(apiVersion, kind) -> (validator, the vendored file's source record)."""
    validators = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        vendored = json.loads(path.read_text())
        schema = _strict(vendored["openAPIV3Schema"])
        assert isinstance(schema, dict)
        schema["properties"]["metadata"] = _METADATA
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata", "spec"})
        api_version = f"{vendored['group']}/{vendored['version']}"
        schema["properties"]["apiVersion"] = {"const": api_version}
        schema["properties"]["kind"] = {"const": vendored["kind"]}
        jsonschema.Draft7Validator.check_schema(schema)
        validators[(api_version, vendored["kind"])] = (jsonschema.Draft7Validator(schema), vendored["source"])
    return validators


def is_custom_resource(obj: dict) -> bool:
    return (obj.get("apiVersion"), obj.get("kind")) in crd_validators()


def custom_resource_errors(obj: dict) -> list[str]:
    """Schema violations of one custom resource, `path: message` each."""
    validator, _ = crd_validators()[(obj["apiVersion"], obj["kind"])]
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in errors]


def broken_copies(obj: dict) -> Iterator[tuple[str, dict]]:
    """Mistakes the validator must catch in a valid object of each kind: a
    mistyped field name, a wrong type, a missing required field."""
    kind = obj["kind"]
    broken = copy.deepcopy(obj)
    if kind == "ServiceMonitor":
        broken["spec"]["endpoints"][0]["prot"] = broken["spec"]["endpoints"][0].pop("port")
        yield "a ServiceMonitor endpoint with `prot` for `port`", broken
        broken = copy.deepcopy(obj)
        broken["spec"]["endpoints"][0]["interval"] = "30 seconds"
        yield "a ServiceMonitor interval of `30 seconds`", broken
    elif kind == "PodMonitor":
        broken["spec"]["podMetricsEndpoints"][0]["scheme"] = "ftp"
        yield "a PodMonitor scheme `ftp`", broken
        broken = copy.deepcopy(obj)
        broken["spec"]["selector"] = "app=tig"
        yield "a PodMonitor selector as a string", broken
    elif kind == "PrometheusRule":
        del broken["spec"]["groups"][0]["rules"][0]["expr"]
        yield "a PrometheusRule alert without expr", broken
        broken = copy.deepcopy(obj)
        broken["spec"]["groups"][0]["rules"][0]["for"] = "ten minutes"
        yield "a PrometheusRule `for: ten minutes`", broken
    elif kind == "HTTPRoute":
        broken["spec"]["rules"][0]["backendRefs"][0]["port"] = 70000
        yield "an HTTPRoute backend port 70000", broken
        broken = copy.deepcopy(obj)
        broken["spec"]["parentRefs"][0]["nmae"] = broken["spec"]["parentRefs"][0].pop("name")
        yield "an HTTPRoute parentRef with `nmae` for `name`", broken


# --- metric names ----------------------------------------------------------------------

_NAMESPACE = re.compile(r'MetricNameDescriptor\(\s*namespace:\s*"([a-z_]+)"')
# name("metric", "unit", "help") or name("metric", unit: "unit", "help")
_NAME3 = re.compile(r'\bname\(\s*"([a-z_]+)"\s*,\s*(?:unit:\s*)?"([a-z_]*)"\s*,\s*"')
# name("metric", "help"): no unit (tig-operator's helper defaults it)
_NAME2 = re.compile(r'\bname\(\s*"([a-z_]+)"\s*,\s*"(?:[^"\\]|\\.)*"\s*\)')
# registry.makeGauge(name: "full_name", ...)
_FULL = re.compile(r'\bmake(?:Gauge|Counter|\w*Histogram|Summary)\(\s*name:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
_HISTOGRAM_VAR = re.compile(r"make\w*Histogram\(\s*descriptor:\s*(?:Self\.)?(\w+)")
_DESCRIPTOR_VAR = re.compile(r"(?:var|let)\s+(\w+)\s*:\s*MetricNameDescriptor\s*\{\s*name\(\s*\"([a-z_]+)\"\s*,\s*\"([a-z_]*)\"")


@cache
def source_metrics() -> frozenset[str]:
    """Every metric name the Swift sources register, histograms with their
    _bucket, _sum and _count series."""
    names: set[str] = set()
    for path in sorted(SOURCES.rglob("*.swift")):
        text = path.read_text()
        names.update(_FULL.findall(text))
        namespace = _NAMESPACE.search(text)
        if not namespace:
            continue

        def full(metric: str, unit: str) -> str:
            return "_".join(part for part in (namespace[1], metric, unit) if part)

        found = {full(metric, unit) for metric, unit in _NAME3.findall(text)}
        found |= {full(metric, "") for metric in _NAME2.findall(text)}
        names |= found
        histograms = {var for var in _HISTOGRAM_VAR.findall(text)}
        for var, metric, unit in _DESCRIPTOR_VAR.findall(text):
            if var in histograms:
                names |= {full(metric, unit) + suffix for suffix in ("_bucket", "_sum", "_count")}
    return frozenset(names)


def _selectors(node: object) -> Iterator[object]:
    """Every VectorSelector in a parsed PromQL expression."""
    if node is None or isinstance(node, (int, float, str)):
        return
    if type(node).__name__ == "VectorSelector":
        yield node
        return
    for attribute in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, (int, float, str)):
            yield from _selectors(child)
    for child in getattr(node, "args", None) or []:
        yield from _selectors(child)


def _matchers(selector: object) -> dict[str, tuple[str, str]]:
    """label -> (operator, value) of a selector's matchers."""
    matchers = {}
    for matcher in getattr(selector.matchers, "matchers", None) or []:  # type: ignore[attr-defined]
        matchers[matcher.name] = (str(matcher.op), matcher.value)  # op: MatchOp.Equal, MatchOp.Re, ...
    return matchers


def selector_name(selector: object) -> str | None:
    name = getattr(selector, "name", None)
    if name:
        return name
    op_value = _matchers(selector).get("__name__")
    return op_value[1] if op_value else None


def parse_promql(expr: str) -> tuple[object | None, str | None]:
    try:
        return promql_parser.parse(expr), None
    except (ValueError, RuntimeError) as error:  # the parser's errors
        return None, str(error)


def expression_findings(expr: str, where: str, jobs: list[tuple[str, str]] | None = None) -> list[str]:
    """An expression that does not parse or reads an unknown metric; with
    `jobs` ((metric prefix, job label) pairs, first match wins), also one whose
    selectors do not pick the job the chart's monitors give those targets, and
    the release's namespace."""
    tree, error = parse_promql(expr)
    if tree is None:
        return [f"{where}: PromQL does not parse: {error}"]
    findings = []
    for selector in _selectors(tree):
        name = selector_name(selector)
        if name is None:
            findings.append(f"{where}: a selector without a metric name")
            continue
        if name not in source_metrics() and name not in EXTERNAL_METRICS:
            findings.append(f"{where}: metric {name} is neither in Sources/ nor in EXTERNAL_METRICS")
        if jobs is None or (name in EXTERNAL_METRICS and name != "up"):
            continue
        wanted = {job for _, job in jobs} if name == "up" else {next((job for prefix, job in jobs if name.startswith(prefix)), "")}
        job = _matchers(selector).get("job")
        if job is None or job[0] != "MatchOp.Equal" or job[1] not in wanted:
            findings.append(f"{where}: {name} does not select job={' or '.join(sorted(wanted))}, the monitors' job label")
    return findings


# --- docs/operations.md ----------------------------------------------------------------


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors = set()
    for line in markdown.splitlines():
        if match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
            text = re.sub(r"[`*_]", "", match[1]).strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def documented_alerts(markdown: str) -> set[str]:
    """Alert names with a runbook heading (`### TigSomething`)."""
    return set(re.findall(r"^###\s+(Tig[A-Za-z]+)\s*$", markdown, re.M))


# --- the dashboard ---------------------------------------------------------------------


def dashboard_panels(dashboard: dict) -> Iterator[dict]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_findings(dashboard: dict, where: str) -> list[str]:
    findings = []
    ids = [panel.get("id") for panel in dashboard_panels(dashboard)]
    if len(ids) != len(set(ids)):
        findings.append(f"{where}: panel ids repeat")
    variables = {variable["name"] for variable in dashboard.get("templating", {}).get("list", [])}
    if "datasource" not in variables:
        findings.append(f"{where}: no datasource variable (the dashboard would be bound to one data source)")
    queried = 0
    for panel in dashboard_panels(dashboard):
        grid = panel.get("gridPos", {})
        if grid.get("x", 0) + grid.get("w", 0) > 24:
            findings.append(f"{where}: panel {panel.get('title')!r} is wider than the 24 grid columns")
        if panel.get("type") == "row":
            continue
        if not panel.get("targets"):
            findings.append(f"{where}: panel {panel.get('title')!r} has no query")
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            queried += 1
            used = set(re.findall(r"\$\{?([a-z_]+)\}?", GRAFANA_INTERVALS.sub("", expr)))
            if unknown := used - variables:
                findings.append(f"{where}: panel {panel.get('title')!r} uses undefined variables {sorted(unknown)}")
            findings += expression_findings(GRAFANA_INTERVALS.sub("5m", expr), f"{where}: panel {panel.get('title')!r}")
    if not queried:
        findings.append(f"{where}: no panel queries anything")
    return findings
