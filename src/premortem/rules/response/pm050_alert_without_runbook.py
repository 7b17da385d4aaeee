"""PM050: an alerting rule with no runbook link (10.1)."""
from ...parse.prometheus import alerts_of
from ..observability._promql import is_heartbeat
from ..registry import Hit, rule
from ._alerts import RULE_FORMATS, RULE_KINDS, RUNBOOK_ANNOTATIONS, is_placeholder, runbook


@rule(id="PM050", name="alert-without-runbook", severity="medium",
      severity_reason="Nothing breaks by itself, but the engineer paged at night starts from nothing and the "
                      "outage lasts hours longer.",
      incidents=["10.1"], title="Alert has no runbook link",
      formats=RULE_FORMATS, kinds=RULE_KINDS, production_only=False,
      options={"annotations": RUNBOOK_ANNOTATIONS},
      fix="Add `annotations.runbook_url` pointing at the runbook for this alert (a Markdown file in the "
          "repository or a runbook site): what it means, the dashboards and logs to open, the first steps.")
def check(resource, ctx):
    """## What it checks
    Every alerting rule (plain Prometheus rule files, `PrometheusRule` and `VMRule` objects) must
    carry a runbook link: the `runbook_url` annotation, or another name listed in the option
    `annotations` (`runbook`, `playbook`, `playbook_url`, `runbook_link` by default). An empty or
    placeholder value (`TODO`, `tbd`, `#`) counts as missing. Always-firing heartbeat alerts
    (`Watchdog`, `vector(1)`) are left out: nobody acts on them. Reported at the alert's name.

    ## Why it breaks production
    In catalog 10.1 an alert for database CPU fired at 2:30 AM and the on-call engineer had no
    runbook, no dashboards and no idea which service was hammering the database: recovery took
    three hours. A runbook link on the alert puts the first steps in the page itself.

    ## Bad
    ```yaml
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: payments, namespace: production}
    spec:
      groups:
        - name: payments
          rules:
            - alert: PaymentsHighErrorRate
              expr: sum(rate(http_requests_total{job="payments", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="payments"}[5m])) > 0.05
              for: 5m
              labels: {severity: critical}
              annotations:
                summary: More than 5% of payment requests fail
    ```

    ## Good
    ```yaml
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: payments, namespace: production}
    spec:
      groups:
        - name: payments
          rules:
            - alert: PaymentsHighErrorRate
              expr: sum(rate(http_requests_total{job="payments", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="payments"}[5m])) > 0.05
              for: 5m
              labels: {severity: critical}
              annotations:
                summary: More than 5% of payment requests fail
                runbook_url: https://runbooks.example.com/payments/high-error-rate
    ```

    ## Fix
    Write one runbook per alert (kube-prometheus links every alert to
    runbooks.prometheus-operator.dev) and set `runbook_url` on the rule; keep runbooks in Git
    next to the rules so a renamed alert and its runbook change together.
    """
    names = list(ctx.options.get("annotations") or RUNBOOK_ANNOTATIONS)
    for alert in alerts_of(resource):
        if is_heartbeat(alert):
            continue
        key, value = runbook(alert.annotations, names)
        sev = alert.labels.get("severity")
        sev_s = f" (severity {sev})" if sev else ""
        if key and not is_placeholder(value):
            continue
        if key:
            yield Hit(path=alert.at("annotations", key), identity=alert.name,
                      message=f"alert '{alert.name}'{sev_s} has a placeholder {key} '{value}': the engineer it "
                              f"pages gets no steps to follow")
        else:
            yield Hit(path=alert.at("alert"), identity=alert.name,
                      message=f"alert '{alert.name}'{sev_s} has no runbook link (looked for the annotations "
                              f"{', '.join(names)}): the engineer it pages starts from nothing")
