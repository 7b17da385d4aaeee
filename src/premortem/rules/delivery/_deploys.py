"""Shared reading of PipelineJob resources (any CI system): commands, deploys, production targets.

Rules about pipelines read only the model of parse/pipelines.py through these helpers, so they
apply to GitHub Actions, GitLab CI and Jenkins alike.
"""
from __future__ import annotations

import fnmatch
import functools
import os
import re

from ...environments import NON_PRODUCTION_WORDS, PRODUCTION_WORDS as PROD_WORDS

PROD_BRANCHES = {"main", "master", "production", "prod", "release", "$CI_DEFAULT_BRANCH"}
TERRAFORM = {"terraform", "tofu", "terragrunt"}
_NS_FLAGS = ("-n", "--namespace")
_CTX_FLAGS = ("--context", "--kube-context")
_FILE_ARG = re.compile(r"\.(ya?ml|json|tfvars|hcl|env)$|/")


def commands(resource):
    """(path, command) for every shell command of the job, path = ("steps", i, "commands", j)."""
    for i, step in enumerate(resource.data.get("steps") or []):
        for j, cmd in enumerate(step.get("commands") or []):
            if cmd.get("argv"):
                yield ("steps", i, "commands", j), cmd


_WRAPPERS = ("sudo", "env", "time", "exec", "nohup", "command")


@functools.lru_cache(maxsize=8192)
def _split(argv: tuple) -> tuple:
    """(program name, argv from the program on) of a command, without `sudo`/`env`/`time` wrappers;
    cached: every rule asks the same few hundred commands the same questions."""
    args = argv
    while args and os.path.basename(args[0]) in _WRAPPERS:
        args = args[1:]
        while args and ("=" in args[0] and not args[0].startswith("-")):
            args = args[1:]
    t = os.path.basename(args[0]) if args else ""
    for k, a in enumerate(argv):
        if os.path.basename(a) == t:
            return t, argv[k:]
    return t, argv


def tool(argv: list) -> str:
    """The program of a command, without a directory or `sudo`/`env`/`time` wrappers."""
    return _split(tuple(argv))[0]


def words(argv: list) -> list:
    """argv without wrappers, starting at the program."""
    return list(_split(tuple(argv))[1])


def subcommand(argv: list) -> str:
    """The first non-flag argument after the program (`apply` in `terraform -chdir=x apply`)."""
    skip = False
    for a in words(argv)[1:]:
        if skip:
            skip = False
        elif a in _NS_FLAGS + _CTX_FLAGS + ("--kubeconfig",):
            skip = True
        elif not a.startswith("-"):
            return a
    return ""


def flag_value(argv: list, names: tuple) -> str | None:
    """Value of `--flag value` / `--flag=value` / `-nvalue` for any of `names`."""
    args = words(argv)
    for k, a in enumerate(args):
        for n in names:
            if a == n and k + 1 < len(args):
                return args[k + 1]
            if a.startswith(n + "="):
                return a[len(n) + 1:]
    return None


def deploy_action(argv: list) -> str:
    """What a command deploys, as a short phrase ('' when it does not deploy)."""
    t, sub = tool(argv), subcommand(argv)
    if t in ("helm", "helmfile") and sub in ("upgrade", "install", "apply", "sync", "rollback"):
        return f"{t} {sub}"
    if t in ("kubectl", "oc") and sub in ("apply", "set", "rollout", "create", "replace", "patch", "edit", "delete"):
        return f"{t} {sub}"
    if t == "kustomize" and "|" not in argv and sub == "build":
        return ""
    if t == "argocd" and sub == "app" and "sync" in argv:
        return "argocd app sync"
    if t in TERRAFORM and sub in ("apply", "destroy"):
        return f"{t} {sub}"
    if t in ("aws",) and any(a in ("update-service", "deploy", "update-function-code") for a in argv):
        return "aws " + " ".join(a for a in argv[1:3])
    if t == "gcloud" and "deploy" in argv:
        return "gcloud ... deploy"
    if t == "az" and any(a in ("deployment", "webapp") for a in argv[1:3]) and any(a in ("create", "deploy") for a in argv):
        return "az " + " ".join(argv[1:3])
    if re.match(r"^deploy", t.rsplit(".", 1)[0]) or re.match(r"^deploy", os.path.basename(words(argv)[-1] if t in ("bash", "sh") and len(words(argv)) > 1 else "")):
        return f"script {t if t not in ('bash', 'sh') else os.path.basename(words(argv)[-1])}"
    return ""


