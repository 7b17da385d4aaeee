"""The order of jobs in one pipeline, from the project index: what runs before a job, what after.

A pipeline is every PipelineJob with the same `data["pipeline"]` (the file that runs it: a GitHub
workflow, a `.gitlab-ci.yml` with its local includes, a Jenkinsfile). A job runs after:
- GitHub: the jobs named in its `needs`, transitively (jobs without `needs` run in parallel);
- GitLab: the jobs named in `needs` when it has them, else every job of an earlier stage;
- Jenkins: the previous sequential stage (`needs` holds it), transitively.
Rules use this to ask "did a scan/test/verify step run before this deploy?" across jobs.
"""
from __future__ import annotations


def pipeline_jobs(ctx, resource) -> list:
    """(name, data) of every job of the resource's pipeline, itself included, in file order."""
    key = resource.data.get("pipeline") or resource.file

    def compute(project):
        groups: dict = {}
        for e in project.of_kind("PipelineJob"):
            d = e.facts.get("data") or {}
            groups.setdefault(d.get("pipeline") or e.file, []).append((e.file, e.line, e.name, d))
        return {k: [(n, d) for _, _, n, d in sorted(v, key=lambda t: (t[0], t[1]))] for k, v in groups.items()}

    jobs = ctx.project.memo("pipeline_jobs", compute).get(key)
    return jobs if jobs else [(resource.name, resource.data)]


def _direct(data: dict, by_name: dict) -> list:
    needs = [n for n in data.get("needs") or [] if n in by_name]
    if data.get("system") == "gitlab" and not data.get("needs"):
        stages = data.get("stages") or []
        own = data.get("stage")
        if own in stages:
            earlier = set(stages[:stages.index(own)])
            needs = [n for n, d in by_name.items() if d.get("stage") in earlier]
    return needs


def upstream(ctx, resource) -> list:
    """(name, data) of the jobs that must finish before this one, nearest first."""
    jobs = pipeline_jobs(ctx, resource)
    by_name = {n: d for n, d in jobs}
    out, seen, todo = [], {resource.name}, _direct(resource.data, by_name)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        out.append((name, by_name[name]))
        todo.extend(_direct(by_name[name], by_name))
    return out


def downstream(ctx, resource) -> list:
    """(name, data) of the jobs that run only after this one."""
    jobs = pipeline_jobs(ctx, resource)
    by_name = {n: d for n, d in jobs}
    out = []
    for n, d in jobs:
        if n == resource.name:
            continue
        seen, todo = set(), _direct(d, by_name)
        while todo:
            m = todo.pop(0)
            if m == resource.name:
                out.append((n, d))
                break
            if m not in seen:
                seen.add(m)
                todo.extend(_direct(by_name[m], by_name))
    return out


def job_commands(data: dict):
    """(step index, command index, command) for every command of a job's data."""
    for i, step in enumerate(data.get("steps") or []):
        for j, cmd in enumerate(step.get("commands") or []):
            if cmd.get("argv"):
                yield i, j, cmd


MANUAL_SYSTEMS = ("script", "make")


def is_ci(data: dict) -> bool:
    """True for jobs a CI system runs; False for shell scripts and make targets a human runs."""
    return data.get("system") not in MANUAL_SYSTEMS


def label(resource) -> str:
    """How a message names the job: "CI job 'deploy'", "script 'scripts/x.sh'", "make target 'deploy'"."""
    system = resource.data.get("system")
    if system == "script":
        return f"script '{resource.file}'"
    if system == "make":
        return f"make target '{resource.name}'"
    return f"CI job '{resource.name}'"
