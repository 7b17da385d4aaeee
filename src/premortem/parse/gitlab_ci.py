"""`.gitlab-ci.yml` into PipelineJob resources (see pipelines.py).

One resource per job (top-level mappings that are not reserved keywords and not hidden `.x`
templates). `extends:` is resolved (deep merge, the job's own keys win) and YAML anchors/`<<` are
already merged by yamldoc; positions of inherited `script` lines point at the template that wrote
them. Steps are the script sections (`before_script`, `script`, `after_script`), each item's
commands at their own line. Gate: `when: manual` on the job blocks later stages only with
`allow_failure: false`; inside `rules:` a manual rule blocks unless it says `allow_failure: true`
(GitLab's defaults). GitLab runs a job on every push unless `only`/`rules` narrow it.

Known gap: `include:` is not followed (local includes are scanned as their own files only when
they sit under `.gitlab/ci/`).
"""
from __future__ import annotations

import re

from ..model import Resource, ScanError
from .shell import block_commands
from .yamldoc import load_all

RESERVED = {"image", "services", "stages", "types", "before_script", "after_script", "variables", "cache",
            "include", "default", "workflow"}
ONLY_KEYWORDS = {"branches", "tags", "schedules", "merge_requests", "web", "api", "triggers", "pipelines",
                 "pushes", "external", "chat", "external_pull_requests"}
_BRANCH_IF = re.compile(r"\$CI_COMMIT_(?:BRANCH|REF_NAME)\s*==\s*(?:[\"']([^\"']+)[\"']|(\$CI_DEFAULT_BRANCH))")


def _list(v) -> list:
    if v is None:
        return []
    return [x for x in v] if isinstance(v, list) else [v]


def _resolve(name: str, jobs: dict, seen=()) -> tuple[dict, dict]:
    """(merged job, key -> name of the job/template that supplied it)."""
    job = jobs.get(name)
    if not isinstance(job, dict) or name in seen:
        return {}, {}
    merged, origin = {}, {}
    for parent in _list(job.get("extends")):
        pdata, porigin = _resolve(str(parent), jobs, seen + (name,))
        for k, v in pdata.items():
            if isinstance(v, dict) and isinstance(merged.get(k), dict):
                merged[k] = {**merged[k], **v}
            else:
                merged[k] = v
            origin[k] = porigin[k]
    for k, v in job.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = {**merged[k], **v}
        else:
            merged[k] = v
        origin[k] = name
    return merged, origin


def _env(v) -> dict:
    out = {}
    if isinstance(v, dict):
        for k, x in v.items():
            out[str(k)] = str(x.get("value", "")) if isinstance(x, dict) else "" if x is None else str(x)
    return out


