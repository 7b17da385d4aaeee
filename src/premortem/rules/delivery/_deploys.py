"""Shared reading of PipelineJob resources (any CI system): commands, deploys, production targets.

Rules about pipelines read only the model of parse/pipelines.py through these helpers, so they
apply to GitHub Actions, GitLab CI and Jenkins alike.
"""
from __future__ import annotations

import os
import re

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


def tool(argv: list) -> str:
    """The program of a command, without a directory or `sudo`/`env`/`time` wrappers."""
    args = list(argv)
    while args and os.path.basename(args[0]) in ("sudo", "env", "time", "exec", "nohup", "command"):
        args = [a for a in args[1:]]
        while args and ("=" in args[0] and not args[0].startswith("-")):
            args = args[1:]
    return os.path.basename(args[0]) if args else ""


def words(argv: list) -> list:
    """argv without wrappers, starting at the program."""
    t = tool(argv)
    for k, a in enumerate(argv):
        if os.path.basename(a) == t:
            return argv[k:]
    return argv


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


def production_target(resource, cmd: dict | None, config) -> str:
    """Evidence that the job (or this command) targets production ('' when none)."""
    data = resource.data
    env = data.get("environment")
    if env:
        ev = config.production_evidence(str(env), [])
        if ev:
            return f"environment '{env}'"
    if cmd is not None:
        argv = cmd.get("argv") or []
        ns = flag_value(argv, _NS_FLAGS)
        if ns and config.production_evidence(ns, []):
            return f"namespace '{ns}' ({' '.join(words(argv)[:2])})"
        kctx = flag_value(argv, _CTX_FLAGS)
        if kctx and any(w in re.split(r"[-_.:/@]", kctx.lower()) for w in ("prod", "production", "prd", "live")):
            return f"kube context '{kctx}'"
        for a in words(argv)[1:]:
            val = a.split("=", 1)[1] if a.startswith("-") and "=" in a else a
            if _FILE_ARG.search(val):
                ev = config.production_evidence("", [val])
                if ev:
                    return f"argument '{val}'"
    if "push" in (data.get("triggers") or []):
        for b in data.get("branches") or []:
            if b in PROD_BRANCHES:
                return f"runs on pushes to branch '{b}'"
    return ""
