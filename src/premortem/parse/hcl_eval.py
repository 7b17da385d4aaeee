"""Evaluate HCL expressions the way a reviewer reads them: literals, templates, collections,
`var.*`, `local.*`, `each.*`, `count.index`, `path.*`, operators, conditionals, `for` expressions
and the common pure functions. Anything that depends on the world (resource attributes, data
sources, unknown variables, impure or unlisted functions) becomes an `Unknown` carrying its source
text, so rules never guess a value into a finding; a reference to another resource is an Unknown
whose `refs` name it (`aws_s3_bucket.state`), for cross-resource questions.
"""
from __future__ import annotations

import json
import re

from .hcl import NO_VALUE, node_text


class Unknown:
    """A value not known before apply. Falsy; `text` is the expression as written."""

    __slots__ = ("text", "refs", "partial")

    def __init__(self, text: str = "", refs: tuple = (), partial=None):
        # partial: what is known of it (`jsonencode({..})` with one unknown leaf: the map; a template: its text
        # with the unknown parts left as written `${aws_iam_role.ci.arn}`); None when nothing is
        self.text, self.refs, self.partial = text, tuple(refs), partial

    def __bool__(self):
        return False

    def __repr__(self):
        return f"Unknown({self.text!r})"

    def __eq__(self, other):
        return isinstance(other, Unknown) and other.text == self.text

    def __hash__(self):
        return hash(("Unknown", self.text))

    def __reduce__(self):
        return (Unknown, (self.text, self.refs, self.partial))


def known(v) -> bool:
    """True when v holds no Unknown anywhere."""
    if isinstance(v, Unknown):
        return False
    if isinstance(v, dict):
        return all(known(x) for x in v.values())
    if isinstance(v, list):
        return all(known(x) for x in v)
    return True


class Scope:
    """What names mean while evaluating one module: variables, locals (lazy), iteration values."""

    def __init__(self, variables: dict, locals_: dict, module_path: str = ".", extra: dict | None = None,
                 workspace=None):
        self.variables = variables  # name -> value
        self.locals = locals_  # name -> Attr (evaluated lazily, cached)
        self.local_values: dict = {}
        self.module_path = module_path
        self.extra = extra or {}  # each / count / for-expression and dynamic-block iterators
        self.workspace = workspace
        self._busy: set = set()

    def child(self, **extra) -> "Scope":
        s = Scope(self.variables, self.locals, self.module_path, {**self.extra, **extra}, self.workspace)
        s.local_values, s._busy = self.local_values, self._busy
        return s

    def local(self, name: str):
        if name in self.local_values:
            return self.local_values[name]
        attr = self.locals.get(name)
        if attr is None or name in self._busy:
            return Unknown(f"local.{name}")
        self._busy.add(name)
        try:
            value = evaluate(attr, self)
        finally:
            self._busy.discard(name)
        self.local_values[name] = value
        return value


def evaluate(attr, scope: Scope):
    if attr.value is not NO_VALUE:  # JSON syntax: strings may still hold `${...}` templates
        return _json_value(attr.value, scope)
    if attr.expr is None:
        return None
    return Evaluator(attr.source, scope).expr(attr.expr)


_TEMPLATE = re.compile(r"\$\{([^}]*)\}")


def _json_value(v, scope):
    if isinstance(v, str) and "${" in v:
        m = re.fullmatch(r"\$\{\s*(var|local)\.([A-Za-z_][\w-]*)\s*\}", v)
        if m:
            return scope.variables.get(m.group(2), Unknown(v)) if m.group(1) == "var" else scope.local(m.group(2))
        return Unknown(v)
    if isinstance(v, dict):
        return {k: _json_value(x, scope) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_value(x, scope) for x in v]
    return v


def _str(v) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    if isinstance(v, str):
        return v
    return None


