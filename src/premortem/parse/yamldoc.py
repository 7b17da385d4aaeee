"""YAML to plain data with 1-based positions for every node, via libyaml's composer.

Only the safe composer is used (no object construction). Positions are kept beside the data,
keyed by the node's path, so rules work on plain dicts and report at a path.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sys

import yaml

try:  # libyaml is bundled in PyYAML wheels; the pure-Python loader is the fallback
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
# first characters that can start an implicitly typed plain scalar (int, bool, null, float,
# timestamp, merge, value); anything else is a string without asking the resolver's regexes
_MAYBE_TYPED = frozenset(yaml.resolver.Resolver.yaml_implicit_resolvers)


class _Loader(_Base):
    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0] and value and value[0] not in _MAYBE_TYPED:
            return _STR
        return super().resolve(kind, value, implicit)


_BOOL = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


class YamlError(Exception):
    def __init__(self, message: str, line: int, column: int = 0):
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass
class Doc:
    data: object
    line: int
    positions: dict = field(default_factory=dict)
    key_positions: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)  # (line, column, message)


def _scalar(node: yaml.ScalarNode):
    """The value of a scalar by its resolved tag (PyYAML's YAML 1.1 resolver), never constructing objects."""
    tag, v = node.tag, node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _BOOL.get(v.lower(), v)
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(v.replace("_", ""), 0)
        except ValueError:
            return v
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(v.replace("_", ""))
        except ValueError:
            return v
    # str, timestamps, binary and custom tags stay text; short ones are interned, as manifests
    # repeat the same labels, names and images thousands of times (halves the index at 100k objects)
    return sys.intern(v) if len(v) <= 64 else v


def _convert(node, path, doc: Doc, depth=0):
    if depth > 200:
        raise YamlError("document nested too deeply (over 200 levels)", node.start_mark.line + 1)
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), doc, depth + 1) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        inherited: dict = {}  # from `<<: *anchor`; explicit keys win wherever they are written
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                merged = _convert(vnode, path, Doc(data=None, line=0), depth + 1)
                for m in merged if isinstance(merged, list) else [merged]:
                    if isinstance(m, dict):
                        for k, v in m.items():
                            inherited.setdefault(k, v)
                continue
            if isinstance(knode, yaml.ScalarNode):
                key = _scalar(knode)  # (interned: keys repeat in every document)
                if isinstance(key, (int, float, bool)) or key is None:
                    key = knode.value if key is not None else "null"
            else:
                key = f"<complex key at line {knode.start_mark.line + 1}>"
            kpath = path + (key,)
            if key in out:
                raise YamlError(
                    f"duplicate key {key!r} (first defined at line {doc.key_positions[kpath][0]})",
                    knode.start_mark.line + 1, knode.start_mark.column + 1)
            doc.key_positions[kpath] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[key] = _convert(vnode, kpath, doc, depth + 1)
        for k, v in inherited.items():
            out.setdefault(k, v)
        return out
    return None  # pragma: no cover


def _mark_error(exc: yaml.YAMLError) -> YamlError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        return YamlError(message, mark.line + 1, mark.column + 1)
    return YamlError(message, 1)


def load_all(text: str) -> tuple[list[Doc], YamlError | None]:
    """Parse every document. Returns the documents read before the first error, and that error."""
    docs: list[Doc] = []
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            doc = Doc(data=None, line=node.start_mark.line + 1)
            try:
                doc.data = _convert(node, (), doc)
            except YamlError as exc:
                return docs, exc
            docs.append(doc)
        return docs, None
    except yaml.YAMLError as exc:
        err = _mark_error(exc)
        lines = text.splitlines()
        if err.line > max(len(lines), 1):  # libyaml marks end-of-input one line past the last one
            err = YamlError(str(err) + " (at end of file)", max(len(lines), 1), len(lines[-1]) + 1 if lines else 1)
        if 0 < err.line <= len(lines) and "\t" in lines[err.line - 1][: max(err.column, 1)]:
            err = YamlError("invalid YAML: tab character used for indentation (YAML allows spaces only)",
                            err.line, err.column)
        return docs, err
    except RecursionError:
        return docs, YamlError("document nested too deeply", 1)
    finally:
        loader.dispose()
