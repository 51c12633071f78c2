"""Per-kind rules of the real API server (its "registry strategies"):
defaulting on create, validation (422 Invalid), which parts of an object an
update may touch, graceful deletion, and the fields a fieldSelector can use.
"""

from __future__ import annotations

import json
import re

from .selector import selector_from_object

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                             r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def _name_causes(name: str, dns_label: bool) -> list[tuple[str, str]]:
    if dns_label:
        if len(name) > 63 or not _DNS_LABEL.match(name):
            return [("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower '
                                      "case alphanumeric characters or '-', and must start and end with an "
                                      "alphanumeric character")]
    elif len(name) > 253 or not _SUBDOMAIN.match(name):
        return [("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                                  "case alphanumeric characters, '-' or '.', and must start and end with an "
                                  "alphanumeric character")]
    return []


def _label_causes(labels: dict | None, field: str) -> list[tuple[str, str]]:
    causes = []
    for key, value in (labels or {}).items():
        if not _QUALIFIED_NAME.match(key) or len(key.split("/")[-1]) > 63:
            causes.append((field, f'Invalid value: "{key}": name part must consist of alphanumeric characters, '
                                  "'-', '_' or '.', and must start and end with an alphanumeric character"))
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append((f"{field}", f'Invalid value: "{value}": a valid label must be an empty string or consist '
                                       "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                                       "alphanumeric character"))
    return causes


def parse_deletion_cost(value: str | None) -> int | None:
    """The annotation as the ReplicaSet controller reads it: a decimal int32
    without '+' or leading zeros; None when the text is not one."""
    if value is None:
        return 0
    if not re.fullmatch(r"-?(0|[1-9][0-9]*)", value) or value == "-0":
        return None
    number = int(value)
    return number if -2 ** 31 <= number < 2 ** 31 else None


def is_pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _default_pod_spec(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    for container in spec.get("containers") or []:
        image = container.get("image", "")
        tag = image.rsplit("/", 1)[-1].partition(":")[2] if ":" in image.rsplit("/", 1)[-1] else ""
        container.setdefault("imagePullPolicy", "Always" if tag in ("", "latest") and "@" not in image
                             else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})


def _pod_spec_causes(spec: dict | None, field: str) -> list[tuple[str, str]]:
    containers = (spec or {}).get("containers") or []
    if not containers:
        return [(f"{field}.containers", "Required value")]
    causes = []
    for i, container in enumerate(containers):
        if not container.get("name"):
            causes.append((f"{field}.containers[{i}].name", "Required value"))
        if not container.get("image"):
            causes.append((f"{field}.containers[{i}].image", "Required value"))
    return causes


class Strategy:
    """Defaults: a namespaced kind without status or graceful deletion."""

    kind = ""
    group = ""
    plural = ""
    namespaced = True
    generation = False  # metadata.generation counts spec changes
    has_status = False  # status is a subresource: main updates keep it, status updates keep the rest
    allow_create_on_update = False
    allow_unconditional_update = True  # may an update omit metadata.resourceVersion?
    return_deleted_object = False  # DELETE answers the object rather than a Status
    dns_label_names = False
    extra_field_labels: frozenset[str] = frozenset()

    @property
    def field_labels(self) -> frozenset[str]:
        return frozenset({"metadata.name", "metadata.namespace"}) | self.extra_field_labels

    def prepare_for_create(self, obj: dict) -> None:
        if self.has_status:
            obj["status"] = {}

    def validate(self, obj: dict) -> list[tuple[str, str]]:
        meta = obj["metadata"]
        return (_name_causes(meta["name"], self.dns_label_names)
                + _label_causes(meta.get("labels"), "metadata.labels"))

    def validate_update(self, new: dict, old: dict) -> list[tuple[str, str]]:
        return self.validate(new)

    def field_values(self, obj: dict) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        return {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}

    def grace_period(self, obj: dict, requested: int | None) -> int:
        """Seconds a DELETE leaves the object terminating; 0 deletes at once."""
        return 0


class PodStrategy(Strategy):
    kind, plural = "Pod", "pods"
    has_status = True
    return_deleted_object = True
    extra_field_labels = frozenset({"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                    "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                                    "status.podIP", "status.nominatedNodeName"})

    def prepare_for_create(self, obj: dict) -> None:
        _default_pod_spec(obj.setdefault("spec", {}))
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}

    def validate(self, obj: dict) -> list[tuple[str, str]]:
        causes = super().validate(obj) + _pod_spec_causes(obj.get("spec"), "spec")
        annotations = obj["metadata"].get("annotations") or {}
        if POD_DELETION_COST in annotations and parse_deletion_cost(annotations[POD_DELETION_COST]) is None:
            causes.append((f"metadata.annotations[{POD_DELETION_COST}]",
                           f'Invalid value: "{annotations[POD_DELETION_COST]}": must be a 32bit integer'))
        return causes

    def validate_update(self, new: dict, old: dict) -> list[tuple[str, str]]:
        causes = self.validate(new)

        def mutable_parts_removed(spec: dict) -> str:
            spec = json.loads(json.dumps(spec or {}))
            for field in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
                spec.pop(field, None)
            for container in spec.get("containers") or []:
                container.pop("image", None)
            return json.dumps(spec, sort_keys=True)

        if mutable_parts_removed(new.get("spec")) != mutable_parts_removed(old.get("spec")):
            causes.append(("spec", "Forbidden: pod updates may not change fields other than "
                                   "`spec.containers[*].image`, `spec.activeDeadlineSeconds`, "
                                   "`spec.tolerations` (only additions to existing tolerations), "
                                   "`spec.terminationGracePeriodSeconds`"))
        return causes

    def field_values(self, obj: dict) -> dict[str, str]:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        return {**super().field_values(obj),
                "spec.nodeName": spec.get("nodeName", ""),
                "spec.restartPolicy": spec.get("restartPolicy", ""),
                "spec.schedulerName": spec.get("schedulerName", ""),
                "spec.serviceAccountName": spec.get("serviceAccountName", ""),
                "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
                "status.phase": status.get("phase", ""),
                "status.podIP": status.get("podIP", ""),
                "status.nominatedNodeName": status.get("nominatedNodeName", "")}

    def grace_period(self, obj: dict, requested: int | None) -> int:
        # A pod no kubelet runs (never scheduled, or already finished) has
        # nothing to wait for, so the real server deletes it at once.
        if not (obj.get("spec") or {}).get("nodeName"):
            return 0
        if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is None:
            requested = (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        return max(0, requested)


class _PodControllerStrategy(Strategy):
    """Deployments and ReplicaSets: a selector and a pod template."""

    group = "apps"
    generation = True
    has_status = True

    def validate(self, obj: dict) -> list[tuple[str, str]]:
        causes = super().validate(obj)
        spec = obj.get("spec") or {}
        if (spec.get("replicas") or 0) < 0:
            causes.append(("spec.replicas", f"Invalid value: {spec['replicas']}: must be greater than or equal to 0"))
        selector = spec.get("selector")
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.append(("spec.selector", "Required value"))
        else:
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not selector_from_object(selector).matches(labels):
                causes.append(("spec.template.metadata.labels",
                               f"Invalid value: {json.dumps(labels)}: `selector` does not match template `labels`"))
        causes += _pod_spec_causes((spec.get("template") or {}).get("spec"), "spec.template.spec")
        return causes

    def validate_update(self, new: dict, old: dict) -> list[tuple[str, str]]:
        causes = self.validate(new)
        if (new.get("spec") or {}).get("selector") != (old.get("spec") or {}).get("selector"):
            causes.append(("spec.selector", "Invalid value: field is immutable"))
        return causes

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        _default_pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))


