"""Grafana dashboards: the parser (JSON files, ConfigMaps, grafana-operator CRs, Grafana variables in
PromQL, positions) and the R7 dashboard rules PM240-PM243 beyond their fixtures."""
import json
import time

import pytest

from premortem.parse import grafana
from premortem.parse.kubernetes import parse_manifest

from .conftest import run_scan, shared_or_skip

R7 = ["PM240", "PM241", "PM242", "PM243"]


def dashboard(*panels, **top):
    return json.dumps({"title": "T", "schemaVersion": 39, **top, "panels": list(panels)}, indent=2)


def panel(title, expr, type="timeseries", **kw):
    return {"type": type, "title": title, "targets": [{"refId": "A", "expr": expr}], **kw}


def write(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def found(tmp_path, files, select=R7):
    result = run_scan(write(tmp_path, files), select=select)
    assert not result.errors, result.errors
    return [(f.rule_id, f.file, f.line, f.column, f.message) for f in result.findings]


# ---- parser ------------------------------------------------------------------------------------
def test_json_file_panels_targets_and_positions():
    text = dashboard(panel("Errors", "sum(rate(errors_total[5m]))", interval="1m", maxDataPoints=100,
                           fieldConfig={"defaults": {"unit": "reqps", "thresholds": {"steps": [
                               {"color": "green", "value": None}, {"color": "red", "value": 80}]}}},
                           options={"reduceOptions": {"calcs": ["mean"]}}),
                     {"type": "row", "title": "More", "collapsed": True,
                      "panels": [panel("Nested", "up", datasource={"type": "prometheus", "uid": "p"})]},
                     time={"from": "now-24h", "to": "now"})
    [r], errors = grafana.parse_dashboard_file(text, "d.json")
    assert errors == [] and (r.format, r.kind, r.name) == ("grafana", "GrafanaDashboard", "T")
    top, nested = r.data["panels"]
    assert r.data["time_from"] == "now-24h"
    assert (top["unit"], top["interval"], top["maxDataPoints"], top["calcs"]) == ("reqps", "1m", 100, ["mean"])
    assert top["thresholds"] == [{"color": "green", "value": None}, {"color": "red", "value": 80}]
    assert nested["row"] == "More" and nested["at"] == ("panels", 1, "panels", 0)
    assert nested["targets"][0]["datasource"] == "prometheus"
    assert top["targets"][0]["query"]["t"] == "agg"
    lines = text.splitlines()
    src = r.locate(nested["at"] + ("targets", 0, "expr"))
    assert lines[src.line - 1][src.column - 1:].startswith('"up"')
    src = r.locate(top["at"] + ("title",))
    assert lines[src.line - 1][src.column - 1:].startswith('"Errors"')


def test_old_schema_rows_and_api_export_wrapper():
    old = json.dumps({"title": "Old", "rows": [{"title": "R", "panels": [
        {"type": "singlestat", "title": "S", "valueName": "avg", "format": "percent", "thresholds": "90,95",
         "targets": [{"expr": "up"}]}]}]})
    [r], _ = grafana.parse_dashboard_file(old, "old.json")
    [p] = r.data["panels"]
    assert (p["at"], p["row"], p["calcs"], p["unit"]) == (("rows", 0, "panels", 0), "R", ["mean"], "percent")
    assert [t["value"] for t in p["thresholds"]] == ["90", "95"]
    wrapped = json.dumps({"dashboard": json.loads(dashboard(panel("P", "up"))), "meta": {"slug": "t"}}, indent=1)
    [w], _ = grafana.parse_dashboard_file(wrapped, "export.json")
    line = w.locate(w.data["panels"][0]["at"] + ("title",)).line
    assert '"P"' in wrapped.splitlines()[line - 1]


def test_json_that_is_not_a_dashboard_falls_back(tmp_path):
    assert grafana.parse_dashboard_file('{"title": "x", "panels": "not a list"}', "x.json") is None
    k8s = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "prod"},
           "data": {"title": "x", "panels": "[]"}}
    result = run_scan(write(tmp_path, {"cm.json": json.dumps(k8s)}))
    assert not result.errors
    assert [e.kind for e in result.project.entries] == ["ConfigMap"]


def test_invalid_dashboard_json_is_an_error_with_its_line(tmp_path):
    result = run_scan(write(tmp_path, {"d.json": '{\n  "title": "x",\n  "panels": [\n    {"type": }\n  ]\n}\n'}))
    assert [(e.file, e.line) for e in result.errors] == [("d.json", 4)]
    assert "not valid dashboard JSON" in result.errors[0].message


CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: dash
  namespace: monitoring
  labels: {grafana_dashboard: "1"}
