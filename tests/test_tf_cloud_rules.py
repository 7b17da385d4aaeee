"""PM630-PM635: the cloud analogues of the catalog's exposure and access incidents, written in Terraform.
Positions, messages and cross-resource evidence are asserted; unknown values never fire."""
import textwrap

from premortem.config import Config, RuleConfig
from premortem.discover import read_text
from premortem.parse.hcl_eval import Unknown
from premortem.parse.terraform import load_directory
from premortem.project import Project
from premortem.rules.infrastructure import _tfcloud as tc

from .conftest import run_scan


def _write(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return tmp_path


def _findings(tmp_path, rule, files, config=None):
    result = run_scan(_write(tmp_path, files), select=[rule], config=config)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule]


RDS_AND_SG = """\
resource "aws_security_group" "db" {
  name = "payments-db"
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_db_instance" "payments" {
  identifier             = "payments"
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = true
}
"""


def test_pm630_points_at_the_flag_and_names_the_open_security_group(tmp_path):
    [f] = _findings(tmp_path, "PM630", {"main.tf": RDS_AND_SG})
    assert (f.file, f.line, f.column) == ("main.tf", 13, 28)
    assert "aws_db_instance.payments sets publicly_accessible = true" in f.message
    assert [(r.line, r.message) for r in f.related] == [(1, "aws_security_group.db opens 5432 (PostgreSQL) to 0.0.0.0/0")]


def test_pm630_inside_a_local_module_follows_references_in_the_module(tmp_path):
    files = {"main.tf": 'module "db" {\n  source = "./modules/db"\n}\n', "modules/db/main.tf": RDS_AND_SG}
    [f] = _findings(tmp_path, "PM630", files)
    assert (f.file, f.line) == ("modules/db/main.tf", 13)
    assert "aws_db_instance.payments sets publicly_accessible" in f.message  # the module read as a root too: one finding
    assert [r.file for r in f.related] == ["modules/db/main.tf"]


def test_pm630_json_syntax(tmp_path):
    files = {"main.tf.json": '{"resource": {"aws_db_instance": {"a": {\n  "identifier": "a",\n'
                             '  "publicly_accessible": true\n}}}}\n'}
    [f] = _findings(tmp_path, "PM630", files)
    assert (f.file, f.line) == ("main.tf.json", 3)


def test_pm630_unknown_values_never_fire(tmp_path):
    files = {"main.tf": """\
        variable "public" {}
        variable "cidr" {}
        variable "start" {}
        resource "aws_db_instance" "a" {
          publicly_accessible = var.public
        }
        resource "google_sql_database_instance" "b" {
          settings {
            ip_configuration {
              authorized_networks {
                value = var.cidr
              }
            }
          }
        }
        resource "azurerm_mssql_server" "s" {
          public_network_access_enabled = var.public
        }
        resource "azurerm_mssql_firewall_rule" "all" {
          server_id        = azurerm_mssql_server.s.id
          start_ip_address = "0.0.0.0"
          end_ip_address   = "255.255.255.255"
        }
        resource "azurerm_mssql_firewall_rule" "var" {
          server_id        = azurerm_mssql_server.s.id
          start_ip_address = var.start
          end_ip_address   = "255.255.255.255"
        }
        """}
    assert _findings(tmp_path, "PM630", files) == []


def test_pm630_variable_value_from_a_prod_variant_fires_with_where_it_was_set(tmp_path):
    files = {"main.tf": 'variable "public" {\n  default = false\n}\nresource "aws_db_instance" "a" {\n'
                        '  publicly_accessible = var.public\n}\n',
             "prod.tfvars": "public = true\n"}
    [f] = _findings(tmp_path, "PM630", files)
    assert f.line == 5
    assert [(r.file, r.line) for r in f.related] == [("prod.tfvars", 1)]


def test_pm631_names_ports_and_the_database_using_the_group(tmp_path):
    found = _findings(tmp_path, "PM631", {"main.tf": RDS_AND_SG})
    assert [(f.line, f.column) for f in found] == [(7, 19)]
    assert found[0].message.startswith("aws_security_group.db lets 0.0.0.0/0 reach 5432 (PostgreSQL); "
                                       "aws_db_instance.payments uses it")
    assert [r.line for r in found[0].related] == [10]


