"""HCL2 syntax (Terraform `.tf`, `.tfvars`) through the tree-sitter-hcl grammar, and `.tf.json`.

`parse_hcl(text, rel)` returns a Body: top-level attributes (tfvars) and blocks, each with its
1-based line and column; attribute values stay syntax nodes until hcl_eval evaluates them in a
scope (variables, locals, each/count). JSON-syntax files (`.tf.json`, `.tfvars.json`) become the
same Body with already-evaluated values (`Attr.value`), positions from yamldoc.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ..model import ScanError

NO_VALUE = object()  # Attr.value when the attribute holds a syntax node to evaluate


@dataclass(slots=True)
class Attr:
    name: str
    expr: object  # tree-sitter `expression` node (None for JSON syntax)
    line: int
    column: int
    file: str
    value: object = NO_VALUE  # JSON syntax: the value itself
    source: bytes = b""  # the file's bytes, for node text

    def text(self) -> str:
        if self.expr is None:
            return str(self.value)
        return self.source[self.expr.start_byte:self.expr.end_byte].decode("utf-8", "replace")


@dataclass(slots=True)
class Block:
    type: str
    labels: list
    attrs: dict = field(default_factory=dict)  # name -> Attr
    blocks: list = field(default_factory=list)  # nested Blocks in source order
    line: int = 0
    column: int = 0
    file: str = ""


@dataclass(slots=True)
class Body:
    attrs: dict = field(default_factory=dict)
    blocks: list = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def _parser():
    import tree_sitter_hcl
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_hcl.language()))


def _pos(node) -> tuple:
    return node.start_point[0] + 1, node.start_point[1] + 1


def node_text(node, source: bytes) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _label(node, source: bytes) -> str:
    if node.type == "string_lit":
        return "".join(node_text(c, source) for c in node.children if c.type == "template_literal")
    return node_text(node, source)


def _body(node, source: bytes, rel: str, into) -> None:
    for child in node.named_children:
        if child.type == "attribute":
            name_node = child.child_by_field_name("name") or child.named_children[0]
            expr = next((c for c in child.named_children if c.type == "expression"), None)
            line, col = _pos(name_node)
            name = node_text(name_node, source)
            into.attrs[name] = Attr(name, expr, line, col, rel, source=source)
        elif child.type == "block":
            kids = child.named_children
            labels = [_label(c, source) for c in kids[1:] if c.type in ("string_lit", "identifier")]
            line, col = _pos(child)
            block = Block(node_text(kids[0], source), labels, line=line, column=col, file=rel)
            inner = next((c for c in kids if c.type == "body"), None)
            if inner is not None:
                _body(inner, source, rel, block)
            into.blocks.append(block)


def _errors(node, rel: str, source: bytes, out: list) -> None:
    if len(out) >= 5:
        return
    if node.type == "ERROR" or node.is_missing:
        line, col = _pos(node)
        what = f"missing {node.type}" if node.is_missing else \
            f"unexpected {node_text(node, source).splitlines()[0][:30]!r}" if node_text(node, source).strip() else "unexpected input"
        out.append(ScanError(rel, line, f"HCL syntax error: {what}", col))
        return
    if node.has_error:
        for c in node.children:
            _errors(c, rel, source, out)


def parse_hcl(text: str, rel: str) -> tuple[Body, list]:
    source = text.encode("utf-8")
    tree = _parser().parse(source)
    body = Body()
    errors: list = []
    root = tree.root_node
    if root.has_error:
        _errors(root, rel, source, errors)
    inner = next((c for c in root.named_children if c.type == "body"), None)
    if inner is not None:
        _body(inner, source, rel, body)
    return body, errors


# ---- JSON syntax --------------------------------------------------------------------------------
# Nesting of labels per block type in Terraform's JSON syntax
_LABELS = {"resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1, "provider": 1, "locals": 0,
           "terraform": 0, "backend": 1, "moved": 0, "import": 0, "check": 1}


def parse_hcl_json(text: str, rel: str) -> tuple[Body, list]:
    from .yamldoc import load_all

    docs, err = load_all(text)
    errors = [ScanError(rel, err.line, str(err), err.column)] if err else []
    body = Body()
    if not docs or not isinstance(docs[0].data, dict):
        if not err:
            errors.append(ScanError(rel, 1, "not a Terraform JSON document (expected an object)"))
        return body, errors
    doc = docs[0]

    def at(path):
        return doc.key_positions.get(path) or doc.positions.get(path) or (doc.line, 1)

    def block(btype, labels, value, path):
        line, col = at(path)
        b = Block(btype, labels, line=line, column=col, file=rel)
        for k, v in value.items() if isinstance(value, dict) else ():
            sub = path + (k,)
            nested = _LABELS.get(k) if btype == "terraform" and k == "backend" else None
            if nested is not None and isinstance(v, dict):
                for name, inner in v.items():
                    b.blocks.append(block(k, [str(name)], inner, sub + (name,)))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and k in ("lifecycle", "ingress",
                                                                                            "egress", "statement"):
                for i, x in enumerate(v):
                    b.blocks.append(block(k, [], x, sub + (i,)))
            else:
                line, col = at(sub)
                b.attrs[k] = Attr(k, None, line, col, rel, value=v)
        return b

    for btype, value in doc.data.items():
        depth = _LABELS.get(btype)
        if depth is None:
            line, col = at((btype,))
            body.attrs[btype] = Attr(btype, None, line, col, rel, value=value)  # tfvars.json
            continue

        def walk(v, labels, path, depth=depth, btype=btype):
            items = v if isinstance(v, list) else [v]
            for i, item in enumerate(items):
                p = path + ((i,) if isinstance(v, list) else ())
                if len(labels) == depth:
                    body.blocks.append(block(btype, labels, item, p))
                elif isinstance(item, dict):
                    for name, inner in item.items():
                        walk(inner, labels + [str(name)], p + (name,))

        walk(value, [], (btype,))
    return body, errors
