"""PM241: a dashboard query that averages latency quantiles (avg of p99s is no percentile at all)."""
import re

from ...parse.grafana import nodes
from ..registry import Hit, rule
from ._dashboards import panel_name, target_name

PER_SERIES = {"instance", "pod", "pod_name", "container", "node"}
_QUANTILE_NAME = re.compile(r"(?i)(quantile|(^|[_:])p(50|75|90|95|99|999)($|[_:]))")


def quantile_source(tree) -> str:
    """What in a subtree is a quantile: a histogram_quantile() call, a summary `quantile` series or a
    recording rule named for one ('' when none)."""
    for n in nodes(tree):
        if n.get("t") == "call" and n.get("func") == "histogram_quantile":
            return "histogram_quantile()"
        if n.get("t") == "sel":
            q = next((v for k, op, v in n.get("matchers") or () if k == "quantile"), None)
            if q is not None:
                return f"{n.get('name') or 'a series'}{{quantile=\"{q}\"}}"
            if _QUANTILE_NAME.search(n.get("name") or ""):
                return f"the quantile series {n['name']}"
    return ""


def averaged_quantiles(tree):
    """(how, what) for each avg()/avg_over_time() over quantiles in a query."""
    for n in nodes(tree):
        if n.get("t") == "agg" and n.get("op") == "avg":
            if set(n.get("by") or ()) & PER_SERIES:
                continue  # one series per group: nothing is averaged across instances
            what = quantile_source(n.get("expr"))
            if what:
                yield "avg()", what
        elif n.get("t") == "call" and n.get("func") == "avg_over_time" and n.get("args"):
            what = quantile_source(n["args"][0])
            if what:
                yield "avg_over_time()", what


@rule(id="PM241", name="dashboard-average-of-quantiles", severity="medium",
      severity_reason="A latency panel that averages percentiles under-reports the tail users feel; it misleads "
                      "during an incident but breaks nothing by itself.",
      incidents=["R7"], title="Dashboard panel averages latency quantiles",
      formats=("grafana",), kinds=["GrafanaDashboard"], production_only=False,
      fix="Aggregate the histogram buckets first and take the quantile last: "
          "`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`; "
          "for summaries, show `max by (...)` of the quantile, never `avg`.")
def check(resource, ctx):
    """## What it checks
    Every visible PromQL query of every dashboard panel: no `avg(...)` or
    `avg_over_time(...)` over a quantile — a `histogram_quantile()` result, a summary series
    selected with `quantile="0.99"`, or a recording rule named for a quantile
    (`...:histogram_quantile`, `..._p99`). An `avg by (instance|pod|container|node)` is left
    alone: each group holds one series, so nothing is averaged across them.

    ## Why it breaks production
    The average of ten pods' p99 latencies is not a p99: one pod timing out at 30 s next to
    nine healthy ones at 50 ms averages to about 3 s, and a rarely hit pod weighs as much as
    the busiest one. In the narrative the dashboards were green while upstream timeouts
    returned 504s for most requests (R7): averages hid the tail that users were getting.

    ## Bad
    ```json dashboards/latency.json
    {
      "title": "Payment latency",
      "schemaVersion": 39,
      "panels": [
        {
          "type": "timeseries",
          "title": "p99 latency",
          "targets": [
            {"refId": "A", "expr": "avg(histogram_quantile(0.99, sum by (le, pod) (rate(http_request_duration_seconds_bucket{job=\\"payment-api\\"}[$__rate_interval]))))"}
          ]
        }
      ]
    }
    ```

    ## Good
    ```json dashboards/latency.json
    {
      "title": "Payment latency",
      "schemaVersion": 39,
      "panels": [
        {
          "type": "timeseries",
          "title": "p99 latency",
          "targets": [
            {"refId": "A", "expr": "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\\"payment-api\\"}[$__rate_interval])))"},
            {"refId": "B", "expr": "max(http_request_duration_seconds{job=\\"payment-api\\",quantile=\\"0.99\\"})"}
          ]
        }
      ]
    }
    ```

    ## Fix
    Sum the buckets across pods and compute the quantile once
    (`histogram_quantile(0.99, sum by (le) (rate(..._bucket[$__rate_interval])))`); a summary's
    quantiles cannot be combined at all, so plot the worst one with `max`.
    """
    for panel in resource.data.get("panels") or ():
        for i, target in enumerate(panel.get("targets") or ()):
            if target.get("hide") or not target.get("query"):
                continue
            for how, what in averaged_quantiles(target["query"]):
                yield Hit(path=target["at"] + ("expr",),
                          message=f"{panel_name(panel)} {target_name(target, i)} takes {how} of {what}: the mean of "
                                  f"percentiles is no percentile (one pod timing out at 30s beside nine at 50ms "
                                  f"averages to ~3s), so the tail users feel disappears; aggregate the buckets with "
                                  f"sum by (le) before histogram_quantile, or plot max()")
                break
