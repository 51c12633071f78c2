"""Offline static checks of tig's Kubernetes packaging: the chart, manifests/,
operator/, the Dockerfiles and the scripts around them.

Run through checks/packaging.sh, which installs the tools first. Each check
prints one line; a failing one prints what failed below it. The last line
counts them, and the exit status is 1 if any failed.
"""

from __future__ import annotations

import base64
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

    headless = [s for s in find(objects, "Service") if s["spec"].get("clusterIP") == "None"]
    want(len(headless) == 1, "there is not exactly one headless Service")
    for service in headless:
        dns = f"{service['metadata']['name']}.{namespace}.svc.{values['clusterDomain']}"
        want(env.get("TIG_CLUSTER", {}).get("value") == dns, f"TIG_CLUSTER is not {dns}")
        want(service["spec"].get("publishNotReadyAddresses") is False, "the headless Service publishes unready pods")
    for service in find(objects, "Service"):
        want(service["spec"]["selector"] == selector, f"Service {service['metadata']['name']} selects other pods")
        want(service["spec"]["ports"][0]["targetPort"] == port["name"], "a Service targets another port")

    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        want(get.get("path") == path and get.get("port") == port["name"], f"{probe} is not GET {path} on the tig port")

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
        for path in ("/etc/ssl/tig.key", "/etc/ssl/tig.crt"):
            mount = mounts.get(path, {})
            secret = volumes.get(mount.get("name"), {}).get("secret", {})
            want(mount.get("readOnly") is True and secret.get("secretName") == values["tls"]["secretName"],
                 f"{path} is not mounted read-only from tls.secretName")  # fmt: skip
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
    want(config["metricsPort"] == server["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
         "metricsPort is not the tig port")  # fmt: skip
    want(config["metricsScheme"] == ("https" if values["tls"]["enabled"] else "http"), "metricsScheme does not match tls.enabled")
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
    expect(findings)
    return "hadolint clean, Dockerfile.runtime has the same runtime contract"


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
