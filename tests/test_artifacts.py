"""Shared recognition of builds, pushes, scanners, verifiers and deployed images (rules/delivery/_artifacts.py),
and the cross-job behaviour of PM105, PM106 and PM502 that fixtures cannot show in one directory."""
import shlex
import textwrap

import pytest

from premortem.config import Config
from premortem.rules.delivery import _artifacts as art

from .conftest import run_scan


def argv(text):
    return shlex.split(text)


@pytest.mark.parametrize("cmd, spec", [
    ("docker build -t x .", "docker build"),
    ("sudo docker --debug build .", "docker build"),
    ("docker buildx build --push -t x .", "docker buildx build --push"),
    ("docker buildx build -o type=registry -t x .", "docker buildx build type=registry"),
    ("docker buildx build --output=type=registry -t x .", "docker buildx build type=registry"),
    ("docker-compose -f prod.yml build", "docker compose build"),
    ("./mvnw -B clean package -DskipTests", "mvn package"),
    ("mvn compile jib:build", "mvn jib:build"),
    ("/kaniko/executor --context . --destination r/x:1", "kaniko !--no-push"),
    ("npm --prefix web run build", "npm run build"),
    ("trivy --cache-dir .cache image x", "trivy image"),
    ("snyk container test x", "snyk container"),
    ("cosign verify --key k x", "cosign verify"),
])
def test_spec_matches(cmd, spec):
    assert art.matches(argv(cmd), spec)


@pytest.mark.parametrize("cmd, spec", [
    ("docker run -v a:b img build", "docker build"),  # `build` is an argument of the container
    ("docker buildx build --load -t x .", "docker buildx build --push"),
    ("/kaniko/executor --context . --no-push", "kaniko !--no-push"),
    ("npm run build:docs", "npm run build"),
    ("trivy config .", "trivy image"),
    ("cosign sign --yes x", "cosign verify"),
    ("cosign verify-blob --key k f", "cosign verify"),
    ("docker tag a b", "docker build"),
])
def test_spec_does_not_match(cmd, spec):
    assert not art.matches(argv(cmd), spec)


def test_action_match_needs_truthy_inputs():
    step = {"uses": "docker/build-push-action@v5", "with": {"push": True}}
    assert art.action_match(step, ["docker/build-push-action push"]) == "docker/build-push-action"
    assert art.action_match({**step, "with": {"push": "${{ github.event_name != 'pull_request' }}"}},
                            ["docker/build-push-action push"])
    assert not art.action_match({**step, "with": {"push": False}}, ["docker/build-push-action push"])
    assert not art.action_match({**step, "with": {"push": "false"}}, ["docker/build-push-action push"])
    smithers = {"uses": "mr-smithers-excellent/docker-build-push@v6", "with": {"image": "api"}}
    assert art.action_match(smithers, ["mr-smithers-excellent/docker-build-push !pushImage"])
    assert not art.action_match({**smithers, "with": {"pushImage": "false"}},
                                ["mr-smithers-excellent/docker-build-push !pushImage"])
    assert art.action_match({"uses": "snyk/actions/docker@master"}, ["snyk/actions/docker"])
    assert not art.action_match({"uses": "aquasecurity/trivy-action-fork@v1"}, ["aquasecurity/trivy-action"])


def test_find_orders_uses_steps_and_scanner_containers():
    data = {"steps": [
        {"uses": "aquasecurity/trivy-action@0.24.0", "commands": []},
        {"uses": None, "commands": [{"argv": argv("docker run --rm aquasec/trivy:0.50.0 image x"), "line": 9},
                                    {"argv": argv("grype x"), "line": 10}]},
    ]}
    found = art.find(data, art.SCANNERS, art.SCANNER_ACTIONS, art.SCANNER_IMAGES)
    assert [(o, p, w) for o, p, w, _ in found] == [
        ((0, -1), ("steps", 0), "aquasecurity/trivy-action"),
        ((1, 0), ("steps", 1, "commands", 0), "docker run aquasec/trivy"),
        ((1, 1), ("steps", 1, "commands", 1), "grype"),
    ]
    # spec words with `!` are conditions, not part of what a message names
    kaniko = {"steps": [{"commands": [{"argv": argv("/kaniko/executor --destination r/x:1")}]}]}
    assert art.find(kaniko, art.SELF_PUSHES)[0][2] == "kaniko"


