"""PM823: a deployable Python app installs dependencies that are neither pinned nor hashed."""
import posixpath

from ..registry import Hit, rule
from ._packages import docker_dirs, indexed_files, lock_for, pip_exact


def _app(resource, project) -> str:
    """Why this manifest is a deployable app's ('' when it is not, or not clearly)."""
    d, here = resource.data, posixpath.dirname(resource.file)
    homes = {here, posixpath.dirname(here)} if posixpath.basename(here) == "requirements" else {here}
    docker = bool(homes & docker_dirs(project))
    if d["manager"] == "pip":
        setup = {posixpath.join(h, n) for h in homes for n in ("setup.py", "setup.cfg")}
        if not docker and setup & indexed_files(project):
            return ""  # a setuptools library reading its requirements file: its ranges are for consumers
        return "a Dockerfile in the same directory installs it" if docker else "a requirements file is an install list"
    if lock_for(project, resource.file, "pypi"):
        return ""
    if d["manager"] == "pipenv":
        return "a Pipfile is an application's manifest, and no Pipfile.lock is committed"
    if docker:
        return "a Dockerfile in the same directory installs it"
    if d.get("package_mode") is False:
        return "it is not built as a package (`package-mode = false` / `package = false`) and has no lockfile"
    if d["manager"] != "setuptools" and not d.get("build_system"):
        return "it has no [build-system], so it is run, not published, and has no lockfile"
    return ""


@rule(id="PM823", name="python-requirements-unpinned", severity="medium",
      severity_reason="Each build installs the newest release matching the range, including one published by "
                      "whoever took over the project that morning.",
      incidents=["8.1"], title="Python app installs unpinned dependencies",
      formats=("package",), kinds=("PackageManifest",),
      fix="Compile the ranges into a lock: `pip-compile --generate-hashes` / `uv pip compile --generate-hashes` "
          "into requirements.txt, or commit `uv.lock` / `poetry.lock` / `Pipfile.lock`.")
def check(resource, ctx):
    """## What it checks
    Production dependencies without an exact `==` pin (Poetry: a bare `1.2.3` too) or a hash,
    in the manifests of deployable Python apps:
    - `requirements*.txt` and `requirements/*.txt` — install lists by nature — except files for
      development, tests or docs (`requirements-dev.txt`, `requirements/test.txt`,
      `docs/requirements.txt`), files that name a constraints file (`-c constraints.txt`: the
      constraints pin) and a setuptools library's own list (a `setup.py`/`setup.cfg` beside it,
      or above its `requirements/` folder, and no Dockerfile there). A file with any `--hash` is
      in pip's hash-checking mode and fine;
    - `pyproject.toml` (PEP 621 `dependencies`, `[tool.poetry.dependencies]`), `Pipfile` and
      `setup.cfg` `install_requires` of an app — a Dockerfile in the same directory, no
      `[build-system]`, Poetry `package-mode = false` or uv `package = false`, and every Pipfile —
      when no lockfile (`uv.lock`, `poetry.lock`, `Pipfile.lock`, `pdm.lock`, `pylock.toml` or a
      fully pinned requirements file) sits beside it or in a parent directory. A library's
      ranges in pyproject.toml (`[build-system]` and no Dockerfile) are right and not reported.
    Git requirements are PM824's, local paths are not reported.

    ## Why it breaks production
    In catalog 8.1 a hijacked maintainer account published a trojanized release and builds that
    resolved ranges shipped it within hours; PyPI has had the same (the hijacked `ctx` package
    in 2022). `requests>=2.31` installs whatever is newest on the day of the build, and so do
    its unpinned transitive dependencies.

    ## Bad
    ```text requirements.txt
    flask>=3.0
    requests
    gunicorn==22.0.0
    ```

    ## Good
    ```text requirements.txt
    flask==3.0.3
    requests==2.32.3
    gunicorn==22.0.0
    ```

    ## Fix
    Keep the ranges in `requirements.in` or pyproject.toml and compile them into a pinned,
    hashed requirements.txt (`pip-compile --generate-hashes`), or commit the lock of the tool
    you use; install with `pip install --require-hashes -r requirements.txt` / `uv sync --locked`.
    """
    d = resource.data
    if d.get("ecosystem") != "pypi" or d.get("constraints") or d.get("hash_mode"):
        return
    why = _app(resource, ctx.project)
    if not why:
        return
    for dep in d["dependencies"]:
        if dep["group"] != "prod" or dep["source"] in ("git", "path", "workspace") or dep["hashes"]:
            continue
        if dep["source"] == "url":
            what = f"`{dep['name']}` comes from a URL with no `#sha256=` hash"
        elif pip_exact(dep, d["manager"]):
            continue
        else:
            spec = "" if dep["spec"] in ("", "*") else dep["spec"]
            what = f"`{dep.get('written') or dep['name'] + spec}` is not pinned" + ("" if spec else " at all")
        yield Hit(path=("dependencies", dep["id"]),
                  message=f"{what} ({why}): every build installs whatever release is newest that day, a hijacked "
                          "one included, like the trojanized package of catalog 8.1; pin it with `==` and hashes")
