{{/*
Object names are fixed (nova-api, nova-worker, nova-billing-drill, nova): the Pulumi program and the policy pack
address the Deployments as `<chart resource>:<namespace>/nova-api`, so one release per namespace.
*/}}

{{/* Chart name. */}}
{{- define "nova-stack.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "nova-stack.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the API objects (Deployment, Service, HPA, PDB). */}}
{{- define "nova-stack.api.fullname" -}}nova-api{{- end -}}

{{/* Name of the worker objects (Deployment, Service, HPA, PDB). */}}
{{- define "nova-stack.worker.fullname" -}}nova-worker{{- end -}}

{{/* Name of the billing-drill CronJob. */}}
{{- define "nova-stack.billingDrill.fullname" -}}nova-billing-drill{{- end -}}

{{/* ServiceAccount the pods run as. */}}
{{- define "nova-stack.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default "nova" -}}
{{- end -}}

{{/*
values.commonAnnotations as an `annotations:` block of an object's metadata (nothing when empty); include it right
after the labels, without nindent. Called with the root context.
*/}}
{{- define "nova-stack.commonAnnotations" -}}
{{- with .Values.commonAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{/*
Labels shared by every object. None of them changes from one release to the next, so a release leaves the objects
it does not change (Services, PDBs, NetworkPolicies, PriorityClasses, the ServiceAccount, HPAs) untouched: no diff,
no update, no await. Which release runs is on the workloads only (nova-stack.releaseLabels).
*/}}
{{- define "nova-stack.labels" -}}
helm.sh/chart: {{ include "nova-stack.chart" . }}
app.kubernetes.io/name: {{ include "nova-stack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/part-of: nova-rms
app.kubernetes.io/managed-by: {{ .Release.Service }}
rollout.nova.dev/environment: {{ .Values.environment | quote }}
{{- end -}}

{{/*
The release a workload runs: on the Deployments, the CronJob and their pod templates only (they change with every
release anyway). The release id may be empty (labels allow empty values).
*/}}
{{- define "nova-stack.releaseLabels" -}}
app.kubernetes.io/version: {{ .Values.release | default .Chart.AppVersion | trunc 63 | quote }}
rollout.nova.dev/release: {{ .Values.release | default "" | trunc 63 | quote }}
{{- end -}}

{{/*
Selector labels of one component. Call with (dict "root" $ "component" "api"). These are immutable on a
Deployment, so they never include the release id or the chart version.
*/}}
{{- define "nova-stack.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nova-stack.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component. Call with (dict "root" $ "component" "api"). */}}
{{- define "nova-stack.componentLabels" -}}
{{ include "nova-stack.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's workload and its pods: the component's and the release's. Same call. */}}
{{- define "nova-stack.workloadLabels" -}}
{{ include "nova-stack.componentLabels" . }}
{{ include "nova-stack.releaseLabels" .root }}
{{- end -}}

{{/*
Image reference `<imageRegistry>/<repository>@<digest>`. Call with (dict "root" $ "component" "api").
Fails the render with a clear message when the registry or the digest is missing or malformed (the schema
catches this first; the check stays here for renders that skip schema validation).
*/}}
{{- define "nova-stack.image" -}}
{{- $image := (index .root.Values .component).image -}}
{{- $registry := .root.Values.imageRegistry | default "" | trimSuffix "/" -}}
{{- if not $registry -}}
{{- fail "imageRegistry is required (registry plus path prefix, e.g. us-docker.pkg.dev/nova-prod/nova)" -}}
{{- end -}}
{{- if not $image.repository -}}
{{- fail (printf "%s.image.repository is required" .component) -}}
{{- end -}}
{{- if not $image.digest -}}
{{- fail (printf "%s.image.digest is required: images are pinned by digest (sha256:<64 hex>), never by tag; pass --set %s.image.digest=sha256:..." .component .component) -}}
{{- end -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" $image.digest) -}}
{{- fail (printf "%s.image.digest must be sha256:<64 lowercase hex>, got %q" .component $image.digest) -}}
{{- end -}}
{{- printf "%s/%s@%s" $registry $image.repository $image.digest -}}
{{- end -}}

{{/* Pod-level security context: non-root, fixed UID/GID, RuntimeDefault seccomp. */}}
{{- define "nova-stack.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context. */}}
{{- define "nova-stack.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Pod annotations shared by every pod: the secrets checksum rolls pods when the secrets change. */}}
{{- define "nova-stack.podAnnotations" -}}
rollout.nova.dev/secrets-checksum: {{ .Values.secrets.checksum | default "" | quote }}
rollout.nova.dev/release: {{ .Values.release | default "" | quote }}
{{- end -}}

{{/* Environment shared by every container. */}}
{{- define "nova-stack.env" -}}
- name: NOVA_ENVIRONMENT
  value: {{ .Values.environment | quote }}
- name: NOVA_RELEASE
  value: {{ .Values.release | default "" | quote }}
{{- end -}}

{{/* envFrom the application Secret. */}}
{{- define "nova-stack.envFrom" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- fail "secrets.existingSecret is required: the name of the Secret created by AppSecrets" -}}
{{- end -}}
- secretRef:
    name: {{ .Values.secrets.existingSecret }}
{{- end -}}

{{/*
Spreading across zones and nodes. The zone constraint's whenUnsatisfiable comes from
topologySpread.zoneWhenUnsatisfiable (DoNotSchedule in production, ScheduleAnyway elsewhere, so a cluster without
zone labels still schedules); the node constraint is soft. matchLabelKeys keeps each ReplicaSet's pods spread on
their own during a rollout. Call with (dict "root" $ "component" "api").
*/}}
{{- define "nova-stack.topologySpread" -}}
{{- $ts := .root.Values.topologySpread -}}
- maxSkew: {{ $ts.maxSkew }}
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: {{ $ts.zoneWhenUnsatisfiable }}
  matchLabelKeys:
    - pod-template-hash
  labelSelector:
    matchLabels:
      {{- include "nova-stack.selectorLabels" . | nindent 6 }}
- maxSkew: {{ $ts.maxSkew }}
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: {{ $ts.nodeWhenUnsatisfiable }}
  matchLabelKeys:
    - pod-template-hash
  labelSelector:
    matchLabels:
      {{- include "nova-stack.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/*
Names of the cluster-scoped PriorityClasses: prefixed with the namespace, so one release per namespace never
collides with another namespace's. Call with (dict "root" $ "tier" "serving"|"batch").
*/}}
{{- define "nova-stack.priorityClassName" -}}
{{- printf "%s-nova-%s" .root.Release.Namespace .tier | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels selecting every pod of this release (api, worker, billing drill). */}}
{{- define "nova-stack.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "nova-stack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/*
Checks the schema cannot express. Call with (dict "root" $ "component" "api").
- the preStop sleep ends before the grace period does (otherwise the kubelet kills the pod mid-sleep and the
  process never gets SIGTERM's drain time);
- in production, memory request = memory limit.
*/}}
{{- define "nova-stack.validateComponent" -}}
{{- $values := index .root.Values .component -}}
{{- $sleep := int ($values.preStopSleepSeconds | default 0) -}}
{{- $grace := int $values.terminationGracePeriodSeconds -}}
{{- if ge $sleep $grace -}}
{{- fail (printf "%s.preStopSleepSeconds (%d) must be below %s.terminationGracePeriodSeconds (%d)" .component $sleep .component $grace) -}}
{{- end -}}
{{- if eq .root.Values.environment "production" -}}
{{- $req := toString $values.resources.requests.memory -}}
{{- $lim := toString $values.resources.limits.memory -}}
{{- if ne $req $lim -}}
{{- fail (printf "%s.resources: in production the memory request (%s) must equal the memory limit (%s)" .component $req $lim) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Autoscaling bounds the schema cannot express (maxReplicas >= minReplicas). Call with (dict "root" $ "component" "api").
*/}}
{{- define "nova-stack.validateAutoscaling" -}}
{{- $as := (index .root.Values .component).autoscaling -}}
{{- if and $as.enabled (lt (int $as.maxReplicas) (int $as.minReplicas)) -}}
{{- fail (printf "%s.autoscaling.maxReplicas (%d) must be >= %s.autoscaling.minReplicas (%d)" .component (int $as.maxReplicas) .component (int $as.minReplicas)) -}}
{{- end -}}
{{- end -}}
