"""PM240: a dashboard panel about errors or latency that averages over a window far longer than a spike."""
from ...parse.grafana import duration_seconds
from ..registry import Hit, rule
from ._dashboards import (
    dilution,
    labelled_window,
    panel_name,
    show,
    smoothing_windows,
    subject,
    target_name,
    window_of,
)


@rule(id="PM240", name="dashboard-error-rate-long-window", severity="medium",
      severity_reason="The dashboard stays green through an outage: people trust it instead of the logs and lose "
                      "the first, most expensive minutes of the incident.",
      incidents=["R7"], title="Dashboard panel averages errors or latency over a long window",
      formats=("grafana",), kinds=["GrafanaDashboard"], production_only=False,
      options={"max_window": "15m"},
      fix="Use `[$__rate_interval]` (or a window of a few scrape intervals, `[5m]`) for error ratios and "
          "latencies, `max_over_time` where one number must summarise a range, and keep long windows for panels "
          "titled as SLO views ('Availability (30d)').")
def check(resource, ctx):
    """## What it checks
    Every panel of a Grafana dashboard (JSON file, ConfigMap, grafana-operator CR) whose title,
    description or queries are about errors (error/5xx/failure/success/availability words, a
    metric named so, a `code`/`status` matcher on 5xx) or latency (latency/duration/p99 words,
    `histogram_quantile`, `_bucket` metrics). Each visible PromQL query must not smooth with
    `rate`, `increase`, `avg_over_time`, `sum_over_time` or `delta` over a window longer than
    `max_window` (15m). The window is the literal one, `$__range` (the panel's relative time or
    the dashboard range, `now-6h` by default), or `$__interval`/`$__rate_interval` when the
    panel's min interval or `maxDataPoints` forces a long step. `max_over_time`,
    `min_over_time` and `irate` keep a spike and are fine. A panel that says it averages on
    purpose is fine too: SLO/SLI/error budget/burn rate in its title, description or row, or
    the window itself named there ("Availability (30d)", "Error ratio, 1h"). A panel that
    also plots a short-window query beside the long one shows the spike and is fine.

    ## Why it breaks production
    In the narrative the dashboards averaged over a 30-minute window: 98% of requests were
    failing while every panel stayed green, "smoothed out by the 2% of successful health checks
    from the previous hour" (R7). The team argued with the dashboard instead of reading the
    ingress logs, and the database pool exhaustion behind it went unseen.

    ## Bad
    ```json dashboards/payments.json
    {
      "title": "Payments",
      "schemaVersion": 39,
      "panels": [
        {
          "type": "timeseries",
          "title": "Checkout error rate",
          "targets": [
            {"refId": "A", "expr": "sum(rate(http_requests_total{job=\\"payment-api\\",code=~\\"5..\\"}[30m])) / sum(rate(http_requests_total{job=\\"payment-api\\"}[30m]))"}
          ]
        }
      ]
    }
    ```

    ## Good
    ```json dashboards/payments.json
    {
      "title": "Payments",
      "schemaVersion": 39,
      "panels": [
        {
          "type": "timeseries",
          "title": "Checkout error rate",
          "targets": [
            {"refId": "A", "expr": "sum(rate(http_requests_total{job=\\"payment-api\\",code=~\\"5..\\"}[$__rate_interval])) / sum(rate(http_requests_total{job=\\"payment-api\\"}[$__rate_interval]))"}
          ]
        },
        {
          "type": "stat",
          "title": "Checkout availability SLO (30d)",
          "targets": [
            {"refId": "A", "expr": "1 - sum(increase(http_requests_total{job=\\"payment-api\\",code=~\\"5..\\"}[30d])) / sum(increase(http_requests_total{job=\\"payment-api\\"}[30d]))"}
          ]
        }
      ]
    }
    ```

    ## Fix
    Plot error ratios and latencies with `[$__rate_interval]` so each point covers a few scrape
    intervals; when a panel must summarise a long range, use `max_over_time(...[1h:])` for
    error ratios (the worst minute, not the mean), and put long-window SLO views in panels that
    say so in their title.
    """
    limit = duration_seconds(str(ctx.options.get("max_window") or "15m")) or 900
    dash = resource.data
    for panel in dash.get("panels") or ():
        about = subject(panel)
        if not about:
            continue
        found, short = [], False
        for i, target in enumerate(panel.get("targets") or ()):
            if target.get("hide") or not target.get("query"):
                continue
            for func, rng in smoothing_windows(target["query"]):
                sec, how = window_of(rng, panel, target, dash)
                if sec is None:
                    short = short or not isinstance(rng, dict) or rng.get("var") in ("__interval", "__rate_interval")
                elif sec > limit:
                    forced = isinstance(rng, dict) and rng.get("var") != "__range"
                    found.append((i, target, func, sec, how, forced))
                    break
                else:
                    short = True
        if not found or short:
            continue
        for i, target, func, sec, how, forced in found:
            if labelled_window(panel, sec):
                continue
            where = f" ({how})" if how else ""
            fix = ("lower the panel's min interval / raise maxDataPoints" if forced
                   else "use [$__rate_interval] or max_over_time")
            yield Hit(path=target["at"] + ("expr",),
                      message=f"{panel_name(panel)} {target_name(target, i)} smooths {about} with {func}() over "
                              f"{show(sec)}{where}, above max_window {show(limit)}: {dilution(sec, about)}, so the panel "
                              f"stays green through the outage; {fix}, or title the panel as the {show(sec)} SLO "
                              f"view it is")
