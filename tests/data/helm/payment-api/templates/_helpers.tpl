{{- define "payment-api.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "payment-api.sidecar" -}}
{{ .Values.sidecar.image }}
{{- end }}
