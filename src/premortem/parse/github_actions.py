"""GitHub Actions workflows (and composite actions) into PipelineJob resources (see pipelines.py).

One resource per job. Triggers come from `on:` (string, list or mapping), branch filters from the
`branches` of its events, the gate from the job's `environment:` (protection rules live in the
repository settings, so an environment counts as the gate). Workflow, job and step `env:` are merged
into each step's `env` and into every command's `env` (what the command inherits). A job that calls
a reusable workflow (`uses:` at job level) is kept as one step with that `uses`.
"""
from __future__ import annotations

import os

from ..model import Resource, ScanError
from .shell import block_commands
from .yamldoc import load_all


def _list(v) -> list:
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v if x is not None]
    return [str(v)]


def _env(v) -> dict:
    return {str(k): "" if x is None else str(x) for k, x in v.items()} if isinstance(v, dict) else {}


def _triggers(on) -> tuple[list, list, list]:
    """(triggers, branches, params) of an `on:` value."""
    if isinstance(on, (str, list)):
        return _list(on), [], []
    if not isinstance(on, dict):
        return [], [], []
    branches, params, events = [], [], []
    for event, spec in on.items():
        events.append(str(event))
        if str(event) == "push" and isinstance(spec, dict) and spec.get("tags") is not None \
                and spec.get("branches") is None and spec.get("branches-ignore") is None:
            events[-1] = "tag"  # `push: tags: [v*]` runs on tag pushes only: a deliberate release
        if isinstance(spec, dict):
            branches += _list(spec.get("branches"))
            inputs = spec.get("inputs")
            if isinstance(inputs, dict):
                for name, inp in inputs.items():
                    params.append({"name": str(name), "default": inp.get("default") if isinstance(inp, dict) else None})
    return events, list(dict.fromkeys(branches)), params


def _workdir(holder) -> str:
    """`defaults: run: working-directory:` of a workflow or job ('' when unset)."""
    d = holder.get("defaults") if isinstance(holder, dict) else None
    run = d.get("run") if isinstance(d, dict) else None
    wd = run.get("working-directory") if isinstance(run, dict) else None
    return str(wd) if wd else ""


def build_steps(raw_steps, base: tuple, doc, lines: list, env: dict, run_key="run", workdir="") -> tuple[list, dict]:
    """Steps of the model with positions relative to the resource, from `raw_steps` at `base`."""
    steps, positions = [], {}
    for i, st in enumerate(raw_steps if isinstance(raw_steps, list) else []):
        if not isinstance(st, dict):
            continue
        k = len(steps)
        spos = doc.positions.get(base + (i,), (0, 0))
        run = st.get(run_key) if isinstance(st.get(run_key), str) else None
        senv = {**env, **_env(st.get("env"))}
        cmds, places = ([], [])
        if run is not None:
            cmds, places = block_commands(run, doc.positions.get(base + (i, run_key), spos), lines)
            for c in cmds:
                c["env"] = {**senv, **c["env"]}
        uses = st.get("uses") if isinstance(st.get("uses"), str) else None
        anchor = base + (i, run_key) if run is not None else base + (i, "uses") if uses else base + (i,)
        at = doc.key_positions.get(anchor) or spos
        steps.append({"name": str(st.get("name") or st.get("id") or (uses or (run or "").split("\n")[0])[:60]),
                      "run": run, "uses": uses, "line": at[0], "commands": cmds, "env": senv,
                      "with": st.get("with") if isinstance(st.get("with"), dict) else {},
                      "dir": str(st.get("working-directory") or workdir),
                      "continue_on_error": st.get("continue-on-error") is True})
        positions[("steps", k)] = at
        if uses:
            positions[("steps", k, "uses")] = doc.positions.get(base + (i, "uses"), at)
        for j, p in enumerate(places):
            positions[("steps", k, "commands", j)] = p
    return steps, positions


def _job(jid, job, doc, lines, wf_name, triggers, branches, params, wf_env, rel, wf_workdir="") -> Resource:
    base = ("jobs", jid)
    envv = job.get("environment")
    env_name = envv.get("name") if isinstance(envv, dict) else envv
    env_name = str(env_name) if env_name not in (None, "") else None
    env = {**wf_env, **_env(job.get("env"))}
    steps, positions = build_steps(job.get("steps"), base + ("steps",), doc, lines, env,
                                   workdir=_workdir(job) or wf_workdir)
    if isinstance(job.get("uses"), str):  # a reusable workflow call
        at = doc.key_positions.get(base + ("uses",), (0, 0))
        steps.append({"name": job["uses"], "run": None, "uses": job["uses"], "line": at[0], "commands": [],
                      "env": env, "with": job.get("with") if isinstance(job.get("with"), dict) else {},
                      "continue_on_error": False})
        positions[("steps", len(steps) - 1)] = at
        positions[("steps", len(steps) - 1, "uses")] = doc.positions.get(base + ("uses",), at)
    cond = job.get("if")
    data = {
        "system": "github", "name": str(jid), "workflow": wf_name, "pipeline": rel, "triggers": triggers, "branches": branches,
        "conditions": [str(cond)] if cond not in (None, "") else [],
        "environment": env_name,
        "gate": {"manual": env_name is not None, "blocking": env_name is not None,
                 "approval": f"environment '{env_name}'" if env_name else ""},
        "needs": _list(job.get("needs")),
        "allow_failure": job.get("continue-on-error") is True,
        "params": params, "steps": steps,
    }
    for key, path in ((("environment",), base + ("environment",)), (("conditions", 0), base + ("if",)),
                      (("gate",), base + ("environment",)), (("allow_failure",), base + ("continue-on-error",))):
        if path in doc.positions:
            positions[key] = doc.positions[path]
    line = doc.key_positions.get(base, (doc.line, 1))[0]
    positions[()] = doc.key_positions.get(base, (doc.line, 1))
    return Resource(format="pipeline", kind="PipelineJob", name=str(jid), namespace="", data=data,
                    file=rel, line=line, positions=positions)


def parse_workflow(text: str, rel: str) -> tuple[list, list]:
    docs, err = load_all(text)
    errors = [ScanError(rel, err.line, str(err), err.column)] if err else []
    lines = text.splitlines()
    out = []
    for doc in docs:
        wf = doc.data
        if not isinstance(wf, dict):
            continue
        stem = os.path.splitext(os.path.basename(rel))[0]
        wf_name = str(wf.get("name") or stem)
        triggers, branches, params = _triggers(wf.get("on", wf.get("true")))
        jobs = wf.get("jobs")
        if isinstance(jobs, dict):
            for jid, job in jobs.items():
                if isinstance(job, dict):
                    out.append(_job(jid, job, doc, lines, wf_name, triggers, branches, params,
                                    _env(wf.get("env")), rel, _workdir(wf)))
        runs = wf.get("runs")
        if isinstance(runs, dict) and isinstance(runs.get("steps"), list):  # composite action
            steps, positions = build_steps(runs["steps"], ("runs", "steps"), doc, lines, {})
            positions[()] = (doc.line, 1)
            out.append(Resource(format="pipeline", kind="PipelineJob", name=wf_name, namespace="", data={
                "system": "github", "name": wf_name, "workflow": wf_name, "pipeline": rel, "triggers": ["action"], "branches": [],
                "conditions": [], "environment": None, "gate": {"manual": False, "blocking": False, "approval": ""},
                "needs": [], "allow_failure": False, "params": [], "steps": steps}, file=rel, line=doc.line,
                positions=positions))
    return out, errors