@pytest.mark.parametrize("tag, word", [
    ("staging", "staging"), ("v2.1-staging", "staging"), ("staging-hotfix", "staging"), ("qa", "qa"),
    ("1.4.0-dev", "dev"), ("stage", "stage"), ("v3-stage", "stage"), ("${VERSION}-uat", "uat"),
    ("pre-prod-7", "pre-prod"),
])
def test_preprod_tag(tag, word):
    assert art.preprod_tag(tag) == word


@pytest.mark.parametrize("tag", ["stage-2", "latest", "1.4.2-latest", "devops-1.2", "contest-7", "stagecoach",
                                 "$STAGING_TAG", "${{ env.DEV_TAG }}", "prod-abc123", "v1.2.3"])
def test_not_preprod_tag(tag):
    assert art.preprod_tag(tag) == ""


def test_deployed_images():
    helm = argv("helm upgrade api ./c -n production --set image.repository=r/qa-tools/api,image.tag=v1 "
                "--set-string sidecar.image=r/envoy:1.29")
    assert art.deployed_images(helm) == [("image.tag=v1", "v1", False), ("sidecar.image=r/envoy:1.29", "1.29", False)]
    pinned = argv("helm upgrade api ./c --set image.tag=$SHA --set image.digest=$DIGEST")
    assert [p for _, _, p in art.deployed_images(pinned)] == [False, True]
    kubectl = argv("kubectl set image deployment/api api=r/api@sha256:abc web=r/web -n production")
    assert art.deployed_images(kubectl) == [("api=r/api@sha256:abc", "", True), ("web=r/web", "latest", False)]
    assert art.deployed_images(argv("gcloud run deploy api --image r/api:v2 --region eu")) == \
        [("--image r/api:v2", "v2", False)]
    assert art.deployed_images(argv("kubectl apply -f k8s/")) == []


def test_pushed_image():
    assert art.pushed_image(argv("docker push r/api:1")) == "r/api:1"
    assert art.pushed_image(argv("docker image push r/api:1")) == "r/api:1"
    assert art.pushed_image(argv("/kaniko/executor --context . --destination=r/api:2")) == "r/api:2"
    assert art.pushed_image(argv("docker buildx build --push -t r/api:3 .")) == "r/api:3"
    assert art.pushed_image(argv("ko build ./cmd/cli")) == ""
    step = {"with": {"tags": "ghcr.io/a/web:${{ github.ref_name }}\nghcr.io/a/web:latest"}}
    assert art.pushed_image([], step) == "ghcr.io/a/web:${{ github.ref_name }}"


def test_deploy_kinds():
    def kinds_of(data):
        return [(d[3], d[4]) for d in art.deploys("j", data, Config())]

    assert kinds_of({"steps": [{"commands": [{"argv": argv("helm upgrade api ./chart -f values-uat.yaml")}]}]}) == [
        ("staging", "argument 'values-uat.yaml'")]
    assert kinds_of({"environment": "stage-eu", "steps": [{"commands": [{"argv": ["helm", "upgrade", "api", "."]}]}]}) \
        == [("staging", "environment 'stage-eu'")]
    assert kinds_of({"steps": [{"commands": [{"argv": argv("helm upgrade api ./c --dry-run -n prod")}]}]}) == []
    # a job on pushes to main counts as production unless it names a staging target explicitly
    data = {"triggers": ["push"], "branches": ["main"], "environment": None, "steps": [{"commands": [
        {"argv": argv("helm upgrade api ./c -n staging")}, {"argv": argv("helm upgrade api ./c")}]}]}
    kinds = [(d[3], d[4]) for d in art.deploys("j", data, Config())]
    assert kinds == [("staging", "namespace 'staging'"), ("production", "runs on pushes to branch 'main'")]


def test_pr_only():
    assert art.pr_only({"triggers": ["pull_request"]})
    mr = '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert art.pr_only({"triggers": ["push", "merge_request"], "conditions": [mr]})
    assert not art.pr_only({"triggers": ["push", "pull_request"]})
    assert not art.pr_only({"triggers": ["push"], "conditions": ['$CI_PIPELINE_SOURCE != "merge_request_event"']})