# ---- where a deploy goes: production, non-production, or unknown ------------------------------------
# deploy_target() weighs the evidence from the most specific (the command's own flags) to the least (the branch), so a job on
# `main` that says `-n staging` deploys to staging, and `pre-prod` is not production.

# environments.py's non-production words, and those a CI target name uses too (review apps, previews)
NONPROD_WORDS = NON_PRODUCTION_WORDS | {"preview", "review", "nonprod", "demo", "int", "integration", "sit", "ephemeral"}
# in a job, stage, workflow or file name these say what CI does ("build, test and deploy"), not where
_ACTIVITY_WORDS = {"test", "testing", "int", "integration"}
# flags naming where a command acts (kubeconfig, cloud cluster/project/profile, environment)
_TARGET_FLAGS = ("--kubeconfig", "--cluster", "--cluster-name", "--project", "--environment", "--env", "--stage",
                 "--profile", "--resource-group", "--subscription")
# variables the deploy tools read themselves (and GitLab's Kubernetes integration sets)
_TOOL_ENV = ("HELM_NAMESPACE", "HELM_KUBECONTEXT", "KUBE_NAMESPACE", "KUBE_CONTEXT", "KUBECONFIG", "TF_WORKSPACE",
             "AWS_PROFILE", "CLOUDSDK_CORE_PROJECT", "CLOUDSDK_CONTAINER_CLUSTER")
KUBE_TOOLS = {"kubectl", "oc", "helm", "helmfile", "kubectl-argo-rollouts"}
_VAR = re.compile(r"\$\{\{\s*(?:env|vars)\.(\w+)\s*\}\}|\$\{(?:env\.)?(\w+)\}|\$(\w+)")


def env_words(value) -> set:
    """Lower-case words of a name or path (`deployProd`, `gke_x_prod-eu`, `group/app:prod-agent`);
    `pre-prod` and `non-prod` stay one word, so they are not read as `prod`."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(value)).lower()
    text = re.sub(r"(?<![a-z0-9])(pre|non)[-_ ]?prod(?:uction)?(?![a-z0-9])", r"\1prod", text)
    return {w for w in re.split(r"[^a-z0-9]+", text) if w}


def stage_of(value, label: bool = False) -> str:
    """'production' | 'non-production' | '' from the words of a name (non-production words win);
    `label`: a job/stage/workflow/file name, where `test` or `integration` names an activity."""
    w = env_words(value) - (_ACTIVITY_WORDS if label else set())
    return "non-production" if w & NONPROD_WORDS else "production" if w & PROD_WORDS else ""


def expand(value: str, env: dict) -> str:
    """`$X`, `${X}`, `${env.X}`, `${{ env.X }}` replaced by what `env` says (left as written otherwise)."""
    def sub(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return str(env[name]) if name in env and "$" not in str(env[name]) else m.group(0)
    return _VAR.sub(sub, str(value)) if "$" in str(value) else str(value)


def is_dry_run(argv: list) -> bool:
    """`--dry-run` (any mode but `none`) or `--server-dry-run`: the command changes nothing."""
    return any(a in ("--dry-run", "--server-dry-run") or (a.startswith("--dry-run=") and a != "--dry-run=none")
               for a in words(argv))


def judge(value, label: str, config, how: str = "name") -> tuple:
    """(verdict, evidence) of one value; `how` is "namespace" or "path" to apply the `production`
    settings of .premortem.yaml (namespaces, non_production_namespaces, paths) besides the words, or
    "label" for a job/stage/workflow/file name."""
    value = str(value or "")
    if not value:
        return "", ""
    found = stage_of(value, label=how == "label")
    if how == "namespace" and any(fnmatch.fnmatchcase(value, p) for p in config.nonprod_namespaces):
        found = "non-production"
    elif found != "non-production" and (
            (how == "namespace" and config.production_evidence(value, [])) or
            (how == "path" and config.production_evidence("", [value]))):
        found = "production"
    return (found, label.format(v=value)) if found else ("", "")


def _command_target(argv: list, env: dict, config) -> tuple:
    """The verdict of a command's own namespace, context, target flags, file arguments, release/app name."""
    argv = [expand(a, env) for a in words(argv)]
    checks = [(flag_value(argv, _NS_FLAGS), "namespace '{v}'", "namespace"),
              (flag_value(argv, _CTX_FLAGS), "kube context '{v}'", "name"),
              (flag_value(argv, _TARGET_FLAGS), "target '{v}'", "name")]
    for value, label, how in checks:
        found = judge(value, label, config, how)
        if found[0]:
            return found
    files = [v for v in (a.split("=", 1)[1] if a.startswith("-") and "=" in a else a for a in argv[1:])
             if _FILE_ARG.search(v) and not v.startswith("/dev/")]
    judged = [judge(v, "argument '{v}'", config, "path") for v in files]
    for verdict in ("production", "non-production"):  # a production file anywhere is a production change
        for found in judged:
            if found[0] == verdict:
                return found
    t, rest = tool(argv), [a for a in argv[1:] if not a.startswith("-")]
    named = [(rest[1], "release '{v}'")] if t == "helm" and len(rest) >= 2 else \
        [(rest[2], "Argo CD app '{v}'")] if t == "argocd" and rest[:2] == ["app", "sync"] and len(rest) > 2 else []
    # then every other plain argument: `./deploy.sh staging`, `kubectl create namespace production`
    for value, label in named + [(a, "argument '{v}'") for a in rest if a not in files]:
        found = judge(value, label, config)
        if found[0]:
            return found
    return "", ""