def _job(name, job, origin, top, doc, lines, rel) -> Resource:
    base = (name,)
    env = {**_env(top.get("variables")), **_env(job.get("variables"))}
    default = top.get("default") if isinstance(top.get("default"), dict) else {}
    steps, positions = [], {}
    for section in ("before_script", "script", "after_script"):
        if section in job:
            items, src = job[section], (origin.get(section, name),)
        elif section in default:
            items, src = default[section], ("default",)
        elif section in top and section != "script":
            items, src = top[section], ()
        else:
            continue
        items = items if isinstance(items, list) else [items]
        k = len(steps)
        key_at = doc.key_positions.get(src + (section,), (doc.line, 1))
        cmds, body = [], []
        for i, item in enumerate(items):
            if isinstance(item, list):  # nested lists from anchors (`- *setup`)
                item = "\n".join(str(x) for x in item)
            if not isinstance(item, str):
                continue
            body.append(item)
            c, places = block_commands(item, doc.positions.get(src + (section, i), key_at), lines)
            for cmd, p in zip(c, places):
                cmd["env"] = {**env, **cmd["env"]}
                positions[("steps", k, "commands", len(cmds))] = p
                cmds.append(cmd)
        steps.append({"name": section, "run": "\n".join(body), "uses": None, "line": key_at[0],
                      "commands": cmds, "env": env, "with": {}, "continue_on_error": False})
        positions[("steps", k)] = key_at
    envv = job.get("environment")
    env_name = envv.get("name") if isinstance(envv, dict) else envv
    env_name = str(env_name) if env_name not in (None, "") else None
    allow = job.get("allow_failure")
    manual, blocking, approval = False, False, ""
    if job.get("when") == "manual":
        manual, blocking = True, allow is False
        approval = "when: manual" + (" with allow_failure: false" if blocking else "")
    conditions, branches, triggers = [], [], set()
    for i, r in enumerate(_list(job.get("rules"))):
        if not isinstance(r, dict):
            continue
        if "if" in r:
            conditions.append(str(r["if"]))
            positions[("conditions", len(conditions) - 1)] = doc.positions.get((origin.get("rules", name), "rules", i, "if"), (0, 0))
            for m in _BRANCH_IF.finditer(str(r["if"])):
                branches.append(m.group(1) or m.group(2))
            if "merge_request_event" in str(r["if"]):
                triggers.add("merge_request")
            if '"schedule"' in str(r["if"]) or "'schedule'" in str(r["if"]):
                triggers.add("schedule")
        if r.get("when") == "manual" and not manual:
            manual, blocking = True, r.get("allow_failure") is not True
            approval = "rules: when: manual" + (" (blocking)" if blocking else " with allow_failure: true")
        if r.get("when") != "never":
            triggers.add("push")
    only = job.get("only")
    refs = only.get("refs") if isinstance(only, dict) else only
    for ref in _list(refs):
        ref = str(ref)
        if ref in ONLY_KEYWORDS:
            triggers.add({"merge_requests": "merge_request", "schedules": "schedule", "branches": "push",
                          "pushes": "push"}.get(ref, ref))
        else:
            branches.append(ref)
            triggers.add("push")
    if isinstance(only, (dict, list, str)):
        conditions.append("only: " + str(only))
    if job.get("except") is not None:
        conditions.append("except: " + str(job["except"]))
    if not triggers:
        triggers.add("push")
    data = {
        "system": "gitlab", "name": name, "workflow": rel, "stage": str(job.get("stage") or "test"),
        "triggers": sorted(triggers), "branches": list(dict.fromkeys(branches)), "conditions": conditions,
        "environment": env_name,
        "gate": {"manual": manual, "blocking": blocking, "approval": approval},
        "needs": [str(n.get("job")) if isinstance(n, dict) else str(n) for n in _list(job.get("needs"))],
        "allow_failure": allow is True or isinstance(allow, dict),
        "params": [{"name": k, "default": v} for k, v in _env(top.get("variables")).items()],
        "steps": steps,
    }
    for key, field in ((("environment",), "environment"), (("gate",), "when"), (("allow_failure",), "allow_failure")):
        p = (origin.get(field, name), field)
        if p in doc.positions:
            positions[key] = doc.positions[p]
    positions[()] = doc.key_positions.get(base, (doc.line, 1))
    return Resource(format="pipeline", kind="PipelineJob", name=name, namespace="", data=data, file=rel,
                    line=positions[()][0], positions=positions)


def parse_gitlab_ci(text: str, rel: str) -> tuple[list, list]:
    docs, err = load_all(text)
    errors = [ScanError(rel, err.line, str(err), err.column)] if err else []
    lines = text.splitlines()
    out = []
    for doc in docs:
        top = doc.data
        if not isinstance(top, dict):
            continue
        for name, job in top.items():
            if name in RESERVED or str(name).startswith(".") or not isinstance(job, dict):
                continue
            if not any(k in job for k in ("script", "extends", "trigger", "run")):
                continue
            merged, origin = _resolve(name, top)
            out.append(_job(str(name), merged, origin, top, doc, lines, rel))
    return out, errors
