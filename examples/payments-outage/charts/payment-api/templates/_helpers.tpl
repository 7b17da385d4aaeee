{{- define "payment-api.labels" -}}
app.kubernetes.io/name: payment-api
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
