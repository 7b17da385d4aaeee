"""PM104: tests that can be skipped or whose failure is ignored, in a pipeline that deploys."""
import re
from types import SimpleNamespace

from ..registry import Hit, rule
from ._deploys import deploy_action, is_dry_run
from ._flow import downstream, is_ci, job_commands, pipeline_jobs, upstream
from ._tests import SKIP_FLAGS, TEST_SUBCOMMANDS, TEST_TOOLS, branch_filters, deploy_branches, enforced, ignored, \
    is_test_job, program, reported_later, runs_on, skip_flag, test_command

_SKIP_FLAG = re.compile(r"(?i)\b(?:params\.|env\.|inputs\.|\$)?((?:skip|bypass|no|disable)[-_]?(?:unit[-_]?|"
                        r"integration[-_]?|e2e[-_]?)?(?:tests?|checks?|qa)\b)|(\[(?:skip|no)[-_ ]?tests?\\*\])")
_ENV_READ = re.compile(r"\benv\.(\w+)|\benv\[['\"](\w+)['\"]\]|\benvironment\s+name:\s*['\"](\w+)['\"]")
_PARAM_READ = re.compile(r"\bparams\.(\w+)|\bparams\[['\"](\w+)['\"]\]")
_DOC_GOALS = re.compile(r"^(?:clean|site|site:\w+|javadoc:\w+|dokka\w*|asciidoctor\w*|docs?|\w+doc\w*)$")
_DOCS_JOB = re.compile(r"(?i)(?:^|[^a-z])(?:docs?|site|pages|javadoc)(?:[^a-z]|$)")


def _deploys(ctx, resource) -> list:
    """(job name, job data, deploy action) of each CI job of the pipeline that deploys."""
    out = []
    for name, data in pipeline_jobs(ctx, resource):
        act = next((deploy_action(c["argv"]) for _, _, c in job_commands(data)
                    if deploy_action(c["argv"]) and not is_dry_run(c["argv"])), "")
        if act and is_ci(data):
            out.append((name, data, act))
    return out


def _where(ctx, resource, deploys) -> str:
    own = [a for n, _, a in deploys if n == resource.name]
    if own:
        return f"feeds a deploy: the same job runs `{own[0]}`"
    after = {n for n, _ in downstream(ctx, resource)}
    fed = [(n, a) for n, _, a in deploys if n in after]
    n, a = fed[0] if fed else deploys[0][::2]
    return f"feeds a deploy: job '{n}' runs `{a}` after it" if fed else f"in a pipeline whose job '{n}' runs `{a}`"


def _untested(ctx, resource, deploys, opts) -> list:
    """Deploy jobs before which (and in which) no job runs tests that can fail it."""
    return [n for n, d, _ in deploys if not any(enforced(x, opts) for _, x in
            upstream(ctx, SimpleNamespace(name=n, data=d, file=resource.file)) + [(n, d)])]


def _condition_hits(resource, opts, where):
    """Jenkins `when` reading a parameter through env / an undeclared parameter; a skip-tests flag."""
    data, name = resource.data, resource.name
    declared = {str(p.get("name")) for p in data.get("params") or []}
    env = set(data.get("env") or {})
    for k, cond in enumerate(str(c) for c in data.get("conditions") or []):
        m = _SKIP_FLAG.search(cond)
        if m:
            yield Hit(path=("conditions", k), message=(
                f"test job '{name}' runs under a condition on `{m.group(1) or m.group(2)}` (`"
                f"{' '.join(cond.split())[:80]}`): one parameter or commit message skips the tests; {where}"))
            continue
        if data.get("system") != "jenkins":
            continue
        wrong = [(m.group(0), v, "env") for m in _ENV_READ.finditer(cond)
                 for v in [next(g for g in m.groups() if g)] if v in declared and v not in env]
        wrong += [(m.group(0), v, "params") for m in _PARAM_READ.finditer(cond)
                  for v in [next(g for g in m.groups() if g)] if declared and v not in declared]
        for read, var, scope in wrong[:1]:
            yield Hit(path=("conditions", k), message=(
                f"test stage '{name}' decides whether to run on `{read}`, but {var} is a parameter: read it as "
                f"`params.{var}` (env holds only a string copy, unset on a job's first build and whenever it is "
                f"not injected) — in catalog 1.2 this typo skipped the tests on every build; {where}"
                if scope == "env" else
                f"test stage '{name}' decides whether to run on `{read}`, but {var} is not a declared parameter "
                f"({', '.join(sorted(declared))}): it is always null, so the stage runs or skips the same way on "
                f"every build; {where}"))


