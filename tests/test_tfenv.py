"""Environment names in paths and values (premortem/environments.py): PM603 and the Terraform rules
ask "which environment is this?" through it."""
import pytest

from premortem.environments import environment_of, find, is_production, segments


@pytest.mark.parametrize("text, env, word", [
    ("envs/prod/backend.hcl", "production", "prod"),
    ("key=production/terraform.tfstate", "production", "production"),
    ("bucket=acme-tf-state-prd", "production", "prd"),
    ("prod2.tfvars", "production", "prod"),            # trailing digits dropped
    ("EKSProd", "production", "prod"),                 # camelCase
    ("$PROD_STATE_BUCKET", "production", "prod"),      # a variable's name counts
    ("${{ vars.PROD_BUCKET }}", "production", "prod"),
    ("Deploy to Staging", "staging", "staging"),
    ("deployStaging", "staging", "staging"),
    ("envs/stg/backend.hcl", "staging", "stg"),
    ("pre-prod", "staging", "preprod"),                # not production
    ("preprod.tfvars", "staging", "preprod"),
    ("dev01", "development", "dev"),
    ("develop", "development", "develop"),
    ("qa", "qa", "qa"),
    ("uat-eu", "uat", "uat"),
    ("sandbox", "sandbox", "sandbox"),
    ("infrastructure-live/staging/vpc", "staging", "staging"),  # `live` is weak next to a strong word
    ("live", "production", "live"),                    # ... but the whole value `live` is production
    ("test.tfvars", "test", "test"),                   # a weak word alone in its segment
    ("envs/test/backend.hcl", "test", "test"),
])
def test_names_one_environment(text, env, word):
    assert find(text) == (env, word)
    assert environment_of(text) == env


@pytest.mark.parametrize("text", [
    "product-catalog", "products", "reproduce",        # prod only inside another word
    "non-prod", "nonprod",                             # names no single environment
    "staging-to-prod", "envs/dev/../prod",             # two environments: not one
    "terraform-test", "integration-tests", "infrastructure-live/vpc",  # weak words inside a segment
    "main", "master", "${{ matrix.env }}", "$CI_ENVIRONMENT_NAME", "", None,
])
def test_names_no_single_environment(text):
    assert find(text) == ("", "")
    assert environment_of(text) == ""


def test_segments_and_options():
    assert segments("envs/prod-eu/backend.hcl") == [["envs"], ["prod", "eu"], ["backend", "hcl"]]
    assert segments("key=pre-prod/x") == [["key"], ["preprod"], ["x"]]
    # a user's own words replace the defaults; weak words can be switched off
    assert environment_of("envs/blue/x.hcl", {"production": ("blue",), "staging": ("green",)}) == "production"
    assert environment_of("envs/prod/x.hcl", {"production": ("blue",)}) == ""
    assert environment_of("live", weak={}) == ""
    assert is_production("terraform/prod.tfbackend") and not is_production("terraform/staging.tfbackend")


def test_pm603_names_both_sides_and_grades_severity():
    """PM603 reads environments through this module: its message names the state-side value, the value it
    clashes with and the consequence; production on either side is critical, two other environments high."""
    from .conftest import FIXTURES, run_scan

    found = {(f.file, f.line): f for f in run_scan(FIXTURES / "PM603" / "bad", select=["PM603"]).findings}
    init = found[(".github/workflows/infra.yml", 13)]
    assert "job 'deploy-staging'" in init.message and "terraform init -input=false" in init.message
    assert "backend config 'envs/prod.tfbackend' is production but job environment 'staging' is staging" in init.message
    assert "destroys or replaces production resources" in init.message and init.severity.label == "critical"
    qa = found[(".gitlab-ci.yml", 17)]
    assert "'../../backends/uat.hcl' is uat but job name 'terraform:qa' is qa" in qa.message
    assert qa.severity.label == "high"
    # TF_WORKSPACE from the job is reported once, at the first command it reaches, not at every command
    assert sorted(k for k, f in found.items() if "TF_WORKSPACE" in f.message) == [(".github/workflows/infra.yml", 25),
                                                                           ("ci/infra.groovy", 11)]


def test_pm603_reads_the_step_working_directory(tmp_path):
    from .conftest import run_scan

    wf = tmp_path / ".github/workflows/tf.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text("on: push\njobs:\n  apply-staging:\n    runs-on: x\n    environment: staging\n    steps:\n"
                  "      - run: terraform apply -auto-approve\n        working-directory: envs/prod\n")
    [f] = [f for f in run_scan(tmp_path, select=["PM603"]).findings]
    assert (f.line, f.severity.name) == (7, "CRITICAL") and "envs/prod" in f.message
