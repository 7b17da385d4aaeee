"""Helm charts rendered in-process: findings at template lines, values lines beside them, errors
that name the chart, the file and the line."""
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from premortem import discover as disc
from premortem.config import Config
from premortem.engine import ScanOptions, scan
from premortem.parse.helm import load_chart

from .conftest import ROOT, SHARED

DATA = ROOT / "tests" / "data" / "helm"
CONTAINERS = ("spec", "template", "spec", "containers")


def line_of(path, needle, after=0):
    """1-based number of the first line (past `after`) containing `needle`."""
    for n, text in enumerate(open(path, encoding="utf-8").read().splitlines(), start=1):
        if n > after and needle in text:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def load(chart_dir, root=DATA, config=None, values=()):
    units = [u for u in disc.discover([str(chart_dir)], str(root)).units if u.kind == "helm"]
    assert len(units) == 1, units
    return load_chart(units[0], str(root), config or Config(), list(values))


def only(resources, kind, detail=None, name=None):
    found = [r for r in resources if r.kind == kind and (detail is None or r.origin.detail == detail)
             and (name is None or r.name == name)]
    assert len(found) == 1, [(r.id, r.origin.detail) for r in resources]
    return found[0]


def chart_scan(path, root=DATA, select=("PM501",), config=None, **kw):
    return scan([str(path)], str(root), config or Config(), ScanOptions(select=list(select), **kw))


# ---- findings point at the template; the values line rides along -----------------------------
def test_mutable_tag_reported_at_template_line_with_values_line():
    cfg = Config(helm_namespace="production")
    result = chart_scan(DATA / "payment-api", config=cfg)
    assert not result.errors, result.errors
    tpl = DATA / "payment-api" / "templates" / "deployment.yaml"
    [f] = result.findings
    assert (f.rule_id, f.file, f.line, f.column) == (
        "PM501", "payment-api/templates/deployment.yaml", line_of(tpl, 'image: "{{ .Values.image.repository }}'), 18)
    assert f.resource == "Deployment/production/release-name-payment-api"
    assert f.production == "namespace 'production'"
    related = {(r.file, r.line, r.message) for r in f.related}
    assert ("payment-api/values.yaml", line_of(DATA / "payment-api" / "values.yaml", "tag: latest"),
            "value set here: image.tag = latest") in related
    assert f.snippet.strip().startswith('image: "{{ .Values.image.repository }}')


def test_values_prod_render_counts_as_production():
    result = chart_scan(DATA / "payment-api")
    assert not result.errors, result.errors
    [f] = result.findings
    assert f.file == "payment-api/templates/deployment.yaml"
    assert f.production == "path segment 'values-prod.yaml' in 'payment-api/values-prod.yaml'"
    # the same chart rendered with its defaults only is not production: PM501 stays quiet
    quiet = chart_scan(DATA / "payment-api", helm_values=["values.yaml"])
    assert not quiet.errors and not quiet.findings


def test_one_render_per_environment_file():
    res = load(DATA / "payment-api")
    assert not res.errors
    details = {r.origin.detail for r in res.resources}
    assert details == {"payment-api/values.yaml", "payment-api/values-prod.yaml"}
    assert {r.origin.kind for r in res.resources} == {"helm"}
    prod = only(res.resources, "Deployment", "payment-api/values-prod.yaml")
    assert prod.get(("spec", "replicas")) == 6
    [(src, msg)] = prod.related(("spec", "replicas"))
    assert (src.file, src.line, msg) == ("payment-api/values-prod.yaml", 1, "value set here: replicaCount = 6")
    assert prod.locate(("spec", "replicas")).line == line_of(DATA / "payment-api/templates/deployment.yaml", "replicas:")
    assert prod.namespace == "default"  # what the object says ({{ .Release.Namespace }})
    svc = only(res.resources, "Service", "payment-api/values-prod.yaml", "release-name-payment-api")
    assert svc.namespace == ""  # no metadata.namespace and no configured namespace


def test_to_yaml_block_maps_to_the_values_sub_path():
    res = load(DATA / "payment-api")
    tpl = DATA / "payment-api" / "templates" / "deployment.yaml"
    values = DATA / "payment-api" / "values.yaml"
    memory = CONTAINERS + (0, "resources", "limits", "memory")
    dep = only(res.resources, "Deployment", "payment-api/values.yaml")
    assert dep.get(memory) == "512Mi"
    src = dep.locate(memory)
    assert (src.file, src.line) == ("payment-api/templates/deployment.yaml", line_of(tpl, "resources:"))
    [(where, msg)] = dep.relator(memory)
    assert (where.file, where.line, msg) == ("payment-api/values.yaml", line_of(values, "memory: 512Mi"),
                                            "value set here: resources.limits.memory = 512Mi")
    prod = only(res.resources, "Deployment", "payment-api/values-prod.yaml")
    [(where, msg)] = prod.relator(memory)
    assert (where.file, where.line, msg) == ("payment-api/values-prod.yaml", 4,
                                            "value set here: resources.limits.memory = 1Gi")
    # the second container's limit is written in the template itself: its own line, no values line
    envoy_memory = CONTAINERS + (1, "resources", "limits", "memory")
    assert dep.locate(envoy_memory).line == line_of(tpl, "memory: 128Mi")
    assert dep.relator(envoy_memory) == []


