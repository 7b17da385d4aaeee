"""PM220: a production workload that serves traffic with no alert on one of the golden signals (R12)."""
from ...k8s.databases import database_of
from ...k8s.workloads import SERVED_KINDS
from ..registry import Hit, rule
from ._promql import covers, expr_signals, none_of, scan_facts, scraped, signals, workload_identity
from .pm210_no_target_down_alert import exporter_image

SIGNALS = ["errors", "latency", "traffic", "saturation"]


def coverage(resource, project, wanted: set) -> tuple:
    """({signal: name of the first alert covering it}, services, monitors) for one workload."""
    names, pods, services, monitors = workload_identity(resource, project)
    found: dict = {}
    for _, f in scan_facts(project)["alerts"]:
        kinds = expr_signals(f.summary) & wanted
        if not kinds - set(found):
            continue
        for s in f.summary.selectors:
            for sig in (signals(s) & kinds) - set(found):
                if covers(s, resource.namespace, names, pods):
                    found[sig] = f.name
    return found, services, monitors


@rule(id="PM220", name="service-without-golden-signal-alerts", severity="medium",
      severity_reason="A service can fail in a way its alerts do not measure (slow, or silent) and users find out "
                      "first.",
      incidents=["R12"], title="Production service has no alert on some golden signal",
      kinds=sorted(SERVED_KINDS), production_only=True, options={"signals": SIGNALS},
      fix="Add alerts for the missing signals, selected by the workload's job/service/namespace: error ratio "
          "(5xx / all), latency (histogram_quantile of the request duration), traffic (request rate drop or "
          "absent()), saturation (CPU throttling, memory, queue depth, pool usage).")
def check(resource, ctx):
    """## What it checks
    In a scan that defines alerting rules, every production workload that serves traffic (a
    Service selects its pods) needs an alert on each golden signal in the option `signals`:
    - errors: error counters or 5xx/`grpc_code!="OK"` matchers;
    - latency: `histogram_quantile`, `*_duration_*` / `*_latency_*` series;
    - traffic: request counters (a drop, a spike or `absent()`);
    - saturation: CPU, memory, queues, connections, pools, threads, disks.
    An alert covers the workload when the label matchers of the series that measures the signal
    fit it: `namespace` (an alert on `namespace="payments"` covers every workload there),
    `job`/`service`/`app`/`container` (the workload's name, container names, app labels, the
    Services selecting it, the jobLabel of the ServiceMonitor that scrapes it) and `pod`
    (`checkout-.*`). Matchers on exporter jobs (kubelet, cAdvisor, kube-state-metrics) describe
    the exporter, not the subject, and are skipped; a series with no such matcher is evaluated per
    series and covers every workload. Databases (PM230's) and exporters are left out. A scan with
    no alerting rules is not judged: alerting often lives in another repository. The message says
    when no ServiceMonitor, PodMonitor or `prometheus.io/scrape` annotation scrapes it at all.

    ## Why it breaks production
    In the on-call narrative (R12) the lesson is to monitor the four golden signals: latency,
    traffic, errors and saturation. A service with only a CPU alert can serve 98% errors, or
    time out every request, while its pods look healthy, as the checkout did that night.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {matchLabels: {app: checkout}}
      template:
        metadata: {labels: {app: checkout}}
        spec:
          containers:
            - name: checkout
              image: registry.example.com/checkout:1.4.2
              ports: [{name: http, containerPort: 8080}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {app: checkout}
      ports: [{name: http, port: 80, targetPort: http}]
    ---
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: checkout, namespace: production}
    spec:
      groups:
        - name: checkout
          rules:
            - alert: CheckoutHighErrorRate
              expr: sum(rate(http_requests_total{job="checkout", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="checkout"}[5m])) > 0.05
              for: 5m
              labels: {severity: critical}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {matchLabels: {app: checkout}}
      template:
        metadata: {labels: {app: checkout}}
        spec:
          containers:
            - name: checkout
              image: registry.example.com/checkout:1.4.2
              ports: [{name: http, containerPort: 8080}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {app: checkout}
      ports: [{name: http, port: 80, targetPort: http}]
    ---
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: checkout, namespace: production}
    spec:
      groups:
        - name: checkout
          rules:
            - alert: CheckoutHighErrorRate
              expr: sum(rate(http_requests_total{job="checkout", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="checkout"}[5m])) > 0.05
              for: 5m
              labels: {severity: critical}
            - alert: CheckoutSlow
              expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout"}[5m]))) > 0.5
              for: 10m
              labels: {severity: warning}
            - alert: CheckoutNoTraffic
              expr: sum(rate(http_requests_total{job="checkout"}[5m])) < 1 or absent(http_requests_total{job="checkout"})
              for: 10m
              labels: {severity: critical}
            - alert: ProductionMemoryNearLimit
              expr: container_memory_working_set_bytes{namespace="production", container!=""} / container_spec_memory_limit_bytes > 0.9
              for: 15m
              labels: {severity: warning}
    ```

    ## Fix
    Write one alert per signal for each service (or per namespace, with the service in `by`):
    error ratio, p99 latency, request rate drop/absence, and CPU throttling/memory/queue
    saturation. kube-prometheus' CPUThrottlingHigh and similar cover saturation cluster-wide.
    """
    facts = scan_facts(ctx.project)
    if not facts["alerts"] or database_of(resource) or exporter_image(resource):
        return
    wanted = set(ctx.options.get("signals") or SIGNALS)
    found, services, monitors = coverage(resource, ctx.project, wanted)
    if not services:
        return
    missing = [s for s in SIGNALS if s in wanted and s not in found]
    if not missing:
        return
    have = ", ".join(f"{s} by '{a}'" for s, a in sorted(found.items()))
    svc = ", ".join(s.name for s in services[:3])
    scrape = "" if scraped(resource, monitors) else \
        "; no ServiceMonitor, PodMonitor or prometheus.io/scrape annotation scrapes it at all"
    yield Hit(path=("metadata", "name"), identity=",".join(missing),
              message=f"{resource.kind} '{resource.name}' serves traffic (Service {svc}) but "
                      f"{none_of(len(facts['alerts']))} covers its {', '.join(missing)}"
                      f"{' (covered: ' + have + ')' if have else ''}{scrape}: it can fail that way while every alert "
                      f"stays quiet")
