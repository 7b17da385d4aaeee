"""Package manifests and lockfiles (npm, yarn, pnpm, bun, pip, Poetry, uv, Pipenv, PDM, setuptools)
into Resources of format "package", one per file, with a line for every dependency.

Kinds: `PackageManifest` (package.json, requirements*.txt with a range in it, pyproject.toml that
declares a project, Pipfile, setup.cfg), `Lockfile` (package-lock.json, npm-shrinkwrap.json,
yarn.lock v1 and berry, pnpm-lock.yaml, bun.lock, Pipfile.lock, poetry.lock, uv.lock, pdm.lock,
pylock.toml, and a requirements file whose every requirement is pinned with `==` or hashed, as
pip-compile writes them), `RegistryConfig` (.npmrc: registry settings only, never tokens).

data (every key present for its kind; values are plain str/bool/list/dict):
- all: "ecosystem" ("npm" | "pypi"), "manager" (npm, yarn, pnpm, bun, pip, pep621, poetry, uv,
  pipenv, pdm, setuptools), "name", "version".
- manifests: "dependencies": [{"name", "spec" (range/version as written, '' for none), "group"
  (prod | dev | optional | peer), "source" (registry | git | url | path | workspace | alias),
  "url", "ref" (git ref after `#`/`@`, '' for none), "marker", "hashes": [...], "editable"}];
  npm: "private", "scripts" {name: command}, "fields" (which of main/module/exports/types/
  typings/files/bin/publishConfig/workspaces are present); pyproject: "build_system", "package_mode"
  (False when Poetry `package-mode = false` / uv `package = false`, else None);
  "indexes": [{"url", "option", "verify_ssl"}] (pip index options, Pipfile/Poetry/uv sources);
  requirements: "hash_mode", "constraints", "includes".
- lockfiles: "lock_version", "packages": [{"name", "version", "resolved", "integrity", "hashes",
  "dev" (True/False/None), "source", "bundled"}], "indexes" as above (Pipfile.lock sources).
- RegistryConfig: "settings": [{"key", "value"}] (registry URLs, strict-ssl).
Positions: ("dependencies", ID), ("packages", ID) (ID = the item's "id": `prod:express`, `ms@2.1.3`),
("indexes", i), ("settings", i), ("scripts", NAME)
at their line; key_positions ("sections", NAME) at the key or header of a dependency section.
JSON is read with tfplan.JsonText (positions on demand, whole-line `//`/`#` comments allowed).
The npm formats are parsed here, the Python ones in packages_python.py.
"""
from __future__ import annotations

import posixpath
import re
import tomllib

from ..model import Origin, Resource, ScanError

NPM_LOCKS = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock")
PY_LOCKS = ("pipfile.lock", "poetry.lock", "uv.lock", "pdm.lock", "pylock.toml")
_NAMES = {"package.json", "pyproject.toml", "pipfile", "setup.cfg", ".npmrc"} | set(NPM_LOCKS) | set(PY_LOCKS)
_REQUIREMENTS = re.compile(r"^(?:.*[-_.])?requirements(?:[-_.].*)?\.(?:txt|pip)$")
_PYLOCK = re.compile(r"^pylock\.[\w.-]+\.toml$")
_NPM_SECTIONS = (("dependencies", "prod"), ("optionalDependencies", "optional"), ("peerDependencies", "peer"),
                 ("devDependencies", "dev"))
_NPM_FIELDS = ("main", "module", "exports", "types", "typings", "files", "bin", "publishConfig", "workspaces")
_GIT_URL = re.compile(r"^(git\+|git:|github:|gitlab:|bitbucket:|gist:)|^https?://\S+\.git(#|$)")
_GH_SHORT = re.compile(r"^[\w.-]+/[\w.-]+(#.*)?$")


def is_package_file(name: str, rel: str = "") -> bool:
    low = name.lower()
    if low in _NAMES or _REQUIREMENTS.match(low) or _PYLOCK.match(low):
        return True
    parent = posixpath.basename(posixpath.dirname(rel)).lower()
    return parent == "requirements" and low.endswith(".txt")


_DEV_NAME = re.compile(r"(?i)(^|[-_.])(dev|develop|development|test|tests|testing|docs?|lint|ci|tox|typing|mypy|"
                       r"local|bench|benchmarks?|examples?)([-_.]|$)")
_DEV_DIRS = {"docs", "doc", "test", "tests", "testing", "examples", "example", "bench", "benchmarks", ".github"}


def dev_requirements(file: str) -> bool:
    """A requirements file for development, tests or docs (`requirements-dev.txt`, `docs/requirements.txt`):
    its requirements are read with group "dev"."""
    *dirs, base = file.lower().split("/")
    return bool(_DEV_NAME.search(base.rsplit(".", 1)[0])) or any(d in _DEV_DIRS for d in dirs)