def _selection(argv: list) -> tuple:
    """(what, value) when a command selects the cluster ("kube") or workspace ("terraform") later
    commands of the job act on."""
    args, t = words(argv), tool(argv)
    nxt = (lambda w: args[args.index(w) + 1] if args.index(w) + 1 < len(args) else "")
    if t in ("kubectl", "oc") and args[1:3] == ["config", "use-context"]:
        return "kube", nxt("use-context")
    if t in ("kubectl", "oc") and args[1:3] == ["config", "set-context"]:
        return "kube", flag_value(args, ("--namespace",)) or nxt("set-context")
    if t == "oc" and args[1:2] == ["project"]:
        return "kube", nxt("project")
    if (t == "aws" and "update-kubeconfig" in args) or (t == "az" and "get-credentials" in args):
        return "kube", flag_value(args, ("--alias", "--name", "-n")) or ""
    if t == "gcloud" and "get-credentials" in args:
        return "kube", nxt("get-credentials")
    if t in TERRAFORM and args[1:3] in (["workspace", "select"], ["workspace", "new"]):
        return "terraform", nxt(args[2])
    if t in TERRAFORM and subcommand(args) == "init":
        return "terraform", flag_value(args, ("-backend-config",)) or ""
    return "", ""


def piped_with(step: dict, cmd: dict) -> list:
    """The other commands of `cmd`'s shell pipeline (`a | b | cmd`), found in the step's body text
    (pipeline numbers restart in each GitLab script item, so they alone do not prove a pipe)."""
    run, cmds = step.get("run") or "", [c for c in step.get("commands") or [] if c.get("argv")]
    spans, pos = [], 0
    for c in cmds:
        k = run.find(c.get("text") or "\0", pos)
        spans.append((k, k + len(c.get("text") or "")) if k >= 0 else None)
        pos = k + 1 if k >= 0 else pos

    def joined(a, b):  # command a is piped into command b
        return (spans[a] and spans[b] and cmds[a].get("pipeline") == cmds[b].get("pipeline")
                and re.fullmatch(r"[\s\\]*\|&?[\s\\]*", run[spans[a][1]:spans[b][0]]) is not None)

    at = next((k for k, c in enumerate(cmds) if c is cmd), None)
    if at is None:
        return []
    lo, hi = at, at
    while lo > 0 and joined(lo - 1, lo):
        lo -= 1
    while hi + 1 < len(cmds) and joined(hi, hi + 1):
        hi += 1
    return [c for c in cmds[lo:hi + 1] if c is not cmd]