def test_pm631_protocol_all_and_ranges(tmp_path):
    files = {"main.tf": """\
        resource "aws_security_group_rule" "all" {
          type        = "ingress"
          from_port   = 0
          to_port     = 0
          protocol    = "-1"
          cidr_blocks = ["0.0.0.0/0"]
          security_group_id = "sg-1"
        }
        resource "aws_security_group_rule" "range" {
          type        = "ingress"
          from_port   = 6000
          to_port     = 6500
          protocol    = "tcp"
          cidr_blocks = ["0.0.0.0/0"]
          security_group_id = "sg-1"
        }
        resource "aws_security_group_rule" "udp" {
          type        = "ingress"
          from_port   = 6379
          to_port     = 6379
          protocol    = "udp"
          cidr_blocks = ["0.0.0.0/0"]
          security_group_id = "sg-1"
        }
        """}
    found = {f.line: f.message for f in _findings(tmp_path, "PM631", files)}
    assert sorted(found) == [6, 14]
    assert "every port, including 1433 (SQL Server)" in found[6]
    assert "reach 6379 (Redis):" in found[14]


def test_pm631_ports_option(tmp_path):
    files = {"main.tf": """\
        resource "aws_security_group" "app" {
          ingress {
            from_port   = 8080
            to_port     = 8080
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
          ingress {
            from_port   = 5432
            to_port     = 5432
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
        """}
    cfg = Config(rules={"PM631": RuleConfig(options={"ports": [8080]})})
    assert [(f.line, "8080" in f.message) for f in _findings(tmp_path, "PM631", files, cfg)] == [(6, True)]


GITHUB_ROLE = """\
resource "aws_iam_role" "tf" {
  name = "terraform-apply"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" }
    }]
  })
}
"""


def test_pm632_admin_for_a_role_github_oidc_trusts_says_so(tmp_path):
    files = {"main.tf": GITHUB_ROLE + """\
        resource "aws_iam_role_policy_attachment" "admin" {
          role       = aws_iam_role.tf.name
          policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }
        resource "aws_iam_role_policy_attachment" "by_name" {
          role       = "terraform-apply"
          policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }
        """}
    found = _findings(tmp_path, "PM632", files)
    assert [f.line for f in found] == [13, 17]
    for f in found:
        assert "IAM role 'terraform-apply', a CI/CD identity (its trust policy lets GitHub Actions workflows " \
               "assume it through OIDC)" in f.message
        assert [(r.line, r.message) for r in f.related] == [
            (1, "aws_iam_role.tf's trust policy lets GitHub Actions assume it through OIDC")]


def test_pm632_several_admin_statements_one_finding(tmp_path):
    files = {"main.tf": """\
        resource "aws_iam_policy" "p" {
          policy = jsonencode({
            Statement = [
              { Sid = "All", Effect = "Allow", Action = "*", Resource = "*" },
              { Effect = "Allow", Action = "s3:*", Resource = "*" },
              { Effect = "allow", Action = ["ec2:Describe*", "*:*"], Resource = ["*"] },
            ]
          })
        }
        """}
    [f] = _findings(tmp_path, "PM632", files)
    assert f.line == 2
    assert f.message.startswith("aws_iam_policy.p statement 'All' allows Action '*' and Statement[2] allows Action '*:*' "
                                "on Resource '*', every action on every resource")


def test_pm633_default_public_endpoint_reported_at_the_vpc_config_block(tmp_path):
    files = {"main.tf": 'resource "aws_eks_cluster" "c" {\n  name = "c"\n  vpc_config {\n'
                        '    subnet_ids = ["s-1"]\n  }\n}\n'}
    [f] = _findings(tmp_path, "PM633", files)
    assert (f.line, f.column) == (3, 3)
    assert "endpoint_public_access unset, which defaults to true) and no public_access_cidrs" in f.message


def test_pm634_only_production_with_its_evidence(tmp_path):
    db = 'resource "aws_db_instance" "a" {\n  deletion_protection = true\n  skip_final_snapshot = true\n}\n'
    found = _findings(tmp_path, "PM634", {"envs/prod/main.tf": db, "envs/dev/main.tf": db})
    assert [(f.file, f.line) for f in found] == [("envs/prod/main.tf", 3)]
    assert found[0].message.endswith("[production: path segment 'prod' in 'envs/prod/main.tf']")


def test_pm634_each_missing_safeguard_once(tmp_path):
    db = 'resource "aws_rds_cluster" "a" {\n  backup_retention_period = 0\n  skip_final_snapshot = true\n}\n'
    found = _findings(tmp_path, "PM634", {"prod/main.tf": db})
    assert [(f.line, f.column) for f in found] == [(1, 1), (2, 29), (3, 25)]
    assert "no deletion_protection (the default is false)" in found[0].message


