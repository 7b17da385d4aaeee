"""PM211: no always-firing Watchdog alert routed to an external heartbeat receiver (2.3)."""
from ...parse.alertmanager import configs_of, terminals
from ..registry import Hit, rule
from ._promql import none_of, scan_facts

HEARTBEAT_INTEGRATIONS = ["webhook", "pagerduty", "opsgenie", "victorops", "incidentio"]


@rule(id="PM211", name="no-dead-mans-switch", severity="medium",
      severity_reason="When Prometheus or Alertmanager itself dies, every alert stops; without a heartbeat that "
                      "silence looks exactly like health.",
      incidents=["2.3"], title="No Watchdog heartbeat routed to an external dead man's switch",
      formats=("kubernetes", "alertmanager"), kinds=["AlertmanagerConfigFile", "Secret", "ConfigMap"],
      production_only=False, options={"heartbeat_integrations": HEARTBEAT_INTEGRATIONS},
      fix="Add an always-firing alert (`alert: Watchdog`, `expr: vector(1)`) and a route that sends it, with a short "
          "repeat_interval, to a dead man's switch (healthchecks.io, Dead Man's Snitch, an Opsgenie heartbeat, "
          "PagerDuty) that pages when the heartbeat stops.")
def check(resource, ctx):
    """## What it checks
    Every Alertmanager configuration (`alertmanager.yml`, or the Secret/ConfigMap that embeds
    it) must carry a heartbeat: an always-firing alert (`vector(1)`, named Watchdog,
    DeadMansSwitch, DeadMansSnitch or Heartbeat) routed by a route of its own to a receiver
    outside the monitoring stack that raises the alarm when the heartbeat stops. It fires when
    - the scan defines alerting rules and none of them is such an alert;
    - no route takes the heartbeat (it falls to the default receiver, where an alert that always
      fires is noise and its silence is not noticed); when the scan holds no alerting rules,
      the usual name `Watchdog` is looked for;
    - the route ends at a receiver without a heartbeat-capable integration (option
      `heartbeat_integrations`: webhook, pagerduty, opsgenie, victorops, incidentio); e-mail
      and chat are not.
    Configurations whose receivers have no integration at all are PM057's.

    ## Why it breaks production
    In catalog 2.3 dashboards stayed green while a node ran out of disk, because the exporter that
    should have reported it was down. The same happens one level up: when Prometheus or
    Alertmanager stops, no alert can fire, and only an external dead man's switch notices.

    ## Bad
    ```yaml alertmanager.yml
    route:
      receiver: team-slack
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty
    receivers:
      - name: team-slack
        slack_configs: [{channel: '#alerts', api_url_file: /etc/alertmanager/slack-url}]
      - name: pagerduty
        pagerduty_configs: [{routing_key_file: /etc/alertmanager/pd-key}]
    ```

    ## Good
    ```yaml alertmanager.yml
    route:
      receiver: team-slack
      routes:
        - matchers: ['alertname="Watchdog"']
          receiver: deadmansswitch
          repeat_interval: 1m
        - matchers: ['severity="critical"']
          receiver: pagerduty
    receivers:
      - name: team-slack
        slack_configs: [{channel: '#alerts', api_url_file: /etc/alertmanager/slack-url}]
      - name: pagerduty
        pagerduty_configs: [{routing_key_file: /etc/alertmanager/pd-key}]
      - name: deadmansswitch
        webhook_configs: [{url_file: /etc/alertmanager/healthchecks-url}]
    ```

    ## Fix
    kube-prometheus ships the Watchdog alert and a Watchdog route: give that receiver a
    webhook to healthchecks.io or Dead Man's Snitch (or an Opsgenie heartbeat) and set its
    `repeat_interval` below the switch's grace period.
    """
    facts = scan_facts(ctx.project)
    allowed = set(ctx.options.get("heartbeat_integrations") or [])
    beats = sorted({f.name for _, f in facts["alerts"] if f.heartbeat})
    for cfg in configs_of(resource):
        if cfg.route is None or cfg.placeholder:
            continue
        if facts["alerts"] and not beats:
            yield Hit(path=(), at=cfg.route.at, identity=f"{cfg.where}:none",
                      message=f"{none_of(len(facts['alerts']))} is an always-firing heartbeat"
                              f" (Watchdog, `vector(1)`) for {cfg.where} to pass on: when Prometheus or "
                              f"Alertmanager dies, every alert stops and the silence looks like health")
            continue
        for name in beats or ["Watchdog"]:
            ends = terminals(cfg.route, {"alertname": name, "severity": "none"}, {"alertname", "severity"})
            own = [t for t in ends if t is not cfg.route]
            if not own:
                yield Hit(path=(), at=cfg.route.at, identity=f"{cfg.where}:{name}",
                          message=f"no route of {cfg.where} takes the heartbeat alert '{name}': it goes to the default "
                                  f"receiver {cfg.show(cfg.route.receiver)}, where an always-firing alert is "
                                  f"noise and nobody notices when it stops")
            elif not any(set(getattr(cfg.receivers.get(t.receiver), "types", ())) & allowed for t in own):
                yield Hit(path=(), at=own[0].at, identity=f"{cfg.where}:{name}",
                          message=f"the heartbeat alert '{name}' goes to receiver {cfg.show(own[0].receiver)} "
                                  f"in {cfg.where}, which is no dead man's switch: nothing external raises the alarm "
                                  f"when the heartbeat stops")
