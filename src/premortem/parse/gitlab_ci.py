"""`.gitlab-ci.yml` into PipelineJob resources (see pipelines.py).

One resource per job (top-level mappings that are not reserved keywords and not hidden `.x`
templates). `extends:` is resolved (deep merge, the job's own keys win) and YAML anchors/`<<` are
already merged by yamldoc; positions of inherited `script` lines point at the template that wrote
them. Steps are the script sections (`before_script`, `script`, `after_script`), each item's
commands at their own line. Gate: `when: manual` on the job blocks later stages only with
`allow_failure: false`; inside `rules:` a manual rule blocks unless it says `allow_failure: true`
(GitLab's defaults). GitLab runs a job on every push unless `only`/`rules` narrow it.

`include:` of local files (strings, `local:`, globs, nested includes) is followed through the
`read` callback the engine passes (paths relative to the directory of `.gitlab-ci.yml`, never
outside it); included definitions merge under the root's own, and a job keeps the file that
defined it. Remote, project, template and component includes are not fetched: they are listed in
`includes` (e.g. `template:Jobs/Secret-Detection.gitlab-ci.yml`) so rules can see what they add.
"""
from __future__ import annotations

import re

from ..model import Resource, ScanError
from .shell import block_commands, commands
from .yamldoc import load_all

RESERVED = {"image", "services", "stages", "types", "before_script", "after_script", "variables", "cache",
            "include", "default", "workflow"}
ONLY_KEYWORDS = {"branches", "tags", "schedules", "merge_requests", "web", "api", "triggers", "pipelines",
                 "pushes", "external", "chat", "external_pull_requests"}
DEFAULT_STAGES = (".pre", "build", "test", "deploy", ".post")
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


def _job(name, job, origin, top, where, includes, root_rel) -> Resource:
    """`where`: top-level name -> (doc, rel) of the file that defined it."""
    doc, rel = where[name]
    lines = doc.lines
    base = (name,)

    def here(key_path):  # True when the file of this job wrote that key (its positions apply)
        return key_path[0] in where and where[key_path[0]][1] == rel

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
        local = here(src) if src else here((section,))
        key_at = doc.key_positions.get(src + (section,), (doc.line, 1)) if local else \
            doc.key_positions.get(base, (doc.line, 1))
        cmds, body = [], []
        for i, item in enumerate(items):
            if isinstance(item, list):  # nested lists from anchors (`- *setup`)
                item = "\n".join(str(x) for x in item)
            if not isinstance(item, str):
                continue
            body.append(item)
            if local:
                c, places = block_commands(item, doc.positions.get(src + (section, i), key_at), lines)
            else:  # written in another file: report at the job, which inherits it
                c = commands(item, key_at[0])
                for cmd in c:
                    cmd["line"] = key_at[0]
                places = [key_at] * len(c)
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
            never = r.get("when") == "never"  # an exclusion: the job does NOT run when this matches
            conditions.append(str(r["if"]) + (" when: never" if never else ""))
            src = (origin.get("rules", name),)
            positions[("conditions", len(conditions) - 1)] = doc.positions.get(src + ("rules", i, "if"), (0, 0)) \
                if here(src) else doc.key_positions.get(base, (doc.line, 1))
            for m in () if never else _BRANCH_IF.finditer(str(r["if"])):
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
        "system": "gitlab", "name": name, "workflow": root_rel, "pipeline": root_rel, "file": rel,
        "stage": str(job.get("stage") or "test"),
        "stages": [str(x) for x in _list(top.get("stages"))] or list(DEFAULT_STAGES),
        "includes": includes,
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
        if here(p) and p in doc.positions:
            positions[key] = doc.positions[p]
    positions[()] = doc.key_positions.get(base, (doc.line, 1))
    return Resource(format="pipeline", kind="PipelineJob", name=name, namespace="", data=data, file=rel,
                    line=positions[()][0], positions=positions)


def _include_items(v) -> list:
    """(kind, value) of each `include:` entry."""
    out = []
    for item in _list(v):
        if isinstance(item, str):
            out.append(("remote" if item.startswith(("http://", "https://")) else "local", item))
        elif isinstance(item, dict):
            for kind in ("local", "remote", "template", "project", "component"):
                if isinstance(item.get(kind), str):
                    extra = f":{item['file']}" if kind == "project" and item.get("file") else ""
                    out.append((kind, item[kind] + extra))
                    break
    return out


class _Loader:
    """Reads a root file and its local includes into one merged top level."""

    def __init__(self, read, root_rel: str):
        self.read, self.root_rel = read, root_rel
        self.top: dict = {}
        self.where: dict = {}  # name -> (doc, rel)
        self.includes: list = []
        self.errors: list = []
        self.seen: set = set()

    def load(self, text: str, rel: str, depth: int = 0):
        docs, err = load_all(text)
        if err:
            self.errors.append(ScanError(rel, err.line, str(err), err.column))
        for doc in docs:
            doc.lines = text.splitlines()
            top = doc.data
            if not isinstance(top, dict):
                continue
            for k, (kind, value) in enumerate(_include_items(top.get("include"))):
                if kind != "local":
                    self.includes.append(f"{kind}:{value}")
                    continue
                self.local(value, rel, doc.positions.get(("include", k), doc.positions.get(("include",), (doc.line, 1))),
                           depth)
            for name, value in top.items():  # the including file's keys win over what it includes
                if name == "include":
                    continue
                old = self.top.get(name)
                self.top[name] = {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value
                self.where[name] = (doc, rel)

    def local(self, value: str, rel: str, at: tuple, depth: int):
        if self.read is None:
            return
        if depth > 20:
            self.errors.append(ScanError(rel, at[0], f"include '{value}': includes nested deeper than 20 levels", at[1]))
            return
        found, problem = self.read(value)
        if problem:
            self.errors.append(ScanError(rel, at[0], f"include local '{value}': {problem}", at[1]))
        for inc_rel, text in found:
            if inc_rel in self.seen:
                continue
            self.seen.add(inc_rel)
            self.load(text, inc_rel, depth + 1)


def parse_gitlab_ci(text: str, rel: str, read=None) -> tuple[list, list]:
    """`read(path)` -> ([(rel, text)], problem) resolves a local include (None: includes not followed)."""
    loader = _Loader(read, rel)
    loader.seen.add(rel)
    loader.load(text, rel)
    top = loader.top
    out = []
    for name, job in top.items():
        if name in RESERVED or str(name).startswith(".") or not isinstance(job, dict):
            continue
        if not any(k in job for k in ("script", "extends", "trigger", "run")):
            continue
        merged, origin = _resolve(name, top)
        out.append(_job(str(name), merged, origin, top, loader.where, loader.includes, rel))
    return out, loader.errors
