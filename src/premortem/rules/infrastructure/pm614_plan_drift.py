"""PM614: the plan recorded changes made outside Terraform (resource_drift)."""
from ...model import Severity
from ..registry import Hit, rule
from ..secrets.pm402_secret_literal_in_env import secret_in
from . import _plan

_NOISE = {"tags_all"}  # mirrors `tags`


def changed(data: dict, limit: int = 6) -> list:
    """[(path, text, hidden values)] of what differs between before and after; sensitive values are
    hidden from the text and returned for redaction (the line pointed at may show them)."""
    before = dict(_plan.leaves(data.get("before")))
    after = dict(_plan.leaves(data.get("after")))
    out = []
    for path in list(dict.fromkeys([*before, *after])):
        if not path or path[0] in _NOISE or before.get(path, ...) == after.get(path, ...):
            continue
        name = next((str(s) for s in reversed(path) if not isinstance(s, int)), "")
        b, a = before.get(path, ...), after.get(path, ...)
        hidden = (_plan.marked(data.get("before_sensitive"), path) or _plan.marked(data.get("after_sensitive"), path)
                  or any(isinstance(v, str) and secret_in(name, v) for v in (b, a)))
        attr = _plan.path_text(path)
        secret = tuple(v for v in (b, a) if isinstance(v, str) and v) if hidden else ()
        if hidden:
            text = f"{attr} (sensitive value changed)"
        elif b is ...:
            text = f"{attr} added ({_plan.short(a)})"
        elif a is ...:
            text = f"{attr} removed"
        else:
            text = f"{attr} {_plan.short(b)} → {_plan.short(a)}"
        out.append((path, text, secret))
    return out[:limit] if len(out) <= limit else out[:limit] + [((), f"{len(out) - limit} more", ())]


@rule(id="PM614", name="plan-drift", severity="medium",
      severity_reason="A change made by hand is lost at the next apply or re-provisioning; high when this "
                      "plan reverts it or the plan is for production.",
      incidents=["6.2"], title="Resource changed outside Terraform (drift)",
      fix="Bring the manual change into the code (or revert it on purpose), then plan again; make "
          "production read-only for people and run drift detection on a schedule.",
      formats=("tfplan",), kinds=("ResourceDrift",))
def check(resource, ctx):
    """## What it checks
    Every `resource_drift` entry of a plan: objects whose real state differs from the last state
    Terraform wrote, because someone changed them by hand (console, CLI, `kubectl label node`).
    The finding lists the changed attributes (sensitive ones without values) and what this plan does
    about it: reverting the manual change (an update of the same address), creating again an
    object deleted by hand, or nothing (the change lives only in the cloud and the state).

    ## Why it breaks production
    In catalog 6.2 an engineer labelled a node by hand as a quick fix; the change never reached
    Terraform or Helm, the cluster was later re-provisioned from code, the label was gone and
    affinity-based services stopped being scheduled. The plan had been showing the drift all along.

    ## Bad
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_drift": [
      {"address": "module.eks.aws_eks_node_group.primary", "mode": "managed",
       "type": "aws_eks_node_group", "name": "primary",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["update"],
        "before": {"labels": {"pool": "general"}},
        "after": {"labels": {"pool": "general", "foo": "bar"}}}}],
     "resource_changes": []}
    ```

    ## Good
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "resource_drift": [],
     "resource_changes": [
      {"address": "module.eks.aws_eks_node_group.primary", "mode": "managed",
       "type": "aws_eks_node_group", "name": "primary",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["update"],
        "before": {"labels": {"pool": "general"}},
        "after": {"labels": {"pool": "general", "foo": "bar"}}}}]}
    ```

    ## Fix
    Put the change in the configuration (or decide to revert it) and plan again until the drift
    is gone; keep humans read-only in production and run `terraform plan -refresh-only` on a
    schedule so drift is found the day it happens.
    """
    data = resource.data
    if data.get("mode") == "data":
        return
    drift = _plan.action(data.get("actions"))
    planned = _plan.action(data.get("planned_actions"))
    evidence, non_prod = _plan.production(data, ctx)
    secrets: tuple = ()
    if drift == "delete":
        where, what = ("actions",), f"{resource.name} was deleted outside Terraform"
    else:
        diffs = changed(data)
        if not diffs:
            return
        where = ("after",) + diffs[0][0] if diffs[0][0] else ("actions",)
        what = f"{resource.name} was changed outside Terraform: " + ", ".join(t for _, t, _ in diffs)
        secrets = tuple(v for _, _, hidden in diffs for v in hidden)
    if planned in ("update", "replace"):
        then = f"; this plan reverts it ({planned}): the manual change is lost"
    elif planned == "create":
        then = "; this plan creates it again"
    elif planned == "delete":
        then = "; this plan deletes it"
    else:
        then = "; the configuration does not say so: the next re-provisioning loses it"
    severity = Severity.HIGH if evidence or planned in ("update", "replace") else Severity.MEDIUM
    yield Hit(path=where, message=what + then, severity=_plan.graded(severity, non_prod), production=evidence,
              secrets=_plan.forms(*secrets))
