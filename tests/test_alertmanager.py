"""Alertmanager configuration: the plain file by shape, the Secret/ConfigMap forms (lines mapped back
into the manifest), AlertmanagerConfig objects, matchers and the route walk."""
import base64
import textwrap

from premortem.model import Source
from premortem.parse import alertmanager as am
from premortem.parse.kubernetes import parse_manifest

from .conftest import run_scan
from .test_prometheus import write

SECRET = textwrap.dedent("""\
    apiVersion: v1
    kind: Secret
    metadata: {name: alertmanager-main, namespace: monitoring}
    stringData:
      alertmanager.yaml: |
        route:
          receiver: team
          routes:
            - matchers: ['severity = "critical"', 'team=~"pay.*"']
              receiver: pager
        receivers:
          - name: team
            slack_configs: [{channel: '#x', api_url: 'https://hooks.slack.com/services/T0/B0/secret'}]
          - name: pager
            pagerduty_configs: [{routing_key: abc}]
            webhook_configs: [{url: 'https://events.pagerduty.com/x'}]
    """)


def test_parse_matchers_reads_every_spelling():
    assert am.parse_matchers('severity = critical') == [("severity", "=", "critical")]
    assert am.parse_matchers('{alertname=~"A|B", team!="x"}') == [("alertname", "=~", "A|B"), ("team", "!=", "x")]
    assert am.parse_matchers('foo!~"a,b"') == [("foo", "!~", "a,b")]


def test_secret_stringdata_maps_lines_into_the_manifest():
    (r,), _ = parse_manifest(SECRET, "am.yaml")
    (cfg,) = am.configs_of(r)
    assert cfg.where == "Secret monitoring/alertmanager-main, key alertmanager.yaml"
    assert cfg.route.at == Source("am.yaml", 7, 0) and cfg.route.receiver == "team"
    child = cfg.route.routes[0]
    assert child.matchers == (("severity", "=", "critical"), ("team", "=~", "pay.*"))
    assert (child.receiver, child.at.line) == ("pager", 10)
    assert cfg.receivers["pager"].types == ("pagerduty", "webhook")
    assert cfg.receivers["pager"].hosts == ("events.pagerduty.com",)
    # credentials never enter the model: only receiver names, types and host names
    assert "secret" not in repr(cfg.receivers["team"]) and "abc" not in repr(cfg)


def test_secret_base64_data_points_at_the_key():
    text = "route: {receiver: a}\nreceivers: [{name: a, email_configs: [{to: x@example.com}]}]\n"
    manifest = ("apiVersion: v1\nkind: Secret\nmetadata: {name: am}\ndata:\n"
                f"  alertmanager.yml: {base64.b64encode(text.encode()).decode()}\n")
    (r,), _ = parse_manifest(manifest, "s.yaml")
    (cfg,) = am.configs_of(r)
    assert cfg.route.at.line == 5 and cfg.receivers["a"].types == ("email",)


def test_alertmanagerconfig_object_uses_matcher_objects():
    (r,), _ = parse_manifest(textwrap.dedent("""\
        apiVersion: monitoring.coreos.com/v1alpha1
        kind: AlertmanagerConfig
        metadata: {name: team, namespace: prod}
        spec:
          route:
            receiver: mail
            routes:
              - matchers: [{name: severity, value: critical}, {name: team, value: "pay.*", matchType: "=~"}]
                receiver: og
          receivers:
            - name: mail
              emailConfigs: [{to: a@example.com}]
            - name: og
              opsgenieConfigs: [{apiKey: {name: og, key: key}}]
        """), "amc.yaml")
    (cfg,) = am.configs_of(r)
    assert cfg.crd and cfg.route.routes[0].matchers == (("severity", "=", "critical"), ("team", "=~", "pay.*"))
    assert cfg.receivers["og"].types == ("opsgenie",) and cfg.route.routes[0].at.line == 9


def test_route_walk_honours_first_match_continue_and_unknown_labels():
    (r,), _ = parse_manifest(SECRET, "am.yaml")
    (cfg,) = am.configs_of(r)
    known = {"severity", "alertname"}
    # team is not a static label: the child may take the alert, or the root
    assert [t.receiver for t in am.terminals(cfg.route, {"severity": "critical"}, known)] == ["pager", "team"]
    assert [t.receiver for t in am.terminals(cfg.route, {"severity": "critical", "team": "payments"},
                                             known | {"team"})] == ["pager"]
    assert [t.receiver for t in am.terminals(cfg.route, {"severity": "warning"}, known)] == ["team"]


def test_plain_alertmanager_yml_is_recognised_by_shape():
    resources, errors = parse_manifest("route: {receiver: x}\nreceivers: [{name: x}]\n", "alertmanager.yml")
    assert not errors and [(r.format, r.kind) for r in resources] == [("alertmanager", am.CONFIG_FILE)]


def test_invalid_embedded_config_is_a_scan_error(tmp_path):
    write(tmp_path, "am.yaml", """\
        apiVersion: v1
        kind: Secret
        metadata: {name: alertmanager-main, namespace: monitoring}
        stringData:
          alertmanager.yaml: |
            route:
              receiver: team
             routes: []
            receivers: [{name: team}]
        """)
    result = run_scan(tmp_path, select=["PM057"])
    assert len(result.errors) == 1 and result.errors[0].file == "am.yaml"
    assert result.errors[0].message.startswith("alertmanager.yaml: invalid YAML")


def test_pm056_message_names_the_receiver_and_the_critical_alerts(tmp_path):
    write(tmp_path, "alertmanager.yml", """\
        route:
          receiver: mail
          routes:
            - matchers: ['severity="critical"']
              receiver: chat
        receivers:
          - name: mail
            email_configs: [{to: oncall@example.com}]
          - name: chat
            slack_configs: [{channel: '#x', api_url_file: /x}]
        """)
    write(tmp_path, "rules.yml", """\
        groups:
          - name: api
            rules:
              - alert: ApiDown
                expr: up{job="api"} == 0
                for: 2m
                labels: {severity: critical}
              - alert: DbDown
                expr: up{job="db"} == 0
                for: 2m
                labels: {severity: critical}
        """)
    (f,) = run_scan(tmp_path, select=["PM056"]).findings
    assert (f.file, f.line, f.column) == ("alertmanager.yml", 5, 17)
    assert f.message.startswith("alerts with severity 'critical' (2 alerts of the scan: ApiDown, DbDown) end at "
                                "receiver 'chat' (slack) in alertmanager.yml")


def test_pm055_reports_the_severity_value_and_relates_the_default_receiver(tmp_path):
    write(tmp_path, "alertmanager.yml", """\
        route:
          receiver: "null"
          routes:
            - matchers: ['severity="critical"']
              receiver: pager
        receivers:
          - name: "null"
          - name: pager
            pagerduty_configs: [{routing_key_file: /x}]
        """)
    write(tmp_path, "rules.yml", """\
        groups:
          - name: api
            rules:
              - alert: ApiDown
                expr: up{job="api"} == 0
                for: 2m
                labels: {severity: Critical}
        """)
    (f,) = run_scan(tmp_path, select=["PM055"]).findings
    assert (f.file, f.line) == ("rules.yml", 7)
    assert "severity 'Critical', which no route of alertmanager.yml takes (its routes match severity critical)" \
        in f.message
    assert [(r.file, r.line) for r in f.related] == [("alertmanager.yml", 2)]
