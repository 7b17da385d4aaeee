"""rules/delivery/_deploys.py: where a deploy command goes (production, non-production, unknown)."""
import textwrap

import pytest

from premortem.config import Config
from premortem.parse.github_actions import parse_workflow
from premortem.parse.gitlab_ci import parse_gitlab_ci
from premortem.parse.jenkinsfile import parse_jenkinsfile
from premortem.rules.delivery._deploys import (commands, deploy_target, env_words, expand, is_dry_run, judge,
                                               piped_with, production_deploys, stage_of)


def _gh(body: str, job: str = "deploy"):
    jobs, errors = parse_workflow(textwrap.dedent(body), ".github/workflows/x.yml")
    assert not errors
    return next(j for j in jobs if j.name == job)


def _targets(resource, config=None, branches=True):
    """{command text: (verdict, evidence)} of every command of the job."""
    return {c["text"]: deploy_target(resource, p, c, config or Config(), branches) for p, c in commands(resource)}


def _run(lines: str, on: str = "push", job: str = "deploy", extra: str = "") -> dict:
    steps = "\n".join(f"      - run: {ln}" for ln in lines.strip().splitlines())
    return _targets(_gh(f"on: {on}\njobs:\n  {job}:\n    runs-on: x\n{extra}    steps:\n{steps}\n", job))


@pytest.mark.parametrize("value, words", [
    ("deployProd", {"deploy", "prod"}),
    ("gke_acme_europe-west1_prod-eu", {"gke", "acme", "europe", "west1", "prod", "eu"}),
    ("group/agents:prod-agent", {"group", "agents", "prod", "agent"}),
    ("pre-prod", {"preprod"}), ("non_production", {"nonprod"}), ("Deploy to Prod", {"deploy", "to", "prod"}),
])
def test_env_words(value, words):
    assert env_words(value) == words


@pytest.mark.parametrize("value, verdict", [
    ("production", "production"), ("prod-eu-1", "production"), ("k8s/overlays/live/", "production"),
    ("staging", "non-production"), ("pre-prod", "non-production"), ("uat-prod-copy", "non-production"),
    ("payments", ""), ("liveness.yaml", ""), ("products", ""),
])
def test_stage_of_words(value, verdict):
    assert stage_of(value) == verdict


def test_expand_reads_shell_and_ci_forms():
    env = {"NS": "production", "CTX": "$OTHER"}
    assert expand("-n=$NS", env) == "-n=production"
    assert expand("${NS}/${{ env.NS }}/${env.NS}", env) == "production/production/production"
    assert expand("$CTX $MISSING", env) == "$CTX $MISSING"  # unresolved values stay as written


def test_is_dry_run():
    assert is_dry_run(["kubectl", "apply", "--dry-run=server", "-f", "x"])
    assert is_dry_run(["kubectl", "apply", "--dry-run", "-f", "x"])
    assert not is_dry_run(["kubectl", "apply", "--dry-run=none", "-f", "x"])
    assert not is_dry_run(["kubectl", "apply", "-f", "x"])


def test_judge_uses_the_production_settings():
    cfg = Config(prod_namespaces=["payments"], nonprod_namespaces=["prod-sandbox"], prod_paths=["deploy/eu/*"])
    assert judge("payments", "namespace '{v}'", cfg, "namespace") == ("production", "namespace 'payments'")
    assert judge("prod-sandbox", "ns {v}", cfg, "namespace")[0] == "non-production"
    assert judge("deploy/eu/api.yaml", "argument '{v}'", cfg, "path")[0] == "production"
    assert judge("payments", "x", cfg) == ("", "")  # as a plain name, only its words count


def test_command_flags_decide_before_the_branch():
    t = _run("""
        helm upgrade api ./chart --namespace staging
        helm upgrade api ./chart --namespace production
        kubectl --context prod-cluster apply -f k8s/
        kubectl --context pre-prod apply -f k8s/
        kubectl apply -f k8s/overlays/production/
        helm upgrade api-prod ./chart
        argocd app sync api-live
        terraform apply -var-file=envs/staging.tfvars
        kubectl apply -f k8s/
    """, on="{push: {branches: [main]}}")
    assert t["helm upgrade api ./chart --namespace staging"] == ("non-production", "namespace 'staging'")
    assert t["helm upgrade api ./chart --namespace production"] == ("production", "namespace 'production'")
    assert t["kubectl --context prod-cluster apply -f k8s/"] == ("production", "kube context 'prod-cluster'")
    assert t["kubectl --context pre-prod apply -f k8s/"][0] == "non-production"
    assert t["kubectl apply -f k8s/overlays/production/"] == ("production", "argument 'k8s/overlays/production/'")
    assert t["helm upgrade api-prod ./chart"] == ("production", "release 'api-prod'")
    assert t["argocd app sync api-live"] == ("production", "Argo CD app 'api-live'")
    assert t["terraform apply -var-file=envs/staging.tfvars"][0] == "non-production"
    assert t["kubectl apply -f k8s/"] == ("production", "runs on pushes to branch 'main'")


