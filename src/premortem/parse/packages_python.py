"""The Python formats of parse/packages.py: requirements files, pyproject.toml (PEP 621, Poetry,
uv), Pipfile and Pipfile.lock, poetry.lock / uv.lock / pdm.lock / pylock.toml, setup.cfg. Same
data and positions as described there; requirement strings are read with `packaging`, TOML with
`tomllib` (which keeps no positions: _TomlLines finds the lines of tables, keys and values)."""
from __future__ import annotations

import configparser
import re
import tomllib

from ..model import Resource
from .packages import (
    _PYLOCK,
    _dep,
    _Error,
    _json,
    _list,
    _map,
    _pkg,
    _resource,
    dev_requirements,
)


def parse(text: str, file: str, low: str) -> list:
    if low == "pipfile.lock":
        return [_pipfile_lock(text, file)]
    if low == "setup.cfg":
        return [r for r in [_setup_cfg(text, file)] if r]
    if low in ("pyproject.toml", "pipfile", "poetry.lock", "uv.lock", "pdm.lock", "pylock.toml") or _PYLOCK.match(low):
        doc = tomllib.loads(text)
        if low == "pyproject.toml":
            return [r for r in [_pyproject(doc, text, file)] if r]
        if low == "pipfile":
            return [_pipfile(doc, text, file)]
        return [_toml_lock(doc, text, file, low)]
    return [_requirements(text, file)]


def _pipfile_lock(text: str, file: str) -> Resource:
    doc, raw = _json(text)
    pkgs, pos, indexes = [], {}, []
    meta = _map(raw.get("_meta"))
    for i, s in enumerate(_list(meta.get("sources"))):
        if isinstance(s, dict):
            pos[("indexes", len(indexes))] = doc.position(("_meta", "sources", i, "url"))
            indexes.append({"url": str(s.get("url") or ""), "option": "source", "verify_ssl": s.get("verify_ssl")})
    for section in ("default", "develop"):
        for name, e in _map(raw.get(section)).items():
            if not isinstance(e, dict):
                continue
            source = "git" if e.get("git") else "path" if e.get("path") or e.get("file") else "registry"
            pos[("packages", len(pkgs))] = doc.position((section, name), key=True)
            pkgs.append(_pkg(name, str(e.get("version") or "").lstrip("="), e.get("git") or e.get("file") or "",
                             hashes=[h for h in _list(e.get("hashes")) if isinstance(h, str)],
                             dev=section == "develop", source=source))
    data = {"ecosystem": "pypi", "manager": "pipenv", "name": "", "version": "",
            "lock_version": meta.get("pipfile-spec", ""), "packages": pkgs, "indexes": indexes}
    return _resource("Lockfile", file, data, pos)


# ---- TOML (pyproject, Pipfile, poetry/uv/pdm/pylock) ------------------------------------------
class _TomlLines:
    """Where tables and keys are in a TOML text (tomllib keeps no positions): table headers, `key =`
    lines inside a table and quoted values after a line. Lines are 1-based."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(?:#.*)?$")

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.headers: list = []  # (table name, line)
        self._by_name: dict = {}  # table name -> [index in headers]
        for n, line in enumerate(self.lines, start=1):
            m = self._HEADER.match(line)
            if m:
                name = ".".join(p.strip().strip("\"'") for p in m.group(2).split("."))
                self._by_name.setdefault(name, []).append(len(self.headers))
                self.headers.append((name, n))

    def table(self, name: str, nth: int = 0) -> tuple:
        """(header line, last line) of the nth table `name`; (0, 0) when absent; '' is the root table."""
        hits = self._by_name.get(name, [])
        if not name:
            return 0, (self.headers[0][1] - 1 if self.headers else len(self.lines))
        if nth >= len(hits):
            return 0, 0
        i = hits[nth]
        end = self.headers[i + 1][1] - 1 if i + 1 < len(self.headers) else len(self.lines)
        return self.headers[i][1], end

    def key(self, table: str, key: str, nth: int = 0) -> tuple | None:
        start, end = self.table(table, nth)
        if not start and table:
            return None
        pat = re.compile(r"^(\s*)(?:\"%s\"|'%s'|%s)\s*=" % ((re.escape(key),) * 3))
        for n in range(start + 1, end + 1):
            m = pat.match(self.lines[n - 1])
            if m:
                return n, len(m.group(1)) + 1
        return None

    def value(self, literal: str, after: int, end: int | None = None) -> tuple | None:
        for n in range(max(after, 1), (end or len(self.lines)) + 1):
            line = self.lines[n - 1]
            for q in ('"', "'"):
                col = line.find(q + literal + q)
                if col >= 0:
                    return n, col + 1
        return None


def _pep508(text: str, group: str) -> dict:
    """A PEP 508 requirement string (pyproject, setup.cfg, Pipfile.lock-free places) via `packaging`."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement:
        name = re.split(r"[\s<>=!~;\[@(]", text.strip(), maxsplit=1)[0]
        d = _dep(name, text.strip()[len(name):].strip(), group)
    else:
        marker = str(req.marker) if req.marker else ""
        d = _url_dep(req.name, req.url, group, marker) if req.url else \
            _dep(req.name, str(req.specifier), group, marker=marker)
    d["written"] = text.split(";")[0].strip()
    return d


