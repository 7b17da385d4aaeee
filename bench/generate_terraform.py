"""Write a synthetic Terraform repository shaped like terraform-aws-modules/eks, for benchmarks.

    python bench/generate_terraform.py OUTDIR [--scale N] [--seed S]

Scale 1 is 89 `.tf` files and 7,763 lines, about that repository's size: a root module (main.tf,
variables.tf with ~150 variables, outputs.tf, versions.tf, node_groups.tf), 4 sub-modules under
modules/ (each main/variables/outputs/versions/iam), and 16 examples/ that call the root module with
inputs, locals, for_each maps, dynamic blocks, jsonencode'd IAM policies and templates. A few
misconfigurations are planted (a public endpoint without CIDRs, a database port open to the world,
a hard-coded password, a backend without locking); the rest is clean. Deterministic per seed.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil

SUBMODULES = ["eks-managed-node-group", "self-managed-node-group", "fargate-profile", "karpenter"]
EXAMPLES = ["eks-managed-node-group", "self-managed-node-group", "fargate-profile", "karpenter", "outposts",
            "eks-hybrid-nodes", "eks-auto-mode", "complete", "ipv6", "private", "bottlerocket", "spot",
            "windows", "graviton", "gpu", "efa"]


def _variables(rng: random.Random, n: int, prefix: str) -> str:
    out = []
    kinds = [("bool", "true"), ("string", '""'), ("number", "3"), ("list(string)", "[]"),
             ("map(string)", "{}"), ("any", "null")]
    for i in range(n):
        t, d = rng.choice(kinds)
        out.append(f'variable "{prefix}_{i}" {{\n  description = "Determines whether {prefix} setting {i} '
                   f'is applied to the cluster and its nodes"\n  type        = {t}\n  default     = {d}\n}}\n')
    return "\n".join(out)


def _node_group(rng: random.Random, i: int) -> str:
    return f'''resource "aws_eks_node_group" "this_{i}" {{
  count = var.create ? 1 : 0

  cluster_name    = var.cluster_name
  node_group_name = var.use_name_prefix ? null : "${{var.name}}-{i}"
  node_role_arn   = var.create_iam_role ? aws_iam_role.this[0].arn : var.iam_role_arn
  subnet_ids      = var.subnet_ids

  scaling_config {{
    min_size     = var.min_size
    max_size     = var.max_size
    desired_size = var.desired_size
  }}

  dynamic "taint" {{
    for_each = var.taints
    content {{
      key    = taint.value.key
      value  = try(taint.value.value, null)
      effect = taint.value.effect
    }}
  }}

  labels = merge(var.labels, {{ "node-group" = "{i}" }})
  tags   = merge(var.tags, {{ Name = "${{var.name}}-{i}" }})

  lifecycle {{
    create_before_destroy = true
    ignore_changes        = [scaling_config[0].desired_size]
  }}
}}
'''


def _iam(i: int) -> str:
    return f'''data "aws_iam_policy_document" "assume_{i}" {{
  statement {{
    sid     = "EKSNodeAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["ec2.${{local.dns_suffix}}"]
    }}
  }}
}}

resource "aws_iam_role" "node_{i}" {{
  name               = "${{local.name}}-node-{i}"
  assume_role_policy = data.aws_iam_policy_document.assume_{i}.json
  tags               = local.tags
}}

resource "aws_iam_policy" "extra_{i}" {{
  name = "${{local.name}}-extra-{i}"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = ["ec2:DescribeInstances", "ec2:DescribeTags"]
      Resource = "*"
    }}]
  }})
}}
'''


def _security_group(i: int, bad: bool) -> str:
    cidr = '["0.0.0.0/0"]' if bad else "[var.vpc_cidr]"
    return f'''resource "aws_security_group" "db_{i}" {{
  name_prefix = "${{local.name}}-db-{i}"
  vpc_id      = var.vpc_id

  ingress {{
    description = "PostgreSQL"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = {cidr}
  }}

  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
'''


def _example(rng: random.Random, name: str, bad: bool) -> dict:
    main = f'''provider "aws" {{
  region = local.region
}}

locals {{
  name   = "ex-{name}"
  region = "eu-west-1"
  vpc_cidr = "10.0.0.0/16"
  azs      = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  tags = {{
    Example    = local.name
    GithubRepo = "terraform-aws-eks"
  }}
}}

module "eks" {{
  source = "../.."

  cluster_name    = local.name
  cluster_version = "1.31"
  cluster_endpoint_public_access = true
{'' if bad else '  cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]'}
  enable_cluster_creator_admin_permissions = true

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  eks_managed_node_groups = {{
    for k in ["a", "b", "c"] : k => {{
      instance_types = ["m6i.large"]
      min_size       = 2
      max_size       = 10
      desired_size   = 3
    }}
  }}
  tags = local.tags
}}

module "vpc" {{
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name = local.name
  cidr = local.vpc_cidr
  azs             = local.azs
  private_subnets = [for k, v in local.azs : cidrsubnet(local.vpc_cidr, 4, k)]
  public_subnets  = [for k, v in local.azs : cidrsubnet(local.vpc_cidr, 8, k + 48)]
  enable_nat_gateway = true
  single_nat_gateway = true
  tags = local.tags
}}
'''
    db = f'''resource "aws_db_instance" "app" {{
  identifier          = "${{local.name}}-db"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = {'"Sup3rS3cretPassw0rd!"' if bad else 'random_password.db.result'}
  skip_final_snapshot = true
  tags                = local.tags
}}

resource "random_password" "db" {{
  length  = 24
  special = true
}}
'''
    return {"main.tf": main, "db.tf": db,
            "outputs.tf": "".join(f'output "out_{i}" {{\n  description = "Output {i}"\n  value       = '
                                  f'module.eks.cluster_arn\n}}\n\n' for i in range(12)),
            "versions.tf": 'terraform {\n  required_version = ">= 1.3.2"\n  required_providers {\n'
                           '    aws = {\n      source  = "hashicorp/aws"\n      version = ">= 5.83"\n    }\n  }\n}\n'}


def generate(out: str, scale: int = 1, seed: int = 7) -> dict:
    rng = random.Random(seed)
    if os.path.exists(out):
        shutil.rmtree(out)
    files: dict = {}
    for s in range(scale):
        base = f"stack-{s}/" if scale > 1 else ""
        files[base + "main.tf"] = ("locals {\n  name = var.cluster_name\n  dns_suffix = \"amazonaws.com\"\n"
                                   "  tags = merge(var.tags, { terraform-aws-modules = \"eks\" })\n}\n\n"
                                   + "\n".join(_iam(i) for i in range(10))
                                   + "\n".join(_security_group(i, i == 3) for i in range(6)))
        files[base + "node_groups.tf"] = "\n".join(_node_group(rng, i) for i in range(12))
        files[base + "variables.tf"] = (_variables(rng, 150, "cluster")
                                        + '\nvariable "cluster_name" {\n  type    = string\n  default = "ex"\n}\n'
                                        + 'variable "tags" {\n  type    = map(string)\n  default = {}\n}\n')
        files[base + "outputs.tf"] = "".join(f'output "cluster_{i}" {{\n  description = "Cluster attribute {i}"\n'
                                             f'  value       = try(aws_iam_role.node_{i % 10}.arn, null)\n}}\n\n'
                                             for i in range(40))
        files[base + "versions.tf"] = ('terraform {\n  required_version = ">= 1.3.2"\n  backend "s3" {\n'
                                       '    bucket = "acme-tfstate"\n    key    = "eks/prod/terraform.tfstate"\n'
                                       '    region = "eu-west-1"\n    encrypt = true\n  }\n}\n')
        for m in SUBMODULES:
            d = f"{base}modules/{m}/"
            files[d + "main.tf"] = "\n".join(_node_group(rng, i) for i in range(6)) + _iam(0)
            files[d + "variables.tf"] = _variables(rng, 90, m.replace("-", "_"))
            files[d + "iam.tf"] = "\n".join(_iam(i) for i in range(1, 4))
            files[d + "outputs.tf"] = "".join(f'output "o{i}" {{\n  value = try(aws_eks_node_group.this_{i % 6}[0].arn, null)\n}}\n'
                                              for i in range(25))
            files[d + "versions.tf"] = 'terraform {\n  required_version = ">= 1.3.2"\n}\n'
        for k, ex in enumerate(EXAMPLES):
            for name, text in _example(rng, ex, bad=k % 4 == 0).items():
                files[f"{base}examples/{ex}/{name}"] = text
        files[f"{base}examples/{EXAMPLES[0]}/README.md"] = "# example\n"
    lines = 0
    for rel, text in files.items():
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
        lines += text.count("\n")
    tf = sum(1 for r in files if r.endswith(".tf"))
    return {"files": tf, "lines": lines}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--scale", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    meta = generate(a.out, a.scale, a.seed)
    print(f"{a.out}: {meta['files']} .tf files, {meta['lines']} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
