"""PM057: an Alertmanager route tree with no usable default receiver (10.3)."""
from ...parse.alertmanager import configs_of
from ..registry import Hit, rule
from ._alerts import CONFIG_FORMATS, CONFIG_KINDS


@rule(id="PM057", name="alertmanager-no-default-receiver", severity="high",
      severity_reason="Alertmanager refuses a config without a default receiver or with an undefined one, and one "
                      "whose receivers have no integration drops every alert.",
      incidents=["10.3"], title="Alertmanager route tree has no usable default receiver",
      formats=CONFIG_FORMATS, kinds=CONFIG_KINDS, production_only=False,
      fix="Set `route.receiver` to a receiver defined under `receivers:` that has an integration (a team channel or "
          "pager), and fill in the integrations of the placeholder receivers.")
def check(resource, ctx):
    """## What it checks
    Every Alertmanager configuration (`alertmanager.yml`, the operator's Secret, a ConfigMap,
    an `AlertmanagerConfig`):
    - the root route has a `receiver` (Alertmanager rejects the file without one, and the
      alerts no child route takes have nowhere to go);
    - every route names a receiver defined under `receivers:` (an undefined one makes
      Alertmanager reject the whole configuration at reload, so the old one keeps running);
    - at least one receiver has an integration: a configuration whose receivers are all empty
      (`- name: Default`, the placeholders kube-prometheus ships) delivers no alert at all.

    ## Why it breaks production
    In catalog 10.3 there was "no automated alert → response flow" and resolution took four
    hours longer. A routing tree whose receivers are placeholders is exactly that: every rule
    evaluates, every alert fires, and Alertmanager hands them to nobody.

    ## Bad
    ```yaml alertmanager.yml
    route:
      group_by: [namespace]
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty
    receivers:
      - name: pagerduty
        pagerduty_configs: [{routing_key_file: /etc/alertmanager/pd-key}]
    ```

    ## Good
    ```yaml alertmanager.yml
    route:
      group_by: [namespace]
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

    ## Fix
    Give the root route a real receiver and run `amtool check-config` in CI: it rejects undefined
    receivers. Fill in placeholder receivers before the configuration reaches a cluster.
    """
    for cfg in configs_of(resource):
        if cfg.route is None:
            yield Hit(path=(), at=cfg.route_at, identity=cfg.where,
                      message=f"{cfg.where} has no route: Alertmanager has nowhere to send any alert")
            continue
        root = cfg.route
        if not root.own_receiver and not cfg.crd:
            yield Hit(path=(), at=root.at, identity=f"{cfg.where}:root",
                      message=f"the root route of {cfg.where} has no receiver: Alertmanager rejects the configuration "
                              f"(the previous one keeps running) and alerts no child route takes have nowhere to go")
        for r in root.walk():
            if r.own_receiver and r.receiver not in cfg.receivers:
                yield Hit(path=(), at=r.at, identity=f"{cfg.where}:{r.receiver}",
                          message=f"a route of {cfg.where} sends to receiver '{r.receiver}', which is not defined under "
                                  f"receivers: Alertmanager rejects the whole configuration at reload")
        if cfg.placeholder and cfg.receivers:
            names = ", ".join(f"'{n}'" for n in list(cfg.receivers)[:4])
            yield Hit(path=(), at=root.at, identity=f"{cfg.where}:placeholder",
                      message=f"none of the {len(cfg.receivers)} receivers of {cfg.where} ({names}) has an integration "
                              f"(no pagerduty_configs, webhook_configs, email_configs...): every alert is dropped")