def test_branch_evidence_can_be_switched_off_and_needs_a_push():
    job = _gh("on: {push: {branches: [main]}}\njobs:\n  deploy:\n    steps:\n      - run: kubectl apply -f k8s/\n")
    assert _targets(job, branches=False) == {"kubectl apply -f k8s/": ("", "")}
    t = _run("kubectl apply -f k8s/", on="{pull_request: {branches: [main]}}")
    assert t == {"kubectl apply -f k8s/": ("", "")}


def test_variables_are_expanded_and_tool_variables_count():
    t = _run("""
        helm upgrade api ./chart -n $NS
        kubectl apply -f k8s/
    """, extra="    env:\n      NS: production\n      KUBECONFIG: ${{ secrets.STAGING_KUBECONFIG }}\n")
    assert t["helm upgrade api ./chart -n $NS"] == ("production", "namespace 'production'")
    assert t["kubectl apply -f k8s/"] == ("non-production", "$KUBECONFIG = '${{ secrets.STAGING_KUBECONFIG }}'")


def test_context_selected_earlier_in_the_job_applies_to_later_kube_commands_only():
    t = _run("""
        aws eks update-kubeconfig --name prod-eu-1 --region eu-west-1
        kubectl apply -f k8s/
        terraform apply tfplan
    """)
    assert t["kubectl apply -f k8s/"] == ("production", "'prod-eu-1' selected earlier in the job")
    assert t["terraform apply tfplan"] == ("", "")
    t = _run("""
        kubectl apply -f k8s/
        kubectl config use-context staging
    """)
    assert t["kubectl apply -f k8s/"] == ("", "")  # selected after: does not count
    t = _run("""
        terraform workspace select prod
        terraform apply tfplan
    """)
    assert t["terraform apply tfplan"] == ("production", "'prod' selected earlier in the job")


def test_piped_input_lends_its_target_but_gitlab_script_items_are_not_a_pipe():
    job = _gh("on: push\njobs:\n  deploy:\n    steps:\n"
              "      - run: kustomize build k8s/overlays/production | kubectl apply -f -\n")
    (path, cmd), = [(p, c) for p, c in commands(job) if c["argv"][0] == "kubectl"]
    assert [c["argv"][0] for c in piped_with(job.data["steps"][0], cmd)] == ["kustomize"]
    assert deploy_target(job, path, cmd, Config()) == ("production", "argument 'k8s/overlays/production'")
    jobs, _ = parse_gitlab_ci("deploy:\n  script:\n    - kubectl config view --context prod\n"
                              "    - kubectl apply -f -\n", ".gitlab-ci.yml")
    step = jobs[0].data["steps"][0]
    assert step["commands"][0]["pipeline"] == step["commands"][1]["pipeline"]  # numbering restarts per item
    assert piped_with(step, step["commands"][1]) == []


def test_job_environment_name_credentials_and_file():
    t = _run("kubectl apply -f k8s/", extra="    environment: production\n")
    assert t["kubectl apply -f k8s/"] == ("production", "environment 'production'")
    t = _run("kubectl apply -f k8s/", job="deploy-staging")
    assert t["kubectl apply -f k8s/"] == ("non-production", "job 'deploy-staging'")
    jobs, _ = parse_jenkinsfile(textwrap.dedent("""\
        pipeline { agent any; stages { stage('Rollout') { steps {
          withCredentials([file(credentialsId: 'kubeconfig-prd', variable: 'KUBECONFIG')]) {
            sh 'kubectl apply -f k8s/'
          }
        } } } }
        """), "Jenkinsfile")
    assert _targets(jobs[0]) == {"kubectl apply -f k8s/": ("production", "credentials 'kubeconfig-prd'")}
    jobs, _ = parse_gitlab_ci("deploy:\n  stage: production\n  script: [kubectl apply -f k8s/]\n", ".gitlab-ci.yml")
    assert _targets(jobs[0]) == {"kubectl apply -f k8s/": ("production", "stage 'production'")}


def test_production_deploys_skips_dry_runs_and_status_checks():
    job = _gh("on: push\njobs:\n  deploy:\n    steps:\n      - run: |\n"
              "          kubectl apply --dry-run=server -n production -f k8s/\n"
              "          kubectl rollout status -n production deploy/api\n"
              "          kubectl get pods -n production\n"
              "          kubectl rollout restart -n production deploy/api\n")
    found = list(production_deploys(job, Config()))
    assert [(c["text"], action, ev) for _, c, action, ev in found] == [
        ("kubectl rollout restart -n production deploy/api", "kubectl rollout", "namespace 'production'")]


def test_explicit_staging_target_beats_the_branch():
    job = _gh("on: {push: {branches: [main]}}\njobs:\n  deploy:\n    steps:\n"
              "      - run: helm upgrade api ./chart -n staging\n")
    (path, cmd), = list(commands(job))
    assert deploy_target(job, path, cmd, Config()) == ("non-production", "namespace 'staging'")
    assert list(production_deploys(job, Config())) == []


