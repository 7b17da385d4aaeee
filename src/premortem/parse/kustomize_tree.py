"""Nodes that remember where they came from, for Kustomize builds.

A built object is a tree of `N`: each node carries its value and the Source (file, line, column)
of that value and of its key. Transforms and patches replace or add nodes, so after a build every
node still points at the file that gave it its value: the base manifest for untouched fields, the
patch file for patched ones, the kustomization line for an `images:` override.
"""
from __future__ import annotations

from ..model import Source


class N:
    __slots__ = ("v", "src", "ksrc")

    def __init__(self, v, src: Source, ksrc: Source | None = None):
        self.v = v  # dict[str, N] | list[N] | scalar
        self.src = src
        self.ksrc = ksrc

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"N({plain(self)!r} @ {self.src.file}:{self.src.line})"


def from_data(data, positions: dict, key_positions: dict, file: str, path: tuple = (),
              fallback: Source | None = None, line_map=None) -> N:
    """A node tree from parsed YAML and its position tables (paths relative to `data`).

    `line_map(line, column) -> (line, column)` shifts positions of text embedded in another file
    (an inline patch inside kustomization.yaml)."""
    def at(table, p, default):
        pos = table.get(p)
        if pos is None:
            return default
        line, col = line_map(*pos) if line_map else pos
        return Source(file, line, col)

    def conv(value, p, parent: Source) -> N:
        src = at(positions, p, parent)
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                child = conv(v, p + (k,), src)
                child.ksrc = at(key_positions, p + (k,), child.src)
                out[k] = child
            return N(out, src)
        if isinstance(value, list):
            return N([conv(v, p + (i,), src) for i, v in enumerate(value)], src)
        return N(value, src)

    return conv(data, path, fallback or Source(file, 1, 1))


def make(value, src: Source) -> N:
    """Plain data as nodes that all point at `src` (generated or transformer-set values)."""
    if isinstance(value, N):
        return value
    if isinstance(value, dict):
        return N({k: _keyed(make(v, src), src) for k, v in value.items()}, src)
    if isinstance(value, list):
        return N([make(v, src) for v in value], src)
    return N(value, src)


def _keyed(n: N, ksrc: Source) -> N:
    n.ksrc = ksrc
    return n


def plain(n: N):
    if isinstance(n.v, dict):
        return {k: plain(c) for k, c in n.v.items()}
    if isinstance(n.v, list):
        return [plain(c) for c in n.v]
    return n.v


def clone(n: N) -> N:
    if isinstance(n.v, dict):
        return N({k: clone(c) for k, c in n.v.items()}, n.src, n.ksrc)
    if isinstance(n.v, list):
        return N([clone(c) for c in n.v], n.src, n.ksrc)
    return N(n.v, n.src, n.ksrc)


def child(n: N | None, *path) -> N | None:
    for step in path:
        if n is None:
            return None
        if isinstance(n.v, dict) and isinstance(step, str):
            n = n.v.get(step)
        elif isinstance(n.v, list) and isinstance(step, int) and -len(n.v) <= step < len(n.v):
            n = n.v[step]
        else:
            return None
    return n


def value(n: N | None, *path, default=None):
    c = child(n, *path)
    if c is None or isinstance(c.v, (dict, list)):
        return default
    return c.v


def ensure_map(n: N, key: str, src: Source) -> N:
    """The mapping at `n[key]`, created (pointing at `src`) when missing or not a mapping."""
    c = n.v.get(key)
    if c is None or not isinstance(c.v, dict):
        c = N({}, src, src)
        n.v[key] = c
    return c


def embedded_line_map(lines: list, line: int, column: int):
    """Map positions inside a scalar's text to its file: a block scalar (`patch: |-`) starts on
    the next line at the block's indentation; a one-line scalar sits at its own position."""
    head = lines[line - 1] if 0 < line <= len(lines) else ""
    if head[column - 1:column] in ("|", ">"):
        indent = 0
        for text in lines[line:]:
            if text.strip():
                indent = len(text) - len(text.lstrip(" "))
                break
        return lambda ln, col: (line + ln, col + indent)
    quote = 1 if head[column - 1:column] in ("'", '"') else 0
    return lambda ln, col: (line + ln - 1, column + quote + col - 1 if ln == 1 else col)
