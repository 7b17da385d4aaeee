"""Prometheus rules: plain rule files by shape, PrometheusRule objects, the PromQL summary, and the
positions and messages of the rules that read them."""
import textwrap

from premortem.config import Config, RuleConfig
from premortem.parse.kubernetes import parse_manifest
from premortem.parse.prometheus import RULE_FILE, rules_of, summarize

from .conftest import run_scan, shared_or_skip

MY_RULES = ["PM050", "PM051", "PM055", "PM056", "PM057", "PM058", "PM201", "PM202", "PM210", "PM211", "PM220",
            "PM221", "PM230"]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text))
    return p


# ---- the summary -----------------------------------------------------------------------------
def test_summary_keeps_matchers_windows_and_the_chain_around_each_selector():
    s = summarize('sum by (job) (rate(http_requests_total{job="api", code=~"5.."}[30m]))'
                  ' / sum by (job) (rate(http_requests_total{job="api"}[30m])) > 0.05')
    assert s.metrics == ["http_requests_total"]
    first = s.selectors[0]
    assert first.matchers == (("job", "=", "api"), ("code", "=~", "5.."))
    assert first.window == 1800
    assert first.chain == (("cmp", ">", 0.05), ("bin", "/", 0), ("agg", "sum", ("job",), None), ("call", "rate", 1800))
    assert s.functions == (("rate", 1800), ("rate", 1800)) and s.aggregations == ("sum", "sum")


def test_summary_flips_a_comparison_seen_from_the_right_and_evaluates_constant_thresholds():
    s = summarize("(14.4 * 0.001) < slo:errors:ratio_rate1h")
    assert s.selectors[0].chain == (("cmp", ">", 14.4 * 0.001),)
    drop = summarize("1 > rate(orders_total[5m])")
    assert drop.selectors[0].chain[0] == ("cmp", "<", 1.0)


def test_summary_of_subqueries_absent_and_vector():
    s = summarize("max_over_time(rate(errors_total[5m])[1h:1m]) > 3 unless absent(up{job='x'})")
    err, up = s.selectors
    assert err.window == 300 and err.windows() == [300, 3600]
    assert ("set", "unless", 1) in up.chain and "absent" in up.calls()
    assert summarize("vector(1)").always and not summarize("up == 0").always


def test_summary_reports_a_parse_error_instead_of_raising():
    s = summarize("sum(rate(x[5m])")
    assert s.error and not s.selectors


# ---- plain rule files and PrometheusRule objects ---------------------------------------------
def test_a_plain_rule_file_is_recognised_by_shape_and_keeps_positions():
    text = textwrap.dedent("""\
        groups:
          - name: api
            rules:
              - record: job:errors:rate5m
                expr: sum by (job) (rate(errors_total[5m]))
              - alert: ApiErrors
                expr: job:errors:rate5m > 1
                for: 5m
        """)
    resources, errors = parse_manifest(text, "rules/api.yml")
    assert not errors and [r.kind for r in resources] == [RULE_FILE]
    rules = rules_of(resources[0])
    assert [(r.kind, r.name) for r in rules] == [("record", "job:errors:rate5m"), ("alert", "ApiErrors")]
    assert resources[0].locate(rules[1].at("alert")).line == 6


def test_yaml_with_other_groups_is_not_a_rule_file():
    resources, _ = parse_manifest("groups:\n  - name: admins\n    members: [alice]\n", "ldap.yaml")
    assert resources == []


def test_invalid_promql_is_a_scan_error_at_the_expression_line(tmp_path):
    write(tmp_path, "rules.yaml", """\
        apiVersion: monitoring.coreos.com/v1
        kind: PrometheusRule
        metadata: {name: api, namespace: production}
        spec:
          groups:
            - name: api
              rules:
                - alert: Broken
                  expr: sum(rate(errors_total[5m]) > 1
        """)
    result = run_scan(tmp_path, select=["PM058"])
    assert [(e.file, e.line) for e in result.errors] == [("rules.yaml", 9)]
    assert "alert 'Broken' does not parse" in result.errors[0].message


# ---- rule positions and messages -------------------------------------------------------------
def test_pm201_names_the_window_the_series_and_the_recording_rule_followed(tmp_path):
    write(tmp_path, "rules.yml", """\
        groups:
          - name: api
            rules:
              - record: job:http_errors:ratio_rate1h
                expr: sum(rate(http_requests_total{code=~"5.."}[1h])) / sum(rate(http_requests_total[1h]))
              - alert: ApiErrors
                expr: job:http_errors:ratio_rate1h > 0.01
                for: 5m
        """)
    (f,) = run_scan(tmp_path, select=["PM201"]).findings
    assert (f.file, f.line) == ("rules.yml", 7)
    assert "averages errors over 1h (rate(http_requests_total[1h]) through recording rule " \
           "'job:http_errors:ratio_rate1h'), 120 scrape intervals of 30s" in f.message


