"""PM613: the whole plan destroys too much at once (a blast-radius score over its deletes and replaces)."""
from ...model import Severity
from ..registry import Hit, rule
from . import _plan

WEIGHTS = {"stateful": 10, "critical": 5, "in_use": 5, "other": 1}


def score(changes: list, weights: dict) -> tuple:
    """(score, {label: count}) over the destructive changes of a plan summary, heaviest labels first."""
    total, counts, rank = 0.0, {}, {}
    for c in changes:
        if c.get("action") not in _plan.DESTRUCTIVE or c.get("deposed"):
            continue
        rtype = str(c.get("type") or "")
        cat = _plan.category(rtype)
        if cat == "in_use" and not c.get("used_by"):
            cat = "other"
        w = float(weights.get(cat or "other", 1))
        if c["action"] == "replace" and c.get("first") == "create" and cat != "stateful":
            w /= 2  # create before destroy: dependants move over before the old one goes
        total += w
        label = rtype + (" in use" if cat == "in_use" else "")
        counts[label] = counts.get(label, 0) + 1
        rank[label] = max(rank.get(label, 0), w)
    ordered = dict(sorted(counts.items(), key=lambda kv: (-rank[kv[0]], -kv[1], kv[0])))
    return total, ordered


@rule(id="PM613", name="plan-blast-radius", severity="critical",
      severity_reason="A plan over the threshold takes out enough at once that nothing is left to fail "
                      "over to; below it, a medium note for the reviewer.",
      incidents=["R6", "6.1"], title="Terraform plan's blast radius is over the threshold",
      fix="Split the change: apply destructive steps alone, in a window, after reading the plan; target "
          "fewer resources per apply and check why so much goes at once.",
      formats=("tfplan",), kinds=("TerraformPlan",),
      options={"threshold": 20, "warn_at": 5, "weights": WEIGHTS})
def check(resource, ctx):
    """## What it checks
    A score over the plan: each delete or replace weighs by type (`weights`: data stores 10,
    network/cluster types and security groups or roles still in use 5, anything else 1; a
    create-before-destroy replacement of a stateless type half). At `threshold` (default 20) or
    more the plan is reported as critical on its `resource_changes`, with the destroy count by
    type ("14 to destroy: 3 aws_route_table, ..."); from `warn_at` (default 5) as medium. Type lists
    are PM610's defaults.

    ## Why it breaks production
    In the R6 incident the plan ended with `Plan: 0 to add, 1 to change, 14 to destroy.` and was
    approved by typing `yes`: three route tables, their routes and two NAT gateways went in one
    apply. A number that big is the signal to stop and read, which is what this rule makes explicit.

    ## Bad
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_changes": [
      {"address": "aws_route_table.public", "mode": "managed", "type": "aws_route_table", "name": "public",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete"], "before": {"id": "rtb-01"}, "after": null}},
      {"address": "aws_nat_gateway.a", "mode": "managed", "type": "aws_nat_gateway", "name": "a",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete"], "before": {"id": "nat-01"}, "after": null}},
      {"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete", "create"], "before": {"id": "db-01"}, "after": {}},
       "action_reason": "replace_because_cannot_update"}]}
    ```

    ## Good
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_changes": [
      {"address": "aws_instance.web[0]", "mode": "managed", "type": "aws_instance", "name": "web", "index": 0,
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["create", "delete"], "before": {"id": "i-01"}, "after": {}},
       "action_reason": "replace_because_cannot_update"}]}
    ```

    ## Fix
    Read the plan. Apply the destructive part on its own (`-target` for the few resources meant to
    go), with a reviewer, after a backup; everything else in a separate, boring apply.
    """
    summary = resource.get(("summary",)) or {}
    weights = {**WEIGHTS, **(ctx.options.get("weights") or {})}
    total, counts = score(summary.get("changes") or [], weights)
    threshold, warn_at = float(ctx.options.get("threshold", 20)), float(ctx.options.get("warn_at", 5))
    if total < warn_at or not counts:
        return
    n = summary.get("counts") or {}
    listed = ", ".join(f"{v} {k}" for k, v in counts.items())
    over = total >= threshold
    evidence, non_prod = _plan.production(resource.data, ctx)
    message = (f"{n.get('delete', 0)} to destroy, {n.get('replace', 0)} to replace: {listed}; blast radius "
               f"{total:g} {'≥' if over else '<'} threshold {threshold:g}"
               + (": stop and read this plan before anyone types `yes`" if over else ""))
    yield Hit(path=("resource_changes",), key=True, message=message, production=evidence,
              severity=_plan.graded(Severity.CRITICAL if over else Severity.MEDIUM, non_prod))
