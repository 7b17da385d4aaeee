"""Terraform source rules about secrets and state (PM620-PM624): where each finding lands, what it
says, what is redacted, and the near-misses that must stay quiet."""
import json
import textwrap

import pytest

from premortem.config import load_config
from premortem.model import Severity
from premortem.report import FORMATS, render
from premortem.rules.infrastructure import _tfsecrets as ts
from premortem.rules.registry import load_rules

from .conftest import FIXTURES, run_scan

BAD_SECRETS = ["7cE9bQ2xLm4Rt8Vw1Zy3Ab5Cd7Ef9Gh0Ij2Kl4Mn", "AKIA2E0A8F3B244C9986", "tok_live_9f8e7d6c5b4a3f2e",
               "Payments-DB-Pa55!", "R3ports-Adm1n-2024", "Xq7!mZ2@pL9#", "sk_live_51HxYzAbCdEfGhIjKlMnOp", "Xk29-pq1z",
               "0penSearch!Adm1n", "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
               "r3dis-Auth-T0ken-2024xx", "Ecs-Db-Pa55-2024", "Redis-Pa55-2024", "St4ging-Orders-DB!", "Pr0d-Orders-DB-2024!"]


def _write(tmp_path, files: dict):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return tmp_path


def _findings(path, rule, **kw):
    result = run_scan(path, select=[rule], **kw)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule]


