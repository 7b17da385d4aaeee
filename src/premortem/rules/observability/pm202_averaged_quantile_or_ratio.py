"""PM202: `avg` of percentiles or of per-series error ratios in alerting and recording rules (R7)."""
from ...parse.prometheus import rules_of
from ..registry import Hit, rule
from ._promql import quantile_valued, scan_facts, signals, tokens

PER_SERIES = {"instance", "pod", "pod_name", "container"}  # an avg by these averages (almost) nothing away


def _averages(chain) -> list:
    """Indexes of averaging nodes in a chain: `avg(...)` that collapses series, `avg_over_time`."""
    out = []
    for i, c in enumerate(chain):
        if c[0] == "agg" and c[1] == "avg" and not (c[2] and PER_SERIES & set(c[2])):
            out.append(i)
        elif c[0] == "call" and c[1] == "avg_over_time":
            out.append(i)
    return out


def problem(sel, records) -> str:
    """'a percentile' / 'error ratios' when the selector's value is averaged in a way that lies."""
    avgs = _averages(sel.chain)
    if not avgs:
        return ""
    first = avgs[0]
    hq = [i for i, c in enumerate(sel.chain) if c[0] == "call" and c[1] == "histogram_quantile"]
    if (hq and hq[0] > first) or (not hq and quantile_valued(sel, records)):
        return "percentiles"
    divided = any(c[0] == "bin" and c[1] == "/" for c in sel.chain[first + 1:])
    recorded_ratio = "ratio" in tokens(sel.metric) or any(
        any(c[0] == "bin" and c[1] == "/" for c in s.chain) for rec in records.get(sel.metric, [])
        for s in rec.summary.selectors)
    if "errors" in signals(sel) and (divided or recorded_ratio):
        return "error ratios"
    return ""


@rule(id="PM202", name="averaged-quantile-or-ratio", severity="medium",
      severity_reason="The number is wrong in the direction that hides trouble: one instance at 100% errors or "
                      "10 s latency averages into a harmless figure.",
      incidents=["R7"], title="Rule averages percentiles or per-series error ratios",
      formats=("kubernetes", "prometheus"), kinds=["PrometheusRule", "VMRule", "PrometheusRuleFile"],
      production_only=False,
      fix="Aggregate before the division or the quantile: `sum(rate(errors[5m])) / sum(rate(total[5m]))`, "
          "`histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))`; use `max` when the worst instance matters.")
def check(resource, ctx):
    """## What it checks
    Alerting and recording rules that take the mean of values that do not average:
    - percentiles: `avg(histogram_quantile(...))`, `avg(x{quantile="0.99"})`, `avg_over_time` of
      a `..._p99` series or of a recording rule that is a `histogram_quantile`;
    - per-series error ratios: `avg(rate(errors[5m]) / rate(requests[5m]))`, `avg` or
      `avg_over_time` of an error-ratio recording rule (`job:http_errors:ratio_rate5m`).
    The mean of percentiles is no percentile, and the mean of ratios weighs an idle pod like a
    busy one. `avg by (instance)` / `avg by (pod)` (nothing averaged away) and `avg` inside
    `histogram_quantile` (over buckets) are fine. Reported at the expression.

    ## Why it breaks production
    In the on-call narrative (R7) the panels averaged the errors away and showed green during a
    98% failure rate. Averaging ratios does the same across pods: one pod failing every request
    among ten idle ones reads as 10%, under a 20% threshold.

    ## Bad
    ```yaml
    groups:
      - name: checkout
        rules:
          - alert: CheckoutSlow
            expr: avg(histogram_quantile(0.99, sum by (le, pod) (rate(http_request_duration_seconds_bucket{job="checkout"}[5m])))) > 0.5
            for: 5m
            labels: {severity: warning}
    ```

    ## Good
    ```yaml
    groups:
      - name: checkout
        rules:
          - alert: CheckoutSlow
            expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout"}[5m]))) > 0.5
            for: 5m
            labels: {severity: warning}
    ```

    ## Fix
    Sum the buckets (or the error and request counters) across series first, then take the
    quantile (or the ratio). If you want the worst pod, use `max` over the per-pod values.
    """
    records = scan_facts(ctx.project)["records"]
    for r in rules_of(resource):
        for sel in r.summary.selectors:
            what = problem(sel, records)
            if what == "percentiles":
                yield Hit(path=r.at("expr"), identity=r.name,
                          message=f"{r.kind} '{r.name}' averages percentiles ({sel.metric or 'a series'}): the mean "
                                  f"of per-pod p99s is no p99, and one pod answering in 10 s among fast ones reads "
                                  f"as a small number; take histogram_quantile over summed buckets, or max")
            elif what:
                yield Hit(path=r.at("expr"), identity=r.name,
                          message=f"{r.kind} '{r.name}' averages error ratios ({sel.metric or 'a series'}): an idle "
                                  f"pod weighs as much as a busy one, so one pod failing every request among ten "
                                  f"reads as 10%; divide summed counters instead, or use max")
            if what:
                break
