"""PM245: production workloads in a repository that deploys no log shipper and configures no log backend."""
from ...k8s.workloads import BATCH_KINDS, SERVED_KINDS, containers
from ..registry import Hit, rule
from ._logging import is_shipper_image, shipping_evidence

KINDS = sorted(SERVED_KINDS | BATCH_KINDS)


def _key(x) -> tuple:
    return (x.file, x.line, x.kind, x.namespace or "", x.name)


def production_workloads(ctx, extra_images=()) -> list:
    """The scan's workloads that are not log agents and that the index alone shows are production
    (namespace or path), by file and line; all of them when none does (production known only from
    a Helm values file, which the index does not keep)."""
    apps = [e for e in ctx.project.workloads() if e.kind in KINDS and e.format == "kubernetes"
            and not any(is_shipper_image(i, extra_images) for i in e.facts.get("images") or ())]
    prod = [e for e in apps if ctx.config.production_evidence(e.namespace, [e.file])]
    return sorted(prod or apps, key=_key)


@rule(id="PM245", name="no-log-shipping", severity="medium",
      severity_reason="Nothing fails until the first crash; then the logs that explain it are already gone and "
                      "the root cause is unrecoverable.",
      incidents=["2.2"], title="Production workloads, but no log shipper or logging backend in the repository",
      kinds=KINDS, production_only=True,
      options={"shipper_images": []},
      fix="Deploy a node-level log agent (a Fluent Bit, Vector, Promtail/Alloy or OpenTelemetry Collector "
          "DaemonSet tailing /var/log/containers) with an output to a log store (Loki, Elasticsearch, CloudWatch), "
          "or record in `.premortem.yaml` (`shipper_images`) the agent your platform runs.")
def check(resource, ctx):
    """## What it checks
    The repository as a whole, once: when the scan holds production workloads (Deployments,
    StatefulSets, DaemonSets, Jobs... in a production namespace or path) it must also hold
    something that ships their logs off the node: a workload running a log agent image
    (Fluent Bit, Fluentd, Vector, Promtail, Grafana Agent/Alloy, Filebeat, Elastic Agent,
    OpenTelemetry Collector, Datadog agent, Splunk forwarder/collector, CloudWatch agent,
    Logstash, rsyslog/syslog-ng...; add your own with `shipper_images`), a logging backend
    (Loki, Elasticsearch, OpenSearch, Graylog), a logging operator's resource (FluentBit,
    ClusterOutput/Flow, ClusterLogForwarder, OpenTelemetryCollector, PodLogs, DatadogAgent...),
    a Flux/Argo CD release named for one, a ConfigMap holding a log output (`[OUTPUT]`,
    `<match>`, vector `sinks:`, promtail `clients:`), or Terraform that installs one (a
    `helm_release` of such a chart, the CloudWatch EKS add-on, GKE's Cloud Logging, AKS
    `oms_agent`). One finding per scan, on the first production workload (by file and line);
    none when nothing is production. A Datadog agent counts whatever its `DD_LOGS_ENABLED`
    says (the index keeps no env), erring toward silence. Scan the whole repository: a scan of
    one file cannot see the shipper deployed beside it.

    ## Why it breaks production
    In catalog 2.2 a Python service crashed with unhandled exceptions, its logs lived only in
    the container, and by the time anyone looked the pod had restarted and the logs were gone:
    the root cause was unrecoverable. The kubelet keeps one previous container's log and
    rotates at 10 MiB; an evicted or rescheduled pod takes everything with it.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: invoice-service, namespace: production}
    spec:
      replicas: 3
      selector: {matchLabels: {app: invoice-service}}
      template:
        metadata: {labels: {app: invoice-service}}
        spec:
          containers:
            - name: app
              image: registry.example.com/invoice-service:4.1.0
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: invoice-service, namespace: production}
    spec:
      replicas: 3
      selector: {matchLabels: {app: invoice-service}}
      template:
        metadata: {labels: {app: invoice-service}}
        spec:
          containers:
            - name: app
              image: registry.example.com/invoice-service:4.1.0
    ---
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: fluent-bit, namespace: logging}
    spec:
      selector: {matchLabels: {app: fluent-bit}}
      template:
        metadata: {labels: {app: fluent-bit}}
        spec:
          containers:
            - name: fluent-bit
              image: cr.fluentbit.io/fluent/fluent-bit:3.1.4
    ```

    ## Fix
    Run a log agent as a DaemonSet on every node, tailing `/var/log/containers/*.log`, with an
    output to a store that outlives pods and nodes (Loki, Elasticsearch, CloudWatch Logs), and
    alert on error logs from there.
    """
    extra = [str(x) for x in ctx.options.get("shipper_images") or ()]
    if any(is_shipper_image(c.image, extra) for c in containers(resource)):
        return
    workloads = ctx.project.memo(f"PM245 {extra}", lambda p: production_workloads(ctx, extra))
    if not workloads or _key(workloads[0]) != _key(resource):
        return
    if ctx.project.memo(f"PM245 shipping {extra}", lambda p: shipping_evidence(p, extra)):
        return
    names = ", ".join(f"{e.kind}/{e.name}" for e in workloads[:3]) + (
        f" and {len(workloads) - 3} more" if len(workloads) > 3 else "")
    yield Hit(path=(),
              message=f"{len(workloads)} production workload{'s' if len(workloads) != 1 else ''} ({names}) but the "
                      f"repository deploys no log shipper (Fluent Bit, Vector, Promtail/Alloy, OpenTelemetry "
                      f"Collector... DaemonSet) and configures no logging backend: container logs stay on the node, "
                      f"one restart back and 10 MiB deep, and an evicted or crashed pod takes the logs that explain "
                      f"it with it")