def parse_package(text: str, file: str) -> tuple[list, list]:
    """(resources, errors) of one manifest or lockfile; the Python formats live in packages_python."""
    from . import packages_python

    low = posixpath.basename(file).lower()
    try:
        if low == "package.json":
            return [_package_json(text, file)], []
        if low in ("package-lock.json", "npm-shrinkwrap.json"):
            return [_npm_lock(text, file)], []
        if low == "bun.lock":
            return [_bun_lock(text, file)], []
        if low == "yarn.lock":
            return [_yarn_berry(text, file) if "__metadata:" in text else _yarn_v1(text, file)], []
        if low == "pnpm-lock.yaml":
            return [_pnpm_lock(text, file)], []
        if low == ".npmrc":
            return [_npmrc(text, file)], []
        return packages_python.parse(text, file, low), []
    except _Error as exc:
        return [], [ScanError(file, exc.line, exc.message, exc.column)]
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (max(len(text.splitlines()), 1), 0)
        return [], [ScanError(file, line, f"invalid TOML: {str(exc).split(' (at ')[0]}", col)]


class _Error(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 0):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def _resource(kind: str, file: str, data: dict, positions: dict, key_positions: dict | None = None) -> Resource:
    """Positions arrive keyed by list index; they leave keyed by each item's stable `id`
    (`prod:express`, `lodash@4.17.21`), so a finding's fingerprint survives insertions above it."""
    for table, fmt in (("dependencies", "{group}:{name}"), ("packages", "{name}@{version}")):
        seen: dict = {}
        for i, item in enumerate(data.get(table) or []):
            ident = fmt.format(**item)
            seen[ident] = seen.get(ident, 0) + 1
            item["id"] = ident if seen[ident] == 1 else f"{ident}#{seen[ident]}"
            if (table, i) in positions:
                positions[(table, item["id"])] = positions.pop((table, i))
    positions.setdefault((), (1, 1))
    name = data.get("name") or file
    return Resource(format="package", kind=kind, name=str(name), namespace="", data=data, file=file, line=1,
                    positions=positions, key_positions=key_positions or {}, origin=Origin("file", file))


def _map(x) -> dict:
    return x if isinstance(x, dict) else {}


def _list(x) -> list:
    return x if isinstance(x, list) else []


def _dep(name: str, spec: str = "", group: str = "prod", source: str = "registry", url: str = "", ref: str = "",
         marker: str = "", hashes=(), editable: bool = False) -> dict:
    return {"name": str(name), "spec": str(spec or ""), "group": group, "source": source, "url": str(url or ""),
            "ref": str(ref or ""), "marker": str(marker or ""), "hashes": list(hashes), "editable": editable}


def _pkg(name: str, version: str = "", resolved: str = "", integrity: str = "", hashes=(), dev=None,
         source: str = "registry", bundled: bool = False) -> dict:
    return {"name": str(name), "version": str(version or ""), "resolved": str(resolved or ""),
            "integrity": str(integrity or ""), "hashes": [str(h) for h in hashes], "dev": dev, "source": source,
            "bundled": bundled}


# ---- JSON ------------------------------------------------------------------------------------
def _json(text: str, trailing_commas: bool = False):
    from .tfplan import JsonText

    if trailing_commas:  # bun.lock is JSONC: blank the commas so offsets stay put
        text = re.sub(r",(\s*[}\]])", lambda m: " " + m.group(1), text)
    doc = JsonText(text)
    try:
        data = doc.load()
    except ValueError as exc:
        raise _Error(f"invalid JSON: {exc.args[0]}", exc.args[1], exc.args[2]) from None
    if not isinstance(data, dict):
        raise _Error("invalid package file: the top level is not a JSON object")
    return doc, data


def npm_spec(name: str, spec) -> dict:
    """One package.json dependency: where it comes from (npm-package-arg's categories)."""
    spec = spec.strip() if isinstance(spec, str) else ""
    if spec.startswith("npm:"):  # an alias: "npm:real-name@^1.2"
        inner = spec[4:]
        at = inner.find("@", 1)
        return _dep(inner[:at] if at > 0 else inner, inner[at + 1:] if at > 0 else "", source="alias")
    if spec.startswith(("file:", "link:", "portal:")):
        return _dep(name, spec, source="path", url=spec)
    if spec.startswith("workspace:"):
        return _dep(name, spec, source="workspace")
    if _GIT_URL.match(spec) or (_GH_SHORT.match(spec) and not spec.startswith(("@", "."))):
        base, _, ref = spec.partition("#")
        return _dep(name, spec, source="git", url=base, ref=ref)
    if re.match(r"^https?://", spec):
        return _dep(name, spec, source="url", url=spec)
    return _dep(name, spec)


