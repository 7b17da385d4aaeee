"""PM611: a Terraform plan cuts live capacity (node group 20 → 2, desired count, replicas)."""
from ...model import Severity
from ..registry import Hit, rule
from . import _plan

CAPACITY_ATTRIBUTES = [
    "desired_size", "min_size", "max_size", "desired_capacity", "desired_count", "instance_count",
    "node_count", "min_node_count", "max_node_count", "total_min_node_count", "total_max_node_count",
    "replicas", "num_cache_nodes", "number_of_nodes", "target_size", "capacity", "min_capacity",
    "max_capacity", "min_count", "max_count", "replica_count", "num_node_groups", "replicas_per_node_group",
]
_WHAT = {"desired_size": "nodes", "desired_capacity": "instances", "desired_count": "tasks", "replicas": "pods",
         "node_count": "nodes", "instance_count": "instances", "target_size": "instances"}


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _pairs(before, after, path=()):
    """(path, before, after) for attributes present on both sides, walking blocks in step."""
    if isinstance(before, dict) and isinstance(after, dict):
        for k, v in after.items():
            if k in before:
                yield from _pairs(before[k], v, path + (k,))
    elif isinstance(before, list) and isinstance(after, list):
        for i, (b, a) in enumerate(zip(before, after)):
            yield from _pairs(b, a, path + (i,))
    elif path:
        yield path, before, after


@rule(id="PM611", name="plan-shrinks-capacity", severity="high",
      severity_reason="Capacity cut at once drains nodes and kills pods faster than anything reschedules "
                      "them; critical in production.",
      incidents=["R6"], title="Terraform plan cuts node, instance or replica capacity",
      fix="Revert the size (look for a changed tfvars value), or lower it in steps with the autoscaler's "
          "consent; let the autoscaler own `desired_size` with `lifecycle { ignore_changes }`.",
      formats=("tfplan",), kinds=("ResourceChange",),
      options={"max_reduction": 0.5, "attributes": CAPACITY_ATTRIBUTES})
def check(resource, ctx):
    """## What it checks
    Every numeric capacity attribute a plan changes (`desired_size`, `min_size`, `max_size`,
    `scaling_config[0].desired_size`, `desired_capacity`, `desired_count`, `instance_count`,
    `node_count`, `replicas`, ... the `attributes` option) on resources that are updated or
    replaced: a reduction of more than `max_reduction` of the current value (default 0.5: 20 → 2
    fires, 4 → 3 does not) is reported with before → after. Values the plan does not know yet
    (`after_unknown`) are left alone.

    ## Why it breaks production
    In the R6 incident someone "cleaning up" `terraform.tfvars` changed the EKS node group's
    `desired_size` from 20 to 2; the plan said so in one line nobody read, and 18 nodes were drained
    and terminated under a production load. The PVC of a database detached during that scale-down.

    ## Bad
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_changes": [
      {"address": "module.eks.aws_eks_node_group.primary", "mode": "managed",
       "type": "aws_eks_node_group", "name": "primary",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["update"],
        "before": {"scaling_config": [{"desired_size": 20, "max_size": 30, "min_size": 3}]},
        "after": {"scaling_config": [{"desired_size": 2, "max_size": 30, "min_size": 3}]}}}]}
    ```

    ## Good
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_changes": [
      {"address": "module.eks.aws_eks_node_group.primary", "mode": "managed",
       "type": "aws_eks_node_group", "name": "primary",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["update"],
        "before": {"scaling_config": [{"desired_size": 4, "max_size": 30, "min_size": 3}]},
        "after": {"scaling_config": [{"desired_size": 3, "max_size": 30, "min_size": 3}]}}}]}
    ```

    ## Fix
    Find the value that changed (a tfvars edit, a variable default) and revert it; shrink in steps
    and let the cluster autoscaler own the desired size (`lifecycle { ignore_changes =
    [scaling_config[0].desired_size] }`).
    """
    data = resource.data
    if _plan.action(data.get("actions")) not in ("update", "replace") or data.get("mode") == "data":
        return
    names = set(ctx.options.get("attributes") or ())
    limit = float(ctx.options.get("max_reduction", 0.5))
    evidence, non_prod = _plan.production(data, ctx)
    for path, before, after in _pairs(data.get("before"), data.get("after")):
        if path[-1] not in names or _plan.marked(data.get("after_unknown"), path):
            continue
        b, a = _number(before), _number(after)
        if b is None or a is None or b <= 0 or a >= b or (b - a) / b <= limit:
            continue
        attr = _plan.path_text(path)
        drop = round(100 * (b - a) / b)
        unit = _WHAT.get(path[-1], "")
        if unit:
            effect = f"{_fmt(b - a)} of {_fmt(b)} {unit} are removed at once; what ran on them must fit on the remaining {_fmt(a)}"
        elif path[-1].startswith("max"):
            effect = f"the ceiling drops to {_fmt(a)}: anything above it is scaled in"
        else:
            effect = f"the floor drops to {_fmt(a)}: the autoscaler may scale in that far"
        yield Hit(path=("after",) + path,
                  message=f"{attr} {_fmt(b)} → {_fmt(a)} (−{drop}%) on {resource.name}: {effect}",
                  severity=_plan.graded(Severity.CRITICAL if evidence else Severity.HIGH, non_prod),
                  production=evidence)


def _fmt(n) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)
