"""Discovery: which files are scanned and as what (plain file, Helm chart, Kustomize directory)."""
import json
import os

import pytest

from premortem.cli import main
from premortem.config import Config
from premortem.discover import discover

from .conftest import run_scan

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: production
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:latest
"""


def tree(root, files):
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


def units(root, paths=None, **kw):
    d = discover([str(p) for p in (paths or [root])], str(root), **kw)
    return {(u.kind, u.rel) for u in d.units}, d


def yaml_units(root, **kw):
    got, _ = units(root, **kw)
    return {rel for kind, rel in got if kind == "yaml"}


# ---- .gitignore -------------------------------------------------------------------------------
def test_root_gitignore_is_honoured(tmp_path):
    tree(tmp_path, {
        ".gitignore": "# generated\n*.gen.yaml\nbuild/\n/rendered.yaml\n",
        "app.yaml": DEPLOY,
        "app.gen.yaml": DEPLOY,
        "deep/x/app.gen.yaml": DEPLOY,  # unanchored glob: any depth
        "build/out.yaml": DEPLOY,
        "deep/build/out.yaml": DEPLOY,  # `build/` matches a directory at any depth
        "rendered.yaml": DEPLOY,
        "deep/rendered.yaml": DEPLOY,  # `/rendered.yaml` is anchored to the root
    })
    assert yaml_units(tmp_path) == {"app.yaml", "deep/rendered.yaml"}


def test_nested_gitignore_applies_below_its_directory_only(tmp_path):
    tree(tmp_path, {
        "svc/.gitignore": "/local.yaml\nsecrets/\n",
        "svc/local.yaml": DEPLOY,
        "svc/deeper/local.yaml": DEPLOY,  # anchored to svc/, so this one stays
        "svc/secrets/s.yaml": DEPLOY,
        "svc/app.yaml": DEPLOY,
        "local.yaml": DEPLOY,  # outside svc/: the nested file does not apply
        "other/secrets/s.yaml": DEPLOY,
    })
    assert yaml_units(tmp_path) == {"svc/deeper/local.yaml", "svc/app.yaml", "local.yaml",
                                    "other/secrets/s.yaml"}


def test_nested_gitignore_can_re_include(tmp_path):
    tree(tmp_path, {
        ".gitignore": "*.gen.yaml\n",
        "svc/.gitignore": "!keep.gen.yaml\n",
        "svc/keep.gen.yaml": DEPLOY,
        "svc/drop.gen.yaml": DEPLOY,
    })
    assert yaml_units(tmp_path) == {"svc/keep.gen.yaml"}


def test_gitignore_negation_within_one_file(tmp_path):
    tree(tmp_path, {
        ".gitignore": "*.yaml\n!keep.yaml\n",
        "keep.yaml": DEPLOY,
        "drop.yaml": DEPLOY,
    })
    assert yaml_units(tmp_path) == {"keep.yaml"}


def test_explicit_file_argument_wins_over_gitignore(tmp_path):
    tree(tmp_path, {".gitignore": "*.yaml\n", "ignored.yaml": DEPLOY})
    assert yaml_units(tmp_path) == set()
    got, d = units(tmp_path, paths=[tmp_path / "ignored.yaml"])
    assert got == {("yaml", "ignored.yaml")} and not d.errors


# ---- skipped directories and files ------------------------------------------------------------
def test_vcs_dependency_and_tool_directories_are_skipped(tmp_path):
    tree(tmp_path, {
        ".git/config.yaml": DEPLOY,
        "node_modules/pkg/chart.yaml": DEPLOY,
        "web/node_modules/pkg/deploy.yaml": DEPLOY,
        "vendor/github.com/x/deploy.yaml": DEPLOY,
        "svc/vendor/deploy.yaml": DEPLOY,
        ".venv/lib/site.yaml": DEPLOY,
        ".terraform/modules/m.yaml": DEPLOY,
        "k8s/deploy.yaml": DEPLOY,
        "vendored/deploy.yaml": DEPLOY,  # only exact names are skipped
    })
    assert yaml_units(tmp_path) == {"k8s/deploy.yaml", "vendored/deploy.yaml"}


def test_a_skipped_directory_named_explicitly_is_scanned(tmp_path):
    tree(tmp_path, {"vendor/deploy.yaml": DEPLOY})
    got, _ = units(tmp_path, paths=[tmp_path / "vendor"])
    assert got == {("yaml", "vendor/deploy.yaml")}


def test_other_files_are_text_for_secret_scanning_and_binaries_are_not_errors(tmp_path):
    tree(tmp_path, {
        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
        "bundle.tar.gz": b"\x1f\x8b\x08\x00" + bytes(64),
        "tool.pyc": b"\x00" * 32,
        "README.md": "# hi\n",
        "notes.yaml.bak": DEPLOY,
        "app.yaml": DEPLOY,
        "conf.yml": DEPLOY,
        "dash.json": "{}",
        "UPPER.YAML": DEPLOY,
    })
    got, d = units(tmp_path)
    assert got == {("yaml", "app.yaml"), ("yaml", "conf.yml"), ("json", "dash.json"), ("yaml", "UPPER.YAML"),
                   ("text", "logo.png"), ("text", "bundle.tar.gz"), ("text", "tool.pyc"), ("text", "README.md"),
                   ("text", "notes.yaml.bak")}
    assert d.errors == [] and d.files_seen == 9
    result = run_scan(tmp_path)  # binary files are not text: no TextFile, and no error either
    assert result.errors == []
    assert result.files == 6  # 4 manifests, README.md and notes.yaml.bak


def test_other_files_over_the_size_limit_are_listed_not_errors(tmp_path):
    tree(tmp_path, {"dump.csv": "a,b\n" * 400_000, "app.yaml": DEPLOY})
    got, d = units(tmp_path, max_size=1024 * 1024)
    assert got == {("yaml", "app.yaml")} and d.errors == []
    assert d.not_scanned == [("dump.csv", "1.5 MB, over the size limit")]


def test_binary_content_in_a_yaml_file_is_reported_not_parsed(tmp_path):
    tree(tmp_path, {"blob.yaml": b"\x00\x01\x02\x03" * 100, "app.yaml": DEPLOY})
    result = run_scan(tmp_path)
    assert [(e.file, e.message) for e in result.errors] == [("blob.yaml", "binary file (contains NUL bytes): not scanned")]
    assert result.resources == 1


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.prod", "api.dockerfile", "Containerfile",
                                  "dockerfile"])
def test_dockerfiles_are_recognised_by_name(tmp_path, name):
    tree(tmp_path, {f"svc/{name}": "FROM alpine:3.19\n"})
    got, _ = units(tmp_path)
    assert got == {("dockerfile", f"svc/{name}")}


@pytest.mark.parametrize("name", ["dockerfile.abi3.so", "Dockerfile.tar.gz", "Dockerfile.md", "dockerfile.py"])
def test_files_named_like_dockerfiles_that_are_not(tmp_path, name):
    tree(tmp_path, {f"pkg/{name}": b"\x7fELF\x00\x01" if name.endswith(".so") else "x\n"})
    got, _ = units(tmp_path)
    assert ("dockerfile", f"pkg/{name}") not in got
    assert run_scan(tmp_path).errors == []  # a shared library named after the `dockerfile` package is no error


# ---- units: Helm charts and Kustomize directories ---------------------------------------------
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "values.yaml": "image: {tag: latest}\n",
    "values-prod.yaml": "replicas: 3\n",
    "templates/deployment.yaml": "kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    "templates/_helpers.tpl": '{{- define "x" }}{{ end }}\n',
    "charts/redis/Chart.yaml": "apiVersion: v2\nname: redis\nversion: 1.0.0\n",
    "charts/redis/templates/sts.yaml": "kind: StatefulSet\n{{ if .Values.x }}\n",
}


def test_a_chart_directory_is_one_helm_unit_owning_its_files(tmp_path):
    tree(tmp_path, {f"charts/web/{k}": v for k, v in CHART.items()} | {"plain.yaml": DEPLOY})
    got, d = units(tmp_path)
    assert got == {("helm", "charts/web"), ("yaml", "plain.yaml")}  # the subchart is not its own unit
    chart, = [u for u in d.units if u.kind == "helm"]
    members = {os.path.relpath(m, chart.path) for m in chart.members}
    assert {"Chart.yaml", "values.yaml", "values-prod.yaml", "templates/deployment.yaml",
            "charts/redis/templates/sts.yaml"} <= members
    assert "plain.yaml" not in {os.path.basename(m) for m in chart.members}


def test_two_sibling_charts_are_two_units(tmp_path):
    tree(tmp_path, {f"a/{k}": v for k, v in CHART.items()} | {f"b/{k}": v for k, v in CHART.items()})
    got, _ = units(tmp_path)
    assert got == {("helm", "a"), ("helm", "b")}


def test_scanning_the_chart_directory_itself(tmp_path):
    chart = tmp_path / "web"
    tree(chart, CHART)
    got, _ = units(chart, paths=[chart])
    assert got == {("helm", "web")}


@pytest.mark.parametrize("kname", ["kustomization.yaml", "kustomization.yml", "Kustomization"])
def test_a_kustomization_directory_is_a_kustomize_unit(tmp_path, kname):
    tree(tmp_path, {
        f"base/{kname}": "resources: [deploy.yaml]\n",
        "base/deploy.yaml": DEPLOY,
        "overlays/prod/kustomization.yaml": "resources: [../../base]\n",
        "overlays/prod/patch.yaml": DEPLOY,
        "other.yaml": DEPLOY,
    })
    got, d = units(tmp_path)
    assert {("kustomize", "base"), ("kustomize", "overlays/prod")} <= got
    k, = [u for u in d.units if u.rel == "base"]
    assert k.members == [str(tmp_path / "base" / kname)]
    # the kustomization file itself is not also a plain YAML unit; its resources are decided by the build
    assert ("yaml", f"base/{kname}") not in got and ("yaml", "other.yaml") in got


def test_a_chart_owns_only_what_helm_reads(tmp_path):
    # Chart root files and templates/ charts/ crds/ belong to the chart; a kustomization or plain
    # manifests elsewhere under the chart directory are scanned on their own, never silently dropped.
    tree(tmp_path, {f"web/{k}": v for k, v in CHART.items()}
         | {"web/kustomization.yaml": "resources: [all.yaml]\n",
            "web/kustomize/kustomization.yaml": "resources: [x.yaml]\n", "web/kustomize/x.yaml": DEPLOY,
            "web/examples/raw.yaml": DEPLOY})
    got, _ = units(tmp_path)
    # (x.yaml is also a raw unit here; the engine drops raw files a kustomization consumed)
    assert got == {("helm", "web"), ("kustomize", "web/kustomize"), ("yaml", "web/kustomize/x.yaml"),
                   ("yaml", "web/examples/raw.yaml")}


# ---- explicit arguments and excludes -----------------------------------------------------------
def test_explicit_file_arguments(tmp_path):
    tree(tmp_path, {"a/one.yaml": DEPLOY, "b/two.yml": DEPLOY, "b/three.yaml": DEPLOY, "notes.txt": "x"})
    got, d = units(tmp_path, paths=[tmp_path / "a/one.yaml", tmp_path / "b/two.yml"])
    assert got == {("yaml", "a/one.yaml"), ("yaml", "b/two.yml")} and not d.errors
    got, d = units(tmp_path, paths=[tmp_path / "notes.txt"])  # any text file is read (for secrets)
    assert got == {("text", "notes.txt")} and not d.errors


def test_explicit_files_on_the_command_line_are_reported_relative_to_their_common_root(tmp_path, capsys):
    tree(tmp_path, {"a/one.yaml": DEPLOY, "b/two.yaml": DEPLOY, "b/skip.yaml": DEPLOY})
    rc = main(["scan", "--format", "json", str(tmp_path / "a/one.yaml"), str(tmp_path / "b/two.yaml")])
    report = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert sorted({f["file"] for f in report["findings"] if f["rule_id"] == "PM501"}) == ["a/one.yaml", "b/two.yaml"]
    assert report["scanned"]["files"] == 2


def test_exclude_globs_from_config(tmp_path):
    tree(tmp_path, {
        "k8s/app.yaml": DEPLOY,
        "k8s/app.old.yaml": DEPLOY,
        "generated/x.yaml": DEPLOY,
        "generated/deep/y.yaml": DEPLOY,
        "legacy/z.yaml": DEPLOY,
        "test/fixtures/bad.yaml": DEPLOY,
        "src/test/fixtures/bad.yaml": DEPLOY,
    })
    excludes = ["generated/", "legacy", "*.old.yaml", "*/fixtures/*"]
    assert yaml_units(tmp_path, excludes=excludes) == {"k8s/app.yaml"}
    result = run_scan(tmp_path, config=Config(exclude=excludes))
    assert {f.file for f in result.findings} == {"k8s/app.yaml"}


def test_exclude_from_the_config_file(tmp_path, capsys):
    tree(tmp_path, {".premortem.yaml": "exclude:\n  - skip/\n", "skip/a.yaml": DEPLOY, "keep/a.yaml": DEPLOY})
    main(["scan", "--format", "json", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    assert {f["file"] for f in report["findings"]} == {"keep/a.yaml"}


def test_units_are_in_a_stable_order(tmp_path):
    tree(tmp_path, {f"d{i % 3}/f{i}.yaml": DEPLOY for i in range(12)})
    first = [u.rel for u in discover([str(tmp_path)], str(tmp_path)).units]
    assert first == [u.rel for u in discover([str(tmp_path)], str(tmp_path)).units]
    assert first == sorted(first) and len(first) == 12


def test_an_invalid_gitignore_pattern_is_dropped_like_git_does(tmp_path):
    tree(tmp_path, {".gitignore": "!\n*.log.yaml\n", "a.yaml": DEPLOY, "b.log.yaml": DEPLOY})
    got, d = units(tmp_path)
    assert ("yaml", "a.yaml") in got and ("yaml", "b.log.yaml") not in got and not d.errors


def test_gitignore_files_above_a_scanned_subdirectory_apply_like_git(tmp_path):
    tree(tmp_path, {".git/HEAD": "ref: refs/heads/main\n", ".gitignore": "sub/generated/\n",
                    "sub/a.yaml": DEPLOY, "sub/generated/big.yaml": DEPLOY})
    got, _ = units(tmp_path / "sub", paths=[tmp_path / "sub"])
    assert got == {("yaml", "a.yaml")}
    # named explicitly, an ignored directory is still scanned
    got, _ = units(tmp_path / "sub", paths=[tmp_path / "sub" / "generated"])
    assert got == {("yaml", "generated/big.yaml")}
    # outside a git work tree a parent's .gitignore means nothing
    (tmp_path / ".git" / "HEAD").unlink()
    (tmp_path / ".git").rmdir()
    got, _ = units(tmp_path / "sub", paths=[tmp_path / "sub"])
    assert got == {("yaml", "a.yaml"), ("yaml", "generated/big.yaml")}
