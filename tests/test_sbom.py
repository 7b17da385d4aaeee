"""`premortem sbom`: a CycloneDX document that validates against the official schema (the validator
cyclonedx-python-lib ships), with the components, purls, hashes and locations the repository declares."""
import base64
import json
import textwrap

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from premortem.cli import main
from premortem.config import Config
from premortem.sbom import build, render

from .test_packages import NPM_LOCK_V3, POETRY_LOCK

REPO = {
    "web/package.json": """\
        {"name": "web", "private": true,
         "dependencies": {"@sindresorhus/is": "~4.6.0", "ms": "2.1.3"}, "devDependencies": {"is-odd": "*"}}
        """,
    "web/package-lock.json": NPM_LOCK_V3,
    "worker/pyproject.toml": """\
        [tool.poetry]
        name = "worker"
        [tool.poetry.dependencies]
        python = "^3.11"
        celery = "^5.3"
        """,
    "worker/poetry.lock": POETRY_LOCK,
    "jobs/requirements.txt": """\
        flask==3.0.3 --hash=sha256:34e815dfaa43340d1d15a5c3a02b8476004037eb4840b34910c6e21679d288f3
        """,
    "tools/pyproject.toml": """\
        [project]
        name = "tools"
        dependencies = ["requests>=2.31", "idna==3.7"]
        """,
    "web/Dockerfile": """\
        ARG NODE=20.11.1-alpine
        FROM node:${NODE} AS build
        RUN npm ci
        FROM ghcr.io/acme/runtime@sha256:0b5c4f7e3d9a1b2c6e8f0a4d2c6b8e0f1a3c5e7d9b1f3a5c7e9d1b3f5a7c9e1d AS final
        COPY --from=build /app /app
        """,
    "base/Dockerfile": "FROM scratch\nCOPY app /app\n",
}


@pytest.fixture
def repo(tmp_path):
    for rel, text in REPO.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return tmp_path


def _doc(repo, spec="1.6"):
    bom, errors = build([str(repo)], str(repo), Config())
    assert errors == []
    text = render(bom, spec)
    return text, json.loads(text)


@pytest.mark.parametrize("spec,version", [("1.6", SchemaVersion.V1_6), ("1.5", SchemaVersion.V1_5)])
def test_sbom_validates_against_the_cyclonedx_schema(repo, spec, version):
    text, doc = _doc(repo, spec)
    assert JsonStrictValidator(version).validate_str(text) is None
    assert (doc["bomFormat"], doc["specVersion"]) == ("CycloneDX", spec)
    assert doc["metadata"]["tools"]["components"][0]["name"] == "premortem"


def test_a_broken_document_fails_the_same_validator():
    """The check above can fail: a component without its required name does not validate."""
    bad = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{"type": "library"}]}
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bad)) is not None


def test_components_come_from_lockfiles_with_purls_hashes_scope_and_location(repo):
    _, doc = _doc(repo)
    comps = {c["purl"]: c for c in doc["components"]}
    assert sorted(comps) == [
        ("pkg:docker/acme/runtime@sha256:0b5c4f7e3d9a1b2c6e8f0a4d2c6b8e0f1a3c5e7d9b1f3a5c7e9d1b3f5a7c9e1d"
         "?repository_url=ghcr.io"),
        "pkg:docker/library/node@20.11.1-alpine",
        "pkg:npm/%40sindresorhus/is@4.6.0", "pkg:npm/is-number@6.0.0", "pkg:npm/is-odd@3.0.1",
        "pkg:npm/ms@2.1.3",
        "pkg:pypi/celery@5.3.6", "pkg:pypi/flask@3.0.3", "pkg:pypi/idna@3.7", "pkg:pypi/requests",
        "pkg:pypi/rules-engine@0.4.0",
    ]
    scoped = comps["pkg:npm/%40sindresorhus/is@4.6.0"]
    assert (scoped["group"], scoped["name"], scoped["version"]) == ("@sindresorhus", "is", "4.6.0")
    sri = "t09vSN3MdfsyCHoFcTRCH/iUtG7OJ0CsjzB8cjAmKc/va/kIgeDI/TxsigdncE/4be734m0cvIYwNaV4i2XqAw=="
    assert scoped["hashes"] == [{"alg": "SHA-512", "content": base64.b64decode(sri).hex()}]
    assert scoped["evidence"]["occurrences"] == [{"location": "web/package-lock.json", "line": 12}]
    assert comps["pkg:npm/is-odd@3.0.1"]["scope"] == "excluded"  # a dev dependency
    assert "scope" not in comps["pkg:npm/ms@2.1.3"]
    assert comps["pkg:pypi/flask@3.0.3"]["hashes"] == [
        {"alg": "SHA-256", "content": "34e815dfaa43340d1d15a5c3a02b8476004037eb4840b34910c6e21679d288f3"}]
    assert comps["pkg:pypi/rules-engine@0.4.0"]["properties"] == [{"name": "premortem:source", "value": "git"}]


def test_manifests_without_a_lock_give_declared_versions_and_ranges(repo):
    _, doc = _doc(repo)
    comps = {c["purl"]: c for c in doc["components"]}
    assert comps["pkg:pypi/idna@3.7"]["version"] == "3.7"
    assert "version" not in comps["pkg:pypi/requests"]
    assert comps["pkg:pypi/requests"]["properties"] == [{"name": "premortem:declared-range", "value": ">=2.31"}]
    assert comps["pkg:pypi/requests"]["evidence"]["occurrences"] == [{"location": "tools/pyproject.toml", "line": 3}]
    # a manifest beside its lockfile adds nothing: celery comes once, from poetry.lock, at its version
    assert [c["purl"] for c in doc["components"] if c["name"] == "celery"] == ["pkg:pypi/celery@5.3.6"]


def test_base_images_skip_stage_references_and_scratch(repo):
    _, doc = _doc(repo)
    images = [c for c in doc["components"] if c["type"] == "container"]
    assert sorted((c["name"], c["version"]) for c in images) == [
        ("ghcr.io/acme/runtime", "sha256:0b5c4f7e3d9a1b2c6e8f0a4d2c6b8e0f1a3c5e7d9b1f3a5c7e9d1b3f5a7c9e1d"),
        ("node", "20.11.1-alpine")]
    node = next(c for c in images if c["name"] == "node")
    assert node["evidence"]["occurrences"] == [{"location": "web/Dockerfile", "line": 2}]


def test_cli_writes_the_file_and_exits_0(repo, tmp_path, capsys):
    out = tmp_path / "sbom.json"
    assert main(["sbom", str(repo), "-o", str(out), "--spec-version", "1.5"]) == 0
    doc = json.loads(out.read_text())
    assert doc["specVersion"] == "1.5" and len(doc["components"]) == 11
    assert "wrote 11 components" in capsys.readouterr().err


def test_cli_bad_path_and_unparsable_file_exit_2(repo, capsys):
    assert main(["sbom", str(repo / "missing")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    (repo / "web" / "package.json").write_text('{"name": "web",')
    assert main(["sbom", str(repo)]) == 2
    captured = capsys.readouterr()
    assert "web/package.json:1: invalid JSON" in captured.err
    assert len(json.loads(captured.out)["components"]) == 11  # the SBOM is still written, without that file
