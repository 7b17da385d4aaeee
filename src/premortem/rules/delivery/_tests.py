"""Test commands in CI jobs: what runs tests, what skips them, and whether a failure is ignored.

`test_command(argv, options)` names the test run of a command ('' when it runs none), through
wrappers (`npx`, `poetry run`, `python -m`, `bundle exec`, `docker compose run ...`) and task
runners whose task is test-like (`npm run test:unit`, `make unit-test`, `gradle integrationTest`).
`skip_flag(argv, env, options)` finds `-DskipTests`, `-Dmaven.test.skip=true`, `gradle -x test`.
`ignored(cmds, j, run)` says why the failure of command j of a shell body is ignored.
`branch_filters(condition)` reads the branches a job condition requires or excludes.
Jobs: `is_test_job`, `enforced` (its tests fail it), `runs_on(data, branch)`, `deploy_branches`.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shlex

from ._deploys import expand, words

# programs that run tests whatever their arguments
TEST_TOOLS = ["pytest", "py.test", "tox", "nox", "jest", "vitest", "mocha", "rspec", "phpunit", "pest", "ctest",
              "karma", "ava", "nosetests", "behave", "gotestsum", "ginkgo", "bats", "prove", "newman"]
# "program subcommand": the subcommand (or, for task runners, a test-like task name) runs tests
TEST_SUBCOMMANDS = ["go test", "cargo test", "cargo nextest", "dotnet test", "dotnet vstest", "mvn test",
                    "mvn verify", "mvn integration-test", "gradle test", "gradle check", "npm test", "npm t",
                    "yarn test", "pnpm test", "bun test", "make test", "make check", "sbt test", "mix test",
                    "swift test", "flutter test", "deno test", "bazel test", "rake test", "rake spec",
                    "cypress run", "playwright test", "artisan test", "manage.py test", "nx test", "turbo test",
                    "python unittest"]
# runners whose task names are free: `npm run test:unit`, `make unit-test`, `gradle integrationTest`
TASK_RUNNERS = {"npm", "yarn", "pnpm", "bun", "make", "gradle", "nx", "turbo", "lerna", "rake", "just", "task",
                "mvn", "sbt"}
# system properties and tasks that turn tests off (value `false` turns them back on)
SKIP_FLAGS = ["-DskipTests", "-Dmaven.test.skip", "-Dmaven.test.skip.exec"]
_TEST_TASK = re.compile(r"^(?:test|tests|check|spec|e2e)$|(?:^|[-_:])(?:unit|integration|e2e|acceptance|"
                        r"functional|api)?[-_]?tests?(?:[-_:]|$)|[a-z]Tests?$|^test[A-Z]")
_NOT_TESTS = re.compile(r"(?i)lint|format|fmt|style|docs?\b|typecheck|mypy|flake8|build\b")
_TEST_SCRIPT = re.compile(r"^(?:run[-_])?(?:unit[-_]|integration[-_]|e2e[-_]|all[-_])?tests?(?:[-_]all)?(?:\.\w+)?$")
_ALIASES = {"mvnw": "mvn", "mvnd": "mvn", "gradlew": "gradle", "bazelisk": "bazel", "docker-compose": "docker",
            "podman": "docker", "bunx": "npx", "pnpx": "npx", "python3": "python", "py": "python"}
_RUNNERS = {"poetry": "run", "uv": "run", "pipenv": "run", "pdm": "run", "hatch": "run", "rye": "run",
            "bundle": "exec", "pnpm": "exec", "yarn": "exec", "coverage": "run", "dotenv": "", "xvfb-run": "",
            "npx": "", "nice": "", "stdbuf": "", "timeout": "duration"}


def program(arg: str) -> str:
    """`./mvnw` -> mvn, `/usr/bin/python3.11` -> python, `node_modules/.bin/jest` -> jest."""
    base = os.path.basename(arg)
    base = re.sub(r"\.(?:cmd|bat|exe)$", "", base)
    base = re.sub(r"^python3(?:\.\d+)?$", "python", base)
    return _ALIASES.get(base, base)


def _unwrap(args: list) -> list:
    """The command a wrapper runs (`poetry run pytest` -> `pytest`), else args."""
    for _ in range(4):
        if not args:
            return args
        p = program(args[0])
        if p in _RUNNERS:
            sub = _RUNNERS[p]
            rest = args[1:]
            if sub and sub != "duration":
                if not rest or rest[0] != sub:
                    return args
                rest = rest[1:]
            while rest and rest[0].startswith("-") and p != "coverage":
                rest = rest[1:]
            if sub == "duration":
                rest = rest[1:]
            if p == "coverage" and "-m" in rest:
                rest = ["python"] + rest[rest.index("-m"):]
            args = rest
        elif p == "python" and "-m" in args[1:3]:
            k = args.index("-m")
            return [args[k + 1]] + args[k + 2:] if k + 1 < len(args) and args[k + 1] in ("pytest", "tox", "nox") \
                else ["python"] + args[k + 1:]
        elif p == "python" and len(args) > 1:
            return [os.path.basename(args[1])] + args[2:]  # `python manage.py test`
        elif p in ("php",) and len(args) > 1:
            return [os.path.basename(args[1])] + args[2:]  # `php artisan test`
        elif p == "docker" and len(args) > 2 and ("run" in args[1:4] or "exec" in args[1:4]):
            inner = [a for a in args if program(a) in TEST_TOOLS]
            return args[args.index(inner[0]):] if inner else args
        else:
            return args
    return args


def _goals(args: list) -> list:
    """Non-flag arguments after the program (tasks, goals, scripts), skipping `-C dir`, `-f file`, `-p project`."""
    out, skip = [], False
    for a in args[1:]:
        if skip:
            skip = False
        elif a in ("-C", "-f", "-p", "-pl", "--project-dir", "--filter", "-w", "--workspace", "-x", "--exclude-task"):
            skip = True
        elif not a.startswith("-") and "=" not in a:
            out.append(a)
    return out


def test_command(argv: list, options: dict | None = None) -> str:
    """A short name of the tests a command runs ('' when it runs none)."""
    options = options or {}
    tools = set(options.get("test_tools", TEST_TOOLS))
    subs = {tuple(s.split(None, 1)) for s in options.get("test_subcommands", TEST_SUBCOMMANDS) if " " in s}
    args = _unwrap(words(list(argv)))
    if not args:
        return ""
    p = program(args[0])
    goals = _goals(args)
    if p in tools:
        if p in ("tox", "nox") and _NOT_TESTS.search(" ".join(args[1:])):
            return ""  # `tox -e lint`, `nox -s docs`
        return p
    if p in ("yarn", "pnpm") and goals and goals[0] in tools:
        return goals[0]  # `yarn jest`, `pnpm vitest run`
    for g in goals[:3] if p not in ("npm", "yarn", "pnpm", "bun") else goals[:2]:
        if (p, g) in subs:
            return f"{p} {g}"
        if p in TASK_RUNNERS and _TEST_TASK.search(g.rsplit(":", 1)[-1] if p in ("gradle", "mvn") else g) \
                and not _NOT_TESTS.search(g):
            if p in ("npm", "yarn", "pnpm", "bun") and goals[0] not in ("run", "run-script", g):
                return ""
            if p == "mvn" and ":" not in g:
                return ""  # maven phases are fixed: `mvn test`, `mvn verify` (listed above)
            return f"{p} {'run ' if goals[0] in ('run', 'run-script') and g != goals[0] else ''}{g}"
    if _TEST_SCRIPT.match(os.path.basename(args[0] if p not in ("bash", "sh") or len(args) < 2 else args[1])):
        return os.path.basename(args[0] if p not in ("bash", "sh") else args[1])
    return ""


def runs_tests(argv: list, env: dict | None = None, options: dict | None = None) -> bool:
    """test_command, or a build whose lifecycle runs the tests (`mvn package`, `gradle build`), without a skip flag."""
    if skip_flag(argv, env, options):
        return False
    if test_command(argv, options):
        return True
    args = words(list(argv))
    p = program(args[0]) if args else ""
    goals = set(_goals(args))
    return (p == "mvn" and bool(goals & {"package", "install", "deploy"})) or (p == "gradle" and "build" in goals)


def skip_flag(argv: list, env: dict | None = None, options: dict | None = None) -> str:
    """The flag that turns tests off in a build command, as written ('' when none)."""
    flags = (options or {}).get("skip_flags", SKIP_FLAGS)
    env = env or {}
    args, via = [], {}
    for a in words(list(argv)):
        e = expand(a, env)
        for w in (_split(e) if e != a else [e]):
            args.append(w)
            via[len(args) - 1] = a if e != a else ""
    if args and program(args[0]) == "mvn":
        for var in ("MAVEN_OPTS", "MAVEN_ARGS"):  # maven reads these itself
            for w in _split(env.get(var) or ""):
                args.append(w)
                via[len(args) - 1] = var
    for k, a in enumerate(args):
        name, _, value = a.partition("=")
        if name in flags and value.lower() not in ("false", "no", "0"):
            return a + (f" (from {via[k]})" if via.get(k) else "")
        if args and program(args[0]) == "gradle" and a in ("-x", "--exclude-task") and k + 1 < len(args):
            task = args[k + 1].rsplit(":", 1)[-1]
            if _TEST_TASK.search(task):
                return f"{a} {args[k + 1]}"
        if a.startswith("-x") and len(a) > 2 and args and program(args[0]) == "gradle" and _TEST_TASK.search(a[2:]):
            return a
    return ""


def _split(text: str) -> list:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def operators(run: str, cmds: list) -> list:
    """The shell operator after each command of a body (`&&`, `||`, `|`, `;`, `\\n`, '' at the end or unknown)."""
    ops, pos, ends = [], 0, []
    for c in cmds:
        at = run.find(c.get("text") or "\0", pos) if isinstance(run, str) else -1
        ends.append((at, at + len(c.get("text") or "")) if at >= 0 else None)
        pos = ends[-1][1] if at >= 0 else pos
    for k, here in enumerate(ends):
        nxt = ends[k + 1] if k + 1 < len(ends) else None
        if here is None or nxt is None:
            ops.append("")
            continue
        gap = run[here[1]:nxt[0]]
        m = re.search(r"\|\||&&|\||;|\n", gap)
        ops.append(m.group(0) if m else "")
    return ops


def ignored(cmds: list, j: int, run: str) -> str:
    """Why the failure of command j is ignored: `|| true`, `|| echo`, `set +e` ('' when it fails the step)."""
    ops = operators(run, cmds)
    k = j
    while k + 1 < len(cmds) and ops[k] == "&&":
        k += 1  # `pytest && echo ok || true`: the `||` catches pytest's failure too
    if cmds[k].get("or_true"):
        return f"`|| {' '.join(cmds[k + 1]['argv']) if k + 1 < len(cmds) else 'true'}`"
    if ops[k] == "||" and k + 1 < len(cmds):
        nxt = cmds[k + 1]
        if program(nxt["argv"][0]) in ("echo", "printf") and nxt.get("line") == cmds[k].get("line") \
                and ops[k + 1] in ("\n", ""):
            return f"`|| {nxt.get('text') or 'echo'}`"
    errexit = True
    for c in cmds[:j]:
        a = c.get("argv") or []
        if a[:1] == ["set"]:
            for flag in a[1:]:
                if re.match(r"^\+[a-z]*e", flag) or a[1:3] == ["+o", "errexit"]:
                    errexit = False
                elif re.match(r"^-[a-z]*e", flag) or a[1:3] == ["-o", "errexit"]:
                    errexit = True
    later = [c for c in cmds[j + 1:] if c.get("pipeline") is None or c.get("pipeline") != cmds[j].get("pipeline")]
    if not errexit and later and not any("$?" in c.get("text", "") or "PIPESTATUS" in c.get("text", "")
                                         for c in later):
        return "`set +e` earlier in the script"
    return ""


# branch tests in conditions: (regex, group of the branch, "==" or "!=")
_BRANCH_TESTS = [
    re.compile(r"github\.ref\s*(==|!=)\s*['\"]refs/heads/([^'\"]+)['\"]"),
    re.compile(r"github\.ref_name\s*(==|!=)\s*['\"]([^'\"]+)['\"]"),
    re.compile(r"\$CI_COMMIT_(?:BRANCH|REF_NAME)\s*(==|!=)\s*(?:[\"']([^\"']+)[\"']|(\$CI_DEFAULT_BRANCH))"),
    re.compile(r"\b(?:env\.)?BRANCH_NAME\s*(==|!=)\s*['\"]([^'\"]+)['\"]"),
]
_NOT_BRANCH = re.compile(r"\bnot\s*\{\s*branch\s*(?:pattern:\s*)?['\"]([^'\"]+)['\"]\s*\}")
_BRANCH = re.compile(r"(?<![\w.])branch\s*(?:pattern:\s*)?['\"]([^'\"]+)['\"]")
_EXCEPT = re.compile(r"^except:\s*(?:\{'refs':\s*)?(\[.*?\]|[\w./*-]+)\s*\}?$")


def branch_filters(condition: str) -> tuple[list, list]:
    """(branches required, branches excluded) by one job condition, as written."""
    cond = str(condition)
    # a GitLab rule that stops the job, or `except:` (variables): the tests mean "not there"
    never = bool(re.search(r"\bwhen:\s*never\s*$", cond)) or cond.startswith("except:")
    eq, ne = [], []
    m = _EXCEPT.match(cond)
    if m:
        names = re.findall(r"'([^']+)'", m.group(1)) or [m.group(1)]
        return [], [n for n in names if n not in ("tags", "schedules", "merge_requests", "api", "web", "triggers")]
    for rx in _BRANCH_TESTS:
        for m in rx.finditer(cond):
            name = next(g for g in m.groups()[1:] if g)
            (ne if (m.group(1) == "!=") != never else eq).append(name)
    for m in _NOT_BRANCH.finditer(cond):
        ne.append(m.group(1))
    rest = _NOT_BRANCH.sub("", cond)
    if not re.search(r"\b(?:anyOf|not)\s*\{", rest):
        eq += _BRANCH.findall(rest)
    return eq, ne


# -- jobs -------------------------------------------------------------------------------------------
_TEST_JOB = re.compile(r"(?i)(?:^|[^a-z])(?:tests?|unit|integration|e2e|spec|pytest|jest|qa)(?:[^a-z]|$)")
NOT_TEST_JOB = re.compile(r"(?i)lint|cover|codecov|report|docs?\b|clean|sonar|upload|publish|deploy|release|scan|"
                          r"sast|audit|format")
# a later step that fails the job on failed tests from the report (`fail-on-error` is their default)
_REPORT_ACTION = re.compile(r"(?i)(?:test|junit)[-_]?report")
_DEFAULT_BRANCH = {"main", "master", "$CI_DEFAULT_BRANCH"}


def is_test_job(name: str, data: dict, options: dict | None = None) -> bool:
    """Runs a test command, or is named like a test job (not lint, coverage, docs, scan ...)."""
    for step in data.get("steps") or []:
        if any(c.get("argv") and test_command(c["argv"], options) for c in step.get("commands") or []):
            return True
    return bool(_TEST_JOB.search(name)) and not NOT_TEST_JOB.search(name)


def reported_later(data: dict, i: int) -> bool:
    """A later step of the job publishes the test report and fails on failed tests (dorny/test-reporter
    by default, `fail-on-error`; mikepenz/action-junit-report only with `fail_on_failure: true`)."""
    for s in (data.get("steps") or [])[i + 1:]:
        if _REPORT_ACTION.search(s.get("uses") or ""):
            fail = {str(k).replace("_", "-"): str(v).lower() for k, v in (s.get("with") or {}).items()
                    if "fail" in str(k)}
            if fail.get("fail-on-failure") == "true" or (
                    "dorny/" in s["uses"] and fail.get("fail-on-error", "true") == "true"):
                return True
    return False


def enforced(data: dict, options: dict | None = None) -> bool:
    """The job runs tests (or a build that runs them) whose failure fails it."""
    if data.get("allow_failure"):
        return False
    for i, step in enumerate(data.get("steps") or []):
        cmds = step.get("commands") or []
        for j, c in enumerate(cmds):
            if c.get("argv") and runs_tests(c["argv"], c.get("env"), options) and (reported_later(data, i) or (
                    not step.get("continue_on_error") and not ignored(cmds, j, step.get("run") or ""))):
                return True
    return False


def _match(branch: str, pattern: str) -> bool:
    if branch in _DEFAULT_BRANCH and pattern in _DEFAULT_BRANCH:
        return True
    return branch == pattern or fnmatch.fnmatchcase(branch, pattern) or fnmatch.fnmatchcase(pattern, branch)


def runs_on(data: dict, branch: str) -> tuple:
    """(False, condition index or None, why) when the job's filters keep it off `branch`, else (True, None, '')."""
    conds = [str(c) for c in data.get("conditions") or []]
    eqs = list(data.get("branches") or [])
    for k, c in enumerate(conds):
        eq, ne = branch_filters(c)
        eqs += eq
        if any(_match(branch, p) for p in ne):
            return False, k, f"`{' '.join(c.split())[:80]}` excludes '{branch}'"
    if eqs and not any(_match(branch, p) for p in eqs):
        k = next((k for k, c in enumerate(conds) if any(p in c for p in eqs)), None)
        return False, k, f"it runs only on {', '.join(repr(p) for p in dict.fromkeys(eqs))}"
    return True, None, ""


def deploy_branches(data: dict) -> list:
    """Branches a job runs on (a condition on the branch is narrower than the workflow's list);
    ['*'] when nothing narrows it, [] when conditions we cannot read do."""
    eqs = [b for c in data.get("conditions") or [] for b in branch_filters(str(c))[0]] or data.get("branches")
    if eqs:
        return list(dict.fromkeys(eqs))
    return ["*"] if not data.get("conditions") else []