def test_with_scope_include_and_list_items_resolve():
    res = load(DATA / "payment-api")
    tpl = DATA / "payment-api" / "templates" / "deployment.yaml"
    values = DATA / "payment-api" / "values.yaml"
    dep = only(res.resources, "Deployment", "payment-api/values.yaml")
    team = ("spec", "template", "metadata", "annotations", "team")
    [(where, msg)] = dep.relator(team)
    assert (where.line, msg) == (line_of(values, "team: payments"), "value set here: podAnnotations.team = payments")
    assert dep.locate(team).line == line_of(tpl, "annotations:")
    # containers[1] is the envoy item, not the first container's lines
    assert dep.locate(CONTAINERS + (1,)).line == line_of(tpl, "- name: envoy")
    envoy = CONTAINERS + (1, "image")
    envoy_line = line_of(tpl, 'image: {{ include "payment-api.sidecar" . }}')
    assert (dep.locate(envoy).line, dep.locate(envoy).column) == (envoy_line, 18)  # the value
    assert (dep.locate(envoy, key=True).line, dep.locate(envoy, key=True).column) == (envoy_line, 11)  # the key
    [(where, msg)] = dep.relator(envoy)
    assert (where.line, msg) == (line_of(values, "image: envoyproxy"),
                                 "value set here: sidecar.image = envoyproxy/envoy:v1.29.1")
    # the second document of service.yaml maps to the second document's lines
    svc = DATA / "payment-api" / "templates" / "service.yaml"
    headless = only(res.resources, "Service", "payment-api/values.yaml", "release-name-payment-api-headless")
    assert headless.locate(("spec", "ports", 0, "port")).line == line_of(svc, "port: 8080")
    assert headless.line == line_of(svc, "kind: Service", after=line_of(svc, "---"))


def test_subchart_templates_map_to_real_files_and_parent_values():
    res = load(DATA / "payment-api")
    sts = only(res.resources, "StatefulSet", "payment-api/values.yaml")
    tpl = DATA / "payment-api" / "charts" / "cache" / "templates" / "statefulset.yaml"
    image = CONTAINERS + (0, "image")
    assert sts.get(image) == "redis:7.2"  # the parent's `redis:` (alias) section wins
    src = sts.locate(image)
    assert (src.file, src.line) == ("payment-api/charts/cache/templates/statefulset.yaml", line_of(tpl, "image:"))
    related = {(s.file, s.line, m) for s, m in sts.relator(image)}
    assert related == {
        ("payment-api/charts/cache/values.yaml", 2, "value set here: image.repository = redis"),
        ("payment-api/values.yaml", line_of(DATA / "payment-api/values.yaml", 'tag: "7.2"'),
         "value set here: redis.image.tag = 7.2"),
    }
    consumed = {os.path.relpath(p, DATA) for p in res.consumed}
    assert {"payment-api/charts/cache/templates/statefulset.yaml", "payment-api/values-prod.yaml",
            "payment-api/templates/_helpers.tpl", "payment-api/Chart.yaml"} <= consumed


def test_packaged_subchart(tmp_path):
    chart = tmp_path / "payment-api"
    shutil.copytree(DATA / "payment-api", chart)
    with tarfile.open(chart / "charts" / "cache-0.3.0.tgz", "w:gz") as tar:
        tar.add(chart / "charts" / "cache", arcname="cache")
    shutil.rmtree(chart / "charts" / "cache")
    res = load(chart, root=tmp_path)
    assert not res.errors, res.errors
    sts = only(res.resources, "StatefulSet", "payment-api/values.yaml")
    src = sts.locate(CONTAINERS + (0, "image"))
    assert (src.file, src.line) == ("payment-api/charts/cache-0.3.0.tgz/templates/statefulset.yaml", 17)
    assert ("payment-api/charts/cache-0.3.0.tgz/values.yaml", 2) in {
        (s.file, s.line) for s, _ in sts.relator(CONTAINERS + (0, "image"))}
    assert str(chart / "charts" / "cache-0.3.0.tgz") in res.consumed