class Evaluator:
    def __init__(self, source: bytes, scope: Scope):
        self.source, self.scope = source, scope

    def text(self, node) -> str:
        return node_text(node, self.source)

    def unknown(self, node, refs=()):
        return Unknown(" ".join(self.text(node).split())[:200], refs)

    # -- expressions ----------------------------------------------------------------------------
    def expr(self, node):
        t = node.type
        if t == "expression":
            kids = [c for c in node.named_children if c.type != "comment"]
            if not kids:
                return None
            if len(kids) > 1 or kids[0].type == "variable_expr":
                return self.postfix(node, kids)
            return self.expr(kids[0])
        handler = getattr(self, "e_" + t, None)
        if handler is None:
            return self.unknown(node)
        return handler(node)

    def e_literal_value(self, node):
        c = node.named_children[0] if node.named_children else node
        if c.type == "numeric_lit":
            s = self.text(c)
            try:
                return int(s)
            except ValueError:
                try:
                    return float(s)
                except ValueError:
                    return self.unknown(node)
        if c.type == "bool_lit":
            return self.text(c) == "true"
        if c.type == "null_lit":
            return None
        if c.type == "string_lit":
            return self.template_parts(c)
        return self.unknown(node)

    def e_template_expr(self, node):
        c = node.named_children[0]
        if c.type == "heredoc_template":
            return self.heredoc(c)
        return self.template_parts(c)

    def e_collection_value(self, node):
        return self.expr(node.named_children[0])

    def e_tuple(self, node):
        return [self.expr(c) for c in node.named_children if c.type == "expression"]

    def e_object(self, node):
        out = {}
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            key_node = elem.child_by_field_name("key") or elem.named_children[0]
            val_node = elem.child_by_field_name("val") or elem.named_children[-1]
            key = self.object_key(key_node)
            if not isinstance(key, str):
                return self.unknown(node)
            out[key] = self.expr(val_node)
        return out

    def object_key(self, node):
        kids = node.named_children
        if node.type == "expression" and len(kids) == 1 and kids[0].type == "variable_expr":
            return self.text(kids[0])  # a bare name is the key itself
        v = self.expr(node)
        return _str(v) if not isinstance(v, Unknown) else v

    def e_variable_expr(self, node):
        return self.postfix(node, [node])

    def e_conditional(self, node):
        parts = [c for c in node.named_children if c.type == "expression"]
        if len(parts) != 3:
            return self.unknown(node)
        cond = self.expr(parts[0])
        if isinstance(cond, Unknown) or not isinstance(cond, bool):
            return self.unknown(node, cond.refs if isinstance(cond, Unknown) else ())
        return self.expr(parts[1] if cond else parts[2])

    def e_operation(self, node):
        return self.expr(node.named_children[0])

    def seq(self, node, nodes):
        """A value written as several sibling nodes (`var.x` is variable_expr + get_attr)."""
        nodes = [c for c in nodes if c.type != "comment"]
        if not nodes:
            return self.unknown(node)
        if len(nodes) == 1 and nodes[0].type != "variable_expr":
            return self.expr(nodes[0])
        return self.postfix(node, nodes)

    def e_unary_operation(self, node):
        op = self.text(node.children[0])
        v = self.seq(node, node.named_children)
        if isinstance(v, Unknown):
            return v
        if op == "!" and isinstance(v, bool):
            return not v
        if op == "-" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v
        return self.unknown(node)

    _OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            "/": lambda a, b: a / b if b else None, "%": lambda a, b: a % b if b else None,
            "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}

    def e_binary_operation(self, node):
        kids = node.children
        k = next((i for i, c in enumerate(kids) if not c.is_named), None)
        if k is None:
            return self.unknown(node)
        op = self.text(kids[k])
        a = self.seq(node, [c for c in kids[:k] if c.is_named])
        if op == "&&" and a is False or op == "||" and a is True:
            return a
        b = self.seq(node, [c for c in kids[k + 1:] if c.is_named])
        if op in ("&&", "||"):
            if isinstance(a, bool) and isinstance(b, bool):
                return (a and b) if op == "&&" else (a or b)
            return self.unknown(node)
        if isinstance(a, Unknown) or isinstance(b, Unknown):
            return self.unknown(node, (a.refs if isinstance(a, Unknown) else ()) + (b.refs if isinstance(b, Unknown) else ()))
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op in self._OPS and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
            r = self._OPS[op](a, b)
            return self.unknown(node) if r is None else r
        return self.unknown(node)

    def e_function_call(self, node):
        name = self.text(node.named_children[0])
        args_node = next((c for c in node.named_children if c.type == "function_arguments"), None)
        arg_nodes = [c for c in args_node.named_children if c.type == "expression"] if args_node else []
        expand = args_node is not None and any(c.type == "ellipsis" or self.text(c) == "..." for c in args_node.children)
        if name in ("try", "can"):
            for a in arg_nodes:
                v = self.expr(a)
                if known(v):
                    return True if name == "can" else v
            return self.unknown(node)
        args = [self.expr(a) for a in arg_nodes]
        if expand and args and isinstance(args[-1], list):
            args = args[:-1] + args[-1]
        fn = FUNCTIONS.get(name)
        if fn is None or not all(known(a) for a in args):
            refs = tuple(dict.fromkeys(_refs(args)))
            if name in ("jsonencode", "yamlencode") and len(args) == 1 and not isinstance(args[0], Unknown):
                return Unknown(" ".join(self.text(node).split())[:200], refs, partial=args[0])
            return self.unknown(node, refs)
        try:
            return fn(*args)
        except Exception:  # a wrong argument type is an error at plan time; here just unknown
            return self.unknown(node)

    def e_for_expr(self, node):
        inner = node.named_children[0]
        intro = next(c for c in inner.named_children if c.type == "for_intro")
        names = [self.text(c) for c in intro.named_children if c.type == "identifier"]
        coll = self.expr(next(c for c in intro.named_children if c.type == "expression"))
        body = [c for c in inner.named_children if c.type == "expression"]
        cond = next((c for c in inner.named_children if c.type == "for_cond"), None)
        if isinstance(coll, Unknown) or not isinstance(coll, (list, dict)):
            return self.unknown(node)
        pairs = list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))
        is_obj = inner.type == "for_object_expr"
        out_list, out_obj = [], {}
        for k, v in pairs[:1000]:
            names_map = {names[0]: v} if len(names) == 1 else {names[0]: k, names[1]: v}
            ev = Evaluator(self.source, self.scope.child(**names_map))
            if cond is not None:
                c = ev.expr(next(x for x in cond.named_children if x.type == "expression"))
                if c is not True:
                    if isinstance(c, Unknown):
                        return self.unknown(node)
                    continue
            if is_obj:
                key = ev.expr(body[0])
                if not isinstance(key, str):
                    return self.unknown(node)
                out_obj[key] = ev.expr(body[1])
            else:
                out_list.append(ev.expr(body[0]))
        return out_obj if is_obj else out_list

    # -- references and postfix operators --------------------------------------------------------
    def postfix(self, node, kids):
        head = kids[0]
        if head.type != "variable_expr":
            value = self.expr(head)
            return self.apply(node, value, kids[1:])
        root = self.text(head)
        steps = kids[1:]
        attrs = []
        for s in steps:
            if s.type == "get_attr":
                attrs.append(self.text(s.named_children[-1]))
            else:
                break
        scope = self.scope
        if root in scope.extra:
            return self.apply(node, scope.extra[root], steps)
        if root == "var" and attrs:
            v = scope.variables.get(attrs[0], Unknown(f"var.{attrs[0]}"))
            return self.apply(node, v, steps[1:])
        if root == "local" and attrs:
            return self.apply(node, scope.local(attrs[0]), steps[1:])
        if root == "path" and attrs and attrs[0] in ("module", "root", "cwd"):
            return self.apply(node, scope.module_path, steps[1:])
        if root == "terraform" and attrs[:1] == ["workspace"]:
            return scope.workspace if scope.workspace is not None else self.unknown(node)
        # a resource, data source or module output: unknown, but say what it references
        if root == "data" and len(attrs) >= 2:
            ref = f"data.{attrs[0]}.{attrs[1]}"
        elif root == "module" and attrs:
            ref = f"module.{attrs[0]}"
        elif attrs:
            ref = f"{root}.{attrs[0]}"
        else:
            ref = root
        return self.unknown(node, (ref,))

    def apply(self, node, value, steps):
        for s in steps:
            if isinstance(value, Unknown):
                return self.unknown(node, value.refs)
            if s.type == "get_attr":
                key = self.text(s.named_children[-1])
                value = value.get(key, self.unknown(node)) if isinstance(value, dict) else self.unknown(node)
            elif s.type in ("index", "new_index", "legacy_index"):
                s = s.named_children[0] if s.type == "index" and s.named_children else s
                idx_node = next((c for c in s.named_children if c.type == "expression"), None) or s
                if s.type == "legacy_index" or (idx_node is s):
                    m = re.search(r"\d+", self.text(s))
                    idx = int(m.group(0)) if m else None
                else:
                    idx = self.expr(idx_node)
                if isinstance(value, list) and isinstance(idx, int) and not isinstance(idx, bool) and -len(value) <= idx < len(value):
                    value = value[idx]
                elif isinstance(value, dict) and isinstance(idx, str) and idx in value:
                    value = value[idx]
                else:
                    return self.unknown(node)
            else:  # splat
                return self.unknown(node)
        return value

    # -- templates --------------------------------------------------------------------------------
    def template_parts(self, node):
        out, refs, unknown = [], [], False
        for c in node.named_children:
            if c.type == "template_literal":
                out.append(_unescape(self.text(c)))
            elif c.type == "template_interpolation":
                e = next((x for x in c.named_children if x.type == "expression"), None)
                v = self.expr(e) if e is not None else None
                s = _str(v)
                if s is None:  # unknown: kept as written in the partial text
                    unknown = True
                    refs.extend(v.refs if isinstance(v, Unknown) else ())
                    s = self.text(c)
                out.append(s)
            elif c.type in ("quoted_template_start", "quoted_template_end"):
                continue
            else:  # template directives (%{ if }): not evaluated
                return self.unknown(node)
        if unknown:
            return Unknown(" ".join(self.text(node).split())[:200], refs, partial="".join(out))
        return "".join(out)

    def heredoc(self, node):
        text = self.text(node)
        lines = text.split("\n")
        if len(lines) < 2:
            return self.unknown(node)
        body = lines[1:-1]
        if lines[0].startswith("<<-"):
            indent = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
            body = [x[indent:] for x in body]
        raw = "\n".join(body) + ("\n" if body else "")
        if "${" in raw or "%{" in raw:
            parts = [c for c in node.named_children if c.type == "template_interpolation"]
            values = []
            unknown_refs, unknown = [], False
            for p in parts:
                e = next((x for x in p.named_children if x.type == "expression"), None)
                v = self.expr(e) if e is not None else None
                s = _str(v)
                if s is None:  # unknown: kept as written in the partial text
                    unknown = True
                    unknown_refs.extend(v.refs if isinstance(v, Unknown) else ())
                    s = self.text(p)
                values.append(s)
            it = iter(values)
            try:
                text = re.sub(r"\$\{[^}]*\}", lambda m: next(it), raw)
            except StopIteration:
                return self.unknown(node)
            if unknown:
                return Unknown(" ".join(self.text(node).split())[:200], unknown_refs, partial=text)
            return text
        return raw


