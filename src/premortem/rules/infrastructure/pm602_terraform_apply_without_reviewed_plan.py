"""PM602: `terraform apply` in CI that applies whatever it computes now, not a reviewed plan file."""
from ..delivery._deploys import commands, subcommand, tool, words, TERRAFORM
from ..delivery._flow import is_ci, label
from ..registry import Hit, rule

# flags that take a separate value (`-var x=y`), so the value is not mistaken for a plan file
_VALUED = {"-var", "-var-file", "-target", "-replace", "-parallelism", "-state", "-state-out", "-backup",
           "-lock-timeout", "-chdir"}


@rule(id="PM602", name="terraform-apply-without-reviewed-plan", severity="high",
      severity_reason="An apply that recomputes its own plan changes infrastructure nobody reviewed.",
      incidents=["6.1"], title="Terraform apply without a reviewed saved plan",
      formats=("pipeline",), kinds=("PipelineJob",),
      fix="Run `terraform plan -out=tfplan` in one job, review it (PR comment, approval gate), then "
          "`terraform apply tfplan` with that exact file.")
def check(resource, ctx):
    """## What it checks
    `terraform apply` (also `tofu`, `terragrunt`) in CI jobs: it must apply a saved plan file
    (`terraform apply tfplan`). `-auto-approve` without a plan file, or an apply with no plan
    file at all, applies a plan computed at that moment that no one has seen. `terraform destroy
    -auto-approve` is reported too. Shell scripts and make targets (run by a person) are reported
    only with `-auto-approve`: without it, Terraform shows the plan and asks before applying.

    ## Why it breaks production
    In catalog 6.1 a pipeline ran `terraform apply -auto-approve` on merge; a renamed resource made
    Terraform replace the production database, and nobody saw the "1 to destroy" line because no
    plan was ever reviewed. Applying the reviewed plan file would have applied exactly what was read.

    ## Bad
    ```yaml .gitlab-ci.yml
    apply:
      stage: deploy
      script:
        - terraform apply -auto-approve
    ```

    ## Good
    ```yaml .gitlab-ci.yml
    apply:
      stage: deploy
      script:
        - terraform apply -auto-approve tfplan
    ```

    ## Fix
    Split plan and apply: save the plan as an artifact, review it, apply that file.
    """
    for path, cmd in commands(resource):
        argv = words(cmd["argv"])
        if tool(argv) not in TERRAFORM:
            continue
        sub = subcommand(argv)
        name = tool(argv)
        auto = any(a.lstrip("-").split("=")[0] == "auto-approve" and not a.endswith("=false") for a in argv)
        if sub == "destroy" and auto:
            yield Hit(path=path, message=f"`{name} destroy -auto-approve` in {label(resource)} deletes "
                                         "infrastructure with no plan anyone reviewed")
            continue
        if sub != "apply":
            continue
        rest = argv[argv.index("apply") + 1:] if "apply" in argv else []
        planfile, skip = None, False
        for a in rest:
            if skip:
                skip = False
                continue
            if a.startswith("-"):
                skip = a in _VALUED
                continue
            planfile = a
        if planfile or (not auto and not is_ci(resource.data)):  # by hand, apply shows the plan and asks
            continue
        how = "with -auto-approve and no saved plan file" if auto else "with no saved plan file"
        yield Hit(path=path, message=f"`{' '.join(argv[:6])}` in {label(resource)} applies {how}: it computes "
                                     "and applies a new plan that nobody reviewed (a rename can replace a database)")