def deploy_target(resource, path: tuple, cmd: dict, config, branches: bool = True) -> tuple:
    """('production' | 'non-production' | '', evidence) for the command at `path` of a PipelineJob.

    Most specific evidence first: the command's own namespace / context / target flags / file
    arguments / helm release / argocd app (`$VARS` expanded from its env), then those of the commands
    piped into it (`kustomize build overlays/prod | kubectl apply -f -`), a context or workspace selected
    earlier in the job (`kubectl config use-context`, `aws eks update-kubeconfig`, `gcloud ...
    get-credentials`, `terraform workspace select`), the variables the tool reads (HELM_NAMESPACE,
    KUBECONFIG, TF_WORKSPACE, ...), the step's Jenkins credentials, the job's environment, the job /
    stage / workflow / file name, and last (when `branches`) a push to a production branch.
    Non-production words (staging, dev, qa, pre-prod, ...) decide as firmly as production ones."""
    data = resource.data
    env = {**(data.get("env") if isinstance(data.get("env"), dict) else {}), **(cmd.get("env") or {})}
    step = (data.get("steps") or [{}])[path[1]] if len(path) > 1 else {}
    for c in [cmd] + piped_with(step, cmd):
        found = _command_target(c["argv"], env, config)
        if found[0]:
            return found
    kind = "terraform" if tool(cmd["argv"]) in TERRAFORM else "kube" if tool(cmd["argv"]) in KUBE_TOOLS else ""
    chosen = ""
    for p, c in commands(resource):
        if p == path:
            break
        what, value = _selection(c["argv"])
        if what and what == kind and value:
            chosen = expand(value, {**env, **(c.get("env") or {})})
    candidates = [(chosen, "'{v}' selected earlier in the job", "name")]
    candidates += [(expand(env.get(n, ""), env), f"${n}" + " = '{v}'", "name") for n in _TOOL_ENV]
    candidates += [(c.get("id"), "credentials '{v}'", "name") for c in step.get("credentials") or []]
    candidates += [(expand(str(data.get("environment") or ""), env), "environment '{v}'", "namespace")]
    candidates += [(data.get(k), label, "label") for k, label in (("name", "job '{v}'"), ("stage", "stage '{v}'"),
                                                                  ("workflow", "workflow '{v}'"))]
    candidates += [(resource.file, "file '{v}'", "label")]
    for value, label, how in candidates:
        found = judge(value, label, config, how)
        if found[0]:
            return found
    if branches and "push" in (data.get("triggers") or []):
        for b in branches_of(data):
            if b in PROD_BRANCHES:
                return "production", f"runs on pushes to branch '{b}'"
    return "", ""


_REF_IF = re.compile(r"""(?:github\.ref\s*==\s*['"]refs/heads/|github\.ref_name\s*==\s*['"])([\w./-]+)['"]""")


def branches_of(data: dict) -> list:
    """The job's branch filters, plus the branches its `if:` compares `github.ref`/`github.ref_name` to."""
    out = list(data.get("branches") or [])
    for cond in data.get("conditions") or []:
        if "||" not in str(cond):
            out += [b for b in _REF_IF.findall(str(cond)) if b not in out]
    return out


def kube_verb(argv: list) -> str:
    """What a kubectl/oc command does: its subcommand, with the action for `rollout` (`rollout restart`)
    and `apply view-last-applied|set-last-applied|edit-last-applied`."""
    args = words(argv)
    sub = subcommand(args)
    rest = [a for a in args[args.index(sub) + 1:] if not a.startswith("-")] if sub in args else []
    if sub == "rollout" or (sub == "apply" and rest[:1] and rest[0].endswith("-last-applied")):
        return f"{sub} {rest[0]}" if rest else sub
    return sub


READ_ONLY_KUBE = {"rollout status", "rollout history", "apply view-last-applied"}


def production_deploys(resource, config, branches: bool = True):
    """(path, command, action, evidence) of every command that deploys to production (dry runs and
    `kubectl rollout status|history` excluded)."""
    for path, cmd in commands(resource):
        action = deploy_action(cmd["argv"])
        if not action or is_dry_run(cmd["argv"]) or (
                tool(cmd["argv"]) in ("kubectl", "oc") and kube_verb(cmd["argv"]) in READ_ONLY_KUBE):
            continue
        verdict, evidence = deploy_target(resource, path, cmd, config, branches)
        if verdict == "production":
            yield path, cmd, action, evidence