def test_plain_arguments_and_if_branches():
    t = _run("""
        ./scripts/deploy.sh staging
        ./scripts/deploy.sh
        kubectl create namespace production
    """, extra="    if: github.ref == 'refs/heads/main'\n")
    assert t["./scripts/deploy.sh staging"] == ("non-production", "argument 'staging'")
    assert t["./scripts/deploy.sh"] == ("production", "runs on pushes to branch 'main'")
    assert t["kubectl create namespace production"] == ("production", "argument 'production'")
    t = _run("./scripts/deploy.sh", extra="    if: github.ref == 'refs/heads/main' || github.event_name == 'pull_request'\n")
    assert t["./scripts/deploy.sh"] == ("", "")  # an `||` condition is not a branch filter


# ---- the rules that read it: messages ---------------------------------------------------------------

def _findings(tmp_path, files: dict, rule: str):
    from .conftest import run_scan
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    result = run_scan(tmp_path, select=[rule])
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule]


def test_pm102_names_trigger_missing_gate_and_evidence(tmp_path):
    (f,) = _findings(tmp_path, {".github/workflows/d.yml": """\
        on: {push: {branches: [main]}}
        jobs:
          deploy:
            runs-on: x
            steps:
              - run: echo build
              - run: |
                  helm upgrade api ./chart -n production
                  kubectl -n production apply -f k8s/
        """}, "PM102")
    assert (f.file, f.line, f.severity.name) == (".github/workflows/d.yml", 8, "HIGH")
    assert "GitHub Actions job 'deploy' deploys to production (`helm upgrade api ./chart -n production`)" in f.message
    assert "on every push to main" in f.message and "no `environment:`" in f.message
    assert "(+1 more production deploy command(s) in the job)" in f.message
    assert f.message.endswith("[production: namespace 'production']")


def test_pm102_gitlab_non_blocking_manual_is_medium_and_points_at_when(tmp_path):
    (f,) = _findings(tmp_path, {".gitlab-ci.yml": """\
        deploy_prod:
          stage: deploy
          when: manual
          script:
            - helm upgrade api ./chart -n production
        """}, "PM102")
    assert (f.line, f.severity.name) == (5, "MEDIUM")
    assert "does not block later stages" in f.message
    assert [(r.line, r.message) for r in f.related] == [(3, "manual, but allow_failure is not false")]


def test_pm107_says_drift_only_when_gitops_manages_the_repo(tmp_path):
    script = {"scripts/fix.sh": "kubectl -n production patch deploy/api -p '{}'\n"}
    (f,) = _findings(tmp_path, script, "PM107")
    assert (f.file, f.line) == ("scripts/fix.sh", 1)
    assert "in script 'scripts/fix.sh' changes production imperatively (kubectl patch)" in f.message
    assert "GitOps" not in f.message and f.related == []
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux" / "apps.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\n"
        "spec: {interval: 5m, path: ./k8s, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}\n")
    (f,) = _findings(tmp_path, script, "PM107")
    assert "GitOps-managed (Flux Kustomization 'apps' in flux/apps.yaml)" in f.message and "drift" in f.message
    assert [(r.file, r.line) for r in f.related] == [("flux/apps.yaml", 1)]


def test_test_in_a_job_or_workflow_name_is_an_activity_not_an_environment():
    jobs, _ = parse_workflow("name: Build, test and deploy\non: {push: {branches: [main]}}\njobs:\n"
                             "  test-and-deploy:\n    steps:\n      - run: kubectl apply -f k8s/\n",
                             ".github/workflows/test.yml")
    assert _targets(jobs[0]) == {"kubectl apply -f k8s/": ("production", "runs on pushes to branch 'main'")}
    jobs, _ = parse_gitlab_ci("deploy:\n  only: [main]\n  script: [kubectl apply -f k8s/]\n", ".gitlab-ci.yml")
    assert jobs[0].data["stage"] == "test"  # GitLab's default stage
    assert _targets(jobs[0]) == {"kubectl apply -f k8s/": ("production", "runs on pushes to branch 'main'")}
    assert _run("kubectl apply -f k8s/ -n qa-test")["kubectl apply -f k8s/ -n qa-test"][0] == "non-production"


@pytest.mark.parametrize("cmd, verb", [
    ("kubectl -n production rollout restart deploy/api", "rollout restart"),
    ("kubectl rollout status deploy/api", "rollout status"),
    ("kubectl apply view-last-applied deploy/api", "apply view-last-applied"),
    ("kubectl --context prod apply -f k8s/", "apply"),
    ("oc -n x set image deploy/api api=x:1", "set"),
])
def test_kube_verb(cmd, verb):
    from premortem.rules.delivery._deploys import kube_verb
    assert kube_verb(cmd.split()) == verb
