"""Catalog 2.2: what ships logs off the nodes (shippers, logging operators, backends) and where a
container writes its logs (flags, env, shell redirects, the volume behind a path)."""
from __future__ import annotations

import re

# container images of log shippers and agents that collect container logs
SHIPPER_IMAGES = [
    r"fluent-?bit", r"fluentd", r"(^|/)fluent/", r"timberio/vector", r"vectordotdev/vector", r"(^|/)vector:",
    r"promtail", r"grafana/agent", r"grafana/alloy", r"(^|/)alloy:", r"filebeat", r"elastic-agent",
    r"opentelemetry-collector", r"otelcol", r"splunk-otel-collector", r"datadog/agent", r"datadoghq/agent",
    r"splunk/universalforwarder", r"splunk/fluentd-hec", r"splunk/splunk-connect", r"cloudwatch-agent",
    r"newrelic-fluentbit", r"newrelic/newrelic-logging", r"logdna-agent", r"mezmo", r"sumologic", r"logstash",
    r"rsyslog", r"syslog-ng", r"logspout", r"logging-operator", r"fluent-operator", r"kube-logging",
]
# images of logging backends: something in the repository receives logs
BACKEND_IMAGES = [r"grafana/loki", r"(^|/)loki:", r"elasticsearch", r"opensearch", r"graylog", r"splunk/splunk:",
                  r"quickwit", r"victoria-logs", r"victorialogs", r"openobserve"]
# custom resources of logging operators and agents (Fluent/Banzai logging operator, OpenShift,
# ECK, OpenTelemetry, Grafana agent, Datadog, Loki/Elastic operators)
LOGGING_KINDS = {"FluentBit", "FluentBitConfig", "ClusterFluentBitConfig", "ClusterInput", "ClusterOutput", "Output",
                 "ClusterFlow", "Flow", "Logging", "FluentbitAgent", "FluentdConfig", "ClusterFluentdConfig",
                 "ClusterLogForwarder", "Beat", "OpenTelemetryCollector", "GrafanaAgent", "LogsInstance", "PodLogs",
                 "DatadogAgent", "SyslogNGFlow", "SyslogNGClusterFlow", "SyslogNGOutput", "LokiStack", "Loki",
                 "Elasticsearch", "OpenSearchCluster", "ClusterVectorPipeline", "VectorPipeline", "Vector"}
RELEASE_KINDS = ("HelmRelease", "Application", "HelmChart", "ApplicationSet")
_RELEASE_NAME = re.compile(r"(?i)(fluent-?bit|fluentd|vector|promtail|loki|grafana-agent|alloy|filebeat|"
                           r"elastic-agent|opentelemetry-collector|otel-collector|datadog|splunk|logging-operator|"
                           r"fluent-operator|cloudwatch|logstash|elasticsearch|opensearch|graylog|sumologic)")
# log-shipping configuration in a ConfigMap (an agent deployed elsewhere reads it)
_OUTPUT_CONFIG = re.compile(
    r"(?im)^\s*\[OUTPUT\]|<match\s|^\s*sinks:|^\s*clients:\s*$|^\s*output\.(elasticsearch|logstash|kafka)|"
    r"^\s*(loki|elasticsearch|awscloudwatchlogs|splunk_hec|googlecloud|datadog)(/\w+)?:\s*$|"
    r"^\s*logs:\s*$\n(?:.*\n){0,6}?\s*exporters:")


def _any(patterns, text: str) -> str:
    low = text.lower()
    return next((p for p in patterns if re.search(p, low)), "")


def is_shipper_image(image: str, extra=()) -> bool:
    return bool(_any(list(SHIPPER_IMAGES) + list(extra), image.split("@")[0]))


def shipping_evidence(project, extra_images=()) -> str:
    """The first thing in the scan that ships or receives logs ('' when nothing does)."""
    for e in project.workloads():
        for image in e.facts.get("images") or ():
            if is_shipper_image(image, extra_images):
                return f"{e.kind} {e.name} runs {image}"
            if _any(BACKEND_IMAGES, image.split("@")[0]):
                return f"{e.kind} {e.name} runs the logging backend {image}"
    for kind in sorted(LOGGING_KINDS):
        for e in project.of_kind(kind):
            if e.format == "kubernetes":
                return f"{e.kind} {e.name}"
    for e in project.of_kind(*RELEASE_KINDS):
        if _RELEASE_NAME.search(e.name):
            return f"{e.kind} {e.name}"
    for e in project.of_kind("ConfigMap"):
        for key, value in (e.facts.get("data") or {}).items():
            if isinstance(value, str) and _OUTPUT_CONFIG.search(value):
                return f"ConfigMap {e.name} key {key} configures a log output"
    for e in project.entries:
        if e.format != "terraform":
            continue
        t, v = e.facts.get("type"), e.facts.get("values") or {}
        if t == "helm_release" and _RELEASE_NAME.search(f"{v.get('chart', '')} {v.get('name', '')}"):
            return f"Terraform {e.name} installs {v.get('chart') or v.get('name')}"
        if t == "aws_eks_addon" and re.search(r"cloudwatch|fluent|otel", str(v.get("addon_name", ""))):
            return f"Terraform {e.name} adds {v.get('addon_name')}"
        if t == "google_container_cluster" and str(v.get("logging_service", "")) != "none":
            return f"Terraform {e.name}: GKE ships container logs to Cloud Logging"
        if t == "azurerm_kubernetes_cluster" and v.get("oms_agent"):
            return f"Terraform {e.name}: AKS Container Insights (oms_agent) collects logs"
    return ""