def test_pm201_scrape_interval_of_a_slow_servicemonitor_raises_the_limit(tmp_path):
    write(tmp_path, "all.yaml", """\
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata: {name: batch-api, namespace: production}
        spec:
          selector: {matchLabels: {app: batch-api}}
          endpoints: [{port: http, interval: 2m}]
        ---
        apiVersion: monitoring.coreos.com/v1
        kind: PrometheusRule
        metadata: {name: batch, namespace: production}
        spec:
          groups:
            - name: batch
              rules:
                - alert: BatchErrors
                  expr: sum(rate(http_requests_total{job="batch-api", code=~"5.."}[30m])) > 1
                  for: 10m
                - alert: OtherErrors
                  expr: sum(rate(http_requests_total{job="other", code=~"5.."}[30m])) > 1
                  for: 10m
        """)
    findings = run_scan(tmp_path, select=["PM201"]).findings
    # 30m is 15 scrapes of 2m: within 20 scrape intervals for batch-api, not for the 30s default
    assert [(f.line, "'OtherErrors'" in f.message) for f in findings] == [(19, True)]


def test_pm201_option_max_window(tmp_path):
    write(tmp_path, "rules.yml", """\
        groups:
          - name: api
            rules:
              - alert: ApiErrors
                expr: sum(rate(errors_total{job="api"}[15m])) > 1
                for: 5m
        """)
    config = Config(rules={"PM201": RuleConfig(options={"max_window": "10m"})})
    (f,) = run_scan(tmp_path, select=["PM201"], config=config).findings
    assert "averages errors over 15m" in f.message
    assert run_scan(tmp_path, select=["PM201"]).findings == []


def test_pm210_reports_an_exporter_that_only_job_specific_alerts_miss(tmp_path):
    write(tmp_path, "exporters.yaml", """\
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: node-exporter, namespace: monitoring}
        spec:
          selector: {matchLabels: {app: node-exporter}}
          template:
            metadata: {labels: {app: node-exporter}}
            spec:
              containers:
                - name: node-exporter
                  image: quay.io/prometheus/node-exporter:v1.8.2
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: kube-state-metrics, namespace: monitoring}
        spec:
          selector: {matchLabels: {app: kube-state-metrics}}
          template:
            metadata: {labels: {app: kube-state-metrics}}
            spec:
              containers:
                - name: kube-state-metrics
                  image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0
        ---
        apiVersion: monitoring.coreos.com/v1
        kind: PrometheusRule
        metadata: {name: exporters, namespace: monitoring}
        spec:
          groups:
            - name: exporters
              rules:
                - alert: KubeStateMetricsDown
                  expr: absent(up{job="kube-state-metrics"} == 1)
                  for: 15m
        """)
    (f,) = run_scan(tmp_path, select=["PM210"]).findings
    assert (f.line, f.resource) == (3, "DaemonSet/monitoring/node-exporter")
    assert "runs the exporter 'quay.io/prometheus/node-exporter:v1.8.2'" in f.message
    assert "only watch kube-state-metrics" in f.message


def test_pm051_option_repository_resolves_links_into_this_repository(tmp_path):
    write(tmp_path, "README.md", "# platform\n")
    write(tmp_path, "rules.yml", """\
        groups:
          - name: api
            rules:
              - alert: ApiDown
                expr: up{job="api"} == 0
                for: 2m
                annotations:
                  runbook_url: https://github.com/Acme/Platform/blob/main/docs/runbooks/api-down.md
        """)
    # without the option the folder is unknown to the scan: not judged
    assert run_scan(tmp_path, select=["PM051"]).findings == []
    config = Config(rules={"PM051": RuleConfig(options={"repository": "acme/platform"})})
    (f,) = run_scan(tmp_path, select=["PM051"], config=config).findings
    assert (f.file, f.line) == ("rules.yml", 8)
    assert "links its runbook to 'docs/runbooks/api-down.md', which is not in the repository" in f.message
    write(tmp_path, "docs/runbooks/api-down.md", "# ApiDown\n")
    assert run_scan(tmp_path, select=["PM051"], config=config).findings == []


def test_pm221_follows_recording_rules_to_the_raw_business_counter(tmp_path):
    write(tmp_path, "rules.yml", """\
        groups:
          - name: orders
            rules:
              - record: job:orders_placed:rate5m
                expr: sum by (job) (rate(orders_placed_total[5m]))
              - alert: OrdersSpike
                expr: job:orders_placed:rate5m > 1000
                for: 10m
        """)
    (f,) = run_scan(tmp_path, select=["PM221"]).findings
    assert f.line == 5
    assert f.message.startswith("business metric 'orders_placed_total' (record 'job:orders_placed:rate5m' reads it) "
                                "has no alert on a drop or absence")


