"""PM610: a Terraform plan deletes or replaces a route table, subnet, cluster, database, bucket, key..."""
from ...model import Severity
from ..registry import Hit, rule
from . import _plan


@rule(id="PM610", name="plan-destroys-critical-resource", severity="high",
      severity_reason="Destroying a network path, cluster or data store is an outage or data loss that "
                      "no rollback undoes; data stores are critical.",
      incidents=["R6", "6.1"], title="Terraform plan destroys or replaces a critical resource",
      fix="Restore the configuration or add `moved`/`removed` blocks if the destroy is not intended; "
          "otherwise apply it alone, reviewed, after a backup, and protect data stores with `prevent_destroy`.",
      formats=("tfplan",), kinds=("ResourceChange",),
      options={"stateful_types": _plan.STATEFUL_TYPES, "critical_types": _plan.CRITICAL_TYPES,
               "in_use_types": _plan.IN_USE_TYPES})
def check(resource, ctx):
    """## What it checks
    Every `resource_changes` entry of a plan (`terraform show -json plan.out`) whose actions are
    `["delete"]`, `["delete", "create"]` or `["create", "delete"]` on a critical type: data stores
    (`aws_db_instance`, `aws_rds_cluster`, `aws_dynamodb_table`, `aws_s3_bucket`, `aws_kms_key`,
    `aws_route53_zone`, Google and Azure equivalents: critical), network paths and capacity
    (`aws_route_table`, `aws_route`, `aws_subnet`, `aws_vpc`, NAT and internet gateways, load
    balancers, `aws_eks_cluster`, `aws_eks_node_group`, `aws_autoscaling_group`, ...), and security
    groups and IAM roles that other resources still use (references in the plan's configuration, or
    their id among the prior state's values). The message says why Terraform replaces
    (`replace_paths`, `action_reason`). Deposed objects, `forget` and data sources are left alone;
    a create-before-destroy replacement of a stateless type is medium; a plan whose variables name
    a non-production environment is reported at medium at most.

    ## Why it breaks production
    In the R6 incident a "clean-up" plan said `14 to destroy`, nobody read it, and the public route
    table went with it: every SSH session and every request into the VPC died. Catalog 6.1 is the
    same failure at scale: a plan run against the wrong state replaced production with dev.

    ## Bad
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "variables": {"environment": {"value": "production"}},
     "resource_changes": [
      {"address": "module.vpc.aws_route_table.public", "module_address": "module.vpc",
       "mode": "managed", "type": "aws_route_table", "name": "public",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete"], "before": {"id": "rtb-0a1b2c3d4e5f6a7b8"}, "after": null},
       "action_reason": "delete_because_no_resource_config"}]}
    ```

    ## Good
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_changes": [
      {"address": "module.vpc.aws_route_table.public", "mode": "managed", "type": "aws_route_table",
       "name": "public", "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["update"], "before": {"tags": {}}, "after": {"tags": {"team": "net"}}}}]}
    ```

    ## Fix
    Read the plan before `apply`: if the destroy is not intended, restore the configuration (or
    `moved {}`/`removed { lifecycle { destroy = false } }` blocks); if it is, apply it alone, in
    a window, after a backup; add `lifecycle { prevent_destroy = true }` to data stores.
    """
    data = resource.data
    act = _plan.action(data.get("actions"))
    if act not in _plan.DESTRUCTIVE or data.get("mode") == "data" or data.get("deposed"):
        return
    rtype = str(data.get("type") or "")
    cat = _plan.category(rtype, ctx.options.get("stateful_types"), ctx.options.get("critical_types"),
                         ctx.options.get("in_use_types"))
    users = data.get("referenced_by") or []
    if not cat or (cat == "in_use" and not users):
        return
    evidence, non_prod = _plan.production(data, ctx)
    if act == "delete":
        verb = "destroys"
    elif data.get("actions", [None])[0] == "create":
        verb = "replaces (create before destroy)"
    else:
        verb = "replaces (destroy, then create)"
    why = _plan.replace_reason(data) if act == "replace" else _plan.delete_reason(data)
    what = _plan.consequence(rtype, cat)
    if cat == "stateful":
        severity = Severity.CRITICAL
        what = "its data goes with it" if act == "delete" else "the new one starts empty: its data is gone"
    elif act == "replace" and data["actions"][0] == "create":
        severity = Severity.MEDIUM
    else:
        severity = Severity.CRITICAL if evidence else Severity.HIGH
    used = f"; still used by {', '.join(users[:3])}{' and more' if len(users) > 3 else ''}" if users else ""
    message = (f"plan {verb} {resource.name} ({rtype}){' ' + why if why else ''}: {what}{used}")
    yield Hit(path=("actions",), message=message, severity=_plan.graded(severity, non_prod), production=evidence)