# ---- errors: the chart, the file, the line; the rest of the scan goes on ----------------------
def test_broken_chart_is_an_error_and_other_charts_are_still_scanned():
    result = chart_scan(DATA)
    errors = {(e.file, e.line): e.message for e in result.errors}
    broken = errors[("broken/templates/configmap.yaml", 6)]
    assert broken.startswith("chart broken: Helm could not render it")
    assert 'unexpected "}" in operand' in broken and "its objects were not scanned" in broken
    assert errors[("missing-dep/Chart.yaml", line_of(DATA / "missing-dep/Chart.yaml", "- name: wordpress"))] == (
        "chart missing-dep: dependency 'wordpress' (9.0.3 from https://charts.helm.sh/stable) is not vendored "
        "under charts/; run `helm dependency build` — its objects were not scanned")
    bad = errors[("bad-values/values-staging.yaml", 3)]
    assert "values file bad-values/values-staging.yaml is not valid YAML" in bad and "mapping values" in bad
    assert [(f.rule_id, f.file) for f in result.findings] == [("PM501", "payment-api/templates/deployment.yaml")]


def test_bad_environment_file_does_not_stop_the_default_render():
    res = load(DATA / "bad-values")
    assert [(e.file, e.line) for e in res.errors] == [("bad-values/values-staging.yaml", 3)]
    job = only(res.resources, "Job")
    assert job.get(("spec", "template", "spec", "containers", 0, "image")) == "ghcr.io/acme/worker:3.4.1"
    assert job.origin.detail == "bad-values/values.yaml"