class DeploymentStrategy(_PodControllerStrategy):
    kind, plural = "Deployment", "deployments"

    def prepare_for_create(self, obj: dict) -> None:
        super().prepare_for_create(obj)
        spec = obj["spec"]
        spec.setdefault("strategy", {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)


class ReplicaSetStrategy(_PodControllerStrategy):
    kind, plural = "ReplicaSet", "replicasets"


class LeaseStrategy(Strategy):
    kind, plural, group = "Lease", "leases", "coordination.k8s.io"
    # kube-apiserver's lease strategy: AllowCreateOnUpdate false (a PUT of a
    # missing Lease is 404: create is POST), AllowUnconditionalUpdate false.
    allow_create_on_update = False
    allow_unconditional_update = False

    def validate(self, obj: dict) -> list[tuple[str, str]]:
        causes = super().validate(obj)
        spec = obj.get("spec") or {}
        if spec.get("leaseDurationSeconds") is not None and spec["leaseDurationSeconds"] <= 0:
            causes.append(("spec.leaseDurationSeconds",
                           f"Invalid value: {spec['leaseDurationSeconds']}: must be greater than 0"))
        if spec.get("leaseTransitions") is not None and spec["leaseTransitions"] < 0:
            causes.append(("spec.leaseTransitions",
                           f"Invalid value: {spec['leaseTransitions']}: must be greater than or equal to 0"))
        return causes


class EventStrategy(Strategy):
    kind, plural = "Event", "events"
    allow_create_on_update = True
    extra_field_labels = frozenset({"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                                    "involvedObject.uid", "involvedObject.apiVersion",
                                    "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                                    "reportingComponent", "source", "type"})

    def validate(self, obj: dict) -> list[tuple[str, str]]:
        """kube-apiserver's legacy Event validation: the namespaces must agree,
        and an Event with `eventTime` (a "new" Event) must also name its
        reportingComponent, reportingInstance, action and reason."""
        causes = super().validate(obj)
        involved_namespace = (obj.get("involvedObject") or {}).get("namespace", "")
        namespace = obj["metadata"].get("namespace", "")
        mismatch = ("involvedObject.namespace", f'Invalid value: "{involved_namespace}": does not match event.namespace')
        if not obj.get("eventTime"):
            if involved_namespace != namespace and (involved_namespace or namespace not in ("", "default")):
                causes.append(mismatch)
            return causes
        if not involved_namespace and namespace not in ("default", "kube-system"):
            causes.append(mismatch)
        for field in ("reportingComponent", "reportingInstance", "action", "reason"):
            if not obj.get(field):
                causes.append((field, "Required value"))
        return causes

    def field_values(self, obj: dict) -> dict[str, str]:
        involved = obj.get("involvedObject") or {}
        values = {**super().field_values(obj),
                  "reason": obj.get("reason", ""), "type": obj.get("type", ""),
                  "reportingComponent": obj.get("reportingComponent", ""),
                  "source": (obj.get("source") or {}).get("component", "")}
        for field in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
            values[f"involvedObject.{field}"] = involved.get(field, "")
        return values


class HorizontalPodAutoscalerStrategy(Strategy):
    kind, plural, group = "HorizontalPodAutoscaler", "horizontalpodautoscalers", "autoscaling"
    has_status = True

    def validate(self, obj: dict) -> list[tuple[str, str]]:
        causes = super().validate(obj)
        spec = obj.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        for field in ("kind", "name"):
            if not target.get(field):
                causes.append((f"spec.scaleTargetRef.{field}", "Required value"))
        if (spec.get("maxReplicas") or 0) < 1:
            causes.append(("spec.maxReplicas", f"Invalid value: {spec.get('maxReplicas')}: must be greater than or equal to 1"))
        elif spec.get("minReplicas") is not None and not 1 <= spec["minReplicas"] <= spec["maxReplicas"]:
            causes.append(("spec.minReplicas", f"Invalid value: {spec['minReplicas']}: must be between 1 and maxReplicas"))
        return causes


class NamespaceStrategy(Strategy):
    kind, plural = "Namespace", "namespaces"
    namespaced = False
    dns_label_names = True
    extra_field_labels = frozenset({"status.phase"})

    def prepare_for_create(self, obj: dict) -> None:
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}

    def field_values(self, obj: dict) -> dict[str, str]:
        return {**super().field_values(obj), "status.phase": (obj.get("status") or {}).get("phase", "")}


# One strategy per storage (a resource shared by several API versions is one storage).
STRATEGIES: dict[str, Strategy] = {
    "pods": PodStrategy(),
    "deployments": DeploymentStrategy(),
    "replicasets": ReplicaSetStrategy(),
    "leases": LeaseStrategy(),
    "events": EventStrategy(),
    "horizontalpodautoscalers": HorizontalPodAutoscalerStrategy(),
    "namespaces": NamespaceStrategy(),
}