data:
  a.json: |-
    {
      "title": "A",
      "panels": [
        {"type": "stat", "title": "Errors", "targets": [{"refId": "A", "expr": "sum(rate(errors_total[1h]))"}]}
      ]
    }
  b.json: '{"title": "B", "panels": [{"type": "stat", "title": "Errors", "targets": [{"refId": "A", "expr": "sum(rate(errors_total[1h]))"}]}]}'
  other.yaml: "key: value"
"""


def test_configmap_block_literal_maps_lines_and_quoted_json_points_at_the_key():
    resources, _ = parse_manifest(CM, "cm.yaml")
    dashboards, errors = grafana.embedded_dashboards(resources, {"cm.yaml": CM})
    assert errors == [] and [d.name for d in dashboards] == ["A", "B"]
    a, b = dashboards
    assert a.data["embedded_in"] == "ConfigMap/monitoring/dash a.json" and a.data["sidecar"] is True
    assert (a.namespace, a.file) == ("monitoring", "cm.yaml")
    src = a.locate(a.data["panels"][0]["at"] + ("targets", 0, "expr"))
    assert (src.line, CM.splitlines()[src.line - 1][src.column - 1:src.column + 9]) == (12, '"sum(rate(')
    src = b.locate(b.data["panels"][0]["at"] + ("targets", 0, "expr"))
    assert (src.line, src.column) == (15, 3)  # the `b.json` key: the string is one quoted line


def test_block_literal_that_does_not_match_the_file_falls_back_to_the_key():
    resources, _ = parse_manifest(CM, "cm.yaml")
    edited = CM.replace('"title": "A",', '"title": "A" ,')  # the file no longer matches the parsed string
    [a, _b], _ = grafana.embedded_dashboards(resources, {"cm.yaml": edited})
    assert a.locate(a.data["panels"][0]["at"]) .line == 8


def test_grafana_operator_cr_and_rule_message_name_the_panel(tmp_path):
    cr = """apiVersion: grafana.integreatly.org/v1beta1
kind: GrafanaDashboard
metadata: {name: api, namespace: monitoring}
spec:
  json: >
    {"title": "API", "panels": [{"type": "timeseries", "title": "5xx ratio",
    "targets": [{"refId": "A", "expr": "avg(rate(http_requests_total{code=~\\"5..\\"}[5m]) / rate(http_requests_total[5m]))"}]}]}