@rule(id="PM104", name="skippable-tests", severity="high",
      severity_reason="A pipeline that deploys whether or not the tests pass ships the bugs they exist to catch.",
      incidents=["1.2", "R2"], title="Tests can be skipped or their failure ignored in a pipeline that deploys",
      formats=("pipeline",), kinds=("PipelineJob",),
      options={"test_tools": TEST_TOOLS, "test_subcommands": TEST_SUBCOMMANDS, "skip_flags": SKIP_FLAGS},
      fix="Make the test job a required, failing step before the deploy: drop continue-on-error / allow_failure / "
          "`|| true`, do not pass -DskipTests to the build that ships, and read parameters as `params.X`.")
def check(resource, ctx):
    """## What it checks
    Pipelines (GitHub Actions, GitLab CI, Jenkins) in which some job deploys (helm, kubectl,
    terraform, argocd, cloud CLIs, deploy scripts). In them, reported at the exact line:
    - a test job with `continue-on-error: true` / `allow_failure: true`;
    - a test command whose failure is ignored: on a `continue-on-error` step, inside Jenkins
      `catchError`/`warnError` or a `sh(returnStatus: true)` whose status is dropped, followed by
      `|| true`, `|| :`, `|| exit 0`, `|| echo ...` (also through `&& ...`), or after `set +e`
      when later commands hide its status;
    - `-DskipTests`, `-Dmaven.test.skip=true`, `gradle -x test` in a build (also through
      `$MAVEN_CLI_OPTS`, `MAVEN_OPTS`) when no other job runs tests before a deploy; a job or
      goals that only build docs (`mvn site`, `javadoc:*`) are left alone;
    - a Jenkins test stage whose `when` reads `env.X` for a declared parameter X (and X is not in
      an `environment {}`), or `params.X` for an X that is not declared;
    - a test job whose condition reads a skip flag (`SKIP_TESTS`, `[skip tests]`);
    - a test job whose branch filters (`github.ref != 'refs/heads/main'`, `except: [main]`,
      `not { branch 'main' }`, `only: [develop]`) keep it off a branch a deploy job runs on,
      when no other test job runs there.
    Test commands: pytest, tox, nox, go test, mvn test/verify, gradle test/check, npm/yarn/pnpm
    test, jest, vitest, mocha, rspec, phpunit, cargo test, dotnet test, make test/check, ctest ...
    through `npx`, `poetry run`, `python -m`, `bundle exec`, `docker compose run`; tunable with
    the options `test_tools`, `test_subcommands`, `skip_flags`. A test job is one that runs such
    a command or is named like one (`unit`, `e2e-tests`), not a lint, coverage, docs or scan job;
    a GitLab job is not assumed to test just because it sits in stage `test`. `npm test
    --if-present` is not a skip (it runs the tests when the script exists). Not reported: an
    ignored test run followed in its job by a test-report action that fails on failed tests
    (`dorny/test-reporter`, `action-junit-report`); a job no deploy waits for when every deploy
    already follows tests that can fail it (an optional "next Python" job); shell scripts and
    make targets (run by a person).

    ## Why it breaks production
    In catalog 1.2 a Jenkins `when` condition read `env.DAY == 'Saturday'` instead of
    `params.DAY`, so the test stage was skipped on every build and a major bug went to
    production. In the payment-api outage (R2) the same kind of switch let a build that no test or
    staging run had seen reach production.

    ## Bad
    ```yaml .github/workflows/deploy.yml
    on:
      push:
        branches: [main]
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: pytest -q || true
      deploy:
        needs: test
        runs-on: ubuntu-latest
        environment: production
        steps:
          - run: helm upgrade --install api ./chart -n production --set image.tag=${{ github.sha }}
    ```

    ## Good
    ```yaml .github/workflows/deploy.yml
    on:
      push:
        branches: [main]
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: pytest -q --cov
          - run: codecov upload
            continue-on-error: true
      deploy:
        needs: test
        runs-on: ubuntu-latest
        environment: production
        steps:
          - run: helm upgrade --install api ./chart -n production --set image.tag=${{ github.sha }}
    ```

    ## Fix
    Let a failing test fail its job and make every deploy job depend on it (`needs:`, a later
    stage). Quarantine a flaky test in the test code, not by ignoring the whole suite. Build the
    shipped artifact after the tests ran, read Jenkins parameters as `params.X`, and run the
    tests on the branches you deploy from.
    """
    data, opts = resource.data, ctx.options
    if not is_ci(data):
        return
    deploys = _deploys(ctx, resource)
    if not deploys:
        return
    name, system = resource.name, data.get("system")
    where = _where(ctx, resource, deploys)
    # a job no deploy waits for, in a pipeline whose deploys all follow enforced tests: an optional extra
    extra = not where.startswith("feeds") and not _untested(ctx, resource, deploys, opts)
    is_test = is_test_job(name, data, opts)
    if is_test and data.get("allow_failure") and not extra:
        key = "continue-on-error: true" if system == "github" else "allow_failure: true"
        yield Hit(path=("allow_failure",), message=(
            f"test job '{name}' has `{key}`: when its tests fail the pipeline stays green and goes on; {where}"))
    for i, step in enumerate(data.get("steps") or []):
        cmds = step.get("commands") or []
        for j, cmd in enumerate(cmds):
            argv = cmd.get("argv") or []
            what = test_command(argv, opts) if argv else ""
            why = [ignored(cmds, j, step.get("run") or "")] if what else []
            if what and step.get("continue_on_error"):
                why.append("`continue-on-error: true` on its step" if system == "github"
                           else "`catchError`/`warnError`/dropped `returnStatus` around it")
            if any(why) and not reported_later(data, i) and not extra:
                yield Hit(path=("steps", i, "commands", j), message=(
                    f"`{cmd.get('text') or ' '.join(argv)}` in job '{name}' runs {what} but "
                    f"{' and '.join(w for w in why if w)} ignores its failure: failing tests do not stop the "
                    f"pipeline; {where}"))
            flag = skip_flag(argv, cmd.get("env"), opts) if argv else ""
            if flag and not _DOCS_JOB.search(name) \
                    and not all(_DOC_GOALS.match(g) for g in argv[1:] if not g.startswith("-")):
                bare = _untested(ctx, resource, deploys, opts)
                if bare:
                    yield Hit(path=("steps", i, "commands", j), message=(
                        f"`{program(argv[0])} ... {flag}` in job '{name}' builds with the tests turned off, and no "
                        f"other job runs tests before deploy job '{bare[0]}'; {where}"))
    if not is_test:
        return
    if not extra:
        yield from _condition_hits(resource, opts, where)
    others = [d for n, d in pipeline_jobs(ctx, resource) if n != name and enforced(d, opts)]
    for dname, ddata, act in deploys:
        branches = deploy_branches(ddata) if dname != name else []
        if branches == ["*"]:  # the deploy runs everywhere: on the branches the test job excludes, too
            branches = [p for c in data.get("conditions") or [] for p in branch_filters(str(c))[1]]
        for b in branches:
            ok, k, why = runs_on(data, b)
            if not ok and not any(runs_on(d, b)[0] for d in others):
                yield Hit(path=("conditions", k) if k is not None else (), message=(
                    f"test job '{name}' does not run on '{b}' ({why}), but deploy job '{dname}' runs `{act}` "
                    f"there and no other test job does: what ships from '{b}' is untested"))
                break