def test_pm635_aws_auth_entries_in_one_finding_with_the_oidc_role(tmp_path):
    files = {"main.tf": GITHUB_ROLE + """\
        resource "kubernetes_config_map" "aws_auth" {
          metadata {
            name      = "aws-auth"
            namespace = "kube-system"
          }
          data = {
            mapRoles = <<-YAML
              - rolearn: arn:aws:iam::111122223333:role/terraform-apply
                username: tf
                groups: [system:masters]
              - rolearn: arn:aws:iam::111122223333:role/jenkins
                username: jenkins
                groups: [system:masters]
              - rolearn: arn:aws:iam::111122223333:role/admins
                username: admin
                groups: [system:masters]
            YAML
          }
        }
        """}
    [f] = _findings(tmp_path, "PM635", files)
    assert f.line == 16
    assert f.message.startswith("aws-auth mapRoles maps 'terraform-apply', a CI/CD identity (its trust policy lets GitHub "
                                "Actions workflows assume it through OIDC), to system:masters; aws-auth mapRoles maps "
                                "'jenkins', a CI/CD identity (its name contains 'jenkins'), to system:masters: that group "
                                "skips RBAC entirely")
    assert "admins" not in f.message
    assert [r.line for r in f.related] == [1]


def test_pm635_binding_to_a_service_account_in_a_ci_namespace(tmp_path):
    files = {"main.tf": """\
        resource "kubernetes_cluster_role_binding" "b" {
          metadata {
            name = "builder"
          }
          role_ref {
            kind = "ClusterRole"
            name = "cluster-admin"
          }
          subject {
            kind      = "ServiceAccount"
            name      = "builder"
            namespace = "tekton-pipelines"
          }
          subject {
            kind = "Group"
            name = "system:masters"
          }
        }
        """}
    [f] = _findings(tmp_path, "PM635", files)
    assert (f.line, f.column) == (11, 17)
    assert "ServiceAccount tekton-pipelines/builder, a CI/CD identity (it lives in the CI namespace " \
           "'tekton-pipelines')" in f.message


# ---- helpers -------------------------------------------------------------------------------------
def test_is_world_and_managed_policy_names():
    assert tc.is_world("0.0.0.0/0") and tc.is_world("::/0") and tc.is_world("Internet") and tc.is_world("0.0.0.0/1")
    assert not tc.is_world("10.0.0.0/8") and not tc.is_world(Unknown("var.cidr")) and not tc.is_world("VirtualNetwork")
    arn = Unknown('"arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess"')
    assert tc.managed_policy(Project(), None, arn) == "AdministratorAccess"  # only the partition is unknown
    assert tc.managed_policy(Project(), None, Unknown('"arn:aws:iam::aws:policy/${var.policy}"')) == ""
    assert tc.managed_policy(Project(), None, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy") == \
        "AmazonEKSAdminPolicy"


def test_ci_identity_follows_a_reference_left_in_a_template(tmp_path):
    _write(tmp_path, {"main.tf": 'resource "aws_iam_role" "r" {\n  name = "gitlab-deployer"\n}\n'
                                 'resource "aws_iam_role" "other" {\n  name = "platform"\n}\n'})
    res, errors, _ = load_directory(str(tmp_path), str(tmp_path), read_text)
    assert not errors
    project = Project()
    for r in res:
        project.add(r)
    me = next(r for r in res if r.name == "aws_iam_role.other")
    name, why, related = tc.ci_identity(project, me, "${aws_iam_role.r.arn}", {})
    assert (name, why) == ("gitlab-deployer", "its name contains 'gitlab'")
    assert related[0][0].line == 1
    assert tc.ci_identity(project, me, Unknown("var.role"), {}) == ("", "", ())
    assert tc.ci_identity(project, me, "arn:aws:iam::${var.account}:role/ci-runner", {})[0] == "ci-runner"


class _Partial(Unknown):
    """An Unknown that keeps what is known of it, as the evaluator may (`jsonencode` with one unknown leaf)."""


def _partial(text, value, refs=()):
    u = _Partial(text, refs)
    u.partial = value
    return u


def test_partial_unknowns_are_read_for_what_is_known(tmp_path):
    policy = _partial("jsonencode({...})", {"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": Unknown("aws_s3_bucket.x.arn", ("aws_s3_bucket.x",))},
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    assert [i for i, _ in tc.statements(policy)] == [0, 1]
    assert tc.statements(Unknown("jsonencode({...})")) == []  # nothing known: nothing read
    _write(tmp_path, {"main.tf": 'resource "aws_iam_role" "r" {\n  name = "jenkins-deploy"\n}\n'})
    res, errors, _ = load_directory(str(tmp_path), str(tmp_path), read_text)
    assert not errors
    project = Project()
    project.add(res[0])
    arn = _partial('"arn:aws:iam::${var.account}:role/jenkins-deploy"', "arn:aws:iam::${var.account}:role/jenkins-deploy")
    assert tc.ci_identity(project, res[0], arn, {})[:2] == ("jenkins-deploy", "its name contains 'jenkins'")
    ref = _partial('"${aws_iam_role.r.arn}"', "${aws_iam_role.r.arn}", ("aws_iam_role.r",))
    assert tc.ci_identity(project, res[0], ref, {})[0] == "jenkins-deploy"
