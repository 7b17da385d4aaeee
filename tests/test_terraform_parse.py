"""Terraform modules into Resources: values resolved like a reviewer would, positions kept, unknowns
never guessed, local modules followed with their inputs, tfvars variants giving the environment."""
import textwrap

from premortem.discover import read_text
from premortem.parse.hcl import parse_hcl, parse_hcl_json
from premortem.parse.hcl_eval import Unknown
from premortem.parse.terraform import load_directory

from .conftest import run_scan


def _write(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


def _load(tmp_path, sub="."):
    res, errors, consumed = load_directory(str(tmp_path / sub), str(tmp_path), read_text)
    return {r.name: r for r in res}, errors


MAIN = """\
variable "env" {
  default = "staging"
}
variable "db_password" {}
locals {
  name = "payments-${var.env}"
  tags = { Team = "payments", Env = var.env }
}
resource "aws_db_instance" "main" {
  identifier          = local.name
  password            = var.db_password
  publicly_accessible = var.env == "prod" ? false : true
  tags                = merge(local.tags, { Name = local.name })
  count               = 1
}
resource "aws_s3_bucket" "logs" {
  count  = 0
  bucket = "never"
}
resource "aws_security_group" "db" {
  name = "db"
  ingress {
    from_port   = 5432
    to_port     = 5432
    cidr_blocks = ["0.0.0.0/0"]
  }
  dynamic "egress" {
    for_each = [443, 80]
    content {
      from_port = egress.value
    }
  }
}
"""


def test_values_positions_and_unknowns(tmp_path):
    _write(tmp_path, {"main.tf": MAIN})
    by, errors = _load(tmp_path)
    assert not errors
    db = by["aws_db_instance.main"]
    assert db.kind == "aws_db_instance" and db.format == "terraform"
    v = db.data["values"]
    assert v["identifier"] == "payments-staging" and v["publicly_accessible"] is True
    assert v["tags"] == {"Team": "payments", "Env": "staging", "Name": "payments-staging"}
    assert isinstance(v["password"], Unknown) and v["password"].text == "var.db_password"  # no default, no tfvars
    assert db.locate(("values", "password")).line == 11
    assert db.locate(("values", "password"), key=True).column == 3
    assert "aws_s3_bucket.logs" not in by  # count = 0
    sg = by["aws_security_group.db"].data["values"]
    assert sg["ingress"][0]["cidr_blocks"] == ["0.0.0.0/0"]
    assert [e["from_port"] for e in sg["egress"]] == [443, 80]
    assert by["aws_security_group.db"].locate(("values", "ingress", 0, "cidr_blocks")).line == 25


def test_tfvars_variants_set_values_and_environment(tmp_path):
    _write(tmp_path, {"main.tf": MAIN, "terraform.tfvars": 'db_password = "from-auto"\n',
                      "envs-prod.tfvars": 'env = "prod"\n'})
    res, errors, consumed = load_directory(str(tmp_path), str(tmp_path), read_text)
    assert not errors
    dbs = [r for r in res if r.name == "aws_db_instance.main"]
    assert [(r.data["values"]["identifier"], r.origin.environment) for r in dbs] == [
        ("payments-staging", ("staging", 'var.env = "staging"')),
        ("payments-prod", ("production", "var-file envs-prod.tfvars"))]
    assert dbs[1].data["values"]["publicly_accessible"] is False
    assert dbs[1].data["values"]["password"] == "from-auto"
    # the related location of a value that came through a variable: the tfvars line
    [(src, msg)] = dbs[1].related(("values", "password"))
    assert (src.file, src.line, msg) == ("terraform.tfvars", 1, "var.db_password is set here")


def test_local_module_inputs_and_addresses(tmp_path):
    _write(tmp_path, {"live/main.tf": 'module "db" {\n  source = "../modules/db"\n  size = var.size\n}\n'
                                      'variable "size" { default = 3 }\n'
                                      'module "remote" {\n  source = "terraform-aws-modules/eks/aws"\n'
                                      '  cluster_endpoint_public_access = true\n}\n',
                      "modules/db/main.tf": 'variable "size" {}\nresource "aws_rds_cluster" "this" {\n'
                                            '  instance_count = var.size * 2\n}\n'})
    by, errors = _load(tmp_path, "live")
    assert not errors
    rds = by["module.db.aws_rds_cluster.this"]
    assert rds.file == "modules/db/main.tf" and rds.data["values"]["instance_count"] == 6
    [(src, _)] = rds.related(("values", "instance_count"))
    assert (src.file, src.line) == ("live/main.tf", 5)  # the default of var.size in the caller
    remote = by["module.remote"]
    assert remote.data["source"] == "terraform-aws-modules/eks/aws"
    assert remote.data["values"]["cluster_endpoint_public_access"] is True


def test_missing_module_and_syntax_errors_name_the_file(tmp_path):
    _write(tmp_path, {"main.tf": 'module "x" {\n  source = "./nope"\n}\nresource "a" "b" {\n  x = \n}\n'})
    by, errors = _load(tmp_path)
    msgs = sorted((e.file, e.line, e.message.split(":")[0]) for e in errors)
    assert ("main.tf", 1, "module 'x'") in msgs
    assert any(e.file == "main.tf" and e.message.startswith("HCL syntax error") for e in errors)


def test_json_syntax(tmp_path):
    body, errors = parse_hcl_json('{"resource": {"aws_s3_bucket": {"b": {"bucket": "x", "acl": "public-read"}}},\n'
                                  ' "variable": {"v": {"default": 1}}}', "main.tf.json")
    assert not errors
    [b, v] = body.blocks
    assert (b.type, b.labels, b.attrs["acl"].value) == ("resource", ["aws_s3_bucket", "b"], "public-read")
    assert (v.type, v.labels) == ("variable", ["v"])


def test_hcl_syntax_positions():
    body, errors = parse_hcl('a = 1\nb "x" {\n  c = "d"\n}\n', "x.tf")
    assert not errors and body.attrs["a"].line == 1
    [blk] = body.blocks
    assert (blk.type, blk.labels, blk.line, blk.attrs["c"].line, blk.attrs["c"].column) == ("b", ["x"], 2, 3, 3)


def test_scan_reads_terraform_directories(tmp_path):
    _write(tmp_path, {"infra/main.tf": MAIN, "infra/prod.tfvars": 'env = "prod"\n'})
    result = run_scan(tmp_path)
    assert not result.errors
    kinds = {e.kind for e in result.project.entries}
    assert {"aws_db_instance", "aws_security_group", "variable", "locals"} <= kinds
    assert result.files == 2


def test_tfvars_files_are_resources_and_directories_name_the_environment(tmp_path):
    _write(tmp_path, {"envs/prod/main.tf": 'module "db" {\n  source = "../../modules/db"\n}\n',
                      "envs/prod/prod.auto.tfvars": 'unused_token = "ghp_abc"\n',
                      "modules/db/main.tf": 'resource "aws_db_instance" "this" {\n  engine = "postgres"\n}\n'})
    by, errors = _load(tmp_path, "envs/prod")
    assert not errors
    tfvars = by["envs/prod/prod.auto.tfvars"]
    assert (tfvars.kind, tfvars.data["values"], tfvars.locate(("values", "unused_token")).line) == \
        ("tfvars", {"unused_token": "ghp_abc"}, 1)
    db = by["module.db.aws_db_instance.this"]
    assert db.file == "modules/db/main.tf" and db.origin.environment == ("production", "directory envs/prod")


def test_sensitive_is_the_identity():
    body, _ = parse_hcl('a = sensitive("x")\nb = nonsensitive(var.y)\n', "x.tf")
    from premortem.parse.hcl_eval import Scope, evaluate

    sc = Scope({"y": 3}, {})
    assert (evaluate(body.attrs["a"], sc), evaluate(body.attrs["b"], sc)) == ("x", 3)


def test_partly_known_values_keep_what_is_known():
    from premortem.parse.hcl_eval import Scope, Unknown, evaluate

    body, _ = parse_hcl('a = "arn:aws:iam::${data.aws_caller_identity.c.account_id}:role/github-ci"\n'
                        'b = jsonencode({Action = "*", Resource = aws_s3_bucket.x.arn})\n'
                        'c = yamlencode([{rolearn = "r", groups = ["system:masters"]}])\n', "x.tf")
    sc = Scope({}, {})
    a, b, c = (evaluate(body.attrs[k], sc) for k in "abc")
    assert isinstance(a, Unknown) and a.partial == "arn:aws:iam::${data.aws_caller_identity.c.account_id}:role/github-ci"
    assert a.refs == ("data.aws_caller_identity.c",)
    assert isinstance(b, Unknown) and b.partial["Action"] == "*" and b.refs == ("aws_s3_bucket.x",)
    assert c == '[{"rolearn": "r", "groups": ["system:masters"]}]'
