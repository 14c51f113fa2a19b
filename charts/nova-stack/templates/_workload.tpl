{{/*
One Deployment of the stack. Call with
  (dict "root" $ "component" "api" "name" "nova-api" "port" 8080 "probePath" "/v1/health")
The container port is always named `http`. Startup and readiness probes hit probePath (the app's health endpoint);
liveness only checks that the process accepts connections (tcpSocket), so a failing dependency behind the health
endpoint takes pods out of the Service but never restarts the whole fleet at once.
*/}}
{{- define "nova-stack.deployment" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $ctx := dict "root" $root "component" .component -}}
{{- include "nova-stack.validateAutoscaling" $ctx -}}
{{- include "nova-stack.validateComponent" $ctx -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "nova-stack.workloadLabels" $ctx | nindent 4 }}
  {{- include "nova-stack.commonAnnotations" $root }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicas }}
  {{- end }}
  revisionHistoryLimit: {{ $root.Values.revisionHistoryLimit }}
  {{- /* Rendered only when > 0: the API server drops a zero, and a rendered 0 would show as drift on refresh. */}}
  {{- with $values.minReadySeconds }}
  minReadySeconds: {{ . }}
  {{- end }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "nova-stack.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "nova-stack.workloadLabels" $ctx | nindent 8 }}
      annotations:
        {{- include "nova-stack.podAnnotations" $root | nindent 8 }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "nova-stack.serviceAccountName" $root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      {{- if $root.Values.priorityClasses.create }}
      priorityClassName: {{ include "nova-stack.priorityClassName" (dict "root" $root "tier" "serving") }}
      {{- end }}
      securityContext:
        {{- include "nova-stack.podSecurityContext" $root | nindent 8 }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      topologySpreadConstraints:
        {{- include "nova-stack.topologySpread" $ctx | nindent 8 }}
      affinity:
        # Soft: prefer a node without a replica of this ReplicaSet (the spread constraints above do the zones).
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                matchLabelKeys:
                  - pod-template-hash
                labelSelector:
                  matchLabels:
                    {{- include "nova-stack.selectorLabels" $ctx | nindent 20 }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "nova-stack.image" $ctx | quote }}
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
          env:
            {{- include "nova-stack.env" $root | nindent 12 }}
            - name: PORT
              value: {{ .port | quote }}
          envFrom:
            {{- include "nova-stack.envFrom" $root | nindent 12 }}
          startupProbe:
            httpGet:
              path: {{ .probePath }}
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 30
          readinessProbe:
            httpGet:
              path: {{ .probePath }}
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            successThreshold: 1
            failureThreshold: 3
          livenessProbe:
            # Process-only: is it accepting connections? Never the health endpoint (see above).
            tcpSocket:
              port: http
            periodSeconds: 20
            timeoutSeconds: 3
            failureThreshold: 3
          {{- with $values.preStopSleepSeconds }}
          lifecycle:
            preStop:
              # Built-in sleep action (the image has no shell): endpoints drop the pod before SIGTERM.
              sleep:
                seconds: {{ . }}
          {{- end }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- include "nova-stack.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        # readOnlyRootFilesystem: scratch space only here.
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end -}}

{{/* Service of one component. Call with (dict "root" $ "component" "api" "name" "nova-api" "port" 80). */}}
{{- define "nova-stack.service" -}}
{{- $ctx := dict "root" .root "component" .component -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "nova-stack.componentLabels" $ctx | nindent 4 }}
  {{- if and (eq .component "api") .root.Values.apiIngress.enabled }}
  annotations:
    # Container-native load balancing: the Ingress's load balancer sends to the pods through a NEG.
    cloud.google.com/neg: '{"ingress": true}'
    {{- with .root.Values.commonAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- else }}
  {{- include "nova-stack.commonAnnotations" .root }}
  {{- end }}
spec:
  type: ClusterIP
  selector:
    {{- include "nova-stack.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/* HPA of one component, when autoscaling is on. Call with (dict "root" $ "component" "api" "name" "nova-api"). */}}
{{- define "nova-stack.hpa" -}}
{{- $ctx := dict "root" .root "component" .component -}}
{{- $as := (index .root.Values .component).autoscaling -}}
{{- if $as.enabled -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "nova-stack.componentLabels" $ctx | nindent 4 }}
  {{- include "nova-stack.commonAnnotations" .root }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ $as.minReplicas }}
  maxReplicas: {{ $as.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $as.targetCPUUtilizationPercentage }}
  {{- with $as.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
{{- end -}}

{{/* PDB of one component. Call with (dict "root" $ "component" "api" "name" "nova-api"). */}}
{{- define "nova-stack.pdb" -}}
{{- $ctx := dict "root" .root "component" .component -}}
{{- if .root.Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "nova-stack.componentLabels" $ctx | nindent 4 }}
  {{- include "nova-stack.commonAnnotations" .root }}
spec:
  maxUnavailable: {{ .root.Values.podDisruptionBudget.maxUnavailable }}
  # Pods that are not Ready serve nothing: evicting them never costs availability, so they never block a drain.
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "nova-stack.selectorLabels" $ctx | nindent 6 }}
{{- end -}}
{{- end -}}
