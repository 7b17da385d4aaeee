"""PM201: an alert that averages error rates or latencies over a window long enough to hide an outage (R7)."""
from ...parse.prometheus import alerts_of
from ..registry import Hit, rule
from ._promql import averaged_windows, is_heartbeat, is_slo, scan_facts, seconds, show, signals

DEFAULT_SCRAPE = 30


def scrape_interval(sel, project) -> int:
    """The scrape interval of the ServiceMonitor/PodMonitor a selector's job/service matcher names
    (the longest when several do), else Prometheus' usual 30s."""
    names = {v for label, op, v in sel.matchers if label in ("job", "service") and op == "="}
    found = [i for e in project.of_kind("ServiceMonitor", "PodMonitor") if e.name in names
             for i in (e.facts.get("monitor") or {}).get("intervals", [])]
    return max(found, default=DEFAULT_SCRAPE)


def spans(alert, records, project, limit: int, factor: int) -> tuple:
    """(long, short): averaged error/latency windows above and within the limit."""
    long, short = [], []
    for s in alert.summary.selectors:
        for window, fn, inner, via in averaged_windows(s, records):
            if not signals(inner) & {"errors", "latency"}:
                continue
            scrape = scrape_interval(inner, project)
            (long if window > max(limit, factor * scrape) else short).append((window, fn, inner, via, scrape))
    return long, short


@rule(id="PM201", name="alert-averages-errors-over-long-window", severity="high",
      severity_reason="A 30-minute average turns a total outage into a small bump: the alert fires late or never "
                      "while every request fails.",
      incidents=["R7"], title="Alert averages error rates or latencies over a long window",
      formats=("kubernetes", "prometheus"), kinds=["PrometheusRule", "VMRule", "PrometheusRuleFile"],
      production_only=False, options={"max_window": "15m", "max_scrapes": 20},
      fix="Alert on a short window (`rate(...[5m])`) with `for:` to ride out blips, or use a multi-window "
          "burn-rate alert (a long and a short window joined with `and`) named for its SLO.")
def check(resource, ctx):
    """## What it checks
    Alerting rules whose expression averages an error counter (names with `error`, `fail`,
    `5xx`, `timeout`, or `code=~"5.."`-style matchers) or a latency (`*_duration_*`,
    `histogram_quantile`) over a window longer than the option `max_window` (15m) and longer
    than `max_scrapes` (20) scrape intervals (the interval of the ServiceMonitor/PodMonitor the
    selector's job names, else 30s). Averaging means `rate()` and `avg_over_time()`, or
    `increase()` inside a ratio; `increase(x[1h]) > 0` counts events and is left alone, as are
    `max_over_time` and the like. Recording rules the alert reads are followed (a
    `job:errors:ratio_rate1h` defined in the scan), and a window spelled in a recorded name
    counts when the rule is elsewhere. SLO alerts are told apart: an alert named or labelled
    for an SLO, burn rate or error budget, or one that joins the long window with a short one
    (`... [1h] > x and ... [5m] > x`, the multi-window burn-rate pattern) is not reported.
    Reported at the expression.

    ## Why it breaks production
    In the on-call narrative (R7) the dashboards and alerts averaged over a 30-minute window and
    showed green while 98% of requests failed: the successful health checks of the previous half
    hour smoothed the outage away. A short window with `for:` fires within minutes.

    ## Bad
    ```yaml
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: checkout, namespace: production}
    spec:
      groups:
        - name: checkout
          rules:
            - alert: CheckoutHighErrorRate
              expr: sum(rate(http_requests_total{job="checkout", code=~"5.."}[30m])) / sum(rate(http_requests_total{job="checkout"}[30m])) > 0.05
              for: 5m
              labels: {severity: critical}
    ```

    ## Good
    ```yaml
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

    ## Fix
    Use a window of a few minutes (at least four scrape intervals) and let `for:` decide how
    long the condition must last. For SLOs, write multi-window burn-rate alerts (Google SRE
    workbook: 1h and 5m at 14.4× the budget) and name them for the SLO.
    """
    facts = scan_facts(ctx.project)
    limit = seconds(ctx.options.get("max_window")) or 900
    factor = int(ctx.options.get("max_scrapes") or 20)
    for alert in alerts_of(resource):
        if is_slo(alert) or is_heartbeat(alert):
            continue
        long, short = spans(alert, facts["records"], ctx.project, limit, factor)
        if not long:
            continue
        joined = any(c[0] == "set" and c[1] == "and" for s in alert.summary.selectors for c in s.chain)
        if short and joined:  # a multi-window burn rate: the short window catches the spike
            continue
        window, fn, inner, via, scrape = max(long, key=lambda x: x[0])
        what = "latency" if "latency" in signals(inner) and "errors" not in signals(inner) else "errors"
        through = f" through recording rule '{via}'" if via else ""
        yield Hit(path=alert.at("expr"), identity=alert.name,
                  message=f"alert '{alert.name}' averages {what} over {show(window)} ({fn}({inner.metric}[{show(window)}])"
                          f"{through}), {window // scrape} scrape intervals of {show(scrape)}: a 5-minute outage "
                          f"{'failing every request reads as at most ' + str(min(100, round(30000 / window))) + '%' if what == 'errors' else 'is diluted ' + str(window // 300) + ' times'}"
                          f" in that average, so the alert fires late or never")
