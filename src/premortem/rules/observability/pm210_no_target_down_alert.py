"""PM210: alerting rules with no `up == 0` / `absent()` alert, or an exporter no such alert watches (2.3)."""
import re

from ...k8s.workloads import containers, pod_spec_path
from ..registry import Hit, rule
from ._promql import covers, generic, is_anchor, none_of, scan_facts, watches_down, workload_identity

EXPORTER = re.compile(r"exporter|kube-state-metrics|blackbox|node-problem-detector", re.I)


def exporter_image(resource) -> str:
    for c in containers(resource, include_init=False):
        base = c.image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]
        if EXPORTER.search(base):
            return c.image
    return ""


@rule(id="PM210", name="no-target-down-alert", severity="high",
      severity_reason="When an exporter or a scrape target dies, every alert built on its metrics goes silent "
                      "and the dashboards stay green.",
      incidents=["2.3"], title="No alert notices a scrape target or exporter that stopped reporting",
      formats=("kubernetes", "prometheus"), production_only=False,
      kinds=["PrometheusRule", "VMRule", "PrometheusRuleFile", "Deployment", "DaemonSet", "StatefulSet"],
      fix="Add a target-down alert: `up == 0` for 2–5 minutes (kube-prometheus' TargetDown alerts on the share of "
          "down targets per job), plus `absent(up{job=\"node-exporter\"})` for exporters that may vanish entirely.")
def check(resource, ctx):
    """## What it checks
    In a scan that defines alerting rules:
    - at least one alert must watch scrape targets themselves: `up == 0` (or `< 1`,
      `count(up == 0)`, `avg_over_time(up[5m]) < 0.9`) or `absent(...)`. Without one it is
      reported once, at the first resource holding alerting rules;
    - every exporter the scan deploys (node-exporter, kube-state-metrics, blackbox, any
      `*-exporter` image) must be covered: by a target-down alert that names no job (it covers
      every target) or an `up`/`absent()` alert whose job/service matcher matches the exporter (its name, its
      Services, the jobLabel of its ServiceMonitor). Reported at the exporter workload.

    ## Why it breaks production
    In catalog 2.3 a node ran out of disk and critical pods were evicted while Grafana showed
    everything green: node-exporter on that node had died, Prometheus had nothing to scrape,
    and no alert fired on the exporter being down.

    ## Bad
    ```yaml
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: node, namespace: monitoring}
    spec:
      groups:
        - name: node
          rules:
            - alert: NodeDiskAlmostFull
              expr: node_filesystem_avail_bytes{job="node-exporter", fstype!="tmpfs"} / node_filesystem_size_bytes < 0.1
              for: 10m
              labels: {severity: warning}
    ```

    ## Good
    ```yaml
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: node, namespace: monitoring}
    spec:
      groups:
        - name: node
          rules:
            - alert: NodeDiskAlmostFull
              expr: node_filesystem_avail_bytes{job="node-exporter", fstype!="tmpfs"} / node_filesystem_size_bytes < 0.1
              for: 10m
              labels: {severity: warning}
            - alert: NodeExporterDown
              expr: up{job="node-exporter"} == 0
              for: 2m
              labels: {severity: warning}
    ```

    ## Fix
    Alert on `up == 0` per job (and on `absent()` for jobs that can disappear entirely), and on
    data freshness for pushed metrics. Monitor the monitoring: a silent exporter is not healthy.
    """
    facts = scan_facts(ctx.project)
    if not facts["alerts"]:
        return
    watchers = ctx.project.memo("pm210.watchers", lambda p: [s for _, f in facts["alerts"] for s in f.summary.selectors
                                                            if watches_down(s)])
    if pod_spec_path(resource) is None:
        if not watchers and is_anchor(resource, ctx.project):
            yield Hit(path=("spec", "groups") if resource.format == "kubernetes" else ("groups",), key=True,
                      message=f"{none_of(len(facts['alerts']))} notices a target that stopped reporting "
                              f"(no `up == 0`, no `absent()`): when an exporter or an app stops being scraped, every "
                              f"alert on its metrics goes silent and the dashboards stay green")
        return
    image = exporter_image(resource)
    if not image or not watchers or any(generic(s) and s.metric == "up" for s in watchers):
        return
    names, pods, _, _ = workload_identity(resource, ctx.project)
    if any(covers(s, resource.namespace, names, pods, infra=False) for s in watchers):
        return
    jobs = sorted({v for s in watchers for label, op, v in s.matchers if label == "job"})
    yield Hit(path=("metadata", "name"),
              message=f"{resource.kind} '{resource.name}' runs the exporter '{image}', but the target-down alerts of "
                      f"the scan only watch {', '.join(jobs[:4]) or 'other targets'}: when it dies, the metrics it "
                      f"exported vanish and no alert fires")