def _package_json(text: str, file: str) -> Resource:
    doc, raw = _json(text)
    deps, pos, keys = [], {}, {}
    for section, group in _NPM_SECTIONS:
        block = raw.get(section)
        if not isinstance(block, dict):
            continue
        keys[("sections", section)] = doc.position((section,), key=True)
        for name, spec in block.items():
            d = npm_spec(name, spec)
            d["group"], d["alias"], d["written"] = group, name, spec if isinstance(spec, str) else ""
            pos[("dependencies", len(deps))] = doc.position((section, name), key=True)
            deps.append(d)
    scripts = {k: v for k, v in _map(raw.get("scripts")).items() if isinstance(v, str)}
    for k in scripts:
        pos[("scripts", k)] = doc.position(("scripts", k))
    data = {"ecosystem": "npm", "manager": "npm", "name": str(raw.get("name") or ""),
            "version": str(raw.get("version") or ""), "private": raw.get("private") is True,
            "scripts": scripts, "fields": [f for f in _NPM_FIELDS if f in raw], "dependencies": deps,
            "indexes": []}
    return _resource("PackageManifest", file, data, pos, keys)


def _npm_source(entry: dict) -> str:
    if entry.get("link"):
        return "link"
    ref = str(entry.get("resolved") or entry.get("version") or "")
    if _GIT_URL.match(ref):
        return "git"
    if ref.startswith(("file:", "link:")):
        return "path"
    return "registry"


def _npm_lock(text: str, file: str) -> Resource:
    doc, raw = _json(text)
    pkgs, pos = [], {}

    def add(path: tuple, name: str, e: dict):
        pos[("packages", len(pkgs))] = doc.position(path, key=True)
        pkgs.append(_pkg(name, e.get("version"), e.get("resolved"), e.get("integrity"),
                         dev=bool(e.get("dev") or e.get("devOptional")), source=_npm_source(e),
                         bundled=bool(e.get("inBundle") or e.get("bundled"))))

    if isinstance(raw.get("packages"), dict):  # lockfileVersion 2 and 3
        for key, e in raw["packages"].items():
            if key and isinstance(e, dict):
                name = e.get("name") or key.rpartition("node_modules/")[2]
                if e.get("link") or e.get("version") or e.get("resolved"):
                    add(("packages", key), str(name), e)
                    if "node_modules/" not in key:  # a workspace member or `file:` target: local source
                        pkgs[-1]["source"] = "workspace"
    else:  # lockfileVersion 1: nested "dependencies"
        def walk(block, path):
            for name, e in block.items():
                if isinstance(e, dict):
                    add(path + (name,), name, e)
                    if isinstance(e.get("dependencies"), dict):
                        walk(e["dependencies"], path + (name, "dependencies"))

        if isinstance(raw.get("dependencies"), dict):
            walk(raw["dependencies"], ("dependencies",))
    data = {"ecosystem": "npm", "manager": "npm", "name": str(raw.get("name") or ""),
            "version": str(raw.get("version") or ""), "lock_version": raw.get("lockfileVersion", 1),
            "packages": pkgs, "indexes": []}
    return _resource("Lockfile", file, data, pos)


def _bun_lock(text: str, file: str) -> Resource:
    doc, raw = _json(text, trailing_commas=True)
    pkgs, pos = [], {}
    for key, e in _map(raw.get("packages")).items():
        if not isinstance(e, list) or not e or not isinstance(e[0], str):
            continue
        ident = e[0]
        at = ident.find("@", 1)
        name, version = (ident[:at], ident[at + 1:]) if at > 0 else (ident, "")
        source = "workspace" if version.startswith("workspace:") else "git" if _GIT_URL.match(version) else \
            "path" if version.startswith(("file:", "link:")) else "registry"
        resolved = e[1] if len(e) > 1 and isinstance(e[1], str) else ""
        integrity = e[3] if len(e) > 3 and isinstance(e[3], str) else ""
        pos[("packages", len(pkgs))] = doc.position(("packages", key), key=True)
        pkgs.append(_pkg(name, version if source == "registry" else "", resolved, integrity, source=source))
    data = {"ecosystem": "npm", "manager": "bun", "name": "", "version": "",
            "lock_version": raw.get("lockfileVersion", 0), "packages": pkgs, "indexes": []}
    return _resource("Lockfile", file, data, pos)


# ---- yarn and pnpm ---------------------------------------------------------------------------
def _split_ident(ident: str) -> tuple:
    """`@scope/name@range` -> (`@scope/name`, `range`)."""
    ident = ident.strip().strip("\"'")
    at = ident.find("@", 1)
    return (ident[:at], ident[at + 1:]) if at > 0 else (ident, "")


