"""PM814: CI installs Python dependencies without a lock or hash check."""
import os
import re

from ...model import Severity
from ..delivery._deploys import commands, tool, words
from ..registry import Hit, rule

# pip install options that take a separate value (`-i URL`), so the value is not taken for a package
_VALUED = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
           "--src", "--trusted-host", "--platform", "--python-version", "--implementation", "--abi", "--cache-dir",
           "--log", "--timeout", "--retries", "--proxy", "--cert", "--client-cert", "--progress-bar", "-C",
           "--config-settings", "--global-option", "--upgrade-strategy", "--only-binary", "--no-binary", "--report",
           "--python", "-p", "--exists-action", "--root-user-action"}
_BOOTSTRAP = {"pip", "setuptools", "wheel"}  # upgrading the installer itself
_LOCKED_NAME = re.compile(r"(?i)(^|[-_./])(lock|locked|lockfile|pinned|frozen|hashes)([-_./]|$)")
_TOOLS = ["pre-commit", "tox", "nox", "ruff", "black", "isort", "flake8", "pylint", "mypy", "pytest", "coverage",
          "codecov", "twine", "build", "poetry", "pipenv", "pipx", "pip-tools", "uv", "virtualenv", "awscli", "ansible",
          "checkov", "semgrep", "bandit", "safety", "pip-audit", "mkdocs", "sphinx", "hatch", "pdm", "cookiecutter"]


def _pip_args(argv: list) -> list | None:
    """Arguments after `install` for pip / python -m pip / uv pip installs, else None."""
    w = words(argv)
    t = tool(argv)
    if re.fullmatch(r"pip[0-9.]*", t):
        rest = w[1:]
    elif re.fullmatch(r"(python|py)[0-9.]*", t) and w[1:3] == ["-m", "pip"]:
        rest = w[3:]
    elif t == "uv" and w[1:2] == ["pip"]:
        rest = w[2:]
    else:
        return None
    return rest[1:] if rest[:1] == ["install"] else None


def _name(spec: str) -> str:
    return re.split(r"[<>=!~;\[@ ]", spec, 1)[0].strip().lower()


def _pinned(spec: str) -> bool:
    if re.search(r"==[^*,;]*$", spec.split(";")[0]) and "*" not in spec:
        return True
    return bool(re.search(r"@[0-9a-f]{40}\b|#sha256=[0-9a-f]{64}", spec))  # a VCS commit or an archive hash


def _judge(args: list, tools: set) -> tuple:
    """(severity, why) for one pip install, or None when it is locked or harmless."""
    flags, specs, reqs, skip = set(), [], [], None
    for a in args:
        if skip:
            (reqs if skip in ("-r", "--requirement") else specs if skip in ("-e", "--editable") else []).append(a)
            skip = None
            continue
        if a.startswith("-"):
            head = a.split("=", 1)[0]
            if head in ("-r", "--requirement", "-e", "--editable", "-c", "--constraint") and "=" in a:
                (reqs if head in ("-r", "--requirement") else specs if head in ("-e", "--editable") else []).append(
                    a.split("=", 1)[1])
            elif head in _VALUED | {"-r", "--requirement", "-e", "--editable", "-c", "--constraint"} and "=" not in a:
                skip = head
            flags.add(head)
            continue
        specs.append(a)
    if flags & {"--require-hashes", "-c", "--constraint"}:
        return None
    if any("$" in s for s in reqs + specs):
        return None  # the files or packages are only known at run time
    reqs = [r for r in reqs if not _LOCKED_NAME.search(os.path.basename(r))]
    if reqs:
        return Severity.MEDIUM, (f"installs {', '.join(reqs)} without --require-hashes: every version range and "
                                 "transitive dependency resolves to whatever the index serves at build time")
    local = [s for s in specs if s.startswith((".", "/")) or s.endswith((".whl", ".tar.gz", ".zip"))]
    if local and "--no-deps" not in flags:
        return Severity.MEDIUM, (f"installs the project `{local[0]}` with its dependencies resolved from the ranges "
                                 "in pyproject/setup.py, not from a lock")
    named = [s for s in specs if s not in local and _name(s) not in _BOOTSTRAP and not _pinned(s)]
    if not named:
        return None
    if all(_name(s) in tools for s in named):
        return Severity.LOW, f"installs the tool(s) {', '.join(named)} unpinned: the next release runs in CI unreviewed"
    return Severity.MEDIUM, f"installs {', '.join(named)} unpinned (no `==`): the newest release is built and shipped"