def _unescape(s: str) -> str:
    if "\\" not in s and "$${" not in s and "%%{" not in s:
        return s
    s = s.replace("$${", "${").replace("%%{", "%{")
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", lambda m: {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(
        m.group(1), chr(int(m.group(1)[1:], 16)) if m.group(1).startswith("u") else m.group(1)), s)


def _format(fmt, *args):
    it = iter(args)
    return re.sub(r"%%|%[-+#0 ]*\d*(?:\.\d+)?[sdfvqtxXob]", lambda m: "%" if m.group(0) == "%%" else
                  _str(next(it)) if m.group(0)[-1] != "q" else json.dumps(next(it)), fmt)


def _merge(*maps):
    out = {}
    for m in maps:
        if m is None:
            continue
        out.update(m)
    return out


def _refs(v):
    if isinstance(v, Unknown):
        return list(v.refs)
    if isinstance(v, dict):
        return [r for x in v.values() for r in _refs(x)]
    if isinstance(v, list):
        return [r for x in v for r in _refs(x)]
    return []


def _flatten(xs):
    out = []
    for x in xs:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


FUNCTIONS = {
    "lower": lambda s: s.lower(), "upper": lambda s: s.upper(), "title": lambda s: s.title(),
    "trimspace": lambda s: s.strip(), "trim": lambda s, c: s.strip(c), "trimprefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "trimsuffix": lambda s, p: s[:-len(p)] if p and s.endswith(p) else s,
    "format": _format, "join": lambda sep, xs: sep.join(_str(x) for x in xs), "split": lambda sep, s: s.split(sep),
    "replace": lambda s, a, b: s.replace(a, b), "substr": lambda s, o, n: s[o:o + n] if n >= 0 else s[o:],
    "concat": lambda *xs: [y for x in xs for y in x], "merge": _merge, "flatten": _flatten,
    "lookup": lambda m, k, *d: m[k] if k in m else d[0], "coalesce": lambda *xs: next(x for x in xs if x not in (None, "")),
    "compact": lambda xs: [x for x in xs if x not in (None, "")], "distinct": lambda xs: list(dict.fromkeys(xs)),
    "length": len, "keys": lambda m: sorted(m), "values": lambda m: [m[k] for k in sorted(m)],
    "contains": lambda xs, x: x in xs, "element": lambda xs, i: xs[i % len(xs)], "tolist": list,
    "toset": lambda xs: list(dict.fromkeys(xs)), "tomap": dict, "tostring": _str,
    "tonumber": lambda x: x if isinstance(x, (int, float)) else float(x) if "." in x else int(x),
    "tobool": lambda x: x if isinstance(x, bool) else {"true": True, "false": False}[x],
    "min": min, "max": max, "abs": abs, "startswith": lambda s, p: s.startswith(p), "endswith": lambda s, p: s.endswith(p),
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")), "jsondecode": json.loads,
    "yamlencode": lambda v: json.dumps(v),  # JSON is YAML: the structure matters, not the style
    "zipmap": lambda ks, vs: dict(zip(ks, vs)), "sensitive": lambda v: v, "nonsensitive": lambda v: v, "range": lambda *a: list(range(*[int(x) for x in a])),
}