def test_malformed_chart_values_and_chart_yaml(tmp_path):
    chart = tmp_path / "svc"
    shutil.copytree(DATA / "broken", chart)
    (chart / "templates" / "configmap.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (chart / "values.yaml").write_text("greeting: hello\nlist: [a, b\nother: 1\n")
    res = load(chart, root=tmp_path)
    [err] = res.errors
    assert (err.file, err.line) == ("svc/values.yaml", 3)
    assert err.message.startswith("chart svc: values.yaml is not valid YAML")
    assert res.resources == []
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nversion: 0.1.0\n")
    [err] = load(chart, root=tmp_path).errors
    assert err.file == "svc/Chart.yaml" and "chart.metadata.name is required" in err.message


def test_subchart_render_error_names_the_subchart_file(tmp_path):
    chart = tmp_path / "payment-api"
    shutil.copytree(DATA / "payment-api", chart)
    tpl = chart / "charts" / "cache" / "templates" / "statefulset.yaml"
    tpl.write_text(tpl.read_text().replace("serviceName: {{ .Release.Name }}-cache",
                                           'serviceName: {{ required "cache needs serviceName" .Values.serviceName }}'))
    [err] = load(chart, root=tmp_path).errors  # one error although both renders failed
    assert (err.file, err.line, err.column) == ("payment-api/charts/cache/templates/statefulset.yaml", 6, 18)
    assert err.message == (
        "chart payment-api: Helm could not render it (values: payment-api/values.yaml, payment-api/values-prod.yaml): "
        "execution error at (payment-api/charts/redis/templates/statefulset.yaml:6:18): cache needs serviceName; "
        "its objects were not scanned")


def test_default_render_may_fail_when_an_environment_file_completes_it(tmp_path):
    chart = tmp_path / "api"
    shutil.copytree(DATA / "bad-values", chart)
    (chart / "values-staging.yaml").unlink()
    (chart / "values.yaml").write_text("image:\n  repository: ghcr.io/acme/worker\n")
    tpl = chart / "templates" / "job.yaml"
    tpl.write_text(tpl.read_text().replace("{{ .Values.image.tag }}", '{{ required "image.tag" .Values.image.tag }}'))
    (chart / "values-prod.yaml").write_text("image:\n  tag: 3.4.1\n")
    res = load(chart, root=tmp_path)
    assert res.errors == []
    assert [r.origin.detail for r in res.resources] == ["api/values-prod.yaml"]
    (chart / "values-prod.yaml").unlink()
    [err] = load(chart, root=tmp_path).errors
    assert err.file == "api/templates/job.yaml" and err.line == line_of(tpl, "required")


def test_named_values_file_missing_is_an_error():
    res = load(DATA / "payment-api", values=["values-nowhere.yaml"])
    assert [e.message for e in res.errors] == [
        "chart payment-api: values file 'values-nowhere.yaml' not found (looked in the chart directory, "
        "the working directory and the scan root); rendered without it"]
    assert {r.origin.detail for r in res.resources} == {"payment-api/values.yaml"}


def test_chart_nested_outside_charts_dir_is_rendered_once(tmp_path):
    outer = tmp_path / "outer"
    shutil.copytree(DATA / "bad-values", outer)
    (outer / "values-staging.yaml").unlink()
    shutil.copytree(DATA / "missing-dep", outer / "examples" / "blog")
    (outer / "examples" / "blog" / "Chart.yaml").write_text("apiVersion: v2\nname: blog\nversion: 0.1.0\n")
    units = [u for u in disc.discover([str(outer)], str(tmp_path)).units if u.kind == "helm"]
    assert sorted(u.rel for u in units) == ["outer", "outer/examples/blog"]
    resources = []
    for u in units:
        res = load_chart(u, str(tmp_path), Config(), [])
        assert not res.errors
        resources += res.resources
    assert sorted((r.kind, r.file) for r in resources) == [
        ("Deployment", "outer/examples/blog/templates/deployment.yaml"), ("Job", "outer/templates/job.yaml")]


# ---- the real corpus and the CLI ------------------------------------------------------------
CORPUS = SHARED / "corpus"


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus not present")
def test_every_corpus_chart_loads():
    units = [u for u in disc.discover([str(CORPUS)], str(CORPUS)).units if u.kind == "helm"]
    assert len(units) >= 5
    rendered = 0
    for unit in units:
        res = load_chart(unit, str(CORPUS), Config(), [])
        assert all("is not vendored under charts/" in e.message for e in res.errors), res.errors
        for r in res.resources:
            src = r.locate(("kind",))
            assert src.file.startswith(unit.rel + "/") and src.line >= 1
        rendered += len(res.resources)
    assert rendered >= 40


@pytest.mark.skipif(not (CORPUS / "microservices-demo" / "helm-chart").exists(), reason="corpus not present")
def test_cli_scans_the_microservices_demo_chart():
    exe = os.path.join(os.path.dirname(sys.executable), "premortem")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "premortem"]
    proc = subprocess.run(cmd + ["scan", str(CORPUS / "microservices-demo" / "helm-chart")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "templates/frontend.yaml" in proc.stdout


def test_helm_engine_is_imported_only_when_a_chart_is_scanned():
    code = "import sys, premortem.cli, premortem.engine; print('helm_python' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_related_values_that_look_secret_are_redacted(tmp_path):
    chart = tmp_path / "api"
    shutil.copytree(DATA / "bad-values", chart)
    (chart / "values-staging.yaml").unlink()
    (chart / "values.yaml").write_text("image:\n  repository: r\n  tag: t\ndb:\n  password: hunter2-very-secret\n")
    (chart / "templates" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  url: {{ .Values.db.password | quote }}\n")
    res = load(chart, root=tmp_path)
    secret = only(res.resources, "Secret")
    [(where, msg)] = secret.relator(("stringData", "url"))
    assert (where.file, where.line) == ("api/values.yaml", 5)
    assert msg.startswith("value set here: db.password = hunt") and "redacted" in msg and "hunter2-very" not in msg


def test_suppression_comment_in_a_template_silences_the_finding(tmp_path):
    chart = tmp_path / "payment-api"
    shutil.copytree(DATA / "payment-api", chart)
    tpl = chart / "templates" / "deployment.yaml"
    tpl.write_text(tpl.read_text().replace(
        "          image: \"{{", "          # premortem:ignore PM501 reason=tag pinned by the deploy pipeline\n          image: \"{{"))
    result = chart_scan(chart, root=tmp_path)
    assert not result.errors and not result.findings
    [f] = result.suppressed
    assert (f.file, f.line) == ("payment-api/templates/deployment.yaml", line_of(tpl, "image: \"{{"))


def test_named_values_file_of_one_chart_does_not_apply_to_another(tmp_path):
    # `premortem scan . --helm-values charts/a/values-prod.yaml` over a repo with two charts:
    # a's file renders a, and b is rendered with its defaults (no error, no cross-chart values).
    for name in ("a", "b"):
        shutil.copytree(DATA / "payment-api", tmp_path / "charts" / name)
    (tmp_path / "charts" / "a" / "values-prod.yaml").write_text("image:\n  tag: 9.9.9\n")
    units = sorted((u for u in disc.discover([str(tmp_path)], str(tmp_path)).units if u.kind == "helm"),
                   key=lambda u: u.rel)
    named = [str(tmp_path / "charts" / "a" / "values-prod.yaml")]
    res_a = load_chart(units[0], str(tmp_path), Config(), named)
    res_b = load_chart(units[1], str(tmp_path), Config(), named)
    assert not res_a.errors and not res_b.errors
    assert {r.origin.detail for r in res_a.resources} == {"charts/a/values-prod.yaml"}
    assert "values-prod.yaml" not in {r.origin.detail for r in res_b.resources}
    img_a = [c["image"] for r in res_a.resources if r.kind == "Deployment"
             for c in r.get(("spec", "template", "spec", "containers"))]
    assert img_a[0] == "our-priv-reg.io/fintech/payment-api:9.9.9"