def _other(argv: list) -> tuple:
    """uv sync / pipenv install without their lock-enforcing flags."""
    w, t = words(argv), tool(argv)
    if t == "uv" and w[1:2] == ["sync"] and not {"--locked", "--frozen"} & set(w):
        return Severity.MEDIUM, "re-locks when pyproject.toml and uv.lock disagree instead of failing; add --locked"
    if t == "pipenv" and w[1:2] == ["install"] and not {"--deploy", "--ignore-pipfile"} & set(w) and not any(
            not a.startswith("-") for a in w[2:]):  # `pipenv install pkg` adds a package: not an install of the lock
        return Severity.MEDIUM, ("re-locks when Pipfile.lock is out of date instead of failing; use "
                                 "`pipenv install --deploy` or `pipenv sync`")
    return None


@rule(id="PM814", name="pip-install-without-hashes", severity="medium",
      severity_reason="The build installs whatever versions the package index serves at that moment, including a "
                      "freshly hijacked release, instead of the ones reviewed.",
      incidents=["8.1"], title="CI installs Python dependencies without a lock or hashes",
      formats=("pipeline",), kinds=("PipelineJob",), options={"tools": _TOOLS},
      fix="Install from a lock: `pip install --require-hashes -r requirements.txt` (pip-compile "
          "--generate-hashes), `-c constraints.txt`, `uv sync --locked`, `poetry install` or `pipenv sync`.")
def check(resource, ctx):
    """## What it checks
    Every shell command of CI jobs (GitHub Actions, GitLab CI, Jenkins; not local `script`/`make`
    recipes): `pip install`, `pip3 install`, `python -m pip install` and `uv pip install` of
    - `-r requirements.txt` without `--require-hashes` or a constraints file (`-c`); a file named
      like a lock (`requirements.lock`, `requirements-locked.txt`) counts as locked, since rules
      cannot read its content;
    - the project itself (`.`, `-e .`, a built wheel) without `--no-deps`: its dependency ranges
      resolve at build time;
    - named packages without `==` (or a VCS commit / `#sha256=`). Tools only (`pre-commit`, `tox`,
      `ruff`, ...: option `tools`) are reported at low severity; `pip install -U pip setuptools
      wheel` is not reported.
    Also `uv sync` without `--locked`/`--frozen` and `pipenv install` without `--deploy`.
    `pip-sync`, `uv pip sync`, `poetry install`, `pipenv sync` install a lock and are fine.
    Commands whose files or packages are variables (`-r $REQS`) are left alone.

    ## Why it breaks production
    In catalog 8.1 a hijacked maintainer account published a trojanized release and every build
    that resolved version ranges shipped it within hours. pip resolves ranges and unpinned
    transitive dependencies the same way; `--require-hashes` installs exactly the reviewed files.

    ## Bad
    ```yaml .github/workflows/test.yml
    on: push
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: pip install -r requirements.txt
    ```

    ## Good
    ```yaml .github/workflows/test.yml
    on: push
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: pip install --require-hashes -r requirements.txt
    ```

    ## Fix
    Generate hashes (`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`) and
    install with `--require-hashes`, or install from a lock tool (`uv sync --locked`, `poetry
    install`, `pipenv sync`); pin CI tools with `==`.
    """
    if resource.data.get("system") in ("script", "make"):
        return
    tools = {t.lower() for t in ctx.options.get("tools", _TOOLS)}
    for path, cmd in commands(resource):
        args = _pip_args(cmd["argv"])
        verdict = _judge(args, tools) if args is not None else _other(cmd["argv"])
        if verdict is None:
            continue
        severity, why = verdict
        text = " ".join(str(cmd.get("text") or " ".join(cmd["argv"])).split())[:100]
        yield Hit(path=path, severity=None if severity == Severity.MEDIUM else severity,
                  message=f"`{text}` in CI job '{resource.name}' {why} — a compromised release ships like the "
                          "trojanized package of catalog 8.1")