"""
    got = found(tmp_path, {"cr.yaml": cr}, ["PM242"])
    # a folded scalar does not map line for line: the finding is on the `json` key and names the panel
    assert [(r, f, line, col) for r, f, line, col, _ in got] == [("PM242", "cr.yaml", 5, 3)]
    assert "panel '5xx ratio' (timeseries) query A takes avg()" in got[0][4]


@pytest.mark.parametrize("expr, ranges", [
    ("sum(rate(x[$__rate_interval])) by ($label)", [{"var": "__rate_interval"}]),
    ("topk($n, rate(x{a=~\"$v|b\"}[${window}]))", [{"var": "window"}]),
    ("rate(x[[[interval]]]) / $__range_s", [{"var": "interval"}]),
    ("avg_over_time(rate(x[5m])[$__range:$__interval])", [300.0, {"var": "__range"}]),
    ("sum(rate(x{job=\"$job\"}[${__range}] offset $shift))", [{"var": "__range"}]),
])
def test_promql_with_grafana_variables(expr, ranges):
    tree, err = grafana.query_tree(expr)
    assert err is None, err
    got = [n.get("range") for n in grafana.nodes(tree) if n.get("t") in ("matrix", "sub")]
    assert sorted(map(str, got)) == sorted(map(str, ranges))


def test_query_that_does_not_parse_is_an_error_only_for_a_prometheus_source(tmp_path):
    bad = dict(panel("P", "sum(rate(x[5m]) by", datasource={"type": "prometheus", "uid": "p"}))
    loki = panel("L", 'sum(count_over_time({app="x"} |= "error" [1h]))')
    unknown = panel("U", "this is not promql (", datasource="Elastic")
    text = dashboard(bad, loki, unknown)
    result = run_scan(write(tmp_path, {"d.json": text}))
    assert [(e.file, e.line) for e in result.errors] == [("d.json", text.splitlines().index(
        next(ln for ln in text.splitlines() if "sum(rate(x[5m]) by" in ln)) + 1)]
    assert "panel 'P' query A: PromQL does not parse (unclosed left parenthesis)" in result.errors[0].message
    [r], _ = grafana.parse_dashboard_file(text, "d.json")
    assert [t["query"] for p in r.data["panels"] for t in p["targets"]] == [None, None, None]


@pytest.mark.parametrize("text, seconds", [
    ("30m", 1800), ("1h30m", 5400), (">10s", 10), ("now-7d", 604800), ("now-7d/d", 604800), ("now/d", 86400),
    ("now", None), ("$__interval", None), ("2024-01-01", None), ("", None),
])
def test_duration_seconds(text, seconds):
    assert grafana.duration_seconds(text) == seconds


# ---- rules -------------------------------------------------------------------------------------
def test_pm240_range_comes_from_panel_time_and_max_data_points(tmp_path):
    text = dashboard(
        panel("Error ratio", "sum(rate(errors_total[$__range]))", type="stat", timeFrom="5m"),  # short: fine
        panel("Error ratio 2", "sum(rate(errors_total[$__interval]))", maxDataPoints=10),  # 6h/10 = 36m
        panel("Errors (5m)", "sum(rate(errors_total[1h]))"),  # the title names a shorter window than the query
    )
    got = found(tmp_path, {"d.json": text}, ["PM240"])
    assert [m.split(" query")[0] for *_, m in got] == ["panel 'Error ratio 2' (timeseries)",
                                                       "panel 'Errors (5m)' (timeseries)"]
    assert "over 36m ($__interval = the dashboard time range now-6h (Grafana's default) / maxDataPoints 10)" in got[0][4]
    assert "~13.6%" in got[0][4] and "lower the panel's min interval" in got[0][4]


def test_pm240_hidden_target_and_unknown_variable_are_not_judged(tmp_path):
    hidden = panel("Errors", "sum(rate(errors_total[1h]))")
    hidden["targets"][0]["hide"] = True
    text = dashboard(hidden, panel("Errors", "sum(rate(errors_total[$window]))"))
    assert found(tmp_path, {"d.json": text}, ["PM240"]) == []


def test_pm240_max_window_option(tmp_path):
    from premortem.config import Config, RuleConfig

    d = write(tmp_path, {"d.json": dashboard(panel("Errors", "sum(rate(errors_total[30m]))"))})
    assert run_scan(d, select=["PM240"]).findings
    cfg = Config(rules={"PM240": RuleConfig(options={"max_window": "1h"})})
    assert run_scan(d, select=["PM240"], config=cfg).findings == []


def test_pm243_uses_grafana_default_range_and_leaves_short_ranges(tmp_path):
    stat = panel("Success rate", "sum(rate(ok_total[5m])) / sum(rate(all_total[5m]))", type="stat",
                 options={"reduceOptions": {"calcs": ["mean"]}})
    got = found(tmp_path, {"a/d.json": dashboard(stat), "b/d.json": dashboard(stat, time={"from": "now-1h"})},
                ["PM243"])
    assert [(f, m.split(", above")[0]) for _, f, _, _, m in got] == [
        ("a/d.json", "panel 'Success rate' (stat) reduces to the mean over 6h (the dashboard time range now-6h "
                     "(Grafana's default))")]


def test_kube_prometheus_dashboards_parse_and_scan_clean_and_fast():
    root = shared_or_skip("corpus", "kube-prometheus")
    t = time.monotonic()
    result = run_scan(root, select=R7)
    elapsed = time.monotonic() - t
    assert not result.errors, result.errors[:3]
    assert result.findings == []
    dashboards = [e for e in result.project.entries if e.kind == "GrafanaDashboard" and e.format == "grafana"]
    assert len(dashboards) >= 20
    assert elapsed < 10, f"kube-prometheus took {elapsed:.1f}s"


def test_kube_prometheus_every_query_parses():
    root = shared_or_skip("corpus", "kube-prometheus")
    path = root / "manifests" / "grafana-dashboardDefinitions.yaml"
    text = path.read_text()
    resources, _ = parse_manifest(text, "defs.yaml")
    dashboards, errors = grafana.embedded_dashboards(resources, {"defs.yaml": text})
    targets = [t for d in dashboards for p in d.data["panels"] for t in p["targets"] if t["expr"].strip()]
    assert errors == [] and len(targets) > 500
    assert all(t["query"] is not None for t in targets)
    # block literals map line for line: a target's position is its own line in the file
    lines = text.splitlines()
    for d in dashboards[:5]:
        for p in d.data["panels"]:
            for t in p["targets"]:
                src = d.locate(t["at"] + ("expr",))
                assert lines[src.line - 1][src.column - 1:].startswith(json.dumps(t["expr"])[:20])


def test_pm243_titles_that_are_not_rates(tmp_path):
    mean = {"options": {"reduceOptions": {"calcs": ["mean"]}}}
    text = dashboard(panel("Uptime", "time() - node_boot_time_seconds", type="stat", **mean),
                     panel("Errors / s", "sum(rate(errors_total[5m]))", type="stat", **mean),
                     panel("Error %", "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))", type="gauge",
                           **mean))
    got = found(tmp_path, {"d.json": text}, ["PM243"])
    assert [m.split(" reduces")[0] for *_, m in got] == ["panel 'Error %' (gauge)"]
