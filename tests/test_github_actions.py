from premortem.parse.github_actions import parse_workflow

WF = """name: deploy
on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      skip_tests: {default: false}
env:
  TF_CLI_ARGS: "-lock=false"
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: {name: production, url: https://x}
    needs: test
    if: github.ref == 'refs/heads/main'
    steps:
      - uses: actions/checkout@v4
      - name: apply
        continue-on-error: true
        run: |
          terraform init
          terraform apply -auto-approve
  call:
    uses: org/repo/.github/workflows/x.yml@main
"""


def test_jobs_triggers_gate_and_step_positions():
    res, errors = parse_workflow(WF, ".github/workflows/d.yml")
    assert errors == []
    deploy, call = res
    d = deploy.data
    assert d["triggers"] == ["push", "workflow_dispatch"] and d["branches"] == ["main"]
    assert d["environment"] == "production" and d["gate"]["blocking"]
    assert d["needs"] == ["test"] and d["conditions"] == ["github.ref == 'refs/heads/main'"]
    assert d["params"] == [{"name": "skip_tests", "default": False}]
    step = d["steps"][1]
    assert step["continue_on_error"] and step["commands"][1]["argv"] == ["terraform", "apply", "-auto-approve"]
    assert step["commands"][1]["env"]["TF_CLI_ARGS"] == "-lock=false"
    assert deploy.locate(("steps", 1, "commands", 1)).line == 22
    assert deploy.locate(("steps", 0, "uses")).line == 17
    assert call.data["steps"][0]["uses"] == "org/repo/.github/workflows/x.yml@main"
    assert call.data["gate"]["blocking"] is False and call.locate(("steps", 0)).line == 24


def test_invalid_yaml_is_an_error_not_a_crash():
    res, errors = parse_workflow("jobs: [\n", ".github/workflows/x.yml")
    assert res == [] and errors and errors[0].line >= 1


def test_tag_only_push_is_a_tag_trigger():
    from premortem.parse.github_actions import _triggers

    assert _triggers({"push": {"tags": ["v*"]}})[0] == ["tag"]
    assert _triggers({"push": {"tags": ["v*"], "branches": ["main"]}})[0] == ["push"]
    assert _triggers({"push": None, "workflow_dispatch": None})[0] == ["push", "workflow_dispatch"]


def test_working_directory_per_step():
    from premortem.parse.github_actions import parse_workflow

    wf = ("on: push\ndefaults:\n  run:\n    working-directory: infra\njobs:\n  a:\n    runs-on: x\n    steps:\n"
          "      - run: terraform init\n      - run: terraform apply\n        working-directory: envs/staging\n"
          "  b:\n    runs-on: x\n    defaults: {run: {working-directory: envs/prod}}\n    steps:\n      - run: make\n")
    jobs, errors = parse_workflow(wf, ".github/workflows/x.yml")
    assert not errors
    assert {j.name: [s["dir"] for s in j.data["steps"]] for j in jobs} == {"a": ["infra", "envs/staging"],
                                                                           "b": ["envs/prod"]}
