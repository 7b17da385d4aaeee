"""PM603: a job targets one environment but points Terraform at another environment's state."""
import posixpath
import shlex

from ...model import Severity
from ..delivery._deploys import TERRAFORM, commands, subcommand, tool, words
from ..registry import Hit, rule
from ... import environments

_DIR_FLAGS = ("-chdir", "--chdir", "--terragrunt-working-dir", "--working-dir")
_STATE = ("backend config", "workspace", "TF_WORKSPACE", "directory")  # what decides which state is used
# subcommands that initialise, read-to-write or change state (reads like `output`/`show` are left alone)
_WRITES = {"init", "plan", "apply", "destroy", "import", "refresh", "workspace", "taint", "untaint", "rm", "mv", "push"}
_ENV_VARS = ["ENVIRONMENT", "ENV", "TARGET_ENV", "TARGET_ENVIRONMENT", "DEPLOY_ENV", "DEPLOY_ENVIRONMENT",
             "TF_VAR_environment", "TF_VAR_env", "TF_VAR_stage"]


def _values(args: list, names: tuple) -> list:
    """Every value of `-name=v` / `-name v` in args."""
    out = []
    for k, a in enumerate(args):
        for n in names:
            if a == n and k + 1 < len(args):
                out.append(args[k + 1])
            elif a.startswith(n + "="):
                out.append(a[len(n) + 1:])
    return out


def _writes(argv: list) -> bool:
    sub = subcommand(argv)
    return sub in _WRITES or (sub in ("run-all", "run", "state") and any(a in _WRITES for a in words(argv)[2:]))


def _claims(argv: list, env: dict, cwd: str, env_vars: set) -> list:
    """(what, value, is_state) a Terraform command says about its environment."""
    sub = subcommand(argv)
    args = list(words(argv))
    for var in ("TF_CLI_ARGS", f"TF_CLI_ARGS_{sub}"):
        try:
            args += shlex.split(env.get(var, ""))
        except ValueError:
            pass
    chdir = _values(args, _DIR_FLAGS)[:1]
    where = posixpath.join(cwd, chdir[0]) if chdir else cwd
    out = [("directory", where, True)] if where else []
    out += [("backend config", v, True) for v in _values(args, ("-backend-config", "--backend-config"))]
    if sub == "workspace":
        pos = [a for a in args[args.index("workspace") + 1:] if not a.startswith("-")]
        if len(pos) >= 2 and pos[0] in ("select", "new"):
            out.append(("workspace", pos[1], True))
    if env.get("TF_WORKSPACE"):
        out.append(("TF_WORKSPACE", env["TF_WORKSPACE"], True))
    out += [("var file", v, False) for v in _values(args, ("-var-file", "--var-file"))]
    for v in _values(args, ("-var", "--var")):
        key = v.partition("=")[0]
        if key.lower() in env_vars or f"tf_var_{key.lower()}" in env_vars:
            out.append(("variable", v, False))
    out += [(k, v, False) for k, v in env.items() if k.lower() in env_vars]
    return out


@rule(id="PM603", name="terraform-init-other-environment", severity="critical",
      severity_reason="Terraform reconciles the state it is given with the configuration it is given: one "
                      "environment's plan against another's state destroys and replaces real infrastructure.",
      incidents=["6.1"], title="Terraform run points at another environment's backend or workspace",
      formats=("pipeline",), kinds=("PipelineJob",),
      options={"environment_variables": _ENV_VARS,
               "environments": {k: list(v) for k, v in environments.ENVIRONMENTS.items()}},
      fix="Derive the backend config, workspace, var file and directory from the job's one environment "
          "(`envs/${ENV}/backend.hcl`), and give each environment its own state bucket and credentials.")