# ---- where a container writes logs -------------------------------------------------------------------
STDIO = {"-", "stdout", "stderr", "/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/proc/self/fd/2", "/dev/fd/1",
         "/dev/fd/2", "/proc/1/fd/1", "/proc/1/fd/2", "/dev/null", "console", "none", "off", "false", "true", ""}
_FLAG_NAME = (r"log[-_.]?file(?:[-_.]?(?:name|path))?|logfile|log[-_.]?(?:path|dir|directory)|"
              r"logging\.file(?:\.name|\.path)?|error[-_]?log(?:file)?|access[-_]?log(?:file)?")
FLAG_ALONE = re.compile(rf"^(?:--?|-D)({_FLAG_NAME})$", re.I)
FLAG_IN_TEXT = re.compile(rf"(?<![\w.-])(?:--?|-D)({_FLAG_NAME})(?:=|\s+)([^\s'\";|&]+)", re.I)
REDIRECT = re.compile(r"(?<![0-9&<>])(?:[12]?>>?|&>>?)\s*([^\s;&|<>()]+)")
ENV_NAME = re.compile(r"^(?:[A-Z0-9]+_)*LOG(?:GING)?_?(?:FILE(?:_?(?:NAME|PATH))?|PATH|DIR|DIRECTORY)$|"
                      r"^logging\.file(?:\.name|\.path)?$", re.I)
TO_STDERR = re.compile(r"(?i)(?<![\w-])--?(also)?log-?to-?std(err|out)(=true)?(?![\w=])")


def file_target(value) -> str:
    """The value as a file-system log destination ('' for stdout/stderr, variables, non-paths)."""
    v = str(value).strip().strip("'\"")
    if v.lower() in STDIO or "$" in v or "{{" in v or v.startswith(("http:", "https:", "tcp:", "udp:", "syslog")):
        return ""
    if v.startswith("/dev/") or v.startswith("/proc/"):
        return ""
    return v if ("/" in v or re.search(r"\.(log|txt|out)$", v)) else ""


def args_destinations(items: list):
    """(index, what it says, path) of log files named in command/args items ('>' for a shell redirect)."""
    stderr = any(isinstance(x, str) and TO_STDERR.search(x) for x in items)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            continue
        alone = FLAG_ALONE.match(item.strip())
        if alone and i + 1 < len(items) and isinstance(items[i + 1], str):
            path = file_target(items[i + 1])
            if path and not (stderr and "dir" in alone.group(1).lower()):
                yield i, f"{item.strip()} {items[i + 1].strip()}", path
            continue
        for m in FLAG_IN_TEXT.finditer(item):
            path = file_target(m.group(2))
            if path and not (stderr and "dir" in m.group(1).lower()):
                yield i, m.group(0), path
        if " " in item.strip():  # a shell script (`sh -c "... >> /var/log/app.log 2>&1"`)
            for m in REDIRECT.finditer(item):
                path = file_target(m.group(1))
                if path and "log" in path.lower():
                    yield i, ">", path


def env_destination(name: str, value) -> str:
    """A log file or directory set through an environment variable (LOG_FILE, LOGGING_FILE_NAME, JAVA_OPTS
    with -Dlogging.file.name=...)."""
    if not isinstance(value, str):
        return ""
    if ENV_NAME.match(name):
        return file_target(value)
    m = FLAG_IN_TEXT.search(value)
    return file_target(m.group(2)) if m else ""


def volume_behind(path: str, container: dict, pod_spec: dict, working_dir: str = ""):
    """(volume name, volume source kind, shared with another container) of the mount a log path lies
    under, or None when it lies in the container's own writable layer."""
    mounts = [m for m in _list(container.get("volumeMounts")) if isinstance(m, dict) and isinstance(m.get("mountPath"), str)]
    if not path.startswith("/"):
        if working_dir:
            path = working_dir.rstrip("/") + "/" + path
        else:  # relative to an image WORKDIR we cannot see: any mount ending in its first directory
            first = path.split("/")[0]
            hit = next((m for m in mounts if m["mountPath"].rstrip("/").endswith("/" + first)), None)
            return _describe(hit, container, pod_spec) if hit else None
    best = None
    for m in mounts:
        mp = m["mountPath"].rstrip("/") or "/"
        if path == mp or path.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                best = m
    return _describe(best, container, pod_spec) if best else None


def _describe(mount: dict, container: dict, pod_spec: dict):
    name = mount.get("name")
    volumes = [v for v in _list(pod_spec.get("volumes")) if isinstance(v, dict)]
    vol = next((v for v in volumes if v.get("name") == name), None)
    kind = next((k for k in vol if k != "name"), "unknown") if vol else "unknown"
    others = [c for key in ("containers", "initContainers") for c in _list(pod_spec.get(key))
              if isinstance(c, dict) and c is not container]
    shared = any(isinstance(m, dict) and m.get("name") == name for c in others for m in _list(c.get("volumeMounts")))
    return name, kind, shared


def _list(v) -> list:
    return v if isinstance(v, list) else []
