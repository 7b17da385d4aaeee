"""PM058: a threshold alert on a rate or ratio with no `for:` (10.3)."""
from ...parse.prometheus import alerts_of
from ..observability._promql import is_heartbeat, seconds
from ..registry import Hit, rule
from ._alerts import RULE_FORMATS, RULE_KINDS

NOISY_CALLS = {"rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "predict_linear"}


def flapping_reason(summary) -> str:
    """Why the expression crosses its threshold on a single evaluation ('' when it does not look so):
    a rate or quantile compared with a threshold other than 0 (`> 0` asks "did it happen at all")."""
    for s in summary.selectors:
        cmp = next((c for c in s.chain if c[0] == "cmp" and c[2] is not None), None)
        noisy = [c for c in s.calls() if c in NOISY_CALLS]
        if cmp is None or not noisy or (cmp[1] in (">", "!=") and cmp[2] == 0):
            continue
        ratio = "a ratio of " if any(c[0] == "bin" and c[1] == "/" for c in s.chain) else ""
        return f"{ratio}{noisy[0]}(...) {cmp[1]} {cmp[2]:g}"
    return ""


@rule(id="PM058", name="flapping-alert-without-for", severity="low",
      severity_reason="A rate that crosses its threshold for one evaluation pages and resolves within a minute: "
                      "noise that teaches the on-call engineer to ignore pages.",
      incidents=["10.3"], title="Rate or ratio threshold alert has no `for:`",
      formats=RULE_FORMATS, kinds=RULE_KINDS, production_only=False,
      fix="Add `for: 5m` (or the time the condition must hold before it matters), or `keep_firing_for:` to ride "
          "out a flapping signal.")
def check(resource, ctx):
    """## What it checks
    Alerting rules whose expression compares a rate (`rate`, `irate`, `increase`, `delta`,
    `deriv`) or a quantile (`histogram_quantile`), alone or in a ratio, with a threshold, and
    that have no `for:` and no `keep_firing_for:`. Such an alert fires on the first evaluation
    that crosses the line and resolves on the next. Not judged: an explicit `for: 0s` (a choice),
    "did it happen at all" thresholds (`rate(x[15m]) > 0`), absence checks (`absent()`),
    heartbeats, and gauges and gauge ratios (`kube_pod_status_ready == 0`, disk usage), which
    move slowly. Reported at the alert's name.

    ## Why it breaks production
    In catalog 10.3 alerts came through every channel at once and nobody knew which ones
    mattered; an alert that pages and resolves every few minutes is how a team learns to ignore
    the pager. The real outage then looks like one more flap.

    ## Bad
    ```yaml
    groups:
      - name: api
        rules:
          - alert: ApiHighErrorRate
            expr: sum(rate(http_requests_total{job="api", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="api"}[5m])) > 0.05
            labels: {severity: critical}
            annotations: {runbook_url: "https://runbooks.example.com/api-errors"}
    ```

    ## Good
    ```yaml
    groups:
      - name: api
        rules:
          - alert: ApiHighErrorRate
            expr: sum(rate(http_requests_total{job="api", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="api"}[5m])) > 0.05
            for: 5m
            labels: {severity: critical}
            annotations: {runbook_url: "https://runbooks.example.com/api-errors"}
    ```

    ## Fix
    Pick `for:` from how long the condition must last to hurt users (2–10 minutes for error
    ratios), and keep the range window at least as long as a few scrape intervals.
    """
    for alert in alerts_of(resource):
        if is_heartbeat(alert) or "for" in alert.data or seconds(alert.data.get("keep_firing_for")):
            continue
        reason = flapping_reason(alert.summary)
        if not reason:
            continue
        yield Hit(path=alert.at("alert"), identity=alert.name,
                  message=f"alert '{alert.name}' has no for: and fires as soon as {reason} holds for one evaluation: "
                          f"it pages and resolves with every blip, and a team that learns to ignore it misses the "
                          f"real outage")
