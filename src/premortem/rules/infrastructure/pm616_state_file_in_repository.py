"""PM616: a Terraform state file is in the repository (critical when it holds secrets)."""
from ...model import Severity
from ...parse.tfstate import sensitive_tree
from ..registry import Hit, rule
from . import _plan


def state_secrets(state: dict):
    """(path in the state document, label, value) of every secret a state file holds: resource
    attributes (secret by name, value or the provider's `sensitive_attributes`) and outputs that are
    `sensitive` or secret by name."""
    for i, res in enumerate(state.get("resources") or []):
        if not isinstance(res, dict) or res.get("mode") == "data":
            continue
        for j, inst in enumerate(res.get("instances") or []):
            if not isinstance(inst, dict) or not isinstance(inst.get("attributes"), dict):
                continue
            tree = sensitive_tree(inst.get("sensitive_attributes"))
            for path, value, _ in _plan.secret_leaves(inst["attributes"], tree):
                label = f"{res.get('type')}.{res.get('name')} {_plan.path_text(path)}"
                yield ("resources", i, "instances", j, "attributes") + path, label, value
    for name, out in (state.get("outputs") or {}).items():
        if not isinstance(out, dict):
            continue
        if out.get("sensitive") is True:
            found = [(p, v) for p, v in _plan.leaves(out.get("value")) if isinstance(v, str) and v.strip()]
        else:
            found = [(p[1:], v) for p, v, _ in _plan.secret_leaves({name: out.get("value")})]
        for path, value in found:
            yield ("outputs", name, "value") + path, f"output {name}", value


@rule(id="PM616", name="state-file-in-repository", severity="high",
      severity_reason="State holds every attribute of every resource in clear text; critical when those "
                      "include passwords, keys or tokens.",
      incidents=["6.3"], title="Terraform state file committed to the repository",
      fix="Delete the file from the repository and its history, rotate every secret it held, add "
          "`*.tfstate*` to .gitignore and keep state in an encrypted, locked remote backend.",
      formats=("tfstate",), kinds=("TerraformState",))
def check(resource, ctx):
    """## What it checks
    Any `*.tfstate` or `*.tfstate.backup` among the scanned files (files ignored by `.gitignore`
    are not scanned, so a finding means it is tracked or about to be). Terraform writes every
    attribute into state in clear text, `sensitive` or not; the finding counts the secrets the
    file holds (PM617 points at each) and is critical when there is at least one.

    ## Why it breaks production
    In catalog 6.3 database credentials written into Terraform landed in `terraform.tfstate`, which
    was then synced to a publicly readable bucket. A state file in a repository is the same leak
    with a longer memory: every clone and fork keeps it, and a local state also has no lock (R5).

    ## Bad
    ```json terraform.tfstate
    {"version": 4, "terraform_version": "1.7.4", "serial": 12,
     "lineage": "3f1c2a7e-9b1d-4c55-8e2f-0a6b7c8d9e10", "outputs": {},
     "resources": [
      {"mode": "managed", "type": "aws_db_instance", "name": "main",
       "provider": "provider[\\"registry.terraform.io/hashicorp/aws\\"]",
       "instances": [{"schema_version": 2,
        "attributes": {"id": "db-main", "username": "admin", "password": "SuperSecret123!"},
        "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]}]}
    ```

    ## Good
    ```text .gitignore
    *.tfstate
    *.tfstate.*
    .terraform/
    ```

    ## Fix
    Remove the file (`git rm --cached`, then purge it from history), rotate what it held, ignore
    `*.tfstate` and `*.tfstate.*`, and use a remote backend with encryption and locking.
    """
    secrets = list(state_secrets(resource.data))
    n = sum(len(r.get("instances") or []) for r in resource.data.get("resources") or [] if isinstance(r, dict))
    labels = list(dict.fromkeys(label for _, label, _ in secrets))
    held = (f"; it holds {len(secrets)} secret{'s' if len(secrets) != 1 else ''} in clear text "
            f"({', '.join(labels[:4])}{' and more' if len(labels) > 4 else ''}): rotate them") if secrets else ""
    message = (f"Terraform state file {resource.file} is in the repository (serial {resource.data.get('serial', '?')}, "
               f"{n} resource instance{'s' if n != 1 else ''}): every clone has every attribute of your "
               f"infrastructure{held}")
    yield Hit(path=("version",), key=True, message=message, severity=Severity.CRITICAL if secrets else None,
              secrets=_plan.forms(*(value for _, _, value in secrets)))  # a one-line state shows them in the snippet
