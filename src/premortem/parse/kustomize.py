"""Kustomize overlays built into Kubernetes Resources whose findings point at the source files.

Two builders, one result. The built-in builder (parse/kustomize_builtin.py) covers the common
subset and keeps, for every node of every built object, the file and line that gave it its
value: an untouched field points at the base manifest, a patched one at the patch, an image
set by `images:` at that kustomization line. When `kustomize` (or `kubectl kustomize`) is on
PATH, its output is the truth for object content; each of its objects is matched to the
built-in result by (kind, namespace, name) to keep those positions, and what the built-in
could not place points at the kustomization file.

PREMORTEM_KUSTOMIZE selects the builder: `auto` (default: the binary when found), `builtin`
(never run a binary) or `binary` (require it; without it, an error and the built-in result).
Generated ConfigMaps/Secrets get kustomize's own name-suffix hash, so both agree on names.

Every file a build reads is in `consumed`, so the engine neither judges those files again as
raw manifests nor judges a base kustomization on its own: objects reachable both as raw files
and through an overlay are reported once.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from ..discover import KUSTOMIZATION_NAMES
from ..model import Origin, ScanError, Source
from .kubernetes import is_k8s_object, resource_from
from .kustomize_builtin import Builder
from .kustomize_tree import N, plain
from .yamldoc import load_all

MODE_ENV = "PREMORTEM_KUSTOMIZE"
MODES = ("auto", "builtin", "binary")
TIMEOUT_S = 60


@dataclass
class BuildResult:
    resources: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    consumed: set = field(default_factory=set)  # absolute paths of every file the build read
    skip: bool = False  # a Component (or nothing buildable): contributes nothing itself


class Locator:
    """Resource.locator for built objects: a path's Source when the node came from another file
    than the object's own (patch, overlay kustomization); None lets the object's tables answer."""

    __slots__ = ("where", "file")

    def __init__(self, where: dict, file: str):
        self.where = where
        self.file = file

    def __call__(self, path, key: bool = False) -> Source | None:
        p = tuple(path)
        while True:
            hit = self.where.get(p)
            if hit is not None:
                src = (hit[1] or hit[0]) if key else (hit[0] or hit[1])
                return None if src.file == self.file else src
            if not p:
                return None
            p = p[:-1]


def mode() -> str:
    m = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    return m if m in MODES else "auto"


def find_binary() -> list | None:
    """The command prefix to build with: `kustomize build` or `kubectl kustomize`, else None."""
    exe = shutil.which("kustomize")
    if exe:
        return [exe, "build"]
    exe = shutil.which("kubectl")
    return [exe, "kustomize"] if exe else None


def run_binary(cmd: list, kdir: str) -> tuple[str | None, str]:
    """(stdout, '') on success, (None, message) on failure. No shell, fixed arguments, a timeout;
    the directory is absolute, so it can never read as an option. Without --enable-helm or
    --enable-alpha-plugins, kustomize runs no code from the repository."""
    tool = " ".join(os.path.basename(c) for c in cmd)
    try:
        proc = subprocess.run(cmd + [os.path.abspath(kdir)], capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return None, f"`{tool}` timed out after {TIMEOUT_S}s"
    except OSError as exc:
        return None, f"`{tool}` could not run: {exc.strerror or exc}"
    if proc.returncode != 0:
        return None, f"`{tool}` failed: {tool_message(proc.stderr)}"
    return proc.stdout, ""


_PREFETCHED: dict = {}  # abs kustomization dir -> Future of run_binary's result


def prefetch(units: list) -> None:
    """Start the binary builds of `units` concurrently (each is a separate process), so the
    built-in builds and the engine's other work overlap with them; build() collects the results."""
    cmd = None if mode() == "builtin" else find_binary()
    if cmd is None or len(units) < 2:
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    for u in units:
        if not _is_component(u.path):  # components do not build on their own
            _PREFETCHED[u.path] = pool.submit(run_binary, cmd, u.path)
    pool.shutdown(wait=False)


def _is_component(kdir: str) -> bool:
    for n in KUSTOMIZATION_NAMES:
        try:
            with open(os.path.join(kdir, n), encoding="utf-8", errors="replace") as fh:
                return re.search(r"(?m)^kind:\s*Component\s*$", fh.read()) is not None
        except OSError:
            continue
    return False


def _binary_result(cmd: list, kdir: str) -> tuple[str | None, str]:
    fut = _PREFETCHED.pop(kdir, None)
    return fut.result() if fut is not None else run_binary(cmd, kdir)