# ---- PM620 --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pm620_bad():
    return run_scan(FIXTURES / "PM620" / "bad", select=["PM620"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_pm620_no_output_format_shows_a_secret_whole(pm620_bad, fmt):
    out = render(pm620_bad, fmt)
    assert "PM620" in out and "redacted sha256:" in out
    for s in BAD_SECRETS:
        assert s not in out, f"{s[:5]}... leaked in {fmt} output"


def test_pm620_tfvars_value_is_reported_at_the_tfvars_line(pm620_bad):
    f, = [f for f in pm620_bad.findings if f.file == "app/prod.tfvars"]
    assert (f.line, f.column) == (3, 1)
    assert f.message.startswith("a literal password (Pr0d…[redacted sha256:")
    assert "reaches `password` of module.db through var.db_password" in f.message
    # the place that uses it is related; no note points back at the finding itself
    assert [(r.file, r.line) for r in f.related] == [("app/main.tf", 14)]
    assert "module.db uses it as `password`" in f.related[0].message


def test_pm620_sensitive_variable_and_aws_pair_messages(pm620_bad):
    by_line = {(f.file, f.line): f for f in pm620_bad.findings}
    var = by_line[("main.tf", 13)]
    assert "variable 'api_token' defaults to a literal token" in var.message
    assert "`sensitive = true` hides it from plan output, not from the repository" in var.message
    aws = by_line[("main.tf", 6)]
    assert "`secret_key` is an AWS secret access key (paired with key ID AKIA…[redacted" in aws.message
    assert ("main.tf", 4) not in by_line  # the key ID is reported with its secret, not alone
    lam = by_line[("main.tf", 49)]
    assert "`environment.0.variables` holds literal secrets: `DATABASE_URL` is a connection string" in lam.message
    assert "LOG_LEVEL" not in lam.message


def test_pm620_a_default_used_by_a_resource_is_one_finding_at_the_default(tmp_path):
    _write(tmp_path, {"main.tf": """\
        variable "db_password" {
          default = "Sup3r-Secret-2024"
        }
        resource "aws_db_instance" "a" {
          password = var.db_password
        }
        resource "aws_db_instance" "b" {
          password = var.db_password
        }
        """, "prod.tfvars": 'region = "eu-west-1"\n'})
    fs = _findings(tmp_path, "PM620")
    assert [(f.file, f.line, f.column) for f in fs] == [("main.tf", 2, 3)]


def test_pm620_non_secret_name_fed_into_a_password_is_reported_where_written(tmp_path):
    _write(tmp_path, {"main.tf": """\
        variable "db" {
          default = "Sup3r-Secret-2024"
        }
        resource "aws_db_instance" "a" {
          password = var.db
        }
        """})
    f, = _findings(tmp_path, "PM620")
    assert (f.file, f.line) == ("main.tf", 2)
    assert "reaches `password` of aws_db_instance.a through var.db" in f.message
    assert [(r.file, r.line) for r in f.related] == [("main.tf", 5)]


@pytest.mark.parametrize("value", ["changeme", "REPLACE_ME", "xxx", "<db-password>", "", "${DB_PASSWORD}",
                                   "your_password_here", "********", "hours"])
def test_pm620_placeholders_are_not_secrets(tmp_path, value):
    _write(tmp_path, {"main.tf": f'resource "aws_db_instance" "a" {{\n  password = "{value}"\n}}\n'})
    assert _findings(tmp_path, "PM620") == []


def test_pm620_options_extend_secret_names(tmp_path):
    _write(tmp_path, {"main.tf": 'resource "x_thing" "a" {\n  license_blob = "L1c-9f8e7d6c5b4a"\n}\n'})
    assert _findings(tmp_path, "PM620") == []
    cfg_path = tmp_path / ".premortem.yaml"
    cfg_path.write_text("rules:\n  PM620:\n    options:\n      secret_names: [password, license_blob]\n")
    f, = _findings(tmp_path, "PM620", config=load_config(str(cfg_path), load_rules()))
    assert "`license_blob` is a literal license blob" in f.message


@pytest.mark.parametrize("name, matched", [("master_password", "password"), ("AWS_SECRET_ACCESS_KEY", "access_key"),
                                           ("adminPassword", "password"), ("password_length", ""),
                                           ("kms_key_id", ""), ("secret_arn", ""), ("token_validity_units", ""),
                                           ("auth.existingSecret", ""), ("auth.password", "password")])
def test_secret_names_match_whole_trailing_words(name, matched):
    assert ts.secret_name(name) == matched


# ---- PM621 --------------------------------------------------------------------------------------
def test_pm621_names_each_missing_protection_once_at_the_block():
    fs = {f.file: f for f in _findings(FIXTURES / "PM621" / "bad", "PM621")}
    both = fs["payments/backend.tf"]
    assert (both.line, both.column) == (4, 3)
    assert "no `encrypt = true`" in both.message and "; and no state locking" in both.message
    legacy = fs["legacy/backend.tf"]
    assert "no `encrypt = true`" in legacy.message and "locking" not in legacy.message
    assert "sets `use_lockfile = false` and has no `dynamodb_table`" in fs["search/backend.tf"].message
    assert fs["network/backend.tf"].line == 7 and "sets `encrypt = false`" in fs["network/backend.tf"].message


def test_pm621_backend_of_a_called_module_is_ignored(tmp_path):
    _write(tmp_path, {"main.tf": 'module "m" {\n  source = "./m"\n}\n',
                      "m/main.tf": 'terraform {\n  backend "s3" {\n    bucket = "b"\n  }\n}\n'})
    fs = _findings(tmp_path, "PM621")
    assert [(f.file, f.resource) for f in fs] == [("m/main.tf", "backend/backend.s3")]  # only as its own root


# ---- PM622 --------------------------------------------------------------------------------------
def test_pm622_points_at_the_bucket_and_relates_the_backend():
    fs = {f.file: f for f in _findings(FIXTURES / "PM622" / "bad", "PM622")}
    f = fs["bootstrap/main.tf"]
    assert f.line == 12
    assert "holds the Terraform state (backend \"s3\" bucket 'acme-terraform-state')" in f.message
    assert "no versioning" in f.message and "no public access block" in f.message
    assert [(r.file, r.line) for r in f.related] == [("bootstrap/main.tf", 3)]  # its own module's backend first
    legacy = fs["legacy/main.tf"]
    assert "aws_s3_bucket_versioning.state sets status 'Suspended'" in legacy.message
    assert "leaves ignore_public_acls, restrict_public_buckets off" in legacy.message


def test_pm622_unresolvable_versioning_target_is_not_a_finding(tmp_path):
    _write(tmp_path, {"main.tf": """\
        terraform {
          backend "s3" {
            bucket = "acme-state"
          }
        }
        variable "bucket_id" {}
        resource "aws_s3_bucket" "state" {
          bucket = "acme-state"
        }
        resource "aws_s3_bucket_versioning" "state" {
          bucket = var.bucket_id
          versioning_configuration {
            status = "Enabled"
          }
        }
        resource "aws_s3_bucket_public_access_block" "state" {
          bucket                  = var.bucket_id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }
        """})
    assert _findings(tmp_path, "PM622") == []
    # the same resources pointing at another bucket by reference do not count
    text = (tmp_path / "main.tf").read_text().replace("var.bucket_id", "aws_s3_bucket.other.id")
    (tmp_path / "main.tf").write_text(text + 'resource "aws_s3_bucket" "other" {\n  bucket = "other"\n}\n')
    f, = _findings(tmp_path, "PM622")
    assert f.line == 7 and "no versioning" in f.message


# ---- PM623 --------------------------------------------------------------------------------------
def test_pm623_severity_and_variant_message():
    fs = {(f.file, f.line): f for f in _findings(FIXTURES / "PM623" / "bad", "PM623")}
    assert fs[("live/qa/main.tf", 5)].severity == Severity.HIGH  # qa against staging: no production side
    assert fs[("envs/dev/main.tf", 5)].severity == Severity.CRITICAL
    v = fs[("envs/prod/main.tf", 9)]
    assert "`-var-file=dev.tfvars` (development), `-var-file=staging.tfvars` (staging)" in v.message
    assert "prod.tfvars" not in v.message
    assert sorted((r.file, r.line) for r in v.related) == [("envs/prod/dev.tfvars", 1), ("envs/prod/staging.tfvars", 1)]


@pytest.mark.parametrize("directory, key", [("envs/non-prod", "prod/app.tfstate"),
                                            ("staging-to-prod", "prod/app.tfstate"),
                                            ("envs/prod", "prod-and-staging/app.tfstate"),
                                            ("envs/dev", "${var.env}/app.tfstate")])
def test_pm623_only_a_clear_conflict_counts(tmp_path, directory, key):
    _write(tmp_path, {f"{directory}/main.tf": f'terraform {{\n  backend "s3" {{\n    bucket = "acme"\n'
                                              f'    key = "{key}"\n  }}\n}}\n'})
    assert _findings(tmp_path, "PM623") == []


# ---- PM624 --------------------------------------------------------------------------------------
def test_pm624_says_why_it_is_production_and_what_is_lost():
    fs = {(f.file, f.line): f for f in _findings(FIXTURES / "PM624" / "bad", "PM624")}
    kms = fs[("envs/prod/main.tf", 19)]
    assert "every object encrypted with it becomes unreadable" in kms.message
    assert kms.production == "path segment 'prod' in 'envs/prod/main.tf'"
    cache = fs[("modules/cache/main.tf", 6)]
    assert cache.resource == "aws_elasticache_replication_group/module.cache.aws_elasticache_replication_group.this"
    assert "platform/prod.tfvars" in cache.production


def test_pm624_types_option(tmp_path):
    _write(tmp_path, {"envs/prod/main.tf": 'resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n',
                      ".premortem.yaml": "rules:\n  PM624:\n    options:\n      types: ['aws_sqs_*']\n"})
    assert _findings(tmp_path / "envs", "PM624") == []
    f, = _findings(tmp_path, "PM624", config=load_config(str(tmp_path / ".premortem.yaml"), load_rules()))
    assert f.line == 1 and json.dumps(f.to_dict())


def test_pm620_a_secret_local_is_reported_at_the_local_only(tmp_path):
    _write(tmp_path, {"main.tf": """\
        locals {
          db_password = "L0cal-Secret-2024"
        }
        resource "aws_db_instance" "a" {
          password = local.db_password
        }
        resource "aws_db_instance" "b" {
          password = "Other-Secret-2024"
        }
        """})
    assert [(f.line, f.resource) for f in _findings(tmp_path, "PM620")] == [
        (2, "locals/locals@main.tf:1"), (8, "aws_db_instance/aws_db_instance.b")]
