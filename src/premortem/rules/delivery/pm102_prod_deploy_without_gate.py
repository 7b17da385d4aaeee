"""PM102: a production deploy that CI runs on push/merge with no human gate before it."""
import re
from types import SimpleNamespace

from ...model import Severity, Source
from ..registry import Hit, rule
from ._deploys import PROD_BRANCHES, branches_of, production_deploys, stage_of, words
from ._flow import upstream

# triggers a person fires (a tag is cut on purpose, like a release; workflow_call is judged at its callers)
MANUAL = {"workflow_dispatch", "release", "repository_dispatch", "workflow_call", "issue_comment", "deployment",
          "manual", "web", "api", "chat", "action", "tags"}
# a job condition that keeps it to manual runs or tags
_MANUAL_IF = re.compile(r"""(?:event_name|CI_PIPELINE_SOURCE)\s*==\s*['"](?:workflow_dispatch|release|"""
                        r"""repository_dispatch|web|api|chat)['"]|triggeredBy\b[^)]*(?:UserIdCause|user)|"""
                        r"""startsWith\(\s*github\.ref\s*,\s*['"]refs/tags/|^\s*\$CI_COMMIT_TAG\s*(?:$|!=|=~)|"""
                        r"""^\s*(?:buildingTag\s*\(|tag\s*['"(])""", re.I)
_WHO = {"github": "GitHub Actions job", "gitlab": "GitLab job", "jenkins": "Jenkins stage"}


def _blocking(data) -> bool:
    gate = data.get("gate") or {}
    return bool(gate.get("manual") and gate.get("blocking"))


def _automatic(data) -> list:
    auto = [t for t in data.get("triggers") or [] if t not in MANUAL]
    conds = [c for c in data.get("conditions") or [] if not c.startswith(("only:", "except:"))]
    manual = [bool(_MANUAL_IF.search(c)) and "||" not in c for c in conds]
    if conds and (all(manual) if data.get("system") == "gitlab" else any(manual)):
        return []
    return auto


def _upstream_gate(ctx, job) -> tuple:
    """(name of a blocking manual job that runs before, [names of non-blocking manual jobs before])."""
    if job.data.get("system") == "jenkins":  # the parser already carried earlier approval stages into `gate`
        return None, []
    soft = []
    for name, d in upstream(ctx, job):
        if _blocking(d) and not (d.get("system") == "github" and stage_of(d.get("environment") or "") == "non-production"):
            return name, []
        if (d.get("gate") or {}).get("manual"):
            soft.append(name)
    return None, soft


def _callers(ctx, resource):
    """Jobs that call this reusable workflow (`uses: ./.github/workflows/x.yml`) without naming an environment."""
    me = resource.data.get("pipeline") or resource.file
    for e in ctx.project.of_kind("PipelineJob"):
        d = e.facts.get("data") or {}
        for st in d.get("steps") or []:
            uses = str(st.get("uses") or "")
            named_env = any("environment" in str(k).lower() and v for k, v in (st.get("with") or {}).items())
            if uses.startswith("./") and uses[2:].split("@")[0] == me and not named_env:
                yield SimpleNamespace(name=e.name, file=e.file, line=e.line, data=d)


def _when(data, auto) -> str:
    branches = branches_of(data)
    if "push" in auto:
        prod = [b for b in branches if b in PROD_BRANCHES] or branches
        return f"on every push to {', '.join(prod)}" if prod else "on every push"
    return "automatically on " + ", ".join(auto)


@rule(id="PM102", name="prod-deploy-without-gate", severity="high",
      severity_reason="A mistaken push or a bad merge goes straight to production with nobody approving it.",
      incidents=["1.1"], title="Production deploy on push/merge with no approval gate",
      formats=("pipeline",), kinds=("PipelineJob",),
      fix="Gate the production job: GitHub `environment: production` with required reviewers, GitLab "
          "`when: manual` + `allow_failure: false` (or a blocking manual approve job before it), Jenkins `input`.")
