"""Which files to scan and as what: walk the tree, honour .gitignore, skip vendored and binary files,
and group files into units (a plain file, a Helm chart directory, a Kustomize directory)."""
from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field

import pathspec

from .model import ScanError
from .parse.packages import is_package_file

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "vendor", "third_party", ".venv", "venv",
             "__pycache__", ".terraform", ".terragrunt-cache", ".tox", ".mypy_cache", ".pytest_cache", "bower_components"}
YAML_EXT = (".yaml", ".yml")
JSON_EXT = (".json",)
CODE_EXT = (".py", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BINARY_SNIFF = 8192


@dataclass
class Unit:
    """One thing parsed as a whole: a file, a chart directory or a kustomization directory."""

    kind: str  # yaml | json | dockerfile | helm | kustomize | terraform | pipeline kinds ...
    path: str  # absolute
    rel: str  # relative to the scan root
    size: int = 0
    members: list = field(default_factory=list)  # files owned by this unit (abs), for helm/kustomize


@dataclass
class Discovery:
    root: str
    units: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    files_seen: int = 0
    not_scanned: list = field(default_factory=list)  # (rel, why) of other files skipped on purpose


# `Dockerfile.<ext>` that is something else: code or docs about Dockerfiles, a template not yet
# rendered, BuildKit's per-Dockerfile ignore file, an editor's backup
NOT_DOCKERFILE_EXT = {"py", "go", "js", "mjs", "cjs", "ts", "rb", "java", "kt", "rs", "c", "h", "cc", "cpp", "cs", "php",
                      "pl", "lua", "groovy", "scala", "swift", "sh", "bash", "ps1", "bat", "md", "rst", "txt", "adoc",
                      "html", "json", "yaml", "yml", "toml", "xml", "ini", "cfg", "lock", "sum", "mod", "j2", "jinja",
                      "jinja2", "tpl", "tmpl", "template", "gotmpl", "erb", "mustache", "hbs", "in", "dockerignore",
                      "bak", "orig", "swp", "log", "diff", "patch", "snap",
                      # compiled and binary artifacts (the `dockerfile` package ships dockerfile.abi3.so)
                      "so", "dll", "dylib", "pyd", "pyc", "o", "a", "exe", "bin", "wasm", "jar", "class", "zip",
                      "gz", "tgz", "bz2", "xz", "zst", "tar", "png", "jpg", "jpeg", "gif", "svg", "ico", "pdf"}


def is_dockerfile(name: str) -> bool:
    """`Dockerfile`, `Dockerfile.prod`, `Dockerfile-alpine`, `api.dockerfile`, `Containerfile`..."""
    low = name.lower()
    for stem in ("dockerfile", "containerfile"):
        if low == stem or low.endswith("." + stem):
            return True
        if low.startswith(stem) and low[len(stem)] in "._-":
            rest = low[len(stem) + 1:]
            return not ("." in low[len(stem):] and low.rsplit(".", 1)[1] in NOT_DOCKERFILE_EXT) and bool(rest)
    return False


def _gitignore_spec(directory: str) -> pathspec.GitIgnoreSpec | None:
    path = os.path.join(directory, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:  # a pattern git itself ignores (a lone `!`): drop it, as git does, keep the rest
        good = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
                good.append(line)
            except Exception:
                continue
        return pathspec.GitIgnoreSpec.from_lines(good)


# Repository governance files, read by parse/repo.py (CODEOWNERS, branch protection as code,
# evidence of secret scanning); matched by name before the generic YAML rule.
REPO_FILES = {"codeowners", ".gitleaks.toml", "gitleaks.toml", ".pre-commit-config.yaml",
              ".pre-commit-config.yml", "settings.yml", "settings.yaml", ".secrets.baseline",
              ".trufflehog.yml", ".trufflehog.yaml"}


def pipeline_kind(name: str, rel: str) -> str | None:
    """CI definitions, by where CI systems look for them."""
    low = name.lower()
    parent = rel.rsplit("/", 2)
    if low.endswith(YAML_EXT) and (rel.startswith(".github/workflows/") or "/.github/workflows/" in rel
                                   or rel.startswith(".github/actions/") or "/.github/actions/" in rel):
        return "github"
    if low in (".gitlab-ci.yml", ".gitlab-ci.yaml") or (low.endswith(YAML_EXT) and (
            rel.startswith(".gitlab/ci/") or "/.gitlab/ci/" in rel)):
        return "gitlab"
    if low.endswith((".sh", ".bash")):
        return "script"
    if low in ("makefile", "gnumakefile") or low.endswith(".mk"):
        return "make"
    if name.startswith("Jenkinsfile") or (low.endswith(".groovy") and len(parent) >= 2 and
                                           parent[-2].split("/")[-1] in ("jenkins", "ci")):
        return "jenkins"
    return None


def classify(name: str, rel: str = "") -> str | None:
    if is_dockerfile(name):
        return "dockerfile"
    low = name.lower()
    pipeline = pipeline_kind(name, rel)
    if pipeline:
        return pipeline
    if low in REPO_FILES and (not low.startswith("settings.") or rel.endswith(".github/" + name) or rel == ".github/" + name):
        return "repofile"
    if is_package_file(name, rel):  # manifests and lockfiles: parse/packages.py
        return "package"
    if low.endswith(CODE_EXT) and not low.endswith((".min.js", ".d.ts", ".d.mts", ".d.cts")):
        return "python" if low.endswith(".py") else "javascript"  # application code: parse/appcode.py
    if low.endswith(YAML_EXT):
        return "yaml"
    if low.endswith((".tfstate", ".tfstate.backup")):
        return "tfstate"
    if low.endswith((".tf", ".tf.json", ".tfvars", ".tfvars.json")):
        return "tf"  # grouped by directory into one "terraform" unit (a module)
    if low.endswith(JSON_EXT):
        return "json"
    return None


def rel_of(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/") if rel != "." else os.path.basename(path)


def discover(paths: list, root: str, excludes: list | None = None, max_size: int = 10 * 1024 * 1024) -> Discovery:
    """Walk `paths` (files or directories) and return the units to parse, relative to `root`."""
    out = Discovery(root=root)
    excludes = list(excludes or [])
    visited_dirs: set = set()
    charts: list = []
    kustomizations: list = []
    files: list = []

    def excluded(rel: str) -> bool:
        return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat.rstrip("/") + "/*")
                   for pat in excludes)

    def add_file(path: str, name: str, explicit: bool) -> None:
        rel = rel_of(path, root)
        if excluded(rel):
            return
        kind = classify(name, rel) or "text"  # any other file is still read for secrets
        out.files_seen += 1
        try:
            st = os.stat(path)
        except OSError as exc:
            out.errors.append(ScanError(rel, 0, _os_message(exc)))
            return
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
            out.errors.append(ScanError(rel, 0, "not a regular file (a FIFO, socket or device): not scanned"))
            return
        if st.st_size > max_size and kind == "text":  # a data dump or bundle nobody asked us to parse
            out.not_scanned.append((rel, f"{st.st_size / 1048576:.1f} MB, over the size limit"))
            return
        if st.st_size > max_size:
            out.errors.append(ScanError(rel, 0, f"file too large ({st.st_size / 1048576:.1f} MB, limit "
                                                f"{max_size / 1048576:.0f} MB; raise it with --max-file-size): not scanned"))
            return
        files.append(Unit(kind=kind, path=path, rel=rel, size=st.st_size))

    def walk(directory: str, specs: list) -> None:
        try:
            real = os.path.realpath(directory)
        except OSError as exc:  # pragma: no cover
            out.errors.append(ScanError(rel_of(directory, root), 0, _os_message(exc)))
            return
        if real in visited_dirs:
            out.errors.append(ScanError(rel_of(directory, root), 0,
                                        "symlink loop: this directory was already scanned through another path; not followed"))
            return
        visited_dirs.add(real)
        spec = _gitignore_spec(directory)
        if spec is not None:
            specs = specs + [(directory, spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            out.errors.append(ScanError(rel_of(directory, root), 0, _os_message(exc)))
            return
        names = {e.name for e in entries}
        if "Chart.yaml" in names:
            charts.append(directory)
        for k in KUSTOMIZATION_NAMES:
            if k in names:
                kustomizations.append(os.path.join(directory, k))
                break
        for entry in entries:
            path = entry.path
            if _ignored(path, entry, specs):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError as exc:
                out.errors.append(ScanError(rel_of(path, root), 0, _os_message(exc)))
                continue
            if entry.is_symlink():
                try:
                    os.stat(path)
                except OSError as exc:
                    out.errors.append(ScanError(rel_of(path, root), 0, _os_message(exc)))
                    continue
            if is_dir:
                if entry.name in SKIP_DIRS or excluded(rel_of(path, root) + "/"):
                    continue
                walk(path, specs)
            else:
                add_file(path, entry.name, explicit=False)

    for p in paths:
        ap = os.path.abspath(p)
        if os.path.isdir(ap):
            walk(ap, _ancestor_specs(ap))
        elif os.path.lexists(ap):
            add_file(ap, os.path.basename(ap), explicit=True)
        else:
            out.errors.append(ScanError(p, 0, "no such file or directory"))

    # Files inside a chart belong to the chart (templates are not YAML until rendered).
    chart_dirs = sorted(charts, key=len)
    # a chart inside another chart's templates/, charts/ or crds/ is the outer chart's business;
    # one elsewhere below it (examples/blog) is a chart of its own
    top_charts = [c for c in chart_dirs
                  if not any(c != o and _chart_owns(o, os.path.join(c, "Chart.yaml")) and
                             os.path.relpath(c, o).split(os.sep)[0] in CHART_DIRS for o in chart_dirs)]
    owned: set = set()
    for chart in top_charts:
        members = [f.path for f in files if _chart_owns(chart, f.path)]
        owned.update(members)
        out.units.append(Unit(kind="helm", path=chart, rel=rel_of(chart, root), members=members))
    for kfile in kustomizations:
        kdir = os.path.dirname(kfile)
        if any(_chart_owns(c, kfile) for c in top_charts):
            continue
        owned.add(kfile)
        out.units.append(Unit(kind="kustomize", path=kdir, rel=rel_of(kdir, root), members=[kfile]))
    # A Terraform module is a directory: its .tf/.tfvars files are read together
    modules: dict = {}
    for f in files:
        if f.kind == "tf" and f.path not in owned:
            modules.setdefault(os.path.dirname(f.path), []).append(f)
            owned.add(f.path)
    for d, members in sorted(modules.items()):
        out.units.append(Unit(kind="terraform", path=d, rel=rel_of(d, root), size=sum(m.size for m in members),
                              members=[m.path for m in members]))
    out.units.extend(f for f in files if f.path not in owned)
    return out


CHART_DIRS = ("templates", "charts", "crds")


def _chart_owns(chart: str, path: str) -> bool:
    """Files Helm reads: the chart root's own files (Chart.yaml, values*.yaml, ...) and everything
    under templates/, charts/ and crds/. Other YAML below a chart (examples/, ci/, a whole repo
    under a root Chart.yaml) is scanned as plain files."""
    if not path.startswith(chart + os.sep):
        return False
    rel = os.path.relpath(path, chart).split(os.sep)
    return len(rel) == 1 or rel[0] in CHART_DIRS


def _ancestor_specs(directory: str) -> list:
    """The .gitignore files above `directory` up to its git work tree's top, as git applies them when
    a sub-directory is scanned (`premortem scan bench/` skips what the root .gitignore ignores).
    Outside a git work tree none apply; a directory that they ignore but was named explicitly is
    scanned with none of them (the user asked for it)."""
    chain, d = [], os.path.dirname(directory)
    while True:
        chain.append(d)
        if os.path.exists(os.path.join(d, ".git")):
            break
        parent = os.path.dirname(d)
        if parent == d:
            return []  # not inside a git work tree
        d = parent
    specs = [(d, spec) for d in reversed(chain) for spec in [_gitignore_spec(d)] if spec is not None]
    for base, spec in reversed(specs):
        decided = spec.check_file(os.path.relpath(directory, base).replace(os.sep, "/") + "/").include
        if decided is not None:
            return [] if decided else specs
    return specs


def _ignored(path: str, entry: os.DirEntry, specs: list) -> bool:
    """Git's rule: the deepest .gitignore with a pattern matching the path decides (so a nested
    `!keep.yaml` re-includes what a parent ignored); within a file the last match wins."""
    try:
        is_dir = entry.is_dir(follow_symlinks=False)
    except OSError:
        is_dir = False
    for base, spec in reversed(specs):
        rel = os.path.relpath(path, base).replace(os.sep, "/") + ("/" if is_dir else "")
        decided = spec.check_file(rel).include
        if decided is not None:
            return decided
    return False


def _os_message(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "symlink loop: the link resolves to itself; not followed"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "unreadable: permission denied"
    if exc.errno == errno.ENOENT:
        return "broken symlink or missing file"
    return f"cannot read: {exc.strerror or exc}"


def read_text(path: str) -> str:
    """Read a file as text; raises ValueError with a clear message for binary content."""
    with open(path, "rb") as fh:
        head = fh.read(BINARY_SNIFF)
        if b"\x00" in head:  # decided before reading the rest: a 9 MB .so is not read whole
            raise ValueError("binary file (contains NUL bytes): not scanned")
        raw = head + fh.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"not UTF-8 text (invalid byte at line {line}): not scanned") from None
