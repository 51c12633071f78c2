"""Offline static checks of tig's Kubernetes packaging: the chart, manifests/,
operator/, the Dockerfiles and the scripts around them.

Run through checks/packaging.sh, which installs the tools first. Each check
prints one line; a failing one prints what failed below it. The last line
counts them, and the exit status is 1 if any failed.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import helm_python
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

import chart_docs
import chart_monitoring
import render

REPO = render.REPO
TOOLS = Path(sys.executable).parent  # the venv's bin: checkov, hadolint, yamllint
KUBERNETES_VERSIONS = ["1.28.0", "1.33.0"]  # the oldest supported release, and a current one
DOCKERFILES = [REPO / "Dockerfile", REPO / "Dockerfile.runtime"]
SMOKE_TEST = REPO / "checks" / "container-smoke.sh"
CHECKOV_SKIPS = REPO / "checks" / "checkov-skips.txt"
# The operator's config keys, in SPEC §6.4's order (plus metricsScheme, for pods serving TLS).
OPERATOR_CONFIG_KEYS = [
    "namespace", "deployment", "selector", "metricsPort", "metricsScheme", "work", "lifetime", "lifetimeJitter",
    "normalRate", "tolerance", "minReplicas", "maxReplicas", "interval", "leaderElection", "dryRun",
]  # fmt: skip


class Failed(Exception):
    """A check's findings: one line each."""

    def __init__(self, findings: list[str]) -> None:
        super().__init__("\n".join(findings))
        self.findings = findings


def expect(findings: list[str]) -> None:
    if findings:
        raise Failed(findings)


# --- what the checks share ---------------------------------------------------------


class Rendered:
    """Every scenario rendered once, plus the operator/ objects built by kustomize."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.scenarios = render.scenarios()
        self.documents: dict[str, list[render.Document]] = {}
        self.values: dict[str, dict] = {}
        with helm_python.Chart.load(render.CHART) as chart:
            for scenario in self.scenarios:
                values = render.load_values(scenario.values_file)
                self.values[scenario.name] = chart.merge_values(values)
                self.documents[scenario.name] = render.render(values, scenario.release, scenario.namespace)
        self.operator_dir: list[dict] | None = None

    def write(self) -> Path:
        """The objects as files, for the file-based tools (checkov, yamllint)."""
        out = self.workdir / "rendered"
        out.mkdir(exist_ok=True)
        for name, documents in self.documents.items():
            (out / f"chart-{name}.yaml").write_text(render.join_documents(documents))
        if self.operator_dir is not None:
            (out / "operator-kustomize.yaml").write_text(yaml.safe_dump_all(self.operator_dir, sort_keys=False))
        return out


def manifest_objects() -> list[dict]:
    if not render.MANIFEST.exists():
        raise Failed(["manifests/tig.yaml is missing: run manifests/generate.sh"])
    return [obj for obj in yaml.safe_load_all(render.MANIFEST.read_text()) if obj]


def find(objects: list[dict], kind: str, component: str | None = None) -> list[dict]:
    return [
        obj
        for obj in objects
        if obj.get("kind") == kind
        and (component is None or obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component)
    ]


def one(objects: list[dict], kind: str, component: str | None = None) -> dict:
    found = find(objects, kind, component)
    if len(found) != 1:
        raise Failed([f"expected one {kind} ({component or 'any component'}), found {len(found)}"])
    return found[0]


def parse_selector(selector: str) -> dict[str, str]:
    """An equality-based label selector, `a=b,c=d`, as a dict."""
    labels = {}
    for term in selector.split(","):
        key, sep, value = term.strip().partition("=")
        if not sep or value.startswith("=") or key.endswith("!"):
            raise Failed([f"selector term {term!r} is not key=value"])
        labels[key] = value
    return labels


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def duration_seconds(text: str) -> float:
    """A Go-style duration of tig (docs/DESIGN.md): `25s`, `1m30s`, `0`."""
    units = {"ns": 1e-9, "us": 1e-6, "ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text)
    assert text == "0" or "".join(number + unit for number, unit in parts) == text, f"not a duration: {text}"
    return sum(float(number) * units[unit] for number, unit in parts)


def arg_value(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def design_flags(program: str) -> set[str]:
    """The flags docs/DESIGN.md's table lists for `tig serve` or `tig-operator`."""
    text = (REPO / "docs" / "DESIGN.md").read_text()
    section = text.split(f"### `{program}`", 1)[1].split("\n#", 1)[0]
    return {flag for line in section.splitlines() if line.startswith("| `--") for flag in re.findall(r"`(--[a-z-]+)", line.split("|")[1])}


def design_rbac() -> dict[tuple[str, str], set[str]]:
    """(API group, resource) -> verbs, from docs/DESIGN.md's table of the operator's API calls."""
    text = (REPO / "docs" / "DESIGN.md").read_text()
    table = text.split("| API group | resource | verbs |", 1)[1]
    rules: dict[tuple[str, str], set[str]] = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        group, resource, verbs = (cell.strip() for cell in line.strip("|").split("|"))
        group = group.strip("`").strip('"')
        rules[(group, resource.strip("`"))] = set(re.findall(r"`([a-z]+)`", verbs))
    return rules


def role_rbac(role: dict) -> dict[tuple[str, str], set[str]]:
    rules: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                rules.setdefault((group, resource), set()).update(rule["verbs"])
    return rules


def rbac_findings(role: dict, where: str) -> list[str]:
    expected, granted = design_rbac(), role_rbac(role)
    findings = []
    for key in sorted(set(expected) | set(granted)):
        if expected.get(key, set()) != granted.get(key, set()):
            group, resource = key
            findings.append(
                f"{where}: {group or 'core'}/{resource}: Role grants {sorted(granted.get(key, set()))}, "
                f"docs/DESIGN.md lists {sorted(expected.get(key, set()))}"
            )
    return findings


def run(command: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=REPO, **kwargs)  # type: ignore[call-overload]