def _write(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return tmp_path


DEPLOY = """\
    on:
      push:
        branches: [main]
    jobs:
      deploy:
        runs-on: ubuntu-latest
        environment: production
        steps:
          - run: helm upgrade api ./chart -n production --set image.tag=${{ github.sha }}
    """
KYVERNO = """\
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: %s
    spec:
      validationFailureAction: Enforce
      rules:
        - name: r
          match: {any: [{resources: {kinds: [Pod]}}]}
          verifyImages:
            - imageReferences: ["ghcr.io/acme/*"]
              attestors: [{entries: [{keyless: {issuer: https://token.actions.githubusercontent.com}}]}]
    """


def _pm(tmp_path, rid, files):
    result = run_scan(_write(tmp_path, files), select=[rid])
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rid]


def test_pm106_reports_the_deploy_line_with_production_evidence(tmp_path):
    [f] = _pm(tmp_path, "PM106", {".github/workflows/deploy.yml": DEPLOY})
    assert (f.file, f.line) == (".github/workflows/deploy.yml", 9)
    assert "image.tag=${{ github.sha }} by tag" in f.message and f.production == "namespace 'production'"


def test_pm106_cluster_side_verification_silences_it(tmp_path):
    files = {".github/workflows/deploy.yml": DEPLOY, "k8s/policies/verify-images.yaml": KYVERNO % "verify-images"}
    assert _pm(tmp_path, "PM106", files) == []


def test_pm106_kyverno_policy_counts_by_its_verify_images_rule_not_its_name(tmp_path):
    files = {".github/workflows/deploy.yml": DEPLOY, "k8s/policies/team.yaml": KYVERNO % "require-team-label"}
    assert _pm(tmp_path, "PM106", files) == []  # any name: it has verifyImages
    no_verify = (KYVERNO % "verify-signatures").split("          verifyImages:")[0] + \
        "          validate: {pattern: {metadata: {labels: {team: '?*'}}}}\n"
    files["k8s/policies/team.yaml"] = no_verify
    assert len(_pm(tmp_path, "PM106", files)) == 1  # named for verification, but verifies nothing


def test_pm502_scanner_in_the_job_after_push_but_before_deploy_counts(tmp_path):
    ci = """\
        stages: [build, scan, deploy]
        build:
          stage: build
          script:
            - docker buildx build --push -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA .
        scan:
          stage: scan
          script:
            - grype $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA --fail-on high
        deploy:
          stage: deploy
          environment: production
          script:
            - helm upgrade shop ./chart -n production --set image.tag=$CI_COMMIT_SHA
        """
    assert _pm(tmp_path, "PM502", {".gitlab-ci.yml": ci}) == []


def test_pm502_scanner_after_a_production_deploy_in_the_same_job_does_not(tmp_path):
    ci = """\
        release:
          environment: production
          script:
            - docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA .
            - docker push $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA
            - helm upgrade shop ./chart -n production --set image.tag=$CI_COMMIT_SHA
            - trivy image $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA
        """
    [f] = _pm(tmp_path, "PM502", {".gitlab-ci.yml": ci})
    assert f.line == 5
    assert "the scanner `trivy image` in job 'release' (line 7) runs only after the deploy `helm upgrade`" in f.message


PIPELINE = """\
    stages: [build, staging, production]
    build:
      stage: build
      script: [docker build -t r/api:$CI_COMMIT_SHA ., docker push r/api:$CI_COMMIT_SHA]
    staging:
      stage: staging
      environment: staging
      script: [helm upgrade api ./c -n staging --set image.tag=$CI_COMMIT_SHA]
    production:
      stage: production
      environment: production
      script:
        - %s
        - %s
    """
HELM = "helm upgrade api ./c -n production --set image.tag=$CI_COMMIT_SHA"


def test_pm105_build_before_the_production_deploy_names_the_staging_job(tmp_path):
    [f] = _pm(tmp_path, "PM105", {".gitlab-ci.yml": PIPELINE % ("docker build -t r/api:$CI_COMMIT_SHA .", HELM)})
    assert f.line == 13 and "builds the artifact again (`docker build`) and this job (`helm upgrade`)" in f.message
    assert "staging got a different build (job 'staging')" in f.message


def test_pm105_build_after_the_production_deploy_feeds_nothing(tmp_path):
    assert _pm(tmp_path, "PM105", {".gitlab-ci.yml": PIPELINE % (HELM, "docker build -t r/api:$CI_COMMIT_SHA .")}) == []