def _url_dep(name: str, url: str, group: str, marker: str = "", editable: bool = False) -> dict:
    """`git+https://host/org/repo.git@ref#egg=x`, `https://host/x.whl#sha256=...`, `./local/path`."""
    base, _, frag = url.partition("#")
    hashes = [h.replace("=", ":", 1) for h in re.findall(r"(?:sha256|sha384|sha512|md5)=[0-9a-fA-F]+", frag)]
    if base.startswith(("git+", "git:")) or ".git@" in base:
        path = base.split("://", 1)[-1]
        path = path.split("/", 1)[1] if "/" in path else ""
        ref = path.rsplit("@", 1)[1] if "@" in path else ""
        return _dep(name, "", group, "git", base[: len(base) - len(ref) - 1] if ref else base, ref, marker,
                    editable=editable)
    if re.match(r"^(https?|ftp)://", base):
        return _dep(name, "", group, "url", url, marker=marker, hashes=hashes, editable=editable)
    return _dep(name, "", group, "path", url, marker=marker, editable=editable)


def _poetry_dep(name: str, value, group: str) -> dict:
    d = _poetry_value(name, value, group)
    d["written"] = f'{name} = "{d["spec"]}"' if d["source"] == "registry" else name
    return d


def _poetry_value(name: str, value, group: str) -> dict:
    if isinstance(value, list):  # several constraints by marker: the first one speaks for all
        value = next((v for v in value if isinstance(v, (dict, str))), "")
    if isinstance(value, str):
        return _dep(name, value, group)
    if not isinstance(value, dict):
        return _dep(name, "", group)
    if value.get("git"):
        ref = value.get("rev") or value.get("tag") or value.get("branch") or value.get("ref") or ""
        d = _dep(name, "", group, "git", str(value["git"]), str(ref))
        d["ref_kind"] = next((k for k in ("rev", "tag", "branch", "ref") if value.get(k)), "")
        return d
    if value.get("path"):
        return _dep(name, "", group, "path", str(value["path"]), editable=bool(value.get("develop") or
                                                                                 value.get("editable")))
    if value.get("url") or value.get("file"):
        return _dep(name, "", group, "url", str(value.get("url") or value.get("file")))
    return _dep(name, str(value.get("version") or ""), group, marker=str(value.get("markers") or ""))


def _table_deps(lines: _TomlLines, table: str, block: dict, group: str, deps: list, pos: dict, keys: dict,
                convert, section: str) -> None:
    start, _ = lines.table(table)
    keys[("sections", section)] = (start, 1) if start else (1, 1)
    for name, value in block.items():
        if name.lower() == "python":  # the interpreter, not a package
            continue
        at = lines.key(table, name)
        if at is None:  # `[tool.poetry.dependencies.requests]` sub-table form
            sub = lines.table(f"{table}.{name}")[0]
            at = (sub, 1) if sub else (start or 1, 1)
        pos[("dependencies", len(deps))] = at
        deps.append(convert(name, value, group))


def _array_deps(lines: _TomlLines, table: str, key: str, items: list, group: str, deps: list, pos: dict,
                keys: dict, section: str) -> None:
    start, end = lines.table(table)
    at = lines.key(table, key)
    keys[("sections", section)] = at or (start or 1, 1)
    cursor = at[0] if at else start
    for item in items:
        if not isinstance(item, str):  # PEP 735 {include-group = "..."}
            continue
        found = lines.value(item, cursor, end)
        if found:
            cursor = found[0]
        pos[("dependencies", len(deps))] = found or at or (start or 1, 1)
        deps.append(_pep508(item, group))


def _indexes_from(lines: _TomlLines, table: str, entries, pos: dict, indexes: list, option: str) -> None:
    for i, s in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(s, dict) and s.get("url"):
            at = lines.key(table, "url", i)
            pos[("indexes", len(indexes))] = at or (1, 1)
            indexes.append({"url": str(s["url"]), "option": option, "verify_ssl": s.get("verify_ssl")})