def tool_failed(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise Failed(output or [f"exit status {result.returncode}"])


# --- the checks --------------------------------------------------------------------


def check_helm_lint(rendered: Rendered) -> str:
    findings = []
    for scenario in rendered.scenarios:
        report = helm_python.lint(
            render.CHART, render.load_values(scenario.values_file), strict=True, namespace=scenario.namespace
        )
        # Severity 1 is informational ("icon is recommended"); 2 and up fail under --strict.
        findings += [f"{scenario.name}: {m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]
        findings += [f"{scenario.name}: {error}" for error in report["errors"]]
    expect(findings)
    return f"{len(rendered.scenarios)} value sets"


def check_kubernetes_schemas(rendered: Rendered) -> str:
    objects = [(f"{name}: ", doc.obj) for name, docs in rendered.documents.items() for doc in docs]
    objects += [("manifests/tig.yaml: ", obj) for obj in manifest_objects()]
    objects += [("operator/: ", obj) for obj in rendered.operator_dir or []]
    # ServiceMonitor, PodMonitor, PrometheusRule, HTTPRoute: against their CRDs (check_custom_resources).
    objects = [(where, obj) for where, obj in objects if not chart_monitoring.is_custom_resource(obj)]
    findings = []
    for version in KUBERNETES_VERSIONS:
        for where, obj in objects:
            what = f"{where}{obj.get('kind')}/{obj.get('metadata', {}).get('name')} on {version}"
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except ValidationError as error:
                path = ".".join(str(part) for part in error.path)
                findings.append(f"{what}: {path}: {error.message}")
            except SchemaNotFoundError:
                # kubernetes-validate only warns about these; a kind the API server
                # does not serve would fail the install, so it fails here.
                findings.append(f"{what}: unknown kind {obj.get('apiVersion')} {obj.get('kind')}")
    expect(findings)
    return f"{len(objects)} objects x Kubernetes {', '.join(v.rsplit('.', 1)[0] for v in KUBERNETES_VERSIONS)}, strict"


def server_contract(name: str, objects: list[dict], values: dict) -> list[str]:
    """SPEC §8's promises about the tig pods, for one rendered scenario."""
    findings: list[str] = []

    def want(condition: bool, message: str) -> None:
        if not condition:
            findings.append(f"{name}: {message}")

    deployment = one(objects, "Deployment", "server")
    namespace = deployment["metadata"]["namespace"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod = deployment["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "tig")
    port = container["ports"][0]
    args = container["args"]
    env = {e["name"]: e for e in container.get("env", [])}
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}

    want(args[0] == "serve", "the container does not run `tig serve`")
    unknown = {a for a in args if a.startswith("--")} - design_flags("tig serve")
    want(not unknown, f"tig serve flags not in docs/DESIGN.md: {sorted(unknown)}")
    want(pod.get("automountServiceAccountToken") is False, "the tig pods mount a service account token")
    data = volumes.get(mounts.get("/data", {}).get("name"), {}).get("emptyDir")
    want(data is not None, "/data is not an emptyDir")
    if data is not None:
        want(data.get("medium", "") == values["data"]["medium"], "/data's emptyDir medium is not data.medium")
        want(bool(data.get("sizeLimit")), "/data has no sizeLimit")
    want(env.get("POD_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "status.podIP",
         "POD_IP is not the downward API's status.podIP")  # fmt: skip

    # The Services of the public port: the clients' and the peers' (headless).
    # The admin port has its own (component metrics), for ServiceMonitors.
    services = find(objects, "Service", "server")
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    want(len(headless) == 1, "there is not exactly one headless Service")
    for service in headless:
        dns = f"{service['metadata']['name']}.{namespace}.svc.{values['clusterDomain']}"
        want(env.get("TIG_CLUSTER", {}).get("value") == dns, f"TIG_CLUSTER is not {dns}")
        want(service["spec"].get("publishNotReadyAddresses") is False, "the headless Service publishes unready pods")
    for service in services:
        want(service["spec"]["selector"] == selector, f"Service {service['metadata']['name']} selects other pods")
        want(service["spec"]["ports"][0]["targetPort"] == port["name"], "a Service targets another port")

    admin = next((p for p in container["ports"] if p["name"] == "admin"), None)
    want(admin is not None and arg_value(args, "--admin-listen") == f":{admin['containerPort']}",
         "the admin listener is not the container's admin port")  # fmt: skip
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        want(get.get("path") == path and get.get("port") == "admin" and get.get("scheme") == "HTTP",
             f"{probe} is not GET {path} on the admin port")  # fmt: skip
    for service in services:
        want(all(p.get("targetPort") not in ("admin", admin and admin["containerPort"]) for p in service["spec"]["ports"]),
             f"Service {service['metadata']['name']} exposes the admin port")  # fmt: skip
    for service in find(objects, "Service", "metrics"):
        want(service["spec"]["selector"] == selector, f"Service {service['metadata']['name']} selects other pods")
        want([p["targetPort"] for p in service["spec"]["ports"]] == ["admin"], "the metrics Service exposes more than the admin port")
        want(service["spec"].get("publishNotReadyAddresses") is True, "the metrics Service hides unready pods from Prometheus")

    drain = duration_seconds(arg_value(args, "--drain-timeout") or "25s")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", ["sleep", "0"])
    want(pre_stop[0] == "sleep", "the preStop hook is not a sleep")
    want(pod["terminationGracePeriodSeconds"] > drain + int(pre_stop[1]),
         "terminationGracePeriodSeconds does not exceed the preStop sleep plus the drain timeout")  # fmt: skip

    want(security.get("runAsNonRoot") is True, "the container may run as root")
    want(security.get("readOnlyRootFilesystem") is True, "the root file system is writable")
    want(security.get("allowPrivilegeEscalation") is False, "privilege escalation is allowed")
    want("ALL" in security.get("capabilities", {}).get("drop", []), "capabilities are not all dropped")
    want(security.get("seccompProfile", {}).get("type") == "RuntimeDefault", "no RuntimeDefault seccomp profile")
    for kind in ("requests", "limits"):
        want({"cpu", "memory"} <= set(container.get("resources", {}).get(kind, {})), f"no cpu and memory {kind}")

    tls = values["tls"]["enabled"]
    want(port["containerPort"] == (443 if tls else 7777), "the container port is not 443 with TLS, 7777 without")
    if tls:
        # A directory, not subPath files: a renewed Secret reaches the server.
        mount = mounts.get("/etc/tig/tls", {})
        secret = volumes.get(mount.get("name"), {}).get("secret", {})
        want(mount.get("readOnly") is True and "subPath" not in mount and secret.get("secretName") == values["tls"]["secretName"],
             "/etc/tig/tls is not the tls.secretName Secret mounted read-only as a directory")  # fmt: skip
        want(arg_value(args, "--tls-key") == "/etc/tig/tls/tls.key" and arg_value(args, "--tls-cert") == "/etc/tig/tls/tls.crt",
             "the server does not read the mounted key and certificate")  # fmt: skip
    if values["apiKey"]["existingSecret"]:
        ref = env.get("APIKEY", {}).get("valueFrom", {}).get("secretKeyRef", {})
        want(ref == {"name": values["apiKey"]["existingSecret"], "key": values["apiKey"]["secretKey"]},
             "APIKEY does not come from apiKey.existingSecret")  # fmt: skip
    else:
        want("APIKEY" not in env, "APIKEY is set without apiKey.existingSecret")
    want(env.get("TIG_REPLICAS", {}).get("value") == str(values["cluster"]["replicas"]),
         "TIG_REPLICAS is not cluster.replicas")  # fmt: skip
    findings += cluster_secret_contract(name, objects, values, pod, container)
    return findings


def cluster_secret_contract(name: str, objects: list[dict], values: dict, pod: dict, container: dict) -> list[str]:
    """TIG_CLUSTER_SECRET_FILE is a file of the cluster Secret (the chart's own,
    random one, or cluster.secret.existingSecret) that only the server can read."""
    findings: list[str] = []

    def want(condition: bool, message: str) -> None:
        if not condition:
            findings.append(f"{name}: {message}")

    wanted = values["cluster"]["secret"]
    created = f"{one(objects, 'Deployment', 'server')['metadata']['name']}-cluster"
    secret_name = wanted["existingSecret"] or (created if wanted["create"] else "")
    secrets = {obj["metadata"]["name"]: obj for obj in find(objects, "Secret")}
    path = next((e.get("value") for e in container.get("env", []) if e["name"] == "TIG_CLUSTER_SECRET_FILE"), None)
    if not secret_name:
        want(path is None, "TIG_CLUSTER_SECRET_FILE is set without a cluster secret")
        want(created not in secrets, f"Secret {created} is created with cluster.secret.create off")
        return findings
    if wanted["existingSecret"]:
        want(created not in secrets, f"Secret {created} is created although cluster.secret.existingSecret is set")
    else:
        secret = secrets.get(created)
        want(secret is not None, f"cluster.secret.create renders no Secret {created}")
        if secret is not None:
            value = base64.b64decode(secret.get("data", {}).get("secret", "")).rstrip()
            want(len(value) >= 16, f"Secret {created}'s key `secret` is shorter than the server's 16 bytes")
    if path is None:
        return [*findings, f"{name}: TIG_CLUSTER_SECRET_FILE is not set, yet there is a cluster secret"]
    mounts = container.get("volumeMounts", [])
    mount = next((m for m in mounts if path.startswith(m["mountPath"].rstrip("/") + "/")), None)
    volume = next((v for v in pod.get("volumes", []) if mount and v["name"] == mount["name"]), {}).get("secret")
    if mount is None or volume is None:
        return [*findings, f"{name}: TIG_CLUSTER_SECRET_FILE {path} is not in a mounted Secret volume"]
    want(volume.get("secretName") == secret_name, f"{path} is mounted from another Secret than {secret_name}")
    want(mount.get("readOnly") is True, f"{path} is not mounted read-only")
    want("subPath" not in mount, f"{path} is mounted with subPath, which never sees an edited Secret")
    relative = path[len(mount["mountPath"].rstrip("/")) + 1:]
    items = volume.get("items")
    item = next((i for i in items if i["path"] == relative), None) if items else {"key": relative}
    want(item is not None and item["key"] == "secret", f"{path} is not the Secret's key `secret`")
    # Secret volume files are owned by root, group fsGroup: the server (non-root)
    # reads the file through its group, and nobody else may.
    mode = (item or {}).get("mode", volume.get("defaultMode", 0o644))
    want(pod.get("securityContext", {}).get("fsGroup") is not None,
         f"{path} is owned by root and no fsGroup lets the server read it")  # fmt: skip
    want(mode & 0o040 and not mode & 0o007, f"{path} has mode {mode:o}: not readable by group fsGroup only")
    return findings


def operator_contract(name: str, objects: list[dict], values: dict) -> list[str]:
    """The operator scales exactly the chart's tig Deployment, with SPEC §6.4's config."""
    findings: list[str] = []

    def want(condition: bool, message: str) -> None:
        if not condition:
            findings.append(f"{name}: {message}")

    server = one(objects, "Deployment", "server")
    replicas = server["spec"]["replicas"]
    if not values["operator"]["enabled"]:
        want(not find(objects, "Deployment", "operator"), "an operator is installed without operator.enabled")
        want(replicas == values["replicaCount"], "the tig Deployment does not run replicaCount pods")
        return findings

    cfg = values["operator"]["config"]
    want(cfg["minReplicas"] <= replicas <= cfg["maxReplicas"], "the starting replicas are outside [min, max]")
    config = yaml.safe_load(one(objects, "ConfigMap", "operator")["data"]["config.yaml"])
    want(list(config) == OPERATOR_CONFIG_KEYS, f"the config's keys are not SPEC §6.4's: {list(config)}")
    want(config["namespace"] == server["metadata"]["namespace"], "the config names another namespace")
    want(config["deployment"] == server["metadata"]["name"], "the config names another Deployment")
    selector = parse_selector(config["selector"])
    want(selector == server["spec"]["selector"]["matchLabels"], "the config's selector is not the Deployment's")
    admin = next(p for p in server["spec"]["template"]["spec"]["containers"][0]["ports"] if p["name"] == "admin")
    want(config["metricsPort"] == admin["containerPort"], "metricsPort is not the admin port")
    want(config["metricsScheme"] == "http", "metricsScheme is not http (the admin listener is plain HTTP)")
    want({k: config[k] for k in cfg} == cfg, "the config's Mitosis settings differ from operator.config")

    operator = one(objects, "Deployment", "operator")
    pod = operator["spec"]["template"]["spec"]
    container = pod["containers"][0]
    want(not matches(selector, operator["spec"]["template"]["metadata"]["labels"]), "the operator selects itself")
    want(container["command"] == ["tig-operator"], "the operator container does not run tig-operator")
    unknown = {a for a in container["args"] if a.startswith("--")} - design_flags("tig-operator")
    want(not unknown, f"tig-operator flags not in docs/DESIGN.md: {sorted(unknown)}")
    want(arg_value(container["args"], "--config") == "/etc/tig-operator/config.yaml", "no --config /etc/tig-operator/config.yaml")
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in container["env"]}
    want(env.get("POD_NAME") == "metadata.name" and env.get("POD_NAMESPACE") == "metadata.namespace",
         "POD_NAME and POD_NAMESPACE do not come from the downward API")  # fmt: skip
    for probe in ("livenessProbe", "readinessProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        want(get.get("path") == "/healthz" and get.get("port") == "http-metrics", f"the operator's {probe} is not /healthz")
    want(container["ports"][0]["containerPort"] == 8080, "the operator's port is not 8080 (docs/DESIGN.md)")
    want(container["securityContext"] == server["spec"]["template"]["spec"]["containers"][0]["securityContext"],
         "the operator's container security context differs from the server's")  # fmt: skip

    role = one(objects, "Role", "operator")
    binding = one(objects, "RoleBinding", "operator")
    want(binding["roleRef"]["name"] == role["metadata"]["name"], "the RoleBinding binds another Role")
    want(binding["subjects"][0]["name"] == pod["serviceAccountName"], "the Role is bound to another ServiceAccount")
    if cfg["leaderElection"]:
        findings += rbac_findings(role, name)
    return findings


def check_chart_contract(rendered: Rendered) -> str:
    findings = []
    for name, documents in rendered.documents.items():
        objects = [doc.obj for doc in documents]
        try:
            findings += server_contract(name, objects, rendered.values[name])
            findings += operator_contract(name, objects, rendered.values[name])
        except Failed as failed:
            findings += [f"{name}: {finding}" for finding in failed.findings]
    expect(findings)
    return "pods, Services, TLS, API key, cluster secret, operator config and RBAC (docs/DESIGN.md)"


def check_operator_dir(rendered: Rendered) -> str:
    """operator/ (kustomize) must drive the Deployment that manifests/ creates."""
    if shutil.which("kubectl") is None:
        raise Failed(["kubectl (for `kubectl kustomize operator/`) is not installed"])
    result = run(["kubectl", "kustomize", "operator"])
    tool_failed(result)
    objects = [obj for obj in yaml.safe_load_all(result.stdout) if obj]
    rendered.operator_dir = objects
    server = one(manifest_objects(), "Deployment", "server")
    config = yaml.safe_load(one(objects, "ConfigMap")["data"]["config.yaml"])
    operator = one(objects, "Deployment")
    role = one(objects, "Role")
    selector = parse_selector(config["selector"])
    findings = rbac_findings(role, "operator/role.yaml")

    def want(condition: bool, message: str) -> None:
        if not condition:
            findings.append(f"operator/: {message}")

    want(config["namespace"] == server["metadata"]["namespace"], "config.yaml names another namespace than manifests/")
    want(all(obj["metadata"]["namespace"] == config["namespace"] for obj in objects), "objects outside config.yaml's namespace")
    want(config["deployment"] == server["metadata"]["name"], "config.yaml names another Deployment than manifests/")
    want(matches(selector, server["spec"]["template"]["metadata"]["labels"]), "config.yaml's selector misses the tig pods")
    want(not matches(selector, operator["spec"]["template"]["metadata"]["labels"]), "the operator selects itself")
    names = {tuple(r["resources"]): r.get("resourceNames") for r in role["rules"] if r.get("resourceNames")}
    want(names.get(("deployments",)) == [config["deployment"]], "role.yaml is not narrowed to config.yaml's Deployment")
    want(names.get(("leases",)) == [f"{config['deployment']}-operator"], "role.yaml's Lease is not <deployment>-operator")
    container = operator["spec"]["template"]["spec"]["containers"][0]
    want(arg_value(container["args"], "--config") == "/etc/tig-operator/config.yaml", "no --config /etc/tig-operator/config.yaml")
    expect(findings)
    return f"kubectl kustomize: {len(objects)} objects match manifests/ and docs/DESIGN.md"


def check_manifests() -> str:
    drift = render.manifest_drift()
    if drift:
        raise Failed(["manifests/tig.yaml differs from the chart; run manifests/generate.sh", *drift.splitlines()[:40]])
    return "manifests/tig.yaml is the chart rendered with defaults (no cluster secret)"


def check_values_docs() -> str:
    expect(chart_docs.problems())
    return "every value in charts/tig/README.md, table up to date"


def final_stage(dockerfile: Path) -> dict[str, list[str]]:
    """Instructions of the last stage, continuation lines joined, by keyword."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    stages = re.split(r"(?im)^FROM\s", text)
    instructions: dict[str, list[str]] = {}
    for line in stages[-1].splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.setdefault(keyword.upper(), []).append(" ".join(rest.split()))
    return instructions


def check_dockerfiles() -> str:
    result = run([TOOLS / "hadolint", "--config", REPO / ".hadolint.yaml", *DOCKERFILES])
    tool_failed(result)
    image, prebuilt = (final_stage(path) for path in DOCKERFILES)
    findings = [
        f"Dockerfile.runtime's {keyword} differs from the Dockerfile's runtime stage: {prebuilt.get(keyword)} != {image.get(keyword)}"
        for keyword in ("USER", "EXPOSE", "ENTRYPOINT", "CMD")
        if image.get(keyword) != prebuilt.get(keyword)
    ]
    # The user and /data are created by the same commands in both.
    account = [cmd for cmd in image["RUN"][0].split("&&") if re.search(r"groupadd|useradd|install -d", cmd)]
    if not all(cmd.strip() in prebuilt["RUN"][0] for cmd in account):
        findings.append("Dockerfile.runtime creates the user or /data differently than the Dockerfile")
    # The smoke test's base holds what the runtime stage installs.
    installed = re.search(r"apt-get install -y --no-install-recommends ([^&]+)", image["RUN"][0])
    smoke = re.search(r'^RUNTIME_PACKAGES="([^"]+)"', SMOKE_TEST.read_text(), re.M)
    if not installed or not smoke or set(installed[1].split()) != set(smoke[1].split()):
        findings.append("checks/container-smoke.sh's RUNTIME_PACKAGES differ from the Dockerfile's runtime packages")
    findings += copies_outside_the_build_context()
    expect(findings)
    return "hadolint clean, Dockerfile.runtime has the same runtime contract, every COPY source is in the build context"


def copies_outside_the_build_context() -> list[str]:
    """The Dockerfile's COPY sources that .dockerignore (everything out, then
    `!path` lines let paths back in) keeps out of the build context: such a
    build fails at that COPY, which hadolint does not see."""
    admitted = [line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    findings = []
    for line in (REPO / "Dockerfile").read_text().splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(word.startswith("--from") for word in words):
            continue
        for source in words[1:-1]:
            source = source.rstrip("/").removeprefix("./")
            # A glob source (`Package.*`) needs some admitted path it matches.
            if not any(fnmatch.fnmatch(source, pattern) or fnmatch.fnmatch(pattern, source) or source.startswith(pattern + "/")
                       for pattern in admitted):
                findings.append(f"Dockerfile copies {source}, which .dockerignore keeps out of the build context")
    return findings


def checkov_skips() -> list[str]:
    skips, findings = [], []
    for number, line in enumerate(CHECKOV_SKIPS.read_text().splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            check, _, reason = line.partition(" ")
            skips.append(check)
            if not reason.strip():
                findings.append(f"{CHECKOV_SKIPS.name}:{number}: {check} is skipped without a reason")
    expect(findings)
    return skips


def check_checkov(rendered: Rendered) -> str:
    skips = checkov_skips()
    # One directory holding everything: checkov ignores --file next to --directory.
    out = rendered.workdir / "checkov"
    shutil.copytree(rendered.write(), out, dirs_exist_ok=True)
    for source in (render.MANIFEST, *DOCKERFILES):
        shutil.copy(source, out / source.name)
    env = {
        **os.environ,
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # else it asks PyPI for a newer checkov
        "BC_SKIP_MAPPING": "TRUE",  # no download of the platform's check mappings
    }
    command: list[str | Path] = [
        TOOLS / "checkov", "--directory", out, "--framework", "kubernetes", "dockerfile",
        "--skip-download", "--skip-check", ",".join(skips), "--quiet", "--compact",
    ]  # fmt: skip
    # Where a network namespace can be made (root), run it without any network,
    # so that "offline" is enforced rather than assumed.
    if run(["unshare", "--net", "true"]).returncode == 0:
        command = ["unshare", "--net", "--", *command]
    result = run(command, env=env)
    tool_failed(result)
    return f"kubernetes and dockerfile frameworks, {len(skips)} checks skipped (checks/checkov-skips.txt), no network"


def repo_files(*patterns: str) -> list[Path]:
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *patterns])
    tool_failed(listed)
    return [REPO / line for line in listed.stdout.splitlines() if (REPO / line).exists()]


def check_yamllint(rendered: Rendered) -> str:
    # Chart templates are Go templates, not YAML: their output is linted instead.
    sources = [p for p in repo_files("*.yaml", "*.yml") if "templates" not in p.relative_to(REPO).parts]
    out = rendered.write()
    files = [*sources, *sorted(out.glob("*.yaml"))]
    result = run([TOOLS / "yamllint", "--strict", "-c", REPO / "checks" / "yamllint.yaml", "-f", "parsable", *files])
    tool_failed(result)
    return f"{len(sources)} repository files, {len(files) - len(sources)} rendered"


def check_shellcheck() -> str:
    scripts = []
    for folder in ("checks", "e2e/kind", "bench", "manifests"):
        for path in repo_files(f"{folder}/*"):
            first = path.read_bytes()[:64].split(b"\n", 1)[0]
            if path.suffix == ".sh" or re.match(rb"#!.*\b(ba)?sh\b", first):
                scripts.append(path)
    if not scripts:
        raise Failed(["no shell scripts found"])
    result = run(["shellcheck", "--external-sources", "--source-path=SCRIPTDIR", *scripts])
    tool_failed(result)
    return f"{len(scripts)} scripts"


def check_custom_resources(rendered: Rendered) -> str:
    """The Prometheus Operator and Gateway API objects against their CRDs'
    schemas (checks/crd-schemas/), strictly; and, once per kind, broken copies
    of a rendered object must fail, so a validator that accepts anything fails."""
    findings: list[str] = []
    counts: dict[str, int] = {}
    first: dict[str, dict] = {}
    for name, documents in rendered.documents.items():
        for doc in documents:
            if not chart_monitoring.is_custom_resource(doc.obj):
                continue
            counts[doc.kind] = counts.get(doc.kind, 0) + 1
            first.setdefault(doc.kind, doc.obj)
            findings += [f"{name}: {doc.kind}/{doc.name}: {error}" for error in chart_monitoring.custom_resource_errors(doc.obj)]
    for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule", "HTTPRoute"):
        if kind not in first:
            findings.append(f"no value set renders a {kind}: checks/chart-values/ should enable it")
            continue
        for what, broken in chart_monitoring.broken_copies(first[kind]):
            if not chart_monitoring.custom_resource_errors(broken):
                findings.append(f"the {kind} schema accepts {what}")
    expect(findings)
    versions = sorted({f"{source['repository'].rsplit('/', 1)[1]} {source['tag']}" for _, source in chart_monitoring.crd_validators().values()})
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    return f"{summary} valid against the CRDs of {' and '.join(versions)}; broken copies refused"


def runbook_findings(where: str, rule: dict, anchors: set[str]) -> list[str]:
    alert = rule["alert"]
    findings = []
    for key in ("expr", "for"):
        if not rule.get(key):
            findings.append(f"{where}: {alert} has no {key}")
    if rule.get("labels", {}).get("severity") not in chart_monitoring.SEVERITIES:
        findings.append(f"{where}: {alert}'s labels.severity is not one of {sorted(chart_monitoring.SEVERITIES)}")
    annotations = rule.get("annotations", {})
    for key in ("summary", "description", "runbook_url"):
        if not annotations.get(key):
            findings.append(f"{where}: {alert} has no annotations.{key}")
    url = annotations.get("runbook_url", "")
    page, _, anchor = url.partition("#")
    if not page.endswith("docs/operations.md") or anchor != alert.lower() or anchor not in anchors:
        findings.append(f"{where}: {alert}'s runbook_url {url!r} is not docs/operations.md#{alert.lower()} (a heading there)")
    return findings


def check_alert_rules(rendered: Rendered) -> str:
    """Every alert: expr, for, labels.severity, summary, description and a
    runbook_url to its section of docs/operations.md; its PromQL parses, reads
    only metrics that exist and selects the job the chart's monitors set."""
    if not chart_monitoring.OPERATIONS.exists():
        raise Failed(["docs/operations.md (the alerts' runbooks) is missing"])
    markdown = chart_monitoring.OPERATIONS.read_text()
    anchors = chart_monitoring.heading_anchors(markdown)
    findings: list[str] = []
    alerts: set[str] = set()
    expressions = 0
    for name, documents in rendered.documents.items():
        values = rendered.values[name]
        job = values["monitoring"]["job"] or one([d.obj for d in documents], "Deployment", "server")["metadata"]["name"]
        jobs = [("tig_operator_", f"{job}-operator"), ("tig_", job), ("process_", job)]
        for doc in documents:
            if doc.kind != "PrometheusRule":
                continue
            for group in doc.obj["spec"]["groups"]:
                custom = group["name"] == "tig-custom"
                for rule in group["rules"]:
                    where = f"{name}: {group['name']}/{rule.get('alert') or rule.get('record')}"
                    expressions += 1
                    findings += chart_monitoring.expression_findings(str(rule["expr"]), where, None if custom else jobs)
                    if "alert" in rule:
                        alerts.add(rule["alert"])
                        findings += runbook_findings(where, rule, anchors)
    if not alerts:
        findings.append("no value set renders an alert rule")
    undocumented = chart_monitoring.documented_alerts(markdown) - alerts
    findings += [f"docs/operations.md documents {alert}, which no value set renders" for alert in sorted(undocumented)]
    # The parser and the metric list must catch what they are there for.
    for expr, problem in (("sum(rate(tig_requests_total[5m])", "does not parse"), ("rate(tig_made_up_total[5m])", "metric")):
        if not any(problem in finding for finding in chart_monitoring.expression_findings(expr, "self-test")):
            findings.append(f"self-test: {expr!r} passes the rule check")
    expect(findings)
    return (
        f"{len(alerts)} alerts, {expressions} expressions parsed (promql-parser), "
        f"{len(chart_monitoring.source_metrics())} metrics from Sources/, runbooks in docs/operations.md"
    )


def check_dashboard(rendered: Rendered) -> str:
    """charts/tig/dashboards/tig.json loads, its queries parse and read only
    metrics that exist; the ConfigMap carries it unchanged, with its labels."""
    try:
        dashboard = json.loads(chart_monitoring.DASHBOARD.read_text())
    except (OSError, ValueError) as error:
        raise Failed([f"{chart_monitoring.DASHBOARD.relative_to(REPO)}: {error}"]) from error
    findings = chart_monitoring.dashboard_findings(dashboard, "dashboards/tig.json")
    rendered_maps = 0
    for name, documents in rendered.documents.items():
        wanted = rendered.values[name]["monitoring"]["dashboard"]
        maps = [doc.obj for doc in documents if doc.kind == "ConfigMap" and "tig.json" in doc.obj.get("data", {})]
        if not wanted["enabled"]:
            if maps:
                findings.append(f"{name}: a dashboard ConfigMap without monitoring.dashboard.enabled")
            continue
        rendered_maps += len(maps)
        if len(maps) != 1:
            findings.append(f"{name}: monitoring.dashboard.enabled renders {len(maps)} dashboard ConfigMaps")
            continue
        config_map = maps[0]
        if json.loads(config_map["data"]["tig.json"]) != dashboard:
            findings.append(f"{name}: the ConfigMap's tig.json differs from charts/tig/dashboards/tig.json")
        labels = config_map["metadata"].get("labels", {})
        if any(labels.get(key) != value for key, value in wanted["labels"].items()):
            findings.append(f"{name}: the dashboard ConfigMap lacks monitoring.dashboard.labels")
        if wanted["namespace"] and config_map["metadata"]["namespace"] != wanted["namespace"]:
            findings.append(f"{name}: the dashboard ConfigMap is not in monitoring.dashboard.namespace")
    if not rendered_maps:
        findings.append("no value set renders the dashboard ConfigMap")
    expect(findings)
    panels = [p for p in chart_monitoring.dashboard_panels(dashboard) if p.get("type") != "row"]
    queries = sum(len(p.get("targets", [])) for p in panels)
    return f"{len(panels)} panels, {queries} queries parsed, metrics from Sources/; ConfigMap in {rendered_maps} value set(s)"


def selects(selector: dict, labels: dict) -> bool:
    return matches(selector.get("matchLabels", {}), labels)


def monitoring_contract(name: str, objects: list[dict], values: dict) -> list[str]:
    """The monitors reach the admin port (and the operator's metrics port) of
    exactly the pods they mean, under the job label the rules select; no
    Ingress or HTTPRoute reaches the admin port; the NetworkPolicy admits it
    from the operator and networkPolicy.adminClients only."""
    findings: list[str] = []

    def want(condition: bool, message: str) -> None:
        if not condition:
            findings.append(f"{name}: {message}")

    server = one(objects, "Deployment", "server")
    fullname = server["metadata"]["name"]
    job = values["monitoring"]["job"] or fullname
    pods = {"server": server["spec"]["template"]}
    ports = {"server": {p["name"]: p["containerPort"] for p in server["spec"]["template"]["spec"]["containers"][0]["ports"]}}
    for operator in find(objects, "Deployment", "operator"):
        pods["operator"] = operator["spec"]["template"]
        ports["operator"] = {p["name"]: p["containerPort"] for p in operator["spec"]["template"]["spec"]["containers"][0]["ports"]}
    jobs = {"server": job, "operator": f"{job}-operator"}
    endpoints = {"server": "admin", "operator": "http-metrics"}

    monitors = find(objects, "ServiceMonitor") + find(objects, "PodMonitor")
    want(bool(find(objects, "ServiceMonitor")) == values["monitoring"]["serviceMonitor"]["enabled"], "ServiceMonitors do not follow monitoring.serviceMonitor.enabled")
    want(bool(find(objects, "PodMonitor")) == values["monitoring"]["podMonitor"]["enabled"], "PodMonitors do not follow monitoring.podMonitor.enabled")
    want(bool(find(objects, "PrometheusRule")) == values["monitoring"]["prometheusRule"]["enabled"], "the PrometheusRule does not follow monitoring.prometheusRule.enabled")
    for monitor in monitors:
        component = monitor["metadata"]["labels"].get("app.kubernetes.io/component", "")
        want(component in pods, f"{monitor['kind']} {monitor['metadata']['name']} watches no component of the release")
        if component not in pods:
            continue
        spec = monitor["spec"]
        want(spec["namespaceSelector"] == {"matchNames": [server["metadata"]["namespace"]]}, f"{monitor['kind']} {monitor['metadata']['name']} looks outside the release's namespace")
        want(all(v == values["monitoring"]["labels"].get(k, v) for k, v in monitor["metadata"]["labels"].items())
             and all(monitor["metadata"]["labels"].get(k) == v for k, v in values["monitoring"]["labels"].items()),
             f"{monitor['kind']} {monitor['metadata']['name']} lacks monitoring.labels")  # fmt: skip
        scrape = (spec.get("endpoints") or spec.get("podMetricsEndpoints"))[0]
        want(scrape["port"] == endpoints[component] and scrape.get("scheme") == "http" and scrape.get("path") == "/metrics",
             f"{monitor['kind']} {monitor['metadata']['name']} does not scrape http /metrics on port {endpoints[component]}")  # fmt: skip
        relabel = scrape.get("relabelings", [{}])[0]
        want(relabel.get("targetLabel") == "job" and relabel.get("replacement") == jobs[component],
             f"{monitor['kind']} {monitor['metadata']['name']} does not label its targets job={jobs[component]}")  # fmt: skip
        if monitor["kind"] == "PodMonitor":
            want(selects(spec["selector"], pods[component]["metadata"]["labels"]), f"PodMonitor {monitor['metadata']['name']} misses the {component} pods")
            want(endpoints[component] in ports[component], f"PodMonitor {monitor['metadata']['name']}'s port is not a container port")
            other = [c for c in pods if c != component and selects(spec["selector"], pods[c]["metadata"]["labels"])]
            want(not other, f"PodMonitor {monitor['metadata']['name']} also selects {other}")
        else:
            services = [s for s in find(objects, "Service") if selects(spec["selector"], s["metadata"]["labels"])]
            want(len(services) == 1, f"ServiceMonitor {monitor['metadata']['name']} selects {len(services)} Services, not one")
            for service in services:
                want(matches(service["spec"]["selector"], pods[component]["metadata"]["labels"]), f"ServiceMonitor {monitor['metadata']['name']}'s Service misses the {component} pods")
                named = {p["name"]: p for p in service["spec"]["ports"]}
                want(named.get(endpoints[component], {}).get("targetPort") == endpoints[component],
                     f"ServiceMonitor {monitor['metadata']['name']}'s Service has no port {endpoints[component]}")  # fmt: skip

    # The admin port is reached by no Ingress and no HTTPRoute, only through the public Service.
    public = next((s for s in find(objects, "Service", "server") if s["metadata"]["name"] == fullname), None)
    public_ports = {p["name"]: p["port"] for p in (public or {"spec": {"ports": []}})["spec"]["ports"]}
    for ingress in find(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                want(backend["name"] == fullname and backend["port"].get("name") in public_ports and backend["port"].get("name") != "admin",
                     "the Ingress routes to something other than the public Service's tig port")  # fmt: skip
    for route in find(objects, "HTTPRoute"):
        for rule in route["spec"]["rules"]:
            for ref in rule["backendRefs"]:
                want(ref["name"] == fullname and ref["port"] in public_ports.values(), "the HTTPRoute routes to something other than the public Service's tig port")
        want(route["spec"]["parentRefs"] == values["httpRoute"]["parentRefs"], "the HTTPRoute's parentRefs are not httpRoute.parentRefs")
    want(bool(find(objects, "HTTPRoute")) == values["httpRoute"]["enabled"], "the HTTPRoute does not follow httpRoute.enabled")

    for policy in find(objects, "NetworkPolicy", "server"):
        rules = [r for r in policy["spec"]["ingress"] if any(p.get("port") == "admin" for p in r.get("ports", []))]
        want(len(rules) == 1 and all(p.get("port") == "admin" for p in rules[0]["ports"]), "the NetworkPolicy has no rule of the admin port alone")
        for rule in rules:
            sources = rule.get("from", [])
            want(bool(sources), "the NetworkPolicy admits the admin port from anywhere")
            operator_labels = {"metadata": {"labels": pods.get("operator", {"metadata": {"labels": {}}})["metadata"]["labels"]}}
            if "operator" in pods:
                want(any(selects(s.get("podSelector", {}), operator_labels["metadata"]["labels"]) and "namespaceSelector" not in s for s in sources),
                     "the NetworkPolicy does not admit the operator to the admin port")  # fmt: skip
            want(all(client in sources for client in values["networkPolicy"]["adminClients"]), "the NetworkPolicy does not admit networkPolicy.adminClients to the admin port")
    return findings


INGRESS_PREFIXES = {"nginx": "nginx.ingress.kubernetes.io/", "alb": "alb.ingress.kubernetes.io/", "traefik": "traefik.ingress.kubernetes.io/"}


def ingress_contract(name: str, objects: list[dict], values: dict) -> list[str]:
    """Annotations of the Ingress's own controller only; a plain-HTTP Ingress
    without TLS; the backend protocol the pods speak."""
    findings: list[str] = []

    def want(condition: bool, message: str) -> None:
        if not condition:
            findings.append(f"{name}: {message}")

    wanted = values["ingress"]
    ingresses = find(objects, "Ingress")
    want(bool(ingresses) == wanted["enabled"], "the Ingress does not follow ingress.enabled")
    for ingress in ingresses:
        controller = wanted["controller"] or (wanted["className"] if wanted["className"] in INGRESS_PREFIXES else "none")
        annotations = ingress["metadata"].get("annotations", {})
        added = {k: v for k, v in annotations.items() if k not in wanted["annotations"]}
        prefix = INGRESS_PREFIXES.get(controller)
        want(all(prefix and k.startswith(prefix) for k in added), f"Ingress annotations of another controller than {controller}: {sorted(added)}")
        want(all(annotations.get(k) == v for k, v in wanted["annotations"].items()), "ingress.annotations are not applied over the chart's")
        passthrough = wanted["mode"] == "passthrough"
        tls = bool(ingress["spec"].get("tls"))
        want(tls == (not passthrough and bool(wanted["tlsSecretName"])), "the Ingress's tls section does not follow mode and tlsSecretName")
        https = values["tls"]["enabled"]
        if controller == "nginx":
            want((annotations.get("nginx.ingress.kubernetes.io/backend-protocol") == "HTTPS") == https, "ingress-nginx's backend protocol does not match tls.enabled")
            want((annotations.get("nginx.ingress.kubernetes.io/ssl-passthrough") == "true") == passthrough, "ssl-passthrough does not follow ingress.mode")
            if not passthrough:
                want(annotations.get("nginx.ingress.kubernetes.io/proxy-body-size") == "0", "ingress-nginx limits the body size (tig answers 413 itself)")
        if controller == "alb":
            want(annotations.get("alb.ingress.kubernetes.io/backend-protocol") == ("HTTPS" if https else "HTTP"), "the ALB's backend protocol does not match tls.enabled")
            port = next(p for p in one(objects, "Deployment", "server")["spec"]["template"]["spec"]["containers"][0]["ports"] if p["name"] == "admin")
            want(annotations.get("alb.ingress.kubernetes.io/healthcheck-port") == str(port["containerPort"])
                 and annotations.get("alb.ingress.kubernetes.io/healthcheck-path") == "/readyz",
                 "the ALB does not health-check GET /readyz on the admin port")  # fmt: skip
    return findings


def pod_contract(name: str, objects: list[dict], values: dict) -> list[str]:
    """The extension points reach the Deployment; the `helm test` Pod puts and
    gets a block through the public Service, with the API key, hardened."""
    findings: list[str] = []

    def want(condition: bool, message: str) -> None:
        if not condition:
            findings.append(f"{name}: {message}")

    server = one(objects, "Deployment", "server")
    template = server["spec"]["template"]
    pod = template["spec"]
    tig = next(c for c in pod["containers"] if c["name"] == "tig")
    volumes = [v["name"] for v in pod.get("volumes", [])]
    mounts = tig.get("volumeMounts", [])
    want(all(v["name"] in volumes for v in values["extraVolumes"]), "extraVolumes are not pod volumes")
    want(all(m in mounts for m in values["extraVolumeMounts"]), "extraVolumeMounts are not mounted in the tig container")
    want([c["name"] for c in pod.get("initContainers", [])] == [c["name"] for c in values["initContainers"]], "initContainers are not the pod's")
    want([c["name"] for c in pod["containers"]] == ["tig", *[c["name"] for c in values["sidecars"]]], "the pod's containers are not tig and the sidecars")
    want(all(template["metadata"].get("annotations", {}).get(k) == v for k, v in values["podAnnotations"].items()), "podAnnotations are not on the pods")
    want(all(template["metadata"]["labels"].get(k) == v for k, v in values["podLabels"].items()), "podLabels are not on the pods")
    want(pod.get("priorityClassName", "") == values["priorityClassName"], "priorityClassName is not the pods'")
    want(len(pod.get("topologySpreadConstraints", [])) == len(values["topologySpreadConstraints"]), "topologySpreadConstraints are not the pods'")
    for constraint in pod.get("topologySpreadConstraints", []):
        want(selects(constraint["labelSelector"], template["metadata"]["labels"]), "a topology spread constraint selects other pods")

    tests = [obj for obj in find(objects, "Pod") if (obj["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"]
    want(len(tests) == (1 if values["helmTest"]["enabled"] else 0), "the `helm test` Pod does not follow helmTest.enabled")
    public = next(s for s in find(objects, "Service", "server") if s["metadata"]["name"] == server["metadata"]["name"])
    for test in tests:
        spec = test["spec"]
        container = spec["containers"][0]
        script = " ".join(container.get("command", []) + container.get("args", []))
        env = {e["name"]: e for e in container.get("env", [])}
        scheme = "https" if values["tls"]["enabled"] else "http"
        url = f"{scheme}://{public['metadata']['name']}.{public['metadata']['namespace']}.svc.{values['clusterDomain']}:{public['spec']['ports'][0]['port']}"
        want(env.get("TIG_SERVER", {}).get("value") == url, f"the test does not talk to the public Service ({url})")
        want(container["image"] == tig["image"], "the test runs another image than the pods")
        want(all(step in script for step in ("tig put", "tig get", "cmp ")), "the test does not put, get and compare a block")
        want(spec.get("restartPolicy") == "Never" and spec.get("automountServiceAccountToken") is False, "the test Pod restarts or mounts a token")
        want(container.get("securityContext") == tig.get("securityContext"), "the test container is not hardened like the tig container")
        if values["apiKey"]["existingSecret"]:
            ref = env.get("TIG_APIKEY", {}).get("valueFrom", {}).get("secretKeyRef")
            want(ref == {"name": values["apiKey"]["existingSecret"], "key": values["apiKey"]["secretKey"]}, "the test's TIG_APIKEY is not the server's API key")
        else:
            want("TIG_APIKEY" not in env, "the test sends an API key the server does not have")
    return findings


def check_chart_objects(rendered: Rendered) -> str:
    findings = []
    for name, documents in rendered.documents.items():
        objects = [doc.obj for doc in documents]
        values = rendered.values[name]
        try:
            findings += monitoring_contract(name, objects, values)
            findings += ingress_contract(name, objects, values)
            findings += pod_contract(name, objects, values)
        except Failed as failed:
            findings += [f"{name}: {finding}" for finding in failed.findings]
    hooks = [obj for obj in manifest_objects() if (obj["metadata"].get("annotations") or {}).get("helm.sh/hook")]
    if hooks:
        findings.append("manifests/tig.yaml holds Helm hooks, which kubectl would create as plain objects")
    expect(findings)
    return "monitors, admin port reach, Ingress per controller, HTTPRoute, extension points, helm test Pod"


# --- running them ------------------------------------------------------------------


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tig-packaging-") as workdir:
        started = time.monotonic()
        try:
            rendered = Rendered(Path(workdir))
        except helm_python.HelmError as error:
            print(f"FAIL render the chart\n  {error}")
            print("packaging: 0 passed, 1 failed")
            return 1
        checks: list[tuple[str, Callable[[], str]]] = [
            ("helm lint --strict", lambda: check_helm_lint(rendered)),
            ("operator/ objects", lambda: check_operator_dir(rendered)),
            ("Kubernetes schemas", lambda: check_kubernetes_schemas(rendered)),
            ("chart contract", lambda: check_chart_contract(rendered)),
            ("chart objects", lambda: check_chart_objects(rendered)),
            ("custom resources (CRD schemas)", lambda: check_custom_resources(rendered)),
            ("alert rules", lambda: check_alert_rules(rendered)),
            ("Grafana dashboard", lambda: check_dashboard(rendered)),
            ("manifests/ drift", check_manifests),
            ("chart README values", check_values_docs),
            ("Dockerfiles (hadolint)", check_dockerfiles),
            ("checkov", lambda: check_checkov(rendered)),
            ("yamllint", lambda: check_yamllint(rendered)),
            ("shellcheck", check_shellcheck),
        ]
        print(f"ok   render charts/tig: {len(rendered.scenarios)} value sets ({time.monotonic() - started:.1f}s)")
        passed, failed = 1, 0
        for name, check in checks:
            started = time.monotonic()
            try:
                summary = check()
            except Failed as failure:
                failed += 1
                print(f"FAIL {name} ({time.monotonic() - started:.1f}s)")
                for finding in failure.findings:
                    print(f"     {finding}")
            except Exception:  # a bug in a check must not pass silently
                failed += 1
                print(f"FAIL {name}: the check itself crashed")
                print(traceback.format_exc())
            else:
                passed += 1
                print(f"ok   {name}: {summary} ({time.monotonic() - started:.1f}s)")
        print(f"packaging: {passed} passed, {failed} failed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