def check(resource, ctx):
    """## What it checks
    CI jobs that run a deploy command (helm, kubectl, terraform, argocd, cloud CLIs, `deploy*`
    scripts) whose target is production (namespace, kube context, production file or release,
    production environment or job name, else a push to `main`/`master`/`production`; an explicit
    staging/dev target wins over the branch) and that run automatically (push, merge request,
    schedule, workflow_run) with no human gate: no GitHub `environment:` on the job; no GitLab
    `when: manual` with `allow_failure: false` (a `when: manual` in `rules:` blocks by default);
    no Jenkins `input` (directive, step before the deploy, or an unconditional approval stage
    before it). A blocking manual job that runs earlier (`needs:`, an earlier GitLab stage, a
    GitHub job with a production environment) gates it too. A GitLab job that is `when: manual`
    but may fail is reported at medium: it does not block later stages. Quiet: `workflow_dispatch`
    or `release` triggers, jobs conditioned on a manual source, reusable workflows whose caller
    passes an environment, tag-only jobs, staging deploys, shell scripts and Makefiles (a person
    runs those). One finding per job, at its first production deploy command. Approvals configured
    only in GitLab settings (protected-environment deployment approvals) are not visible in the
    file: suppress the finding with the reason when you rely on them.

    ## Why it breaks production
    In catalog 1.1 a `git push origin feature:main` force-pushed a feature branch to main and the
    pipeline deployed it to production automatically, breaking live traffic. Nothing between the
    push and production asked a human; an environment with required reviewers would have stopped it.

    ## Bad
    ```yaml .github/workflows/deploy.yml
    on:
      push:
        branches: [main]
    jobs:
      deploy-prod:
        runs-on: ubuntu-latest
        steps:
          - run: helm upgrade --install api ./chart --namespace production
    ```

    ## Good
    ```yaml .github/workflows/deploy.yml
    on:
      push:
        branches: [main]
    jobs:
      deploy-prod:
        runs-on: ubuntu-latest
        environment: production
        steps:
          - run: helm upgrade --install api ./chart --namespace production
    ```

    ## Fix
    GitHub: add `environment: production` to the job and require reviewers on that environment
    (Settings > Environments). GitLab: `when: manual` with `allow_failure: false` on the deploy job
    or on an approve job in an earlier stage. Jenkins: an `input` directive on the production stage.
    """
    data = resource.data
    if data.get("system") in ("script", "make") or _blocking(data):
        return
    auto = _automatic(data)
    job, via = resource, ""
    if not auto and "workflow_call" in (data.get("triggers") or []):
        for caller in _callers(ctx, resource):
            if _automatic(caller.data) and not _blocking(caller.data) and not _upstream_gate(ctx, caller)[0]:
                auto, via = _automatic(caller.data), f" (called by job '{caller.name}' of {caller.file})"
                job = SimpleNamespace(name=resource.name, file=resource.file, data={
                    **data, "triggers": caller.data.get("triggers"), "branches": caller.data.get("branches"),
                    "conditions": (data.get("conditions") or []) + (caller.data.get("conditions") or [])})
                break
    if not auto:
        return
    gate_job, soft = _upstream_gate(ctx, resource) if job is resource else (None, [])
    if gate_job:
        return
    found = list(production_deploys(job, ctx.config))
    if not found:
        return
    path, cmd, action, evidence = found[0]
    system, gate, related, severity = data.get("system"), data.get("gate") or {}, [], None
    harm = "a bad merge or a mistaken push (`git push origin feature:main`) reaches production with no human in between"
    if system == "gitlab" and gate.get("manual"):
        severity = Severity.MEDIUM
        missing = f"its `{gate.get('approval') or 'when: manual'}` is not blocking (no `allow_failure: false`)"
        harm = ("a manual job that may fail does not block later stages: they run, and the pipeline passes, "
                "before anyone has approved or run this production deploy")
        related.append((("gate",), "manual, but allow_failure is not false"))
    elif system == "gitlab":
        missing = "it has no `when: manual` with `allow_failure: false` and no blocking manual job runs before it"
        if soft:
            missing += (f" ({', '.join(repr(n) for n in soft[:3])}: `when: manual` without `allow_failure: false` "
                        "does not block later stages, so this deploy does not wait for it)")
            for entry in ctx.project.of_kind("PipelineJob"):
                if entry.name in soft[:3] and (entry.facts.get("data") or {}).get("pipeline") == data.get("pipeline"):
                    related.append((Source(entry.file, entry.line, 1), f"'{entry.name}': manual, not blocking"))
    elif system == "jenkins":
        missing = "it has no `input` (directive, step before the deploy, or an approval stage before it)"
    else:
        missing = "it has no `environment:`, so no required reviewer approves it"
    more = f" (+{len(found) - 1} more production deploy command(s) in the job)" if len(found) > 1 else ""
    shown = " ".join(words(cmd["argv"]))
    shown = shown if len(shown) <= 70 else shown[:67] + "..."
    yield Hit(path=path, production=evidence, severity=severity, related=tuple(related), message=(
        f"{_WHO.get(system, 'CI job')} '{resource.name}'{via} deploys to production (`{shown}`) "
        f"{_when(job.data, auto)}, and {missing}: {harm}{more}"))
