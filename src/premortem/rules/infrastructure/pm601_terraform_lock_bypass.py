"""PM601: a CI job runs Terraform with the state lock disabled or force-unlocks it."""
from ..delivery._deploys import commands, subcommand, tool, TERRAFORM
from ..delivery._flow import label
from ..registry import Hit, rule


@rule(id="PM601", name="terraform-lock-bypass", severity="critical",
      severity_reason="Two runs writing one state without a lock corrupt it or destroy what the other created.",
      incidents=["R5"], title="Terraform state lock bypassed in CI or scripts",
      formats=("pipeline",), kinds=("PipelineJob",),
      fix="Remove `-lock=false` and `TF_CLI_ARGS*=-lock=false`; let runs queue on the lock "
          "(`-lock-timeout=10m`) and never `force-unlock` from a pipeline.")
def check(resource, ctx):
    """## What it checks
    Every shell command of every CI job (GitHub Actions, GitLab CI, Jenkins), shell script
    (`*.sh`) and Makefile recipe: `terraform`
    (or `tofu`/`terragrunt`) `plan`/`apply`/`destroy`/`import`/`refresh` with `-lock=false`,
    the same flag delivered through `TF_CLI_ARGS` or `TF_CLI_ARGS_<command>` (set inline, with
    `export`, or in step/job/workflow `env:`/`variables:`), and `terraform force-unlock`.

    ## Why it breaks production
    In the R5 incident a pipeline ran `terraform apply -lock=false` "because the lock was stuck"
    while another run held it; both wrote the state and the second apply destroyed resources the
    first had just created. Force-unlocking from CI does the same thing with one more step.

    ## Bad
    ```yaml .github/workflows/infra.yml
    on: push
    jobs:
      apply:
        runs-on: ubuntu-latest
        steps:
          - run: terraform apply -lock=false tfplan
    ```

    ## Good
    ```yaml .github/workflows/infra.yml
    on: push
    jobs:
      apply:
        runs-on: ubuntu-latest
        steps:
          - run: terraform apply -lock-timeout=10m tfplan
    ```

    ## Fix
    Keep the lock on. When a lock is stale, a human checks that no run is alive and unlocks it
    by hand; pipelines wait with `-lock-timeout`.
    """
    for path, cmd in commands(resource):
        argv = cmd["argv"]
        if tool(argv) not in TERRAFORM:
            continue
        sub = subcommand(argv)
        name = tool(argv)
        if sub == "force-unlock":
            yield Hit(path=path, message=f"`{name} force-unlock` in {label(resource)} removes the state lock "
                                         "while another run may still hold it: two applies then write one state")
            continue
        if sub not in ("plan", "apply", "destroy", "import", "refresh"):
            continue
        if any(a.lower() in ("-lock=false", "--lock=false") for a in argv):
            yield Hit(path=path, message=f"`{name} {sub} -lock=false` in {label(resource)}: concurrent runs "
                                         "write the same state unlocked and can destroy each other's resources")
            continue
        for var in ("TF_CLI_ARGS", f"TF_CLI_ARGS_{sub}"):
            val = (cmd.get("env") or {}).get(var, "")
            if "-lock=false" in val.replace("--", "-").lower():
                yield Hit(path=path, message=f"`{name} {sub}` runs with {var}='{val}' in {label(resource)}: "
                                             "the state lock is off, concurrent runs corrupt the state")
                break
