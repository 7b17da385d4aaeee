"""PM243: a success-rate or error-rate stat panel that shows the mean over a long time range."""
import re

from ...parse.grafana import duration_seconds
from ..registry import Hit, rule
from ._dashboards import labelled_window, panel_name, panel_range, show

STAT_TYPES = {"stat", "gauge", "bargauge", "singlestat", "grafana-singlestat-panel"}
_RATE_TITLE = re.compile(r"(?i)\b(success|error|failure|fail|5xx|availability|uptime)s?\b[\w\s/-]*?"
                         r"(\b(rate|ratio|percent(age)?|pct|share)\b|%)|\b(availability|success rate|error rate)\b")


@rule(id="PM243", name="rate-panel-mean-over-long-range", severity="medium",
      severity_reason="A headline success-rate number that cannot move during an outage is worse than none: "
                      "people read it first and believe it.",
      incidents=["R7"], title="Success/error-rate stat panel shows the mean of a long time range",
      formats=("grafana",), kinds=["GrafanaDashboard"], production_only=False,
      options={"max_range": "1h"},
      fix="Reduce with `lastNotNull` (the current value) or, for an error rate, `max` (for a success rate, "
          "`min`) so the stat shows the worst point; if the panel is an SLO view, say so in its title "
          "('Availability SLO (30d)').")
def check(resource, ctx):
    """## What it checks
    Stat, gauge, bar-gauge and old singlestat panels titled as a success rate, error rate,
    availability or failure ratio: their reduce calculation (`options.reduceOptions.calcs`, or
    singlestat `valueName: avg`) must not be `mean` over a time range longer than `max_range`
    (1h). The range is the panel's relative time (`timeFrom`) or the dashboard's (`time.from`,
    `now-6h` when unset). A panel that says it is an SLO view (SLO/SLI/error budget in its
    title, description or row, or the range itself named there, "Availability (30d)") is fine.

    ## Why it breaks production
    A stat reduced with `mean` over six hours moves by under 3 points for a 10-minute outage
    failing 98% of requests, so "Success rate 99.1%" stays green. In the narrative everything
    was green while 98% of requests failed, because the dashboards showed averages over long
    windows (R7).

    ## Bad
    ```json dashboards/overview.json
    {
      "title": "Checkout overview",
      "schemaVersion": 39,
      "time": {"from": "now-24h", "to": "now"},
      "panels": [
        {
          "type": "stat",
          "title": "Success rate",
          "options": {"reduceOptions": {"calcs": ["mean"]}},
          "fieldConfig": {"defaults": {"unit": "percentunit"}},
          "targets": [
            {"refId": "A", "expr": "sum(rate(http_requests_total{job=\\"checkout\\",code!~\\"5..\\"}[$__rate_interval])) / sum(rate(http_requests_total{job=\\"checkout\\"}[$__rate_interval]))"}
          ]
        }
      ]
    }
    ```

    ## Good
    ```json dashboards/overview.json
    {
      "title": "Checkout overview",
      "schemaVersion": 39,
      "time": {"from": "now-24h", "to": "now"},
      "panels": [
        {
          "type": "stat",
          "title": "Success rate",
          "options": {"reduceOptions": {"calcs": ["lastNotNull"]}},
          "targets": [
            {"refId": "A", "expr": "sum(rate(http_requests_total{job=\\"checkout\\",code!~\\"5..\\"}[$__rate_interval])) / sum(rate(http_requests_total{job=\\"checkout\\"}[$__rate_interval]))"}
          ]
        },
        {
          "type": "stat",
          "title": "Availability SLO (30d)",
          "timeFrom": "30d",
          "options": {"reduceOptions": {"calcs": ["mean"]}},
          "targets": [
            {"refId": "A", "expr": "sum(rate(http_requests_total{job=\\"checkout\\",code!~\\"5..\\"}[$__rate_interval])) / sum(rate(http_requests_total{job=\\"checkout\\"}[$__rate_interval]))"}
          ]
        }
      ]
    }
    ```

    ## Fix
    Show the current value (`lastNotNull`) or the worst one (`max` of an error rate, `min` of a
    success rate) in headline stats; keep means over days for panels titled as SLO views.
    """
    limit = duration_seconds(str(ctx.options.get("max_range") or "1h")) or 3600
    for panel in resource.data.get("panels") or ():
        if panel.get("type") not in STAT_TYPES or "mean" not in (panel.get("calcs") or ()):
            continue
        if not _RATE_TITLE.search(panel.get("title") or ""):
            continue
        sec, how = panel_range(panel, resource.data)
        if not sec or sec <= limit or labelled_window(panel, sec):
            continue
        share = min(1.0, 600 / sec) * 98
        old = panel.get("type") in ("singlestat", "grafana-singlestat-panel")
        yield Hit(path=panel["at"] + (("valueName",) if old else ("options", "reduceOptions", "calcs")),
                  message=f"{panel_name(panel)} reduces to the mean over {show(sec)} ({how}), above max_range "
                          f"{show(limit)}: a 10-minute outage failing 98% of requests moves it by ~{share:.1f} "
                          f"points, so the headline number stays green; reduce with lastNotNull, or max/min for the "
                          f"worst point, or title it as the {show(sec)} SLO view it is")
