"""What the dependency rules (PM820-PM829) ask of package manifests and lockfiles: which lockfile
covers a manifest, whether a package is a deployable app, whether a version is exact, whether a
URL travels in clear text. Facts about other files come from the project index (file names of
Lockfile / DockerStage entries), never from the disk."""
from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

from ...parse.packages import NPM_LOCKS, PY_LOCKS, dev_requirements

_LIBRARY_FIELDS = ("module", "exports", "types", "typings", "files", "bin", "publishConfig")
_SEMVER = re.compile(r"^[=v]?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
def ecosystem_of_lock(file: str) -> str:
    low = posixpath.basename(file).lower()
    return "npm" if low in NPM_LOCKS else "pypi"


def _locks(project) -> dict:
    """{directory: [lockfile path, ...]} of every Lockfile in the scan (memoized per project)."""
    def compute(p):
        out: dict = {}
        for e in p.of_kind("Lockfile"):
            out.setdefault(posixpath.dirname(e.file), []).append(e.file)
        return out

    return project.memo("packages:locks", compute)


def docker_dirs(project) -> set:
    return project.memo("packages:docker-dirs", lambda p: {e.facts.get("dir") or "" for e in p.of_kind("DockerStage")})


def indexed_files(project) -> set:
    return project.memo("packages:files", lambda p: {e.file for e in p.entries})


def lock_for(project, file: str, ecosystem: str, requirements: bool = True) -> str:
    """The lockfile that pins `file`'s dependencies: in its directory or a parent one (a workspace
    root), of the same ecosystem; '' when none. `requirements=False` leaves out pinned requirement
    files (they are installed on their own, not with the manifest)."""
    table = _locks(project)
    d = posixpath.dirname(file)
    while True:
        for lock in sorted(table.get(d, [])):
            low = posixpath.basename(lock).lower()
            real = low in NPM_LOCKS + PY_LOCKS or low.startswith("pylock")
            if ecosystem_of_lock(lock) == ecosystem and (real or requirements and not dev_requirements(lock)):
                return lock
        if not d:
            return ""
        d = posixpath.dirname(d)


def npm_role(resource, project) -> tuple:
    """("app" | "library" | "unknown", why) of a package.json."""
    d = resource.data
    if d.get("private"):
        return "app", "`private: true`: never published, so built and run"
    if "start" in d.get("scripts", {}):
        return "app", "it has a `start` script"
    if posixpath.dirname(resource.file) in docker_dirs(project):
        return "app", "a Dockerfile in the same directory builds it"
    lib = [f for f in d.get("fields", []) if f in _LIBRARY_FIELDS]
    if lib:
        return "library", f"it publishes `{lib[0]}`"
    return "unknown", ""


def registry_deps(resource, groups=None) -> list:
    return [x for x in resource.data.get("dependencies", [])
            if x["source"] in ("registry", "alias") and (groups is None or x["group"] in groups)]


def npm_range(spec: str) -> str:
    """What an npm version spec lets through ('' for one exact version)."""
    s = (spec or "").strip()
    if _SEMVER.match(s):
        return ""
    if s in ("", "*", "x", "X", "latest") or re.fullmatch(r">=?\s*[\d.]+", s):
        return "any version, including the next major release"
    m = re.fullmatch(r"\^(\d+)\.(\d+)\.?(\d*).*", s)
    if m:
        major, minor = m.group(1), m.group(2)
        if major == minor == "0" and m.group(3):
            return ""  # ^0.0.3 is >=0.0.3 <0.0.4: that one version
        return (f"any {major}.x release from {s[1:]} up" if major != "0" else f"any 0.{minor}.x release")
    m = re.fullmatch(r"~\s*(\d+)\.(\d+).*", s) or re.fullmatch(r"(\d+)\.(\d+)(?:\.[xX*])?", s)
    if m:
        return f"any {m.group(1)}.{m.group(2)}.x patch release"
    m = re.fullmatch(r"~?\s*(\d+)(?:\.[xX*]){0,2}", s)
    if m:
        return f"any {m.group(1)}.x release"
    if not re.match(r"^[\d<>=~^vxX*| .-]", s):
        return f"whatever the `{s}` dist-tag points at when the install runs"
    return "a range of versions"


def pip_exact(dep: dict, manager: str) -> bool:
    """An exact pin: `==1.2.3` / `===1.2.3` (Poetry also takes a bare `1.2.3`)."""
    spec = (dep.get("spec") or "").replace(" ", "")
    if re.fullmatch(r"===?[^*,;<>!~]+", spec):
        return True
    return manager == "poetry" and bool(re.fullmatch(r"\d[\w.+!-]*", spec))


def commit_pinned(ref: str) -> bool:
    return bool(_COMMIT.match(ref or ""))


def plain_transport(url: str) -> str:
    """The clear-text scheme of `url` (http, git, git+http) for a host other than this machine, else ''."""
    url = (url or "").strip()
    low = url.lower()
    scheme = next((s for s in ("git+http", "http", "git") if low.startswith(s + "://")), "")
    if not scheme:
        return ""
    try:
        host = (urlsplit(url.split("+", 1)[1] if scheme == "git+http" else url).hostname or "").lower()
    except ValueError:
        host = ""
    if host in _LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.") or "$" in url[:12]:
        return ""
    return scheme


def short(items: list, n: int = 3) -> str:
    """`a, b, c and 4 more`."""
    head = ", ".join(items[:n])
    return head + (f" and {len(items) - n} more" if len(items) > n else "")