def check(resource, ctx):
    """## What it checks
    Every `terraform`/`tofu`/`terragrunt` command of a job (any CI system, and scripts) and what
    it says about its environment: the state side (`-chdir`/`cd` directory,
    `-backend-config=...` file or `key=...` value, `workspace select|new`, `TF_WORKSPACE`) and
    the target side (the job's `environment`, its name, branch filters that all name one
    environment, `-var-file`, `-var environment=...`, `ENVIRONMENT`-like variables: option
    `environment_variables`). Environment names are whole words of paths and values
    (prod/production/prd, staging/stage/stg/preprod, dev, qa, uat, sandbox; `test` and `live`
    only as a whole segment; option `environments`). It fires when a state-side value names one
    environment and another value of the same command or job names a different one. `prod`
    inside a word (`product-catalog`), values naming two environments (`staging-to-prod`),
    `non-prod`, interpolated names (`envs/${ENV}`), jobs that plan several environments one
    after the other with nothing else claiming an environment, and a job name `test` (an activity)
    are not reported. Critical when production is one side, high otherwise.

    ## Why it breaks production
    In catalog 6.1 a developer changed a backend bucket from `dev-iac-state` to `prod-iac-state`
    and ran `terraform init` and `apply` in the dev environment: the dev configuration was applied
    to production's state and the entire production infrastructure was destroyed and replaced.

    ## Bad
    ```yaml .github/workflows/infra.yml
    on: push
    jobs:
      deploy-staging:
        runs-on: ubuntu-latest
        environment: staging
        steps:
          - run: terraform init -backend-config=envs/prod.tfbackend
    ```

    ## Good
    ```yaml .github/workflows/infra.yml
    on: push
    jobs:
      deploy-staging:
        runs-on: ubuntu-latest
        environment: staging
        steps:
          - run: terraform init -backend-config=envs/staging.tfbackend
    ```

    ## Fix
    Keep one environment per job and derive every Terraform input from it; store each
    environment's state in its own bucket whose credentials only that environment's job holds,
    so a wrong backend file fails to authenticate instead of destroying production.
    """
    data = resource.data
    envs = ctx.options.get("environments") or environments.ENVIRONMENTS
    env_vars = {v.lower() for v in ctx.options.get("environment_variables", _ENV_VARS)}

    def env_of(value):
        return environments.environment_of(value, envs)

    job = []
    if data.get("environment") and env_of(data["environment"]):
        job.append(("job environment", data["environment"], env_of(data["environment"])))
    name_env = env_of(resource.name)
    if name_env and name_env != "test":  # a `test` job is an activity, not an environment
        job.append(("job name", resource.name, name_env))
    branch_envs = {env_of(b) for b in data.get("branches") or []}
    if len(branch_envs) == 1 and "" not in branch_envs:
        job.append(("branch filter", ", ".join(data["branches"]), branch_envs.pop()))
    base_env = data.get("env") if data.get("system") == "jenkins" and isinstance(data.get("env"), dict) else {}
    seen, cwd, step = set(), "", None
    for path, cmd in commands(resource):
        if path[1] != step:  # a step starts in its working-directory (GitHub) or dir() (Jenkins)
            step = path[1]
            cwd = str((data.get("steps") or [])[step].get("dir") or "")
        argv = cmd["argv"]
        if tool(argv) in ("cd", "pushd") and len(words(argv)) > 1:
            cwd = posixpath.normpath(posixpath.join(cwd, words(argv)[1]))
            continue
        if tool(argv) not in TERRAFORM:
            continue
        if not _writes(argv):
            continue
        claims = [(w, v, env_of(v), s) for w, v, s in _claims(argv, {**base_env, **cmd.get("env", {})}, cwd, env_vars)]
        claims = [c for c in claims if c[2]]
        others = [(w, v, e, None) for w, v, e in job] + claims
        # a state-side value against the job's own environment first, else against the command's other values
        pairs = sorted(((s, o) for s in claims if s[3] and s[:2] not in seen for o in others
                        if o[2] != s[2] and o[:2] not in seen),
                       key=lambda p: (p[1][3] is not None, _STATE.index(p[0][0])))
        if pairs:
            state, clash = pairs[0]
            seen.update([state[:2]] + ([clash[:2]] if clash[3] else []))  # one finding per wrong value
            yield Hit(path=path, message=_message(resource, cmd, state[:3], clash),
                      severity=None if environments.PRODUCTION in (state[2], clash[2]) else Severity.HIGH)


def _message(resource, cmd, state, other) -> str:
    (what, value, env), (owhat, ovalue, oenv) = state, other[:3]
    if env == environments.PRODUCTION:
        harm = (f"a {oenv} run reads and writes production's state: its apply destroys or replaces production "
                f"resources with {oenv} configuration")
    elif oenv == environments.PRODUCTION:
        harm = (f"production's {owhat} is planned against {env}'s state: an apply rewrites or destroys {env} "
                "as if it were production, and production itself drifts unmanaged")
    else:
        harm = f"{oenv}'s configuration is applied to {env}'s state, destroying what {env} holds"
    text = " ".join(str(cmd.get("text") or " ".join(cmd["argv"])).split())[:100]
    return (f"{resource.data.get('system', 'CI')} job '{resource.name}' runs `{text}`: {what} '{value}' is {env} "
            f"but {owhat} '{ovalue}' is {oenv} — {harm} (catalog 6.1: dev applied to prod state)")
