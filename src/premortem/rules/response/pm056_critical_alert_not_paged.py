"""PM056: critical alerts that Alertmanager routes to no paging receiver (10.3)."""
from ...parse.alertmanager import configs_of, terminals
from ..observability._promql import scan_facts
from ..registry import Hit, rule
from ._alerts import CONFIG_FORMATS, CONFIG_KINDS, PAGING_HOSTS, PAGING_INTEGRATIONS, PAGING_SEVERITIES, pages


def urgent_values(cfg, alerts, wanted: set) -> list:
    """The paging severities this scan uses: in its alerts' labels or in the route matchers."""
    used = {str(f.labels.get("severity", "")).lower() for _, f in alerts}
    used |= {v.lower() for r in cfg.route.walk() for k, op, v in r.matchers if k == "severity" and op == "="}
    found = sorted(wanted & used)
    return found or (["critical"] if not alerts else [])


@rule(id="PM056", name="critical-alert-not-paged", severity="high",
      severity_reason="A critical alert that only reaches e-mail or a chat channel waits until someone reads it: "
                      "at night, hours.",
      incidents=["10.3"], title="Critical alerts route to no paging receiver",
      formats=CONFIG_FORMATS, kinds=CONFIG_KINDS, production_only=False,
      options={"paging_integrations": PAGING_INTEGRATIONS, "paging_webhook_hosts": PAGING_HOSTS,
               "paging_severities": PAGING_SEVERITIES},
      fix="Route `severity=critical` to a receiver with a paging integration (pagerduty_configs, opsgenie_configs, "
          "victorops_configs) and keep chat/e-mail for warnings, e.g. `routes: [{matchers: ['severity=\"critical\"'], "
          "receiver: pagerduty}]`.")
def check(resource, ctx):
    """## What it checks
    For every Alertmanager configuration (`alertmanager.yml`, the operator's Secret, a ConfigMap,
    an `AlertmanagerConfig`), where an alert with a paging severity goes: the severities in the
    option `paging_severities` (`critical`, `page`, `p1`, `sev1`, `emergency`) that the scan's
    alerts or routes use, walked down the route tree (matchers on other labels may match). It
    fires when none of the receivers such an alert can reach pages someone: a receiver pages
    when it has an integration in `paging_integrations` (pagerduty, opsgenie, victorops,
    incidentio) or a webhook to a host in `paging_webhook_hosts` (PagerDuty, Opsgenie, Splunk
    On-Call, incident.io, Grafana OnCall...). E-mail, Slack, Teams and other webhooks do not page.
    Reported at the receiver of the route critical alerts end at, once per configuration.
    Configurations with no integration at all are PM057's.

    ## Why it breaks production
    In catalog 10.3 alerts came "via Slack, email, and calls", nobody knew who was on call, and
    resolution took four hours longer than necessary. A critical alert routed to a chat
    channel at 3 AM is read at 9 AM.

    ## Bad
    ```yaml alertmanager.yml
    route:
      receiver: team-email
      routes:
        - matchers: ['severity="critical"']
          receiver: team-slack
    receivers:
      - name: team-email
        email_configs: [{to: oncall@example.com}]
      - name: team-slack
        slack_configs: [{channel: '#alerts', api_url_file: /etc/alertmanager/slack-url}]
    ```

    ## Good
    ```yaml alertmanager.yml
    route:
      receiver: team-email
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty
    receivers:
      - name: team-email
        email_configs: [{to: oncall@example.com}]
      - name: pagerduty
        pagerduty_configs: [{routing_key_file: /etc/alertmanager/pd-key}]
    ```

    ## Fix
    Add a paging receiver and a route for critical alerts in front of the others; send a copy to
    chat with `continue: true` if the team wants to see it there too.
    """
    integrations = list(ctx.options.get("paging_integrations") or [])
    hosts = list(ctx.options.get("paging_webhook_hosts") or [])
    wanted = {str(s).lower() for s in ctx.options.get("paging_severities") or []}
    alerts = scan_facts(ctx.project)["alerts"]
    for cfg in configs_of(resource):
        if cfg.route is None or cfg.placeholder:
            continue
        for value in urgent_values(cfg, alerts, wanted):
            ends = terminals(cfg.route, {"severity": value}, {"severity"})
            if any(pages(cfg.receivers.get(t.receiver), integrations, hosts) for t in ends):
                continue
            if any(t.receiver not in cfg.receivers for t in ends):
                continue  # an undefined receiver: Alertmanager rejects the file (PM057)
            end = next((t for t in ends if t is not cfg.route), ends[0])
            fate = ("is dropped" if cfg.drops(end.receiver)
                    else f"waits in {', '.join(cfg.receivers[end.receiver].types)} until someone reads it")
            names = sorted({f.name for _, f in alerts if str(f.labels.get("severity", "")).lower() == value})
            which = (f" ({len(names)} alert{'s' if len(names) != 1 else ''} of the scan: {', '.join(names[:3])}"
                     f"{', ...' if len(names) > 3 else ''})") if names else ""
            yield Hit(path=(), at=end.at, identity=f"{cfg.where}:{value}",
                      message=f"alerts with severity '{value}'{which} end at receiver "
                              f"{cfg.show(end.receiver)} in {cfg.where}, and no receiver they can reach "
                              f"pages anyone: a critical alert {fate}")
            break
