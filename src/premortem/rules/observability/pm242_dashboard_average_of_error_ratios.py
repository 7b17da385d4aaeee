"""PM242: a dashboard query that averages per-series error ratios instead of dividing sums."""
import re

from ...parse.grafana import nodes
from ..registry import Hit, rule
from ._dashboards import about_errors_query, panel_name, target_name

PER_SERIES = {"instance", "pod", "pod_name", "container", "node"}
_RATIO_NAME = re.compile(r"(?i)(error|fail|5xx|success|availability).*(ratio|percent|pct)|"
                         r"(ratio|percent|pct).*(error|fail|5xx|success)")


def _unwrap(n):
    """Through parentheses, unary minus and scaling by a number (`100 * (...)`)."""
    while isinstance(n, dict):
        if n.get("t") in ("paren", "unary"):
            n = n.get("expr")
        elif n.get("t") == "bin" and n.get("op") in ("*", "+", "-") and "num" in (n["lhs"].get("t"), n["rhs"].get("t")):
            n = n["rhs"] if n["lhs"].get("t") == "num" else n["lhs"]
        else:
            return n
    return n


def error_ratio(n) -> str:
    """'a / b' when a node is an error (or success) ratio: a division over error-counting series, or
    a recording rule named for one; '' otherwise."""
    n = _unwrap(n)
    if not isinstance(n, dict):
        return ""
    if n.get("t") == "bin" and n.get("op") == "/" and (about_errors_query(n["lhs"]) or about_errors_query(n["rhs"])):
        return "a per-series error/success ratio (x / y)"
    if n.get("t") == "sel" and _RATIO_NAME.search(n.get("name") or ""):
        return f"the per-series ratio {n['name']}"
    return ""


def averaged_ratios(tree):
    for n in nodes(tree):
        if n.get("t") == "agg" and n.get("op") == "avg" and not set(n.get("by") or ()) & PER_SERIES:
            what = error_ratio(n.get("expr"))
            if what:
                yield what


@rule(id="PM242", name="dashboard-average-of-error-ratios", severity="medium",
      severity_reason="The panel under-reports an outage concentrated on some pods or routes, which is how most "
                      "outages start; misleading, not breaking.",
      incidents=["R7"], title="Dashboard panel averages error ratios instead of dividing sums",
      formats=("grafana",), kinds=["GrafanaDashboard"], production_only=False,
      fix="Divide sums: `sum(rate(http_requests_total{code=~\"5..\"}[$__rate_interval])) / "
          "sum(rate(http_requests_total[$__rate_interval]))`, or show the worst series with `max(...)`.")
def check(resource, ctx):
    """## What it checks
    Every visible PromQL query of every dashboard panel: no `avg(...)` over an error or success
    ratio — a division whose series count errors (a metric named error/fail/5xx/success, or a
    `code`/`status` matcher on 5xx/2xx), or a recording rule named like `job:errors:ratio_rate5m`.
    Scaling (`100 * avg(...)`) and parentheses are seen through. `avg by
    (instance|pod|container|node)` averages nothing and is left alone; `max(...)` and a ratio of
    sums are the fixes and never fire.

    ## Why it breaks production
    Averaging per-pod ratios weighs a pod that served one request at 0% errors the same as a
    pod failing 98% of a thousand: the panel shows 49% or, across ten pods, under 10%. In the
    narrative Grafana was green while 98% of requests failed (R7), because the dashboards
    averaged instead of showing what users got.

    ## Bad
    ```json dashboards/errors.json
    {
      "title": "Checkout",
      "schemaVersion": 39,
      "panels": [
        {
          "type": "stat",
          "title": "Error ratio",
          "targets": [
            {"refId": "A", "expr": "avg(rate(http_requests_total{job=\\"checkout\\",code=~\\"5..\\"}[5m]) / rate(http_requests_total{job=\\"checkout\\"}[5m]))"}
          ]
        }
      ]
    }
    ```

    ## Good
    ```json dashboards/errors.json
    {
      "title": "Checkout",
      "schemaVersion": 39,
      "panels": [
        {
          "type": "stat",
          "title": "Error ratio",
          "targets": [
            {"refId": "A", "expr": "sum(rate(http_requests_total{job=\\"checkout\\",code=~\\"5..\\"}[5m])) / sum(rate(http_requests_total{job=\\"checkout\\"}[5m]))"},
            {"refId": "B", "expr": "max(rate(http_requests_total{job=\\"checkout\\",code=~\\"5..\\"}[5m]) / rate(http_requests_total{job=\\"checkout\\"}[5m]))"}
          ]
        }
      ]
    }
    ```

    ## Fix
    Sum errors and requests across series first, then divide; to see the worst pod or route,
    plot `max by (...)` of the ratio next to it.
    """
    for panel in resource.data.get("panels") or ():
        for i, target in enumerate(panel.get("targets") or ()):
            if target.get("hide") or not target.get("query"):
                continue
            for what in averaged_ratios(target["query"]):
                yield Hit(path=target["at"] + ("expr",),
                          message=f"{panel_name(panel)} {target_name(target, i)} takes avg() of {what}: a pod that "
                                  f"served 1 request at 0% errors weighs as much as one failing 98% of a thousand, so "
                                  f"the panel shows ~49% (under 10% across ten pods) while most requests fail; divide "
                                  f"sum(errors) by sum(requests), or plot max()")
                break
