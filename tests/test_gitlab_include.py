"""GitLab `include: local` is followed: included jobs keep their own file:line, merge under the root,
and an include that is missing or points outside the repository is an error naming the root file."""
from .conftest import run_scan


def _write(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


ROOT = """include:
  - local: .gitlab/ci/deploy.yml
  - template: Jobs/Secret-Detection.gitlab-ci.yml
stages: [build, deploy]
build:
  stage: build
  script:
    - make build
"""
DEPLOY = """.deploy:
  script:
    - helm upgrade --install app ./chart --namespace production --set image.tag=latest
deploy-prod:
  extends: .deploy
  stage: deploy
"""


def _jobs(result):
    return {e.name: e for e in result.project.of_kind("PipelineJob")}


def test_included_jobs_keep_their_file_and_line(tmp_path):
    _write(tmp_path, {".gitlab-ci.yml": ROOT, ".gitlab/ci/deploy.yml": DEPLOY})
    result = run_scan(tmp_path, select=["PM101"])
    assert not result.errors
    jobs = _jobs(result)
    assert set(jobs) == {"build", "deploy-prod"}  # the included file is not parsed a second time alone
    assert jobs["deploy-prod"].file == ".gitlab/ci/deploy.yml" and jobs["deploy-prod"].line == 4
    data = jobs["deploy-prod"].facts["data"]
    assert data["pipeline"] == ".gitlab-ci.yml" and data["stages"] == ["build", "deploy"]
    assert data["includes"] == ["template:Jobs/Secret-Detection.gitlab-ci.yml"]
    [f] = result.findings
    assert (f.file, f.line) == (".gitlab/ci/deploy.yml", 3)


def test_root_definitions_override_included_ones(tmp_path):
    _write(tmp_path, {".gitlab-ci.yml": ROOT + "deploy-prod:\n  stage: deploy\n  script:\n    - helm upgrade app ./chart -n production\n",
                      ".gitlab/ci/deploy.yml": DEPLOY})
    result = run_scan(tmp_path, select=["PM101"])
    assert not result.findings  # the root's script replaced the included `latest` one
    assert _jobs(result)["deploy-prod"].file == ".gitlab-ci.yml"


def test_glob_and_nested_includes(tmp_path):
    _write(tmp_path, {".gitlab-ci.yml": "include: 'ci/*.yml'\n",
                      "ci/a.yml": "include:\n  - local: ci/nested/b.yml\na:\n  script: [echo a]\n",
                      "ci/nested/b.yml": "b:\n  script: [echo b]\n"})
    result = run_scan(tmp_path)
    assert not result.errors
    assert {(e.name, e.file) for e in result.project.of_kind("PipelineJob")} == {("a", "ci/a.yml"), ("b", "ci/nested/b.yml")}


def test_missing_and_escaping_includes_are_errors(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "secret.yml").write_text("x:\n  script: [echo]\n")
    _write(tmp_path / "repo", {".gitlab-ci.yml": "include:\n  - local: nope.yml\n  - local: ../secret.yml\n"
                                                 "job:\n  script: [echo hi]\n"})
    result = run_scan(tmp_path / "repo")
    msgs = sorted((e.file, e.line, e.message) for e in result.errors)
    assert msgs == [(".gitlab-ci.yml", 2, "include local 'nope.yml': file not found"),
                    (".gitlab-ci.yml", 3, "include local '../secret.yml': points outside the repository; not read")]
    assert [e.name for e in result.project.of_kind("PipelineJob")] == ["job"]