def _pyproject(doc: dict, text: str, file: str) -> Resource | None:
    lines = _TomlLines(text)
    project = _map(doc.get("project"))
    tool = _map(doc.get("tool"))
    poetry = _map(tool.get("poetry"))
    uv = _map(tool.get("uv"))
    if not project and not poetry.get("dependencies") and not poetry.get("name"):
        return None  # tool configuration only (ruff, pytest...): no project is declared
    deps, pos, keys, indexes = [], {}, {}, []
    if isinstance(project.get("dependencies"), list):
        _array_deps(lines, "project", "dependencies", project["dependencies"], "prod", deps, pos, keys, "dependencies")
    for g, items in _map(project.get("optional-dependencies")).items():
        if isinstance(items, list):
            _array_deps(lines, "project.optional-dependencies", g, items, "optional", deps, pos, keys, f"optional:{g}")
    for g, items in _map(doc.get("dependency-groups")).items():
        if isinstance(items, list):
            _array_deps(lines, "dependency-groups", g, items, "dev", deps, pos, keys, f"group:{g}")
    if isinstance(poetry.get("dependencies"), dict):
        _table_deps(lines, "tool.poetry.dependencies", poetry["dependencies"], "prod", deps, pos, keys, _poetry_dep,
                    "dependencies")
    if isinstance(poetry.get("dev-dependencies"), dict):
        _table_deps(lines, "tool.poetry.dev-dependencies", poetry["dev-dependencies"], "dev", deps, pos, keys,
                    _poetry_dep, "dev-dependencies")
    for g, grp in _map(poetry.get("group")).items():
        if isinstance(grp, dict) and isinstance(grp.get("dependencies"), dict):
            _table_deps(lines, f"tool.poetry.group.{g}.dependencies", grp["dependencies"], "dev", deps, pos, keys,
                        _poetry_dep, f"group:{g}")
    sources = uv.get("sources") if isinstance(uv.get("sources"), dict) else {}
    for d in deps:  # [tool.uv.sources] turns a registry requirement into a git/path one
        src = sources.get(d["name"])
        if isinstance(src, dict) and d["source"] == "registry":
            conv = _poetry_dep(d["name"], src, d["group"])
            d.update({k: conv[k] for k in ("source", "url", "ref") if conv[k]})
            d["ref_kind"] = conv.get("ref_kind", "")
    _indexes_from(lines, "tool.poetry.source", poetry.get("source"), pos, indexes, "source")
    _indexes_from(lines, "tool.uv.index", uv.get("index"), pos, indexes, "index")
    for opt in ("index-url", "extra-index-url"):
        for url in [uv.get(opt)] if isinstance(uv.get(opt), str) else _list(uv.get(opt)):
            pos[("indexes", len(indexes))] = lines.key("tool.uv", opt) or (1, 1)
            indexes.append({"url": str(url), "option": opt, "verify_ssl": None})
    mode = poetry.get("package-mode") if isinstance(poetry.get("package-mode"), bool) else \
        uv.get("package") if isinstance(uv.get("package"), bool) else None
    manager = "poetry" if poetry.get("dependencies") else "uv" if uv else "pep621"
    data = {"ecosystem": "pypi", "manager": manager, "name": str(project.get("name") or poetry.get("name") or ""),
            "version": str(project.get("version") or poetry.get("version") or ""), "dependencies": deps,
            "build_system": "build-system" in doc, "package_mode": False if mode is False else None,
            "indexes": indexes}
    return _resource("PackageManifest", file, data, pos, keys)


def _pipfile_dep(name: str, value, group: str) -> dict:
    if isinstance(value, dict) and value.get("ref") and value.get("git"):
        d = _dep(name, "", group, "git", str(value["git"]), str(value["ref"]))
        d["ref_kind"] = "ref"
        return d
    if isinstance(value, dict) and not value.get("git") and not value.get("path") and not value.get("file"):
        return _dep(name, str(value.get("version") or ""), group, marker=str(value.get("markers") or ""))
    return _poetry_dep(name, value, group)


def _pipfile(doc: dict, text: str, file: str) -> Resource:
    lines = _TomlLines(text)
    deps, pos, keys, indexes = [], {}, {}, []
    for table, group in (("packages", "prod"), ("dev-packages", "dev")):
        if isinstance(doc.get(table), dict):
            _table_deps(lines, table, doc[table], group, deps, pos, keys, _pipfile_dep, table)
    _indexes_from(lines, "source", doc.get("source"), pos, indexes, "source")
    data = {"ecosystem": "pypi", "manager": "pipenv", "name": "", "version": "", "dependencies": deps,
            "indexes": indexes}
    return _resource("PackageManifest", file, data, pos, keys)


