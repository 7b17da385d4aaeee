"""PM612: many resources deleted for one structural reason (a count shrank, a module or block vanished)."""
from ...model import Severity
from ..registry import Hit, rule
from . import _plan

HINTS = {
    "delete_because_count_index": "a `count` got smaller; if an element left the middle of a list, every "
                                  "index after it shifts (use for_each)",
    "delete_because_each_key": "keys left the for_each collection",
    "delete_because_no_resource_config": "their blocks were removed from the configuration",
    "delete_because_no_module": "a module call was removed",
    "delete_because_wrong_repetition": "count/for_each was added or removed without `moved` blocks",
    "delete_because_no_move_target": "a `moved` block points at an address that does not exist",
}


@rule(id="PM612", name="plan-mass-delete", severity="high",
      severity_reason="A structural edit (a shorter list, a deleted block) destroys every instance at once; "
                      "critical when data stores are among them.",
      incidents=["R6", "6.1"], title="Terraform plan deletes many resources for one structural reason",
      fix="Check the count/for_each input or the removed block; keep instances with `moved` blocks, "
          "`removed { lifecycle { destroy = false } }`, or for_each keyed by stable names.",
      formats=("tfplan",), kinds=("TerraformPlan",), options={"min_deletes": 3})
def check(resource, ctx):
    """## What it checks
    The plan's deletions grouped by `action_reason` and module: `delete_because_count_index`,
    `delete_because_each_key`, `delete_because_no_resource_config`, `delete_because_no_module`,
    `delete_because_wrong_repetition`, `delete_because_no_move_target`. A group of at least
    `min_deletes` (default 3) is reported at its first entry, with the addresses and what usually
    causes it. Deletions without a structural reason (a `terraform destroy`, a tainted object) and
    replacements are left to PM610/PM613.

    ## Why it breaks production
    In the R6 incident one edit while "cleaning up" removed blocks and shortened a list of zones:
    Terraform deleted route tables, routes and NAT gateways of two zones in one apply. A shorter
    `count` list is the classic trap: removing one element shifts every index after it.

    ## Bad
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_changes": [
      {"address": "aws_instance.web[2]", "mode": "managed", "type": "aws_instance", "name": "web", "index": 2,
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete"], "before": {"id": "i-0c1"}, "after": null},
       "action_reason": "delete_because_count_index"},
      {"address": "aws_instance.web[3]", "mode": "managed", "type": "aws_instance", "name": "web", "index": 3,
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete"], "before": {"id": "i-0c2"}, "after": null},
       "action_reason": "delete_because_count_index"},
      {"address": "aws_instance.web[4]", "mode": "managed", "type": "aws_instance", "name": "web", "index": 4,
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete"], "before": {"id": "i-0c3"}, "after": null},
       "action_reason": "delete_because_count_index"}]}
    ```

    ## Good
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_changes": [
      {"address": "aws_instance.web[4]", "mode": "managed", "type": "aws_instance", "name": "web", "index": 4,
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete"], "before": {"id": "i-0c3"}, "after": null},
       "action_reason": "delete_because_count_index"}]}
    ```

    ## Fix
    If the shrink is not intended, restore the input. If it is, key instances by stable names
    (`for_each`) so that removing one does not shift the others, and move rather than recreate
    with `moved` blocks.
    """
    changes = resource.get(("resource_changes",))
    if not isinstance(changes, list):
        return
    groups: dict = {}
    for i, c in enumerate(changes):
        if not isinstance(c, dict) or not isinstance(c.get("change"), dict):
            continue
        reason = str(c.get("action_reason") or "")
        if c["change"].get("actions") != ["delete"] or reason not in HINTS or c.get("deposed"):
            continue
        groups.setdefault((reason, str(c.get("module_address") or "")), []).append((i, c))
    evidence, non_prod = _plan.production(resource.data, ctx)
    least = int(ctx.options.get("min_deletes", 3))
    for (reason, module), members in groups.items():
        if len(members) < least:
            continue
        prefix = f"{module}." if module else ""
        names = [str(c.get("address"))[len(prefix):] for _, c in members]
        listed = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        stateful = [c for _, c in members if _plan.category(str(c.get("type"))) == "stateful"]
        where = f" in {module}" if module else ""
        message = (f"{len(members)} resources{where} destroyed for one reason, {reason}: "
                   f"{listed}; {HINTS[reason]}" + (f"; {len(stateful)} of them hold data" if stateful else ""))
        yield Hit(path=("resource_changes", members[0][0], "action_reason"), message=message, identity=f"{reason}:{module}",
                  severity=_plan.graded(Severity.CRITICAL if stateful else Severity.HIGH, non_prod),
                  production=evidence)