def tool_message(stderr: str) -> str:
    m = re.search(r'err="((?:[^"\\]|\\.)*)"', stderr)
    if m:
        msg = m.group(1).replace('\\"', '"').replace("\\n", " ")
    else:
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith("# Warning")]
        msg = lines[-1] if lines else "no message"
        msg = re.sub(r"^Error:\s*", "", msg)
    return msg[:500]


def build(unit, root: str, config=None) -> BuildResult:
    out = BuildResult()
    b = Builder(root)
    objs = b.build(unit.path)
    out.consumed = set(b.consumed)
    if b.top_kind == "Component":
        out.skip = True
        return out
    kfile = next((os.path.join(unit.path, n) for n in KUSTOMIZATION_NAMES
                  if os.path.isfile(os.path.join(unit.path, n))), os.path.join(unit.path, KUSTOMIZATION_NAMES[0]))
    krel = b.rel(kfile)
    origin = Origin("kustomize", unit.rel, "built-in")
    fallback = Source(krel, b.unsupported[0].line if b.unsupported else 1, 1)
    m = mode()
    cmd = None if m == "builtin" else find_binary()
    if m == "binary" and cmd is None:
        out.errors.append(ScanError(krel, 0, f"{MODE_ENV}=binary but neither kustomize nor kubectl is on PATH; "
                                             "built with premortem's built-in subset"))
    if cmd is not None and b.top_kind and not b.remote:
        text, message = _binary_result(cmd, unit.path)
        tool = " ".join(os.path.basename(c) for c in cmd)
        if text is not None:
            docs, err = load_all(text)
            if err is None:
                origin.detail = tool
                out.resources = _from_binary(docs, objs, origin, fallback)
                return out
            message = f"unreadable output from `{tool}`: {err}"
        out.errors.append(ScanError(krel, 0, f"{message} (kustomization {krel}); judged the built-in build instead"))
    out.errors.extend(b.errors + b.unsupported)
    out.resources = [_resource(plain(o.root), o, origin, fallback) for o in objs]
    return out


def _from_binary(docs: list, objs: list, origin: Origin, fallback: Source) -> list:
    index: dict = {}
    for o in objs:
        index.setdefault((o.kind, o.namespace, o.name), o)
        index.setdefault((o.kind, "*", o.name), o)
    out = []
    for i, doc in enumerate(docs):
        data = doc.data
        if not is_k8s_object(data):
            continue
        md = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        kind, name, ns = data["kind"], str(md.get("name", "")), str(md.get("namespace", "") or "")
        obj = index.get((kind, ns, name)) or index.get((kind, "*", name))
        out.append(_resource(data, obj, origin, fallback, i))
    return out


def _align(data, node: N | None, path: tuple, where: dict, fallback: Source) -> None:
    """Give every node of `data` the Source of the matching built-in node (by path; list items by
    name when they have one), or `fallback` where the built-in has nothing there."""
    where[path] = (node.src, node.ksrc) if node is not None else (fallback, fallback)
    if isinstance(data, dict):
        kids = node.v if node is not None and isinstance(node.v, dict) else {}
        for k, v in data.items():
            _align(v, kids.get(k), path + (k,), where, fallback)
    elif isinstance(data, list):
        kids = node.v if node is not None and isinstance(node.v, list) else []
        named = {c.v["name"].v: c for c in kids if isinstance(c.v, dict) and isinstance(c.v.get("name"), N)
                 and isinstance(c.v["name"].v, str)}
        for i, v in enumerate(data):
            key = v.get("name") if isinstance(v, dict) and isinstance(v.get("name"), str) else None
            match = named.get(key) if key is not None and named else (kids[i] if i < len(kids) else None)
            _align(v, match, path + (i,), where, fallback)


def _resource(data: dict, obj, origin: Origin, fallback: Source, doc_index: int = 0):
    where: dict = {}
    _align(data, obj.root if obj is not None else None, (), where, fallback)
    file = obj.file if obj is not None else fallback.file
    line = obj.line if obj is not None else fallback.line
    positions = {p: (v.line, v.column) for p, (v, k) in where.items() if v is not None and v.file == file}
    key_positions = {p: (k.line, k.column) for p, (v, k) in where.items() if p and k is not None and k.file == file}
    r = resource_from(data, file, positions, key_positions, line, Origin(origin.kind, origin.unit, origin.detail),
                      obj.doc_index if obj is not None else doc_index)
    r.locator = Locator(where, file)
    return r
