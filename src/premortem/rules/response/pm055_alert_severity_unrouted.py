"""PM055: an alert without a severity label, or with a severity the Alertmanager routing drops (10.3)."""
from ...parse.alertmanager import terminals
from ...parse.prometheus import alerts_of
from ..observability._promql import is_heartbeat
from ..registry import Hit, rule
from ._alerts import RULE_FORMATS, RULE_KINDS, configs


def dropped_by(alert, label: str, project) -> list:
    """The Alertmanager configurations of the scan in which no child route can take the alert and
    the default receiver has no integration; [] when any configuration may deliver it."""
    labels = {str(k): str(v) for k, v in alert.labels.items()} | {"alertname": alert.name}
    known = set(labels) | {label}
    out = []
    for _, cfg in configs(project):
        if cfg.crd or cfg.route is None or cfg.placeholder:
            continue
        ends = terminals(cfg.route, labels, known)
        if not all(t is cfg.route for t in ends) or not cfg.drops(cfg.route.receiver):
            return []
        out.append(cfg)
    return out


@rule(id="PM055", name="alert-severity-unrouted", severity="high",
      severity_reason="The alert fires and nobody is told: the outage is found by customers.",
      incidents=["10.3"], title="Alert has no severity, or a severity the routing tree drops",
      formats=RULE_FORMATS, kinds=RULE_KINDS, production_only=False,
      options={"label": "severity"},
      fix="Give every alert a `severity` label with a value the Alertmanager routes match (critical → pager, "
          "warning → chat), and make the root route's receiver a real one so unmatched alerts still reach someone.")
def check(resource, ctx):
    """## What it checks
    Every alerting rule must carry a `severity` label (option `label`); escalation, inhibition
    and routing all key on it. When the scan holds an Alertmanager configuration
    (`alertmanager.yml`, or the Secret/ConfigMap that embeds it), the alert's static labels
    (`alertname`, `severity`, the rest) are walked down its route tree: the rule fires when no
    child route can take the alert and the default receiver has no integration (a `null`
    blackhole), so the alert is dropped. Labels the alert only gets at run time (from its
    expression) are assumed to match, and configurations with no integration at all (a
    placeholder, reported by PM057) are left out. Heartbeat alerts are skipped.

    ## Why it breaks production
    In catalog 10.3 alerts arrived through Slack, e-mail and calls, with no one knowing the
    severity or who was on call, and resolution took four hours longer. An alert with no
    severity, or one spelled `severity: page` where the routes know `critical`, falls through
    to the default receiver and nobody is paged at all.

    ## Bad
    ```yaml
    groups:
      - name: checkout
        rules:
          - alert: CheckoutDown
            expr: up{job="checkout"} == 0
            for: 2m
            labels: {severity: page}
            annotations: {runbook_url: "https://runbooks.example.com/checkout-down"}
    ```
    ```yaml alertmanager.yml
    route:
      receiver: blackhole
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty
        - matchers: ['severity="warning"']
          receiver: slack
    receivers:
      - name: blackhole
      - name: pagerduty
        pagerduty_configs: [{routing_key_file: /etc/alertmanager/pd-key}]
      - name: slack
        slack_configs: [{channel: '#alerts', api_url_file: /etc/alertmanager/slack-url}]
    ```

    ## Good
    ```yaml
    groups:
      - name: checkout
        rules:
          - alert: CheckoutDown
            expr: up{job="checkout"} == 0
            for: 2m
            labels: {severity: critical}
            annotations: {runbook_url: "https://runbooks.example.com/checkout-down"}
    ```
    ```yaml alertmanager.yml
    route:
      receiver: blackhole
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty
        - matchers: ['severity="warning"']
          receiver: slack
    receivers:
      - name: blackhole
      - name: pagerduty
        pagerduty_configs: [{routing_key_file: /etc/alertmanager/pd-key}]
      - name: slack
        slack_configs: [{channel: '#alerts', api_url_file: /etc/alertmanager/slack-url}]
    ```

    ## Fix
    Use one small set of severities across all rules (`critical`, `warning`, `info`), route each
    explicitly, and keep a real default receiver (a team channel) rather than a blackhole.
    """
    label = str(ctx.options.get("label") or "severity")
    for alert in alerts_of(resource):
        if is_heartbeat(alert):
            continue
        value = alert.labels.get(label)
        if value is None or str(value).strip() == "":
            where = alert.at("labels", label) if value is not None else alert.at("alert")
            yield Hit(path=where, identity=alert.name,
                      message=f"alert '{alert.name}' has no {label} label: Alertmanager cannot route or escalate it "
                              f"by urgency, so a critical problem is delivered like a note")
            continue
        if "{{" in str(value):
            continue
        dropped = dropped_by(alert, label, ctx.project)
        if dropped:
            cfg = dropped[0]
            routed = sorted({f"{v}" for r in cfg.route.walk() for k, op, v in r.matchers if k == label})
            known = f" (its routes match {label} {', '.join(routed)})" if routed else ""
            yield Hit(path=alert.at("labels", label), identity=alert.name,
                      related=((cfg.route.at, f"default receiver of {cfg.where}"),),
                      message=f"alert '{alert.name}' has {label} '{value}', which no route of {cfg.where} takes"
                              f"{known}: it falls to the default receiver {cfg.show(cfg.route.receiver)} "
                              f"and is dropped, so the alert fires and nobody is told")
