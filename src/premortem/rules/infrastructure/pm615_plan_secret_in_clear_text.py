"""PM615: a plan carries a secret in clear text (a variable, an output, an attribute not marked sensitive)."""
from ..registry import Hit, rule
from . import _plan


def _declared_sensitive(plan: dict) -> set:
    cfg = plan.get("configuration")
    root = cfg.get("root_module") if isinstance(cfg, dict) else None
    variables = root.get("variables") if isinstance(root, dict) else None
    return {k for k, v in (variables or {}).items() if isinstance(v, dict) and v.get("sensitive") is True}


def _variables(resource):
    plan = resource.data
    sensitive = _declared_sensitive(plan)
    for name, var in (plan.get("variables") or {}).items():
        value = var.get("value") if isinstance(var, dict) else None
        if name in sensitive:  # declared sensitive: every string in it is the secret
            found = [(p, v, "a value declared sensitive") for p, v in _plan.leaves({name: value})
                     if isinstance(v, str) and v.strip()]
        else:
            found = list(_plan.secret_leaves({name: value}))
        for path, secret, why in found:
            where = ".".join(str(p) for p in path)
            yield Hit(path=("variables", name, "value") + path[1:], secrets=_plan.forms(secret), identity=where,
                      message=f"variable {where} holds {why}, stored in the plan file in clear text ({secret}): "
                              "anyone who can read the plan artifact (CI artifacts, PR comments) has it")
    for name, out in (plan.get("output_changes") or {}).items():
        if not isinstance(out, dict) or out.get("after_sensitive") is True:
            continue
        for path, secret, why in _plan.secret_leaves({name: out.get("after")}):
            if _plan.marked(out.get("after_sensitive"), path[1:]):
                continue
            yield Hit(path=("output_changes", name, "after") + path[1:], secrets=_plan.forms(secret), identity=name,
                      message=f"output {name} holds {why} and is not `sensitive = true` ({secret}): "
                              "`terraform apply` and `terraform output` print it")


def _attributes(resource):
    data = resource.data
    if data.get("mode") == "data" or not isinstance(data.get("after"), dict):
        return
    for path, secret, why in _plan.secret_leaves(data["after"]):
        if _plan.marked(data.get("after_sensitive"), path) or _plan.marked(data.get("after_unknown"), path):
            continue
        attr = _plan.path_text(path)
        yield Hit(path=("after",) + path, secrets=_plan.forms(secret), identity=attr,
                  message=f"{resource.name}: `{attr}` holds {why}, in clear text and not marked sensitive "
                          f"({secret}): `terraform plan` prints it into CI logs, and the state keeps it")


@rule(id="PM615", name="plan-secret-in-clear-text", severity="high",
      severity_reason="A credential in a plan file or plan output is readable by everyone with access to "
                      "CI logs and artifacts.",
      incidents=["6.3"], title="Terraform plan carries a secret in clear text",
      fix="Read secrets from a secret store (`data \"aws_ssm_parameter\"`, Vault, Key Vault) instead of "
          "variables; mark variables and outputs `sensitive = true`; treat plan files as secrets.",
      formats=("tfplan",), kinds=("TerraformPlan", "ResourceChange"))
def check(resource, ctx):
    """## What it checks
    In plan JSON: `variables` whose names look secret (`db_password`, `api_token`, ...), whose
    values are known credentials (private keys, cloud keys, tokens) or which are declared
    `sensitive` (plan files store variable values in clear text either way); `output_changes` that
    hold secrets without `sensitive = true`; and resource `after` values of secret attributes
    (`password`, `master_password`, `secret`, `token`, `private_key`, ...) that the plan does not
    mark in `after_sensitive`. Unknown values (`after_unknown`) and marked ones are fine, as is a
    password read from a data source (the provider marks it). Values are never printed whole.

    ## Why it breaks production
    In catalog 6.3 a database password written into Terraform ended up in the state file, which an
    S3 bucket with public access then exposed. A plan carries the same values and travels further:
    CI artifacts, pull-request comments and logs.

    ## Bad
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "variables": {"db_password": {"value": "SuperSecret123!"}},
     "resource_changes": []}
    ```

    ## Good
    ```json plan.json
    {"format_version": "1.2", "terraform_version": "1.7.4",
     "variables": {"db_password_parameter": {"value": "/prod/db/password"}},
     "resource_changes": [
      {"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["create"], "before": null,
        "after": {"username": "admin", "password": "SuperSecret123!"},
        "after_unknown": {"id": true}, "after_sensitive": {"password": true}}}]}
    ```

    ## Fix
    Keep credentials out of variables: read them at apply time from a secret store with a data
    source, or let the service manage them (`manage_master_user_password = true`). Mark variables
    and outputs `sensitive = true`, and store plan files like secrets (short retention, no PR
    comments with raw plans).
    """
    yield from (_variables if resource.kind == "TerraformPlan" else _attributes)(resource)
