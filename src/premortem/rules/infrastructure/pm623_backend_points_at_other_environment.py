"""PM623: a root module's directory or tfvars variant names one environment, its backend another."""
import os

from ...model import Severity, Source
from ..registry import Hit, rule
from ... import environments

# backend attributes that say whose state it is (s3, gcs, azurerm, remote/cloud, consul, pg)
STATE_KEYS = ("bucket", "key", "prefix", "workspace_key_prefix", "storage_account_name", "container_name",
              "resource_group_name", "path", "schema_name")
_DIRECTORY_WEAK = {"live": environments.PRODUCTION}  # a `test/` directory is a test of the module, not an environment


@rule(id="PM623", name="backend-points-at-other-environment", severity="critical",
      severity_reason="Terraform reconciles the state it is given with the configuration it is given: one "
                      "environment's configuration against another's state destroys and replaces its resources.",
      incidents=["6.1"], title="Terraform backend points at another environment's state",
      formats=("terraform",), kinds=("backend",),
      options={"environments": {k: list(v) for k, v in environments.ENVIRONMENTS.items()}},
      fix="Give each environment its own root directory (or backend config file) whose bucket and key name that "
          "environment, and credentials that can only reach that environment's state.")
def check(resource, ctx):
    """## What it checks
    The backend of each root module (`backend "s3"`, `gcs`, `azurerm`, and the `cloud`/`remote`
    workspace name or prefix): the environment its `bucket`, `key`, `prefix`,
    `workspace_key_prefix`, storage account or container names, against the environment the
    module's directory names (`envs/staging`, `stage/`, `dev/`, `environments/prod/eu`) and the
    environment each `*.tfvars` variant in that directory names by its file name
    (`staging.tfvars`, `dev.auto.tfvars` excluded: automatic files are not variants). Only a
    clear conflict between two named environments is reported: names are whole words (option
    `environments`: prod/production/prd, staging/stage/stg/preprod, dev, qa, uat, sandbox;
    `live` too), so `product-catalog` is not production, `non-prod` names none, a backend whose
    values name two environments claims none, and a `test/` directory is a module's test, not an
    environment. Critical when production is one side, high otherwise. Reported at the backend
    value for a directory conflict, at the backend block for variant conflicts (naming each
    conflicting var file).

    ## Why it breaks production
    In catalog 6.1 a developer changed the backend bucket from `dev-iac-state` to
    `prod-iac-state` and ran `terraform init` and `apply` in the dev environment: the dev
    configuration reused production's state and the entire production infrastructure was
    destroyed and replaced with dev's.

    ## Bad
    ```hcl envs/dev/main.tf
    terraform {
      backend "s3" {
        bucket = "prod-iac-state"
        key    = "network/terraform.tfstate"
      }
    }
    ```

    ## Good
    ```hcl envs/dev/main.tf
    terraform {
      backend "s3" {
        bucket = "dev-iac-state"
        key    = "network/terraform.tfstate"
      }
    }
    ```

    ## Fix
    Keep one environment per root directory and name it in its backend (`envs/dev` stores in
    `dev-iac-state`), or keep the backend partial and pass `-backend-config=envs/dev.tfbackend`
    from the same place that picks the var file; give each environment's state its own bucket
    and credentials so a wrong backend fails to authenticate instead of destroying production.
    """
    if resource.data.get("module"):  # Terraform ignores backends of called modules
        return
    envs = ctx.options.get("environments") or environments.ENVIRONMENTS
    v = resource.data.get("values") or {}
    claims = [(("values", k), f"{k} {v[k]!r}", environments.environment_of(v[k], envs)) for k in STATE_KEYS
              if isinstance(v.get(k), str)]
    for i, ws in enumerate(v.get("workspaces") or []):  # cloud / remote backends
        for k in ("name", "prefix"):
            if isinstance(ws, dict) and isinstance(ws.get(k), str):
                claims.append((("values", "workspaces", i, k), f"workspace {k} {ws[k]!r}",
                               environments.environment_of(ws[k], envs)))
    claims = [c for c in claims if c[2]]
    if len({c[2] for c in claims}) != 1:
        return
    path, said, state_env = claims[0]
    unit = resource.origin.unit or "."
    dir_env = environments.environment_of(unit, envs, _DIRECTORY_WEAK)
    if dir_env and dir_env != state_env:
        yield Hit(path=path, identity="directory", severity=_severity(dir_env, state_env),
                  message=f"root module '{unit}' is {dir_env} but its backend {said} is {state_env}'s state: "
                          f"{_harm(dir_env, state_env)}")
    if not resource.origin.detail:  # the module read without a var file: no variant to compare
        return
    clashes = [(f, e) for f, e in _variants(resource, ctx, envs) if e != state_env]
    if resource.origin.detail in [f for f, _ in clashes]:  # every variant says the same: one finding
        names = ", ".join(f"`-var-file={os.path.basename(f)}` ({e})" for f, e in clashes)
        worst = next((e for _, e in clashes if e == environments.PRODUCTION), clashes[0][1])
        yield Hit(path=(), identity="variants", severity=_severity(worst, state_env),
                  related=tuple((Source(f, 1, 1), f"var file for {e}") for f, e in clashes),
                  message=f"root module '{unit}' keeps {state_env}'s state (backend {said}) but is planned with "
                          f"{names}: {_harm(worst, state_env)}")


def _variants(resource, ctx, envs) -> list:
    """(var file, environment its name names) of every tfvars variant of this root module."""
    files = {resource.origin.detail}
    for e in ctx.project.of_kind("backend"):
        how = (e.facts.get("environment") or ("", ""))[1]
        if e.name == resource.name and e.file == resource.file and str(how).startswith("var-file "):
            files.add(how[len("var-file "):])
    named = [(f, environments.environment_of(os.path.basename(f).split(".")[0], envs)) for f in sorted(files)]
    return [(f, e) for f, e in named if e]


def _severity(a: str, b: str):
    return None if environments.PRODUCTION in (a, b) else Severity.HIGH


def _harm(config_env: str, state_env: str) -> str:
    if state_env == environments.PRODUCTION:
        return (f"an apply here plans {config_env}'s configuration against production's state and destroys or "
                "replaces production resources to match it (catalog 6.1)")
    if config_env == environments.PRODUCTION:
        return (f"production's configuration is applied to {state_env}'s state: {state_env} is rewritten as "
                "production and production itself drifts unmanaged")
    return f"{config_env}'s configuration is applied to {state_env}'s state, destroying what {state_env} holds"
