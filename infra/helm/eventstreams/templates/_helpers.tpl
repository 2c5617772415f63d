{{/* Names and labels. */}}
{{- define "eventstreams.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "eventstreams.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: eventstreams
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "serve"). */}}
{{- define "eventstreams.selector" -}}
app.kubernetes.io/name: eventstreams-{{ .component }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end -}}

{{- define "eventstreams.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .ctx.Values.image.tag) -}}
{{- end -}}

{{/*
The port of a listen address (":8092", "0.0.0.0:8092"): (dict "name" "SERVE_ADDR" "addr" ...).
*/}}
{{- define "eventstreams.port" -}}
{{- $m := regexFind ":[0-9]+$" (toString .addr) -}}
{{- if not $m -}}
{{- fail (printf "%s: %q has no port (want host:port or :port)" .name (toString .addr)) -}}
{{- end -}}
{{- trimPrefix ":" $m -}}
{{- end -}}

{{/*
Whole seconds (rounded up) of a Go duration made of h, m, s and ms ("10s", "1m30s", "1500ms"):
(dict "name" "SERVE_SHUTDOWN_TIMEOUT" "value" ...).
*/}}
{{- define "eventstreams.seconds" -}}
{{- $d := toString .value -}}
{{- if not (regexMatch "^([0-9]+(ms|h|m|s))+$" $d) -}}
{{- fail (printf "%s: %q is not a duration the chart reads (whole numbers of h, m, s or ms, e.g. 10s, 1m30s)" .name $d) -}}
{{- end -}}
{{- $unit := dict "h" 3600000 "m" 60000 "s" 1000 "ms" 1 -}}
{{- $ms := 0 -}}
{{- range regexFindAll "[0-9]+(ms|h|m|s)" $d -1 -}}
{{- $ms = add $ms (mul (regexFind "^[0-9]+" . | int64) (get $unit (regexReplaceAll "^[0-9]+" . ""))) -}}
{{- end -}}
{{- div (add $ms 999) 1000 -}}
{{- end -}}

{{/*
NATS_URL: every node of the chart's NATS cluster through its headless service (the NATS chart's
names: <release>-nats unless the release name holds "nats"), or config.common.NATS_URL.
*/}}
{{- define "eventstreams.natsURL" -}}
{{- if .Values.nats.enabled -}}
{{- $full := .Values.nats.fullnameOverride | default (ternary .Release.Name (printf "%s-nats" .Release.Name) (contains "nats" .Release.Name)) | trunc 63 | trimSuffix "-" -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.nats.config.cluster.replicas) -}}
{{- $urls = append $urls (printf "nats://%s-%d.%s-headless:4222" $full $i $full) -}}
{{- end -}}
{{- join "," $urls -}}
{{- else -}}
{{- .Values.config.common.NATS_URL -}}
{{- end -}}
{{- end -}}

{{/*
The environment of a program: config.common and config.<program> (empty values left out, so that
the program takes its default), NATS_URL as above, and the NATS credentials and CA files.
*/}}
{{- define "eventstreams.env" -}}
{{- $ctx := .ctx -}}
{{- $vars := merge (dict) (get $ctx.Values.config .program) $ctx.Values.config.common -}}
{{- $_ := set $vars "NATS_URL" (include "eventstreams.natsURL" $ctx) -}}
{{- range $k := keys $vars | sortAlpha }}
{{- $v := toString (get $vars $k) }}
{{- if ne $v "" }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}
{{- with $ctx.Values.natsAuth.credsSecret.name }}
- name: NATS_CREDS
  value: /etc/eventstreams/nats-creds/{{ $ctx.Values.natsAuth.credsSecret.key }}
{{- end }}
{{- with $ctx.Values.natsAuth.tlsCASecret.name }}
- name: NATS_TLS_CA
  value: /etc/eventstreams/nats-ca/{{ $ctx.Values.natsAuth.tlsCASecret.key }}
{{- end }}
{{- end -}}

{{- define "eventstreams.natsVolumeMounts" -}}
{{- if .Values.natsAuth.credsSecret.name }}
- name: nats-creds
  mountPath: /etc/eventstreams/nats-creds
  readOnly: true
{{- end }}
{{- if .Values.natsAuth.tlsCASecret.name }}
- name: nats-ca
  mountPath: /etc/eventstreams/nats-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "eventstreams.natsVolumes" -}}
{{- with .Values.natsAuth.credsSecret }}
{{- if .name }}
- name: nats-creds
  secret:
    secretName: {{ .name }}
    items: [{key: {{ .key | quote }}, path: {{ .key | quote }}}]
{{- end }}
{{- end }}
{{- with .Values.natsAuth.tlsCASecret }}
{{- if .name }}
- name: nats-ca
  secret:
    secretName: {{ .name }}
    items: [{key: {{ .key | quote }}, path: {{ .key | quote }}}]
{{- end }}
{{- end }}
{{- end -}}

{{- define "eventstreams.securityContext" -}}
runAsNonRoot: true
runAsUser: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