def _lock_source(e: dict, src: dict, manager: str) -> str:
    """Where a poetry.lock / uv.lock / pdm.lock / pylock.toml entry comes from."""
    if src.get("git") or src.get("type") == "git" or e.get("vcs"):
        return "git"
    if src.get("virtual") or src.get("editable"):
        return "workspace"
    if src.get("directory") or src.get("path") or src.get("type") in ("directory", "file") or e.get("directory"):
        return "path"
    if src.get("type") == "url" or (manager == "uv" and src.get("url")):
        return "url"
    return "registry"


def _toml_lock(doc: dict, text: str, file: str, low: str) -> Resource:
    """poetry.lock, uv.lock, pdm.lock (`[[package]]`) and pylock.toml (`[[packages]]`, PEP 751)."""
    lines = _TomlLines(text)
    table = "packages" if low.startswith("pylock") else "package"
    manager = {"poetry.lock": "poetry", "uv.lock": "uv", "pdm.lock": "pdm"}.get(low, "pip")
    old_files = _map(_map(doc.get("metadata")).get("files"))
    pkgs, pos = [], {}
    for i, e in enumerate(_list(doc.get(table))):
        if not isinstance(e, dict):
            continue
        name = str(e.get("name") or "")
        src = _map(e.get("source"))
        kind = _lock_source(e, src, manager)
        files = _list(e.get("files") or old_files.get(name))
        dists = ([e["sdist"]] if isinstance(e.get("sdist"), dict) else []) + \
            [w for w in _list(e.get("wheels")) if isinstance(w, dict)] + \
            ([e["archive"]] if isinstance(e.get("archive"), dict) else [])
        hashes = [f["hash"] for f in files if isinstance(f, dict) and f.get("hash")]
        for dist in dists:
            if dist.get("hash"):
                hashes.append(dist["hash"])
            for alg, h in _map(dist.get("hashes")).items():  # pylock: {sha256 = "..."}
                hashes.append(f"{alg}:{h}")
        resolved = str(src.get("registry") or src.get("git") or src.get("url") or e.get("index") or "")
        if kind == "git" and src.get("type") == "git":
            resolved = f"{src.get('url', '')}#{src.get('resolved_reference') or src.get('reference') or ''}"
        pos[("packages", len(pkgs))] = (lines.table(table, i)[0] or 1, 1)
        pkgs.append(_pkg(name, e.get("version"), resolved, hashes=hashes,
                         dev=(e.get("category") == "dev") if e.get("category") else None, source=kind))
        pkgs[-1]["dists"] = len(files) + len(dists)
    data = {"ecosystem": "pypi", "manager": manager, "name": "", "version": "",
            "lock_version": str(doc.get("version") or doc.get("lock-version") or
                                _map(doc.get("metadata")).get("lock-version", "")),
            "packages": pkgs, "indexes": []}
    return _resource("Lockfile", file, data, pos)


# ---- requirements.txt, setup.cfg ------------------------------------------------------------------
_INDEX_OPTS = {"-i": "--index-url", "--index-url": "--index-url", "--extra-index-url": "--extra-index-url",
               "-f": "--find-links", "--find-links": "--find-links", "--trusted-host": "--trusted-host"}
_FILE_OPTS = {"-r": "includes", "--requirement": "includes", "-c": "constraints", "--constraint": "constraints"}
_COMMENT = re.compile(r"(^|\s+)#.*$")


def _logical_lines(text: str):
    """(first line number, text) of requirement lines, joining `\\` continuations, comments cut."""
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), start=1):
        if not buf:
            start = n
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        buf += raw
        yield start, _COMMENT.sub("", buf).strip()
        buf = ""
    if buf:
        yield start, _COMMENT.sub("", buf).strip()


