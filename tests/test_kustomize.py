"""Kustomize overlays: built objects, where their findings point, both builders, errors."""
import os
import pathlib
import sys
import textwrap

import pytest

from premortem.discover import Unit, rel_of
from premortem.model import Source
from premortem.parse import kustomize

from .conftest import ROOT, run_scan, shared_or_skip

DATA = ROOT / "tests" / "data" / "kustomize"
HAVE_BINARY = kustomize.find_binary() is not None
MODES = ["builtin", pytest.param("auto", marks=pytest.mark.skipif(not HAVE_BINARY, reason="no kustomize/kubectl on PATH"))]


def build(path, root=None, mode="builtin", monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setenv(kustomize.MODE_ENV, mode)
    path = os.path.abspath(path)
    root = os.path.abspath(root or os.path.dirname(path))
    return kustomize.build(Unit("kustomize", path, rel_of(path, root)), root, None)


def by_id(res):
    return {r.id: r for r in res.resources}


def line_of(path, needle, nth=1):
    """1-based line of the nth line containing `needle` (so the tests survive edits of the data)."""
    hits = [i for i, text in enumerate(pathlib.Path(path).read_text().splitlines(), 1) if needle in text]
    return hits[nth - 1]


def write(tmp_path, files):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return tmp_path


def fake_binary(tmp_path, monkeypatch, script):
    exe = tmp_path / "fake_kustomize.py"
    exe.write_text(textwrap.dedent(script))
    monkeypatch.setattr(kustomize, "find_binary", lambda: [sys.executable, str(exe)])


SHOP = DATA / "shop"
BASE_DEPLOY = SHOP / "base" / "deployment.yaml"
PROD_K = SHOP / "overlays" / "prod" / "kustomization.yaml"


# ---- an overlay over a base -------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_overlay_fields_and_positions(mode, monkeypatch):
    res = build(SHOP / "overlays" / "prod", SHOP, mode, monkeypatch)
    assert res.errors == [] and res.skip is False
    objs = by_id(res)
    assert set(objs) == {"Deployment/production/prod-api", "Service/production/prod-api",
                         "ConfigMap/production/prod-api-config-hf678c7m2b"}
    d = objs["Deployment/production/prod-api"]
    assert d.origin.kind == "kustomize" and d.origin.unit == "overlays/prod" and d.format == "kubernetes"
    images = [c["image"] for c in d.get(("spec", "template", "spec", "containers"))]
    assert images == ["registry.example.com/shop/api:1.4.2", "registry.example.com/shop/metrics:latest",
                      "envoyproxy/envoy:latest"]
    assert d.get(("spec", "replicas")) == 3
    assert d.get(("spec", "selector", "matchLabels")) == {"app": "api", "app.kubernetes.io/part-of": "shop"}
    c0 = ("spec", "template", "spec", "containers", 0)
    assert d.get(c0 + ("resources", "limits", "memory")) == "512Mi"
    # the generated ConfigMap's name (prefix + kustomize's hash) is what the Deployment refers to
    assert d.get(c0 + ("envFrom", 0, "configMapRef", "name")) == "prod-api-config-hf678c7m2b"

    c = "spec", "template", "spec", "containers"
    base, prod, patch = "base/deployment.yaml", "overlays/prod/kustomization.yaml", "overlays/prod/replicas.yaml"
    # an image set by `images:` in the overlay points at that line of the overlay
    assert d.locate(c + (1, "image")) == Source(prod, line_of(PROD_K, "newTag: latest"), 13)
    assert d.locate(c + (0, "image")) == Source(prod, line_of(PROD_K, 'newTag: "1.4.2"'), 13)
    # an untouched field points at the base file
    assert d.locate(c + (2, "image")) == Source(base, line_of(BASE_DEPLOY, "envoyproxy/envoy"), 18)
    assert d.locate(c + (2, "name")).file == base
    assert d.file == base and d.line == 1
    # patched values point at the patch; the merge key that only identified the item stays in the base
    assert d.locate(("spec", "replicas")) == Source(patch, line_of(SHOP / "overlays/prod/replicas.yaml", "replicas: 3"), 13)
    assert d.locate(c + (0, "resources", "limits", "memory")).file == patch
    assert d.locate(c + (0, "name")) == Source(base, line_of(BASE_DEPLOY, "- name: app"), 17)
    # a reference rewritten to the renamed ConfigMap still points at the line that makes it
    assert d.locate(c + (0, "envFrom", 0, "configMapRef", "name")).line == line_of(BASE_DEPLOY, "name: api-config")
    # the namespace set by the overlay points at the overlay's `namespace:` line
    assert d.locate(("metadata", "namespace")) == Source(prod, line_of(PROD_K, "namespace: production"), 12)

    cm = objs["ConfigMap/production/prod-api-config-hf678c7m2b"]
    assert cm.get(("data",)) == {"LOG_LEVEL": "info"}
    assert cm.locate(("data", "LOG_LEVEL")).file == "base/kustomization.yaml"

    consumed = {rel_of(p, str(SHOP)) for p in res.consumed}
    assert consumed == {"base/kustomization.yaml", "base/deployment.yaml", "base/service.yaml",
                        "overlays/prod/kustomization.yaml", "overlays/prod/replicas.yaml"}


@pytest.mark.parametrize("mode", MODES)
def test_scan_reports_each_line_once(mode, monkeypatch):
    """Two overlays over one base, the base also a kustomization and its files also raw YAML:
    one finding per offending line, and none on the base line every overlay pins."""
    monkeypatch.setenv(kustomize.MODE_ENV, mode)
    result = run_scan(SHOP, select=["PM501"])
    assert result.errors == []
    got = sorted((f.file, f.line, f.column) for f in result.findings)
    assert got == [("base/deployment.yaml", line_of(BASE_DEPLOY, "envoyproxy/envoy"), 18),
                   ("overlays/prod/kustomization.yaml", line_of(PROD_K, "newTag: latest"), 13)]
    proxy = next(f for f in result.findings if f.file == "base/deployment.yaml")
    assert "container 'proxy' runs 'envoyproxy/envoy:latest'" in proxy.message
    assert proxy.snippet.strip() == "image: envoyproxy/envoy:latest"
    metrics = next(f for f in result.findings if f.file != "base/deployment.yaml")
    assert "'registry.example.com/shop/metrics:latest'" in metrics.message
    assert metrics.snippet.strip() == "newTag: latest"


def test_component_is_skipped(tmp_path, monkeypatch):
    res = build(SHOP / "components" / "debug", SHOP, "auto", monkeypatch)
    assert res.skip is True and res.resources == [] and res.errors == []
    # its patch files are fragments (never judged as raw manifests); its resources are whole objects
    write(tmp_path, {"kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources: [policy.yaml]
        patches:
          - path: delete-job.yaml
        """, "policy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n",
        "delete-job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n$patch: delete\n"})
    res = build(tmp_path, tmp_path, "builtin", monkeypatch)
    assert res.skip is True and res.resources == []
    assert {os.path.basename(p) for p in res.consumed} == {"kustomization.yaml", "delete-job.yaml"}


# ---- patches ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_json6902_patches(mode, monkeypatch):
    here = DATA / "json6902"
    k, ops = here / "kustomization.yaml", here / "ops.yaml"
    res = build(here, here, mode, monkeypatch)
    assert res.errors == []
    d = by_id(res)["Deployment/-/web"]
    c = ("spec", "template", "spec", "containers", 0)
    assert d.get(("spec", "replicas")) == 4
    assert d.get(c + ("imagePullPolicy",)) == "Always"
    assert d.get(c + ("env",)) == [{"name": "MODE", "value": "fast"}, {"name": "BASE_URL", "value": "/shop"}]
    assert d.get(c + ("args",)) is None
    assert d.locate(("spec", "replicas")) == Source("ops.yaml", line_of(ops, "value: 4"), 10)
    assert d.locate(c + ("imagePullPolicy",)) == Source("ops.yaml", line_of(ops, "value: Always"), 10)
    # an inline patch (a block scalar in kustomization.yaml) points inside the block
    assert d.locate(c + ("env", 1, "value")) == Source("kustomization.yaml", line_of(k, "value: /shop"), 18)
    assert d.locate(c + ("env", 0, "value")) == Source("deployment.yaml", line_of(here / "deployment.yaml", "value: fast"), 22)
    assert {os.path.basename(p) for p in res.consumed} == {"kustomization.yaml", "deployment.yaml", "ops.yaml"}


def test_strategic_merge_follows_kustomize(monkeypatch):
    """List order, merge keys, $patch: delete and replaced lists exactly as `kubectl kustomize` builds them."""
    here = DATA / "merge"
    res = build(here, here, "builtin", monkeypatch)
    assert res.errors == []
    d = res.resources[0]
    spec = d.get(("spec", "template", "spec"))
    assert [c["name"] for c in spec["containers"]] == ["worker", "init-check", "sidecar"]
    w = spec["containers"][0]
    assert w["args"] == ["--queue", "priority"]
    assert w["env"] == [{"name": "B", "value": "20"}, {"name": "D", "value": "4"}, {"name": "A", "value": "1"}]
    assert w["ports"] == [{"containerPort": 9090, "name": "metrics"}, {"containerPort": 8080, "name": "http"}]
    assert spec["tolerations"] == [{"key": "dedicated"}]
    assert spec["volumes"] == [{"name": "data"}]
    c = ("spec", "template", "spec", "containers")
    patch = here / "patch.yaml"
    assert d.locate(c + (0, "env", 0, "value")) == Source("patch.yaml", line_of(patch, 'value: "20"'), 22)
    assert d.locate(c + (0, "env", 2, "value")) == Source("deployment.yaml", line_of(here / "deployment.yaml", 'value: "1"'), 22)
    assert d.locate(c + (1, "image")) == Source("patch.yaml", line_of(patch, "busybox:1.36"), 18)
    assert d.locate(c + (2, "image")).file == "deployment.yaml"


# ---- generators -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_config_map_and_secret_generators(mode, monkeypatch):
    here = DATA / "generator"
    k = here / "kustomization.yaml"
    res = build(here, here, mode, monkeypatch)
    assert res.errors == []
    objs = by_id(res)
    # names carry kustomize's own hash (checked against kubectl kustomize 5.5), references follow them
    cm = objs["ConfigMap/-/shop-settings-ht25c965c6"]
    assert cm.get(("data",)) == {"MODE": "fast", "GREETING": "hello world", "nginx.conf": "server { listen 8080; }\n",
                                 "tuning": "workers=4\n", "TIMEOUT": "30s", "RETRIES": "3"}
    assert cm.labels == {"generated": "true"}
    assert cm.locate(("data", "GREETING")) == Source("kustomization.yaml", line_of(k, "GREETING="), 9)
    assert cm.locate(("data", "RETRIES")) == Source("app.env", 4, 1)
    assert cm.locate(("data", "nginx.conf")) == Source("nginx.conf", 1, 1)
    assert cm.file == "kustomization.yaml" and cm.line == line_of(k, "- name: settings")
    db = objs["Secret/-/shop-db-5gdd6d6f4m"]
    assert db.get(("data", "password")) == "aHVudGVyMi1idXQtbG9uZ2Vy"
    assert db.locate(("data", "password")).line == line_of(k, "password=")
    tls = objs["Secret/-/shop-static"]  # disableNameSuffixHash
    assert tls.get(("type",)) == "kubernetes.io/tls"
    d = objs["Deployment/-/shop-api"]
    pod = ("spec", "template", "spec")
    assert d.get(pod + ("containers", 0, "envFrom", 0, "configMapRef", "name")) == "shop-settings-ht25c965c6"
    assert d.get(pod + ("containers", 0, "env", 0, "valueFrom", "secretKeyRef", "name")) == "shop-db-5gdd6d6f4m"
    assert d.get(pod + ("volumes", 0, "secret", "secretName")) == "shop-static"
    assert {os.path.basename(p) for p in res.consumed} >= {"nginx.conf", "tuning.properties", "app.env"}


# ---- errors -----------------------------------------------------------------------------------
def test_remote_base_is_an_offline_error_and_the_binary_is_not_run(tmp_path, monkeypatch):
    write(tmp_path, {"kustomization.yaml": """\
        resources:
          - deployment.yaml
          - https://github.com/example/infra//base?ref=v1.2.0
          - github.com/example/other/base
        """, "deployment.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\n"})
    fake_binary(tmp_path, monkeypatch, "raise SystemExit('must not run')\n")
    res = build(tmp_path, tmp_path, "auto", monkeypatch)
    assert [(e.file, e.line, e.message) for e in res.errors] == [
        ("kustomization.yaml", 3, "remote base not fetched (offline): https://github.com/example/infra//base?ref=v1.2.0"),
        ("kustomization.yaml", 4, "remote base not fetched (offline): github.com/example/other/base")]
    assert [r.id for r in res.resources] == ["ConfigMap/-/local"]


def test_malformed_kustomization_reports_the_line(tmp_path, monkeypatch):
    write(tmp_path, {"a/kustomization.yaml": "resources:\n  - x.yaml\n bad: [\n",
                     "b/kustomization.yaml": "resources:\n  - x.yaml\nresource:\n  - y.yaml\nnamePrefix: [a]\n",
                     "b/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
                     "c/kustomization.yaml": "- just\n- a list\n"})
    a = build(tmp_path / "a", tmp_path, "builtin", monkeypatch)
    assert [(e.file, e.line) for e in a.errors] == [("a/kustomization.yaml", 3)]
    assert a.errors[0].message.startswith("malformed kustomization: invalid YAML")
    b = build(tmp_path / "b", tmp_path, "builtin", monkeypatch)
    assert [(e.file, e.line, e.message) for e in b.errors] == [
        ("b/kustomization.yaml", 3, "malformed kustomization: unknown field 'resource'"),
        ("b/kustomization.yaml", 5, "malformed kustomization: 'namePrefix' must be a string, not a list")]
    assert [r.id for r in b.resources] == ["ConfigMap/-/x"]
    c = build(tmp_path / "c", tmp_path, "builtin", monkeypatch)
    assert [(e.line, e.message.split(":")[0]) for e in c.errors] == [(1, "malformed kustomization")]


def test_missing_files_and_bad_patches_are_errors_with_lines(tmp_path, monkeypatch):
    write(tmp_path, {"kustomization.yaml": """\
        resources:
          - missing.yaml
          - cm.yaml
        patches:
          - patch.yaml
          - path: nowhere.yaml
          - patch: |-
              - op: replace
                path: /data/nope/deeper
                value: x
            target:
              kind: ConfigMap
        images:
          - name: nginx
            newTag: 1.20
        """, "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n"})
    res = build(tmp_path, tmp_path, "builtin", monkeypatch)
    got = [(e.line, e.message) for e in res.errors]
    assert got[0] == (2, "resource 'missing.yaml' not found")
    assert got[1][0] == 5 and "a 'patches' entry must be a mapping" in got[1][1]
    assert got[2] == (6, "patch file 'nowhere.yaml' not found")
    assert got[3][0] == 7 and "JSON patch on ConfigMap 'cm' failed: path /data/nope/deeper does not exist" in got[3][1]
    assert got[4][0] == 15 and "newTag must be a string" in got[4][1] and "1.20 reads as 1.2" in got[4][1]
    assert len(got) == 5


UNSUPPORTED = {"kustomization.yaml": """\
    resources:
      - cm.yaml
    replacements:
      - source: {kind: ConfigMap, name: cm, fieldPath: data.a}
        targets:
          - select: {kind: ConfigMap, name: cm}
            fieldPaths: [data.b]
    """, "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: one, b: two}\n"}


def test_unsupported_field_is_an_error_only_without_binary(tmp_path, monkeypatch):
    write(tmp_path, UNSUPPORTED)
    res = build(tmp_path, tmp_path, "builtin", monkeypatch)
    assert [(e.file, e.line) for e in res.errors] == [("kustomization.yaml", 3)]
    assert "'replacements' is not in premortem's built-in Kustomize subset" in res.errors[0].message
    assert by_id(res)["ConfigMap/-/cm"].get(("data", "b")) == "two"  # judged without the change
    if HAVE_BINARY:
        res = build(tmp_path, tmp_path, "auto", monkeypatch)
        assert res.errors == []
        cm = by_id(res)["ConfigMap/-/cm"]
        assert cm.get(("data", "b")) == "one"  # the binary's content is the truth
        assert cm.locate(("data", "a")) == Source("cm.yaml", 4, 11)  # positions still from the built-in


def test_binary_output_is_matched_to_builtin_positions(tmp_path, monkeypatch):
    """Objects and fields only the binary produced point at the kustomization (its unsupported line)."""
    write(tmp_path, UNSUPPORTED)
    fake_binary(tmp_path, monkeypatch, """\
        print('''apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cm
          annotations: {added: by-binary}
        data: {a: one, b: one}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: from-a-plugin}
        ''')
        """)
    res = build(tmp_path, tmp_path, "auto", monkeypatch)
    assert res.errors == []
    objs = by_id(res)
    cm = objs["ConfigMap/-/cm"]
    assert cm.origin.detail.endswith("fake_kustomize.py")
    assert cm.get(("data", "b")) == "one"
    assert cm.locate(("data", "a")) == Source("cm.yaml", 4, 11)
    assert cm.locate(("metadata", "annotations", "added")) == Source("kustomization.yaml", 3, 1)
    plug = objs["ConfigMap/-/from-a-plugin"]
    assert plug.locate(("metadata", "name")) == Source("kustomization.yaml", 3, 1)


def test_binary_failure_names_the_kustomization_and_falls_back(tmp_path, monkeypatch):
    write(tmp_path, {"kustomization.yaml": "resources:\n  - cm.yaml\n",
                     "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"})
    fake_binary(tmp_path, monkeypatch, """\
        import sys
        sys.stderr.write('E1121 12:00:00.0 1 run.go:72] "command failed" err="accumulating resources: \\\\"helm\\\\" not found"\\n')
        sys.exit(1)
        """)
    res = build(tmp_path, tmp_path, "auto", monkeypatch)
    assert len(res.errors) == 1
    e = res.errors[0]
    assert e.file == "kustomization.yaml"
    assert 'failed: accumulating resources: "helm" not found' in e.message
    assert "judged the built-in build instead" in e.message
    assert [r.id for r in res.resources] == ["ConfigMap/-/cm"] and res.resources[0].origin.detail == "built-in"


def test_binary_mode_without_binary(tmp_path, monkeypatch):
    write(tmp_path, {"kustomization.yaml": "resources:\n  - cm.yaml\n",
                     "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"})
    monkeypatch.setattr(kustomize, "find_binary", lambda: None)
    res = build(tmp_path, tmp_path, "binary", monkeypatch)
    assert [e.message.split(";")[0] for e in res.errors] == ["PREMORTEM_KUSTOMIZE=binary but neither kustomize nor kubectl is on PATH"]
    assert [r.id for r in res.resources] == ["ConfigMap/-/cm"]


def test_cycle_is_reported_not_followed(tmp_path, monkeypatch):
    write(tmp_path, {"a/kustomization.yaml": "resources:\n  - ../b\n",
                     "b/kustomization.yaml": "resources:\n  - ../a\n"})
    res = build(tmp_path / "a", tmp_path, "builtin", monkeypatch)
    assert [(e.file, e.line) for e in res.errors] == [("b/kustomization.yaml", 2)]
    assert "cycle" in res.errors[0].message


# ---- the real corpus --------------------------------------------------------------------------
def _kustomizations(*parts):
    top = shared_or_skip("corpus", *parts)
    return sorted(str(p.parent) for p in top.rglob("kustomization.yaml"))


@pytest.mark.parametrize("mode", MODES)
def test_corpus_builds_without_traceback(mode, monkeypatch):
    corpus = shared_or_skip("corpus")
    dirs = _kustomizations("microservices-demo", "kustomize") + _kustomizations("argocd-example-apps")
    assert len(dirs) >= 20
    for d in dirs:
        res = build(d, corpus, mode, monkeypatch)
        assert not any("internal error" in e.message for e in res.errors), d
        if res.skip:
            assert "/components/" in d
        elif "kustomized-helm" not in d:  # that one names a file a Helm plugin would render (./all.yaml)
            assert res.errors == [] and res.resources, d


@pytest.mark.skipif(not HAVE_BINARY, reason="no kustomize/kubectl on PATH")
def test_corpus_builtin_and_binary_agree(monkeypatch):
    """For microservices-demo/kustomize the built-in builder gives the same objects as the binary
    (same content, in fact: checked field by field)."""
    corpus = shared_or_skip("corpus")
    for d in _kustomizations("microservices-demo", "kustomize"):
        builtin = build(d, corpus, "builtin", monkeypatch)
        if builtin.skip:
            continue
        binary = build(d, corpus, "auto", monkeypatch)
        assert {(r.kind, r.name) for r in builtin.resources} == {(r.kind, r.name) for r in binary.resources}, d
        want = {r.id: r.data for r in binary.resources}
        assert {r.id: r.data for r in builtin.resources} == want, d