def test_kube_prometheus_scans_without_errors_and_only_its_placeholder_receivers_are_reported():
    corpus = shared_or_skip("corpus", "kube-prometheus")
    result = run_scan(corpus, select=MY_RULES)
    assert result.errors == []
    assert [(f.rule_id, f.file, f.line) for f in result.findings] == [
        ("PM057", "manifests/alertmanager-secret.yaml", 47)]
    assert "none of the 4 receivers" in result.findings[0].message


# ---- malformed input never crashes a rule ----------------------------------------------------
MONITORING_SEEDS = [
    {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
     "metadata": {"name": "api", "namespace": "production"},
     "spec": {"groups": [{"name": "api", "rules": [
         {"record": "job:orders:rate5m", "expr": "sum by (job) (rate(orders_total[5m]))"},
         {"alert": "ApiErrors", "expr": 'sum(rate(http_requests_total{job="api", code=~"5.."}[30m])) > 1',
          "for": "5m", "labels": {"severity": "critical"}, "annotations": {"runbook_url": "runbooks/api.md"}},
         {"alert": "OtherDown", "expr": 'up{job="other"} == 0', "labels": {"severity": "page"}}]}]}},
    {"apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "AlertmanagerConfig",
     "metadata": {"name": "team", "namespace": "production"},
     "spec": {"route": {"receiver": "pager", "routes": [
         {"matchers": [{"name": "severity", "value": "critical"}], "receiver": "pager", "continue": True}]},
         "receivers": [{"name": "pager", "pagerdutyConfigs": [{"routingKey": {"name": "pd", "key": "k"}}]}]}},
    {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
     "metadata": {"name": "api", "namespace": "production"},
     "spec": {"jobLabel": "app", "selector": {"matchLabels": {"app": "api"}},
              "namespaceSelector": {"matchNames": ["production"]}, "endpoints": [{"port": "http", "interval": "30s"}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "production"},
     "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {
         "metadata": {"labels": {"app": "api"}, "annotations": {"prometheus.io/scrape": "true"}},
         "spec": {"containers": [{"name": "api", "image": "registry.example.com/api:1.0",
                                  "ports": [{"containerPort": 8080}]}]}}}},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "redis", "namespace": "production"},
     "spec": {"selector": {"matchLabels": {"app": "redis"}}, "template": {"metadata": {"labels": {"app": "redis"}},
              "spec": {"containers": [{"name": "redis", "image": "redis:7"},
                                      {"name": "exp", "image": "oliver006/redis_exporter:v1.62.0"}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "production",
                                                         "labels": {"app": "api"}},
     "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "alertmanager-main", "namespace": "monitoring"},
     "stringData": {"alertmanager.yaml": "route:\n  receiver: a\n  routes: [{match: {severity: critical}, "
                                         "receiver: a}]\nreceivers: [{name: a, webhook_configs: [{url: 'http://x'}]}]\n"}},
]


def test_type_mutations_of_monitoring_objects_do_not_crash_any_rule(tmp_path):
    import yaml

    from .test_bad_input import _mutants, _write_mutants

    write(tmp_path, "seeds.yaml", yaml.safe_dump_all(MONITORING_SEEDS, sort_keys=False))
    mutants = [m for seed in MONITORING_SEEDS for m in _mutants(seed)]
    _write_mutants(tmp_path, mutants)
    plain = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "labels": {"severity": "x"}}]}]}
    write(tmp_path, "plain/rules.yml", yaml.safe_dump(plain))
    write(tmp_path, "plain/alertmanager.yml", "route: {receiver: a, routes: [{matchers: [3, null]}]}\n"
                                              "receivers: [{name: a}, 3, {name: [1]}]\n")
    result = run_scan(tmp_path, select=MY_RULES)
    crashes = [e.message for e in result.errors if "internal error" in e.message]
    assert crashes == []


def test_rule_files_embedded_in_configmaps_are_read_at_their_own_lines(tmp_path):
    from .conftest import run_scan

    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prometheus-server, namespace: monitoring}\ndata:\n"
        "  alerting_rules.yml: |\n    groups:\n      - name: payments\n        rules:\n"
        "          - alert: PaymentsErrors\n            expr: rate(http_requests_total{code=~\"5..\"}[5m]) > 1\n"
        "            for: 5m\n            labels: {severity: critical}\n"
        "  prometheus.yml: |\n    global: {scrape_interval: 30s}\n"
        "  broken.rules: |\n    groups: [\n")
    result = run_scan(tmp_path, select=["PM050"])
    assert not result.errors
    [f] = result.findings
    assert (f.file, f.line, f.column) == ("cm.yaml", 9, 11)  # the first character of the alert's line
    assert f.resource == "PrometheusRuleFile/monitoring/prometheus-server:alerting_rules.yml"
