{{/*
Chart name, overridable with nameOverride; the app.kubernetes.io/name label.
*/}}
{{- define "tig.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name: <release>-<chart>, or just <release> when the
release name already contains the chart name (release "tig" gives "tig").
Truncated to 63 characters, the DNS label limit.
*/}}
{{- define "tig.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of the operator's objects.
*/}}
{{- define "tig.operatorFullname" -}}
{{- printf "%s-operator" (include "tig.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The operator's Lease, named `<deployment>-operator` by the operator itself
(docs/DESIGN.md). Not truncated: Lease names may be up to 253 characters.
*/}}
{{- define "tig.leaseName" -}}
{{- printf "%s-operator" (include "tig.fullname" .) }}
{{- end }}

{{/*
Name of the headless Service whose DNS name lists the ready pods.
*/}}
{{- define "tig.headlessServiceName" -}}
{{- printf "%s-headless" (include "tig.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The headless Service's fully qualified DNS name (TIG_CLUSTER).
*/}}
{{- define "tig.clusterDNSName" -}}
{{- printf "%s.%s.svc.%s" (include "tig.headlessServiceName" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/*
The Secret holding the cluster secret: cluster.secret.existingSecret, else the
one the chart creates; empty when there is none (peers are then trusted by
their address alone).
*/}}
{{- define "tig.clusterSecretName" -}}
{{- if .Values.cluster.secret.existingSecret }}
{{- .Values.cluster.secret.existingSecret }}
{{- else if .Values.cluster.secret.create }}
{{- printf "%s-cluster" (include "tig.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
chart-version, for the helm.sh/chart label.
*/}}
{{- define "tig.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels that select one component's pods; immutable once a Deployment exists.
Call with (dict "ctx" $ "component" "server"|"operator"). The operator's pods
are named <name>-operator so that a selector like app.kubernetes.io/name=tig
(the operator's default, SPEC §6.4) never picks the operator itself.
*/}}
{{- define "tig.selectorLabels" -}}
{{- $name := include "tig.name" .ctx -}}
app.kubernetes.io/name: {{ ternary (printf "%s-operator" $name | trunc 63 | trimSuffix "-") $name (eq .component "operator") }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The tig pods' label selector as a string, for the operator's config: exactly
the Deployment's selector, so the operator watches exactly its pods.
*/}}
{{- define "tig.serverSelector" -}}
{{- $labels := include "tig.selectorLabels" (dict "ctx" . "component" "server") | fromYaml }}
{{- $terms := list }}
{{- range $key := keys $labels | sortAlpha }}
{{- $terms = append $terms (printf "%s=%s" $key (get $labels $key)) }}
{{- end }}
{{- join "," $terms }}
{{- end }}

{{/*
Standard labels of every object. Call with (dict "ctx" $ "component" "...").
*/}}
{{- define "tig.labels" -}}
helm.sh/chart: {{ include "tig.chart" .ctx }}
{{ include "tig.selectorLabels" . }}
app.kubernetes.io/version: {{ include "tig.version" .ctx | quote }}
app.kubernetes.io/part-of: tig
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The tig version the release runs: the image tag, else the chart's appVersion.
*/}}
{{- define "tig.version" -}}
{{- default .Chart.AppVersion .Values.image.tag | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
An image reference from (dict "repository" "tag" "digest" "default-tag"): a
digest pins the image; otherwise the tag, defaulting to the chart's appVersion.
*/}}
{{- define "tig.imageRef" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository (default .defaultTag .tag) }}
{{- end }}
{{- end }}

{{- define "tig.image" -}}
{{- include "tig.imageRef" (dict "repository" .Values.image.repository "tag" .Values.image.tag "digest" .Values.image.digest "defaultTag" .Chart.AppVersion) }}
{{- end }}

{{/*
The operator runs the same image unless its own fields override it.
*/}}
{{- define "tig.operatorImage" -}}
{{- $img := .Values.operator.image }}
{{- include "tig.imageRef" (dict "repository" (default .Values.image.repository $img.repository) "tag" (default .Values.image.tag $img.tag) "digest" (default .Values.image.digest $img.digest) "defaultTag" .Chart.AppVersion) }}
{{- end }}

{{- define "tig.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tig.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tig.operatorServiceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "tig.operatorFullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The port the tig pods listen on: 443 with TLS, else 7777 (SPEC §3).
*/}}
{{- define "tig.containerPort" -}}
{{- if .Values.tls.enabled }}443{{ else }}7777{{ end }}
{{- end }}

{{- define "tig.portName" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}

{{- define "tig.servicePort" -}}
{{- default (include "tig.containerPort" .) .Values.service.port }}
{{- end }}

{{/*
The Service in front of the admin ports, for ServiceMonitors (it publishes
pods that are not ready too, so a starting or draining pod is still scraped).
*/}}
{{- define "tig.metricsServiceName" -}}
{{- printf "%s-metrics" (include "tig.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The `job` label of the tig pods' series, and of the operator's: the monitors
set them, the rules and the dashboard select by them.
*/}}
{{- define "tig.metricsJob" -}}
{{- default (include "tig.fullname" .) .Values.monitoring.job }}
{{- end }}

{{- define "tig.operatorMetricsJob" -}}
{{- printf "%s-operator" (include "tig.metricsJob" .) }}
{{- end }}

{{/*
Labels of the Prometheus Operator objects: the chart's, monitoring.labels.
*/}}
{{- define "tig.monitoringLabels" -}}
{{- include "tig.labels" (dict "ctx" .ctx "component" .component) }}
{{- with .ctx.Values.monitoring.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The ingress controller whose annotations the chart adds: ingress.controller,
else the IngressClass name when it is one the chart knows, else none.
*/}}
{{- define "tig.ingressController" -}}
{{- $controller := .Values.ingress.controller }}
{{- if not $controller }}
{{- $controller = ternary .Values.ingress.className "none" (has .Values.ingress.className (list "nginx" "alb" "traefik")) }}
{{- end }}
{{- $controller }}
{{- end }}

{{/*
The URL clients inside the cluster use: the Service's DNS name and port.
*/}}
{{- define "tig.serviceURL" -}}
{{- printf "%s://%s.%s.svc.%s:%s" (ternary "https" "http" .Values.tls.enabled) (include "tig.fullname" .) .Release.Namespace .Values.clusterDomain (include "tig.servicePort" .) }}
{{- end }}

{{/*
Whole seconds of a Go-style duration (`25s`, `1m30s`, `1.5h`, `250ms`, `0`;
units ns, us, ms, s, m, h as in docs/DESIGN.md), rounded up. The schema
guarantees the form; each part is summed in nanoseconds.
*/}}
{{- define "tig.durationSeconds" -}}
{{- $text := toString . }}
{{- $units := dict "ns" 1 "us" 1000 "ms" 1000000 "s" 1000000000 "m" 60000000000 "h" 3600000000000 }}
{{- $parts := regexFindAll `[0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h)` $text -1 }}
{{- if and (ne $text "0") (ne (join "" $parts) $text) }}
{{- fail (printf "%q is not a duration such as 25s, 1m30s or 250ms" $text) }}
{{- end }}
{{- $nanoseconds := 0.0 }}
{{- range $parts }}
{{- $unit := regexFind "[a-z]+$" . }}
{{- $number := trimSuffix $unit . | float64 }}
{{- $nanoseconds = addf $nanoseconds (mulf $number (get $units $unit)) }}
{{- end }}
{{- ceil (divf $nanoseconds 1000000000) | int }}
{{- end }}

{{/*
Grace period of a terminating tig pod: it must cover the preStop sleep and the
whole drain, or the kubelet kills the pod before its blocks are handed over.
*/}}
{{- define "tig.terminationGracePeriodSeconds" -}}
{{- $needed := add .Values.preStopSleepSeconds (include "tig.durationSeconds" .Values.serve.drainTimeout) (include "tig.durationSeconds" .Values.serve.drainReportDelay) }}
{{- $explicit := .Values.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $explicit }}
{{- add $needed 10 }}
{{- else if le (int $explicit) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be larger than preStopSleepSeconds + serve.drainTimeout + serve.drainReportDelay (%d s)" (int $explicit) (int $needed)) }}
{{- else }}
{{- $explicit }}
{{- end }}
{{- end }}

{{/*
Replica count of the tig Deployment. Without the operator: replicaCount. With
it, the operator owns the count (it scales through /scale): a fresh install
starts at replicaCount clamped to [minReplicas, maxReplicas], and an upgrade
re-applies the live count so `helm upgrade` never undoes the operator's
scaling. (Leaving `replicas` out instead would make Helm's three-way merge
reset it to 1.) Rendered without a cluster (helm template) lookup finds
nothing and the starting count is used.
*/}}
{{- define "tig.replicas" -}}
{{- if .Values.operator.enabled }}
{{- $live := lookup "apps/v1" "Deployment" .Release.Namespace (include "tig.fullname" .) }}
{{- if and $live (hasKey $live.spec "replicas") }}
{{- $live.spec.replicas }}
{{- else }}
{{- $cfg := .Values.operator.config }}
{{- max (int $cfg.minReplicas) (min (int .Values.replicaCount) (int $cfg.maxReplicas)) }}
{{- end }}
{{- else }}
{{- .Values.replicaCount }}
{{- end }}
{{- end }}

{{/*
Pod security context, plus the sysctl that lets a non-root process bind port
443 when TLS is on (a namespaced, "safe" sysctl: no capability is needed).
*/}}
{{- define "tig.podSecurityContext" -}}
{{- $psc := deepCopy .Values.podSecurityContext }}
{{- if .Values.tls.enabled }}
{{- $sysctls := append (default list $psc.sysctls) (dict "name" "net.ipv4.ip_unprivileged_port_start" "value" "443") }}
{{- $_ := set $psc "sysctls" $sysctls }}
{{- end }}
{{- toYaml $psc }}
{{- end }}

{{/*
Refuse value combinations that would install a broken cluster.
*/}}
{{- define "tig.validate" -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName: the kubernetes.io/tls Secret holding the pods' key and certificate" }}
{{- end }}
{{- if and (not .Values.tls.enabled) (eq (int .Values.serve.adminPort) 7777) }}
{{- fail "serve.adminPort must differ from the tig port 7777" }}
{{- end }}
{{- if .Values.ingress.enabled }}
{{- if and (eq .Values.ingress.mode "passthrough") (not .Values.tls.enabled) }}
{{- fail "ingress.mode passthrough forwards TLS to the pods: it needs tls.enabled (or use ingress.mode terminate, the default)" }}
{{- end }}
{{- if and (eq .Values.ingress.mode "passthrough") (has (include "tig.ingressController" .) (list "alb" "traefik")) }}
{{- fail (printf "ingress.mode passthrough is ingress-nginx's ssl-passthrough; the %s controller cannot pass TLS through an Ingress (use ingress.mode terminate)" (include "tig.ingressController" .)) }}
{{- end }}
{{- end }}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) }}
{{- fail "httpRoute.enabled needs httpRoute.parentRefs: the Gateway (or its listener) the route attaches to" }}
{{- end }}
{{- if and .Values.monitoring.serviceMonitor.enabled .Values.monitoring.podMonitor.enabled }}
{{- fail "enable monitoring.serviceMonitor or monitoring.podMonitor, not both: Prometheus would scrape every pod twice under the same job" }}
{{- end }}
{{- if and (include "tig.clusterSecretName" .) (kindIs "invalid" .Values.podSecurityContext.fsGroup) }}
{{- fail "the cluster secret file is owned by root and readable by group podSecurityContext.fsGroup only: set fsGroup (the server's group, 65532), or set cluster.secret.create=false and no existingSecret" }}
{{- end }}
{{- if .Values.operator.enabled }}
{{- $cfg := .Values.operator.config }}
{{- if gt (int $cfg.minReplicas) (int $cfg.maxReplicas) }}
{{- fail "operator.config.minReplicas must not exceed operator.config.maxReplicas" }}
{{- end }}
{{- if and (gt (int .Values.operator.replicaCount) 1) (not $cfg.leaderElection) }}
{{- fail "operator.replicaCount > 1 needs operator.config.leaderElection, or several operators would scale at once" }}
{{- end }}
{{- end }}
{{- end }}
