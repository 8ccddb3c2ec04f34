{{/* Name of the chart, or nameOverride. */}}
{{- define "kmsstack-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: fullnameOverride, else the release name, prefixed with the chart name unless it already contains it. */}}
{{- define "kmsstack-operator.fullname" -}}
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

{{/* The KV prefix template in force: operator.kvPrefixTemplate, else the instance's default (src/vault/tenancy.ts defaultPrefixTemplate). */}}
{{- define "kmsstack-operator.kvPrefixTemplate" -}}
{{- if .Values.operator.kvPrefixTemplate }}
{{- .Values.operator.kvPrefixTemplate }}
{{- else if eq .Values.operator.instanceName "default" }}
{{- "kmsstack/{namespace}" }}
{{- else }}
{{- "kmsstack-instances/{instance}/{namespace}" }}
{{- end }}
{{- end }}

{{- define "kmsstack-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the operator pods; never change them after a release exists (Deployment selectors are immutable). */}}
{{- define "kmsstack-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kmsstack-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kmsstack-operator.labels" -}}
{{ include "kmsstack-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: kmsstack
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "kmsstack-operator.chart" . }}
{{- end }}

{{- define "kmsstack-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kmsstack-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference: a digest wins over the tag; the tag defaults to the chart's appVersion. */}}
{{- define "kmsstack-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Rules of the reconciler, identical for the ClusterRole (all namespaces) and each namespaced Role.
Exactly the calls the operator makes; no wildcard. Leader election Leases are in a separate Role
(release namespace only).
*/}}
{{- define "kmsstack-operator.reconcilerRules" -}}
- apiGroups: ["kmsstack.io"]
  resources: ["kmsdeployments"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["kmsstack.io"]
  resources: ["kmsdeployments/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["kmsstack.io"]
  resources: ["kmsdeployments/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets", "configmaps", "services", "serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["delete"]
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
KMSSTACK_VAULT_CA_FILES: address=path for each operator.vaultCAs entry, pointing into the vault-ca ConfigMap volume.
*/}}
{{- define "kmsstack-operator.vaultCAFiles" -}}
{{- $pairs := list }}
{{- range $i, $ca := .Values.operator.vaultCAs }}
{{- $pairs = append $pairs (printf "%s=/etc/kmsstack/vault-ca/ca-%d.pem" (trimSuffix "/" $ca.address) $i) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