def _requirements(text: str, file: str) -> Resource:
    deps, pos, indexes = [], {}, []
    data = {"ecosystem": "pypi", "manager": "pip", "name": "", "version": "", "dependencies": deps,
            "indexes": indexes, "hash_mode": False, "constraints": [], "includes": []}
    lines, group = text.splitlines(), "dev" if dev_requirements(file) else "prod"
    for n, line in _logical_lines(text):
        if not line:
            continue
        col = len(lines[n - 1]) - len(lines[n - 1].lstrip()) + 1
        tokens = line.split()
        if tokens[0].startswith("-") and tokens[0] not in ("-e", "--editable") and \
                not tokens[0].startswith(("-e=", "--editable=")):
            opt, _, value = tokens[0].partition("=")
            value = value or (tokens[1] if len(tokens) > 1 else "")
            if opt in _INDEX_OPTS:
                pos[("indexes", len(indexes))] = (n, col)
                indexes.append({"url": value, "option": _INDEX_OPTS[opt], "verify_ssl": None})
            elif opt in _FILE_OPTS:
                data[_FILE_OPTS[opt]].append(value)
            elif opt == "--require-hashes":
                data["hash_mode"] = True
            continue
        editable = tokens[0] in ("-e", "--editable") or tokens[0].startswith(("-e=", "--editable="))
        if editable:
            tokens = ([tokens[0].partition("=")[2]] if "=" in tokens[0] else []) + tokens[1:]
        args = []
        for t in tokens:  # pip: the requirement runs until the first option
            if t.startswith("-"):
                break
            args.append(t)
        req = " ".join(args)
        if not req:  # `-e` with nothing after it
            continue
        hashes = re.findall(r"--hash[=\s]+(\S+)", line)
        if re.match(r"^(git\+|git:|hg\+|svn\+|bzr\+|https?://|ftp://|file:|\.{0,2}/)", req):
            egg = re.search(r"[#&]egg=([\w.\-\[\]]+)", req)
            tail = re.sub(r"(\.git)?(@[^/]*)?(#.*)?$", "", req.rstrip("/").rsplit("/", 1)[-1])
            d = _url_dep(egg.group(1) if egg else tail, req, "prod", editable=editable)
        else:
            d = _pep508(req, "prod")
            d["editable"] = editable
        d["hashes"] = d["hashes"] + hashes
        data["hash_mode"] = data["hash_mode"] or bool(hashes)
        d["group"] = group
        pos[("dependencies", len(deps))] = (n, col)
        deps.append(d)
    pinned = bool(deps) and (data["hash_mode"] or all(_exact_pip(d) for d in deps))
    if pinned:  # a compiled requirements file is a lock: its pins are the packages installed
        data["packages"] = [_pkg(d["name"], d["spec"].lstrip("="), d["url"], hashes=d["hashes"], source=d["source"],
                                 dev=group == "dev") for d in deps]
        pos.update({("packages", i): pos[("dependencies", i)] for i in range(len(deps))})
    return _resource("Lockfile" if pinned else "PackageManifest", file, data, pos)


def _exact_pip(d: dict) -> bool:
    if d["source"] == "git":
        return bool(re.fullmatch(r"[0-9a-f]{40}", d["ref"]))
    if d["source"] in ("url", "path"):
        return bool(d["hashes"])
    return bool(re.fullmatch(r"===?[^*,<>=!~\s]+", d["spec"]))


def _setup_cfg(text: str, file: str) -> Resource | None:
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        cp.read_string(text)
    except configparser.Error as exc:
        raise _Error(f"invalid setup.cfg: {str(exc).splitlines()[0]}", getattr(exc, "lineno", 1) or 1) from None
    if not cp.has_section("metadata") and not cp.has_section("options"):
        return None  # tool configuration only (flake8, pytest, isort...)
    lines = text.splitlines()
    deps, pos, keys, includes = [], {}, {}, []

    def add(section: str, option: str, group: str):
        key = next((n for n, ln in enumerate(lines, start=1) if re.match(rf"^{re.escape(option)}\s*[=:]", ln)), 1)
        keys[("sections", f"{section}:{option}")] = (key, 1)
        cursor = key
        value = cp.get(section, option)
        if value.strip().startswith("file:"):  # `install_requires = file: requirements.txt` (setuptools 62.6+)
            includes.extend(value.strip()[5:].split())
            return
        for item in value.splitlines():
            item = _COMMENT.sub("", item).strip()
            if not item:
                continue
            at = next((n for n in range(cursor, len(lines) + 1) if item in lines[n - 1]), cursor)
            cursor = at
            line = lines[at - 1]
            pos[("dependencies", len(deps))] = (at, len(line) - len(line.lstrip()) + 1)
            deps.append(_pep508(item, group))

    if cp.has_option("options", "install_requires"):
        add("options", "install_requires", "prod")
    if cp.has_section("options.extras_require"):
        for opt in cp.options("options.extras_require"):
            add("options.extras_require", opt, "optional")
    name = cp.get("metadata", "name", fallback="")
    data = {"ecosystem": "pypi", "manager": "setuptools", "name": name,
            "version": cp.get("metadata", "version", fallback=""), "dependencies": deps,
            "build_system": True, "package_mode": None, "indexes": [], "includes": includes}
    return _resource("PackageManifest", file, data, pos, keys)