def _yarn_v1(text: str, file: str) -> Resource:
    pkgs, pos, cur = [], {}, None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and line.rstrip().endswith(":"):
            name, rng = _split_ident(line.rstrip()[:-1].split(",")[0])
            if rng.startswith("npm:"):  # "alias@npm:real@^1": the real package
                name, rng = _split_ident(rng[4:])
            cur = _pkg(name, source="git" if _GIT_URL.match(rng) else "path" if rng.startswith(("file:", "link:"))
                       else "registry")
            pos[("packages", len(pkgs))] = (n, 1)
            pkgs.append(cur)
        elif cur is not None and line.startswith("  ") and not line.startswith("   "):
            key, _, value = line.strip().partition(" ")
            value = value.strip().strip('"')
            if key == "version":
                cur["version"] = value
            elif key == "resolved":
                cur["resolved"] = value
                if _GIT_URL.match(value):
                    cur["source"] = "git"
            elif key == "integrity":
                cur["integrity"] = value
    data = {"ecosystem": "npm", "manager": "yarn", "name": "", "version": "", "lock_version": 1,
            "packages": pkgs, "indexes": []}
    return _resource("Lockfile", file, data, pos)


def _yaml(text: str):
    from .yamldoc import load_all

    docs, err = load_all(text)
    if err is not None:
        raise _Error(str(err), err.line, err.column)
    if not docs or not isinstance(docs[0].data, dict):
        raise _Error("invalid lockfile: the top level is not a mapping")
    return docs[0]


def _yarn_berry(text: str, file: str) -> Resource:
    doc = _yaml(text)
    pkgs, pos = [], {}
    for key, e in doc.data.items():
        if key == "__metadata" or not isinstance(e, dict):
            continue
        name, proto = _split_ident(str(e.get("resolution") or str(key).split(",")[0]))
        kind = proto.split(":", 1)[0] if ":" in proto else "npm"
        source = {"npm": "registry", "patch": "registry", "workspace": "workspace", "link": "link", "portal": "link",
                  "file": "path"}.get(kind, "git" if "git" in proto or kind in ("github", "git") else "url")
        pos[("packages", len(pkgs))] = doc.key_positions.get((key,), (1, 1))
        pkgs.append(_pkg(name, e.get("version"), proto if source in ("url", "git") else "", e.get("checksum") or "",
                         source=source))
    meta = doc.data.get("__metadata") if isinstance(doc.data.get("__metadata"), dict) else {}
    data = {"ecosystem": "npm", "manager": "yarn", "name": "", "version": "", "lock_version": meta.get("version", 2),
            "packages": pkgs, "indexes": []}
    return _resource("Lockfile", file, data, pos)


def _pnpm_key(key: str) -> tuple:
    """`/name@1.2.3(peer@1)` (v6), `name@1.2.3` (v9), `/@scope/name/1.2.3_peer` (v5) -> (name, version)."""
    key = re.sub(r"\(.*$", "", key.lstrip("/"))
    name, version = _split_ident(key)
    if not version and "/" in key:  # v5
        name, _, version = key.rpartition("/")
        version = version.split("_")[0]
    return name, version


def _pnpm_lock(text: str, file: str) -> Resource:
    doc = _yaml(text)
    pkgs, pos = [], {}
    for key, e in _map(doc.data.get("packages")).items():
        if not isinstance(e, dict):
            continue
        name, version = _pnpm_key(str(key))
        res = e.get("resolution") if isinstance(e.get("resolution"), dict) else {}
        source = "git" if res.get("type") == "git" or res.get("commit") else \
            "path" if res.get("type") == "directory" or res.get("directory") else "registry"
        pos[("packages", len(pkgs))] = doc.key_positions.get(("packages", key), (1, 1))
        pkgs.append(_pkg(str(e.get("name") or name), e.get("version") or version,
                         res.get("tarball") or res.get("repo") or "", res.get("integrity") or "",
                         dev=e.get("dev") if isinstance(e.get("dev"), bool) else None, source=source))
    data = {"ecosystem": "npm", "manager": "pnpm", "name": "", "version": "",
            "lock_version": str(doc.data.get("lockfileVersion", "")), "packages": pkgs, "indexes": []}
    return _resource("Lockfile", file, data, pos)


# ---- .npmrc ----------------------------------------------------------------------------------
def _npmrc(text: str, file: str) -> Resource:
    settings, pos = [], {}
    for n, line in enumerate(text.splitlines(), start=1):
        key, sep, value = line.strip().partition("=")
        key = key.strip()
        if not sep or key.startswith(("#", ";")):
            continue
        if key == "registry" or key.endswith(":registry") or key in ("strict-ssl", "replace-registry-host"):
            pos[("settings", len(settings))] = (n, len(line) - len(line.lstrip()) + 1)
            settings.append({"key": key, "value": value.strip().strip("\"'")})
    data = {"ecosystem": "npm", "manager": "npm", "name": "", "version": "", "settings": settings}
    return _resource("RegistryConfig", file, data, pos)
