"""JavaScript / TypeScript modules through tree-sitter, summarized like Python (see appcode.py for the
`data` shape). `.ts` uses the TypeScript grammar, `.tsx` the TSX one, everything else the JavaScript
grammar (which reads JSX). Extra key: `jsx` (true when the module renders JSX elements).

Syntax errors (ERROR / MISSING nodes) are a ScanError naming the first one's line; what parsed is
still summarized, as for Jenkinsfiles.
"""
from __future__ import annotations

import functools

from ..model import Resource, ScanError
from .appcode import (
    ERROR_REGISTRARS,
    HTTP_VERBS,
    MAX_REFS,
    ROUTE_REGISTRARS,
    Summary,
    call_context,
    cut,
)

FUNCTIONS = ("arrow_function", "function_expression", "function", "function_declaration",
             "generator_function_declaration", "generator_function", "method_definition")
WRAPPERS = ("parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression",
            "type_assertion", "await_expression")
SIMPLE = ("string", "number", "true", "false", "null", "undefined", "regex", "template_string")
NEST_ROUTE_DECORATORS = {"Get", "Post", "Put", "Patch", "Delete", "All", "Head", "Options"}
NEXT_ROUTE_EXPORTS = {v.upper() for v in HTTP_VERBS}


@functools.lru_cache(maxsize=4)
def _parser(grammar: str):
    from tree_sitter import Language, Parser

    if grammar == "javascript":
        import tree_sitter_javascript as m

        return Parser(Language(m.language()))
    import tree_sitter_typescript as t

    return Parser(Language(t.language_tsx() if grammar == "tsx" else t.language_typescript()))


def grammar_of(rel: str) -> str:
    low = rel.lower()
    if low.endswith((".ts", ".mts", ".cts")):
        return "typescript"
    if low.endswith(".tsx"):
        return "tsx"
    return "javascript"


def parse_javascript(text: str, rel: str) -> tuple[list, list]:
    if text.lstrip().startswith(("<?xml", "<!DOCTYPE")):  # a Qt Linguist .ts file, not TypeScript
        return [], []
    source = text.encode("utf-8")
    grammar = grammar_of(rel)
    tree = _parser(grammar).parse(source)
    s = Summary("typescript" if grammar != "javascript" else "javascript", source)
    s.data["jsx"] = False
    errors = []
    if tree.root_node.has_error:
        bad = _first_error(tree.root_node)
        if bad is not None:
            line, col = bad.start_point[0] + 1, bad.start_point[1] + 1
            what = f"missing {bad.type}" if bad.is_missing else "unexpected text"
            errors.append(ScanError(rel, line, f"{s.data['language'].title()} syntax error: {what} "
                                               f"(column {col}); the rest of the file was still analysed", column=col))
    w = _Js(s, rel)
    try:
        w.visit(tree.root_node)
    except RecursionError:
        return [], errors + [ScanError(rel, 0, "code nested too deeply to analyse")]
    s.finish()
    return [Resource(format="code", kind="JavaScriptModule", name=rel, namespace="", data=s.data, file=rel,
                     line=1, positions=s.positions)], errors


def _first_error(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return None


def _unwrap(node):
    while node is not None and node.type in WRAPPERS:
        kids = node.named_children
        node = (kids[-1] if node.type == "type_assertion" else kids[0]) if kids else None
    return node


def _exits(node) -> bool:
    if node is None:
        return False
    if node.type == "statement_block":
        kids = [c for c in node.named_children if c.type != "comment"]
        return bool(kids) and _exits(kids[-1])
    return node.type in ("return_statement", "throw_statement", "continue_statement", "break_statement")


class _Js:
    def __init__(self, s: Summary, rel: str):
        self.s = s
        self.rel = rel.lower()
        self.fn = ""
        self.cls = ""
        self.guards: list = []
        self.loops = 0
        self.retry_loop = False
        self.except_var: str | None = None
        self._cids: dict = {}  # start byte of a call node -> its cid (for instances)

    def src(self, node) -> str:
        return self.s.text(node.start_byte, node.end_byte)

    def at(self, path: tuple, node) -> None:
        self.s.at(path, node.start_point[0] + 1, node.start_point[1])

    def chain(self, node) -> str | None:
        node = _unwrap(node)
        if node is None:
            return None
        t = node.type
        if t in ("identifier", "this", "property_identifier", "shorthand_property_identifier", "super"):
            return self.src(node)
        if t == "member_expression":
            base = self.chain(node.child_by_field_name("object"))
            prop = node.child_by_field_name("property")
            return f"{base}.{self.src(prop)}" if base and prop is not None else None
        if t == "subscript_expression":
            base = self.chain(node.child_by_field_name("object"))
            idx = node.child_by_field_name("index")
            if base and idx is not None and idx.type in ("string", "number"):
                return f"{base}[{self.src(idx)}]"
        return None

    def simple(self, node) -> bool:
        node = _unwrap(node)
        return node is not None and (node.type in SIMPLE and node.type != "template_string" or self.chain(node) is not None)

    # -- refs
    def refs(self, node, guards=(), out=None) -> list:
        out = [] if out is None else out
        node = _unwrap(node)
        if node is None or len(out) >= MAX_REFS:
            return out
        g = [list(x) for x in guards]
        ch = self.chain(node)
        t = node.type
        if ch is not None:
            out.append([ch, g])
        elif t in ("call_expression", "new_expression"):
            fn = node.child_by_field_name("function" if t == "call_expression" else "constructor")
            args = node.child_by_field_name("arguments")
            items = [a for a in (args.named_children if args is not None else []) if a.type != "comment"]
            if fn is not None and all(self.simple(a) for a in items):
                out.append([cut(self.src(node)), g])
            else:
                name = (self.chain(fn) or cut(self.src(fn), 60)) if fn is not None else "?"
                out.append([f"{'new ' if t == 'new_expression' else ''}{name}(…)", g])
                for a in items:
                    self.refs(a, guards, out)
        elif t == "ternary_expression":
            cond = cut(self.src(node.child_by_field_name("condition")))
            self.refs(node.child_by_field_name("consequence"), (*guards, (cond, True)), out)
            self.refs(node.child_by_field_name("alternative"), (*guards, (cond, False)), out)
        elif t == "binary_expression" and node.child_by_field_name("operator").type == "&&":
            left = node.child_by_field_name("left")
            self.refs(left, guards, out)
            self.refs(node.child_by_field_name("right"), (*guards, (cut(self.src(left)), True)), out)
        elif t == "spread_element":
            inner = node.named_children[0] if node.named_children else None
            c = self.chain(inner)
            out.append([f"...{c}", g]) if c else self.refs(inner, guards, out)
        elif t == "pair":
            self.refs(node.child_by_field_name("value"), guards, out)
        elif t in FUNCTIONS or t in SIMPLE and t != "template_string" or t in ("class", "jsx_element"):
            pass
        else:
            for c in node.named_children:
                self.refs(c, guards, out)
        return out

    # -- walking
    def visit(self, node) -> None:
        t = node.type
        handler = getattr(self, "v_" + t, None)
        if handler is not None:
            handler(node)
        elif t in FUNCTIONS:
            self.function(node, None)
        else:
            for c in node.named_children:
                self.visit(c)

    def v_program(self, node) -> None:
        self.block(node)

    def v_statement_block(self, node) -> None:
        self.block(node)

    def v_jsx_element(self, node) -> None:
        self.s.data["jsx"] = True
        for c in node.named_children:
            self.visit(c)

    v_jsx_self_closing_element = v_jsx_element

    def block(self, node) -> None:
        pushed = 0
        for c in node.named_children:
            self.visit(c)
            if c.type == "if_statement" and c.child_by_field_name("alternative") is None and \
                    _exits(c.child_by_field_name("consequence")):
                self.guards.append((cut(self.src(c.child_by_field_name("condition")).strip()[1:-1]), False))
                pushed += 1
        if pushed:
            del self.guards[-pushed:]

    def v_if_statement(self, node) -> None:
        cond_node = node.child_by_field_name("condition")
        self.visit(cond_node)
        cond = cut(self.src(cond_node).strip()[1:-1] if cond_node.type == "parenthesized_expression" else self.src(cond_node))
        self.guards.append((cond, True))
        self.visit(node.child_by_field_name("consequence"))
        alt = node.child_by_field_name("alternative")
        if alt is not None:
            self.guards[-1] = (cond, False)
            self.visit(alt)
        self.guards.pop()

    def v_ternary_expression(self, node) -> None:
        self.visit(node.child_by_field_name("condition"))
        cond = cut(self.src(node.child_by_field_name("condition")))
        self.guards.append((cond, True))
        self.visit(node.child_by_field_name("consequence"))
        self.guards[-1] = (cond, False)
        self.visit(node.child_by_field_name("alternative"))
        self.guards.pop()

    def _loop(self, node) -> None:
        self.loops += 1
        for c in node.named_children:
            self.visit(c)
        self.loops -= 1

    v_for_statement = v_for_in_statement = v_while_statement = v_do_statement = _loop

    def v_try_statement(self, node) -> None:
        saved = self.retry_loop
        self.retry_loop = saved or self.loops > 0
        self.visit(node.child_by_field_name("body"))
        self.retry_loop = saved
        h = node.child_by_field_name("handler")
        if h is not None:
            p = h.child_by_field_name("parameter")
            outer, self.except_var = self.except_var, self.src(p) if p is not None and p.type == "identifier" else "<error>"
            self.visit(h.child_by_field_name("body"))
            self.except_var = outer
        f = node.child_by_field_name("finalizer")
        if f is not None:
            self.visit(f)

    def _return(self, node) -> None:
        value = node.named_children[0] if node.named_children else None
        if value is None or value.type == "comment":
            return
        self.visit(value)
        if self.fn:
            kind = "return" if node.type == "return_statement" else "raise"
            rid = self.s.key("returns", f"{self.fn}/{kind}")
            self.s.data["returns"][rid] = {"function": self.fn, "kind": kind, "refs": self.refs(value),
                                           "except": self.except_var, "guards": [list(g) for g in self.guards]}
            self.at(("returns", rid), node)

    v_return_statement = v_throw_statement = _return

    def v_import_statement(self, node) -> None:
        src = node.child_by_field_name("source")
        mod = self.src(src)[1:-1] if src is not None else ""
        imports = self.s.data["imports"]
        for clause in (c for c in node.named_children if c.type == "import_clause"):
            for c in clause.named_children:
                if c.type == "identifier":
                    imports[self.src(c)] = mod
                elif c.type == "namespace_import":
                    imports[self.src(c.named_children[-1])] = mod
                elif c.type == "named_imports":
                    for spec in c.named_children:
                        if spec.type != "import_specifier":
                            continue
                        name = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias")
                        imported = self.src(name).strip("'\"")
                        imports[self.src(alias or name)] = mod if imported == "default" else f"{mod}.{imported}"

    def v_export_statement(self, node) -> None:
        decl = node.child_by_field_name("declaration")
        is_default = any(c.type == "default" for c in node.children)
        if decl is not None and decl.type in ("function_declaration", "generator_function_declaration"):
            self.function(decl, None, exported="default" if is_default else "named")
            return
        if decl is not None and decl.type == "lexical_declaration":
            for d in decl.named_children:
                if d.type == "variable_declarator":
                    self.declarator(d, exported="named")
            return
        value = node.child_by_field_name("value")
        if value is not None and _unwrap(value).type in FUNCTIONS:
            self.function(_unwrap(value), "default", exported="default")
            return
        for c in node.named_children:
            self.visit(c)

    def v_variable_declarator(self, node) -> None:
        self.declarator(node)

    def declarator(self, node, exported: str = "") -> None:
        name_node = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        inner = _unwrap(value)
        name = self.src(name_node) if name_node is not None else ""
        if inner is not None and inner.type in FUNCTIONS and name_node.type == "identifier":
            self.function(inner, name, exported=exported)
            return
        if inner is not None and inner.type == "call_expression" and self.src(inner.child_by_field_name("function")) == "require":
            args = inner.child_by_field_name("arguments").named_children
            if args and args[0].type == "string":
                mod = self.src(args[0])[1:-1]
                if name_node.type == "identifier":
                    self.s.data["imports"][name] = mod
                elif name_node.type == "object_pattern":
                    for p in name_node.named_children:
                        if p.type == "shorthand_property_identifier_pattern":
                            self.s.data["imports"][self.src(p)] = f"{mod}.{self.src(p)}"
                        elif p.type == "pair_pattern":
                            key, val = p.child_by_field_name("key"), p.child_by_field_name("value")
                            k = self.src(key).strip("'\"")
                            self.s.data["imports"][self.src(val)] = mod if k == "default" else f"{mod}.{k}"
                return
        if value is not None:
            self.visit(value)
            if inner is not None and inner.type in ("call_expression", "new_expression") and name_node.type == "identifier":
                self.instance(name, inner, local=True)

    def v_assignment_expression(self, node) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        inner = _unwrap(right)
        target = self.chain(left)
        if inner is not None and inner.type in FUNCTIONS and target:
            self.function(inner, target)
        else:
            self.visit(right)
            if inner is not None and inner.type in ("call_expression", "new_expression") and target:
                self.instance(target, inner, local=left.type == "identifier")
        if target and left.type != "identifier":
            aid = self.s.key("assigns", f"{self.fn or '<module>'}/{target}")
            self.s.data["assigns"][aid] = {"target": target, "value": cut(self.src(right)), "refs": self.refs(right),
                                           "function": self.fn, "guards": [list(g) for g in self.guards],
                                           "except": self.except_var}
            self.at(("assigns", aid), left)

    def instance(self, name: str, call, local: bool) -> None:
        fn = call.child_by_field_name("function" if call.type == "call_expression" else "constructor")
        if fn is None:
            return
        key = f"{self.fn}:{name}" if self.fn and local else name
        self.s.data["instances"][key] = {"ctor": self.chain(fn) or cut(self.src(fn)),
                                         "call": self._cids.get(call.start_byte, ""),
                                         "function": self.fn}

    def v_class_declaration(self, node) -> None:
        name_node = node.child_by_field_name("name")
        name = self.src(name_node) if name_node is not None else "<class>"
        heritage = next((c for c in node.named_children if c.type == "class_heritage"), None)
        bases = []
        if heritage is not None:
            for c in heritage.named_children:
                for b in (c.named_children if c.type in ("extends_clause", "implements_clause") else [c]):
                    bases.append(self.s.resolve(self.chain(b) or cut(self.src(b))))
        body = node.child_by_field_name("body")
        methods = [self.src(m.child_by_field_name("name")) for m in (body.named_children if body is not None else [])
                   if m.type == "method_definition"]
        self.s.data["classes"][name] = {"bases": bases, "methods": methods, "decorators": []}
        self.at(("classes", name), node)
        saved = self.cls
        self.cls = name
        pending: list = []
        for m in (body.named_children if body is not None else []):
            if m.type == "decorator":
                pending.append(m)
                continue
            if m.type == "method_definition":
                self.function(m, self.src(m.child_by_field_name("name")), decorators=pending)
            elif m.type in ("public_field_definition", "field_definition"):
                value = m.child_by_field_name("value")
                prop = m.child_by_field_name("name") or m.child_by_field_name("property")
                if value is not None and _unwrap(value).type in FUNCTIONS and prop is not None:
                    self.function(_unwrap(value), self.src(prop), decorators=pending)
                else:
                    self.visit(m)
            else:
                self.visit(m)
            pending = []
        self.cls = saved

    v_class = v_class_declaration

    def v_pair(self, node) -> None:
        key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
        inner = _unwrap(value)
        if inner is not None and inner.type in FUNCTIONS and key is not None:
            self.function(inner, self.src(key).strip("'\"`"))
        elif value is not None:
            self.visit(value)

    def function(self, node, name: str | None, exported: str = "", decorators=(), route: str = "",
                 error: str = "") -> None:
        if name is None:
            n = node.child_by_field_name("name")
            name = self.src(n) if n is not None else "<anonymous>"
        base = f"{self.cls}.{name}" if self.cls and not self.fn else (f"{self.fn}.{name}" if self.fn else name)
        fid = self.s.key("functions", base)
        params = []
        single = node.child_by_field_name("parameter")
        plist = node.child_by_field_name("parameters")
        for p in ([single] if single is not None else (plist.named_children if plist is not None else [])):
            pat = p.child_by_field_name("pattern") or p.child_by_field_name("left") or p
            params.append(self.src(pat) if pat.type == "identifier" else "")
        dec_texts = [cut(self.src(d)) for d in decorators]
        for d in decorators:
            call = next((c for c in d.named_children if c.type == "call_expression"), None)
            fn = self.src(call.child_by_field_name("function")) if call is not None else ""
            if fn in NEST_ROUTE_DECORATORS:
                route = route or cut(self.src(d))
        if not route and exported:
            low = self.rel
            if exported == "default" and ("/pages/api/" in low or low.startswith("pages/api/")):
                route = "Next.js API route"
            elif exported == "named" and name in NEXT_ROUTE_EXPORTS and low.rsplit("/", 1)[-1].startswith("route."):
                route = "Next.js route handler"
        self.s.data["functions"][fid] = {"name": name, "class": self.cls if not self.fn else "", "params": params,
                                         "decorators": dec_texts, "route": route, "error_handler": error,
                                         "parent": self.fn}
        self.at(("functions", fid), node)
        saved = (self.fn, self.guards, self.loops, self.retry_loop, self.except_var, self.cls)
        self.fn, self.guards, self.loops, self.retry_loop, self.except_var = fid, [], 0, False, None
        for d in decorators:
            self.visit(d)
        if plist is not None:
            for p in plist.named_children:
                self.visit(p)
        body = node.child_by_field_name("body")
        if body is not None:
            if body.type == "statement_block":
                self.visit(body)
            else:  # an arrow function's expression body is its return value
                self.visit(body)
                rid = self.s.key("returns", f"{fid}/return")
                self.s.data["returns"][rid] = {"function": fid, "kind": "return", "refs": self.refs(body),
                                               "except": None, "guards": []}
                self.at(("returns", rid), body)
        self.fn, self.guards, self.loops, self.retry_loop, self.except_var, self.cls = saved

    def v_call_expression(self, node, new: bool = False) -> None:
        fn = node.child_by_field_name("constructor" if new else "function")
        args = node.child_by_field_name("arguments")
        if fn is None:
            for c in node.named_children:
                self.visit(c)
            return
        text = cut(self.src(fn), 200)
        cid = self.s.key("calls", f"{self.fn or '<module>'}/{cut(text, 80)}")
        rec: dict = {"callee": text, "text": text, "function": self.fn, "args": [], "kwargs": {}, "star": False}
        if new:
            rec["new"] = True
        self.s.data["calls"][cid] = rec
        self._cids[node.start_byte] = cid
        self.at(("calls", cid), node)
        items = [a for a in (args.named_children if args is not None and args.type == "arguments" else [])
                 if a.type != "comment"]
        objects: dict = {}
        for i, a in enumerate(items):
            rec["args"].append(cut(self.src(a)))
            self.at(("calls", cid, "args", i), a)
            if a.type == "spread_element":
                rec["star"] = True
            obj = _unwrap(a)
            if obj.type == "object":
                keys: dict = {}
                for p in obj.named_children:
                    if p.type == "pair":
                        k = self.src(p.child_by_field_name("key")).strip("'\"")
                        keys[k] = cut(self.src(p.child_by_field_name("value")))
                        self.at(("calls", cid, "objects", str(i), k), p)
                    elif p.type == "shorthand_property_identifier":
                        keys[self.src(p)] = self.src(p)
                        self.at(("calls", cid, "objects", str(i), self.src(p)), p)
                    elif p.type == "spread_element":
                        keys["..."] = cut(self.src(p))
                        self.at(("calls", cid, "objects", str(i), "..."), p)
                    elif p.type == "method_definition":
                        keys[self.src(p.child_by_field_name("name"))] = "<function>"
                objects[str(i)] = keys
        if objects:
            rec["objects"] = objects
        refs = [r for a in items for r in self.refs(a)]
        call_context(rec, refs, self)
        self.visit(fn)
        # callbacks are named after the call that takes them: app.get('/pay', (req, res) => ...)
        last = text.rsplit(".", 1)[-1]
        path_arg = items[0] if items and items[0].type in ("string", "template_string") else None
        label = f"{text}({self.src(path_arg)})" if path_arg is not None else f"{text}()"
        is_route = "." in text and not new and (
            (last in ROUTE_REGISTRARS and (path_arg is not None and self.src(path_arg)[1:2] in "/*:"))
            or last == "use" or ".route(" in text)
        for a in items:
            inner = _unwrap(a)
            if inner.type in FUNCTIONS:
                self.function(inner, cut(label, 80), route=cut(label) if is_route else "",
                              error=cut(label) if last in ERROR_REGISTRARS else "")
            elif inner.type == "object" and last in ("route", "addRoute"):
                for p in inner.named_children:
                    v = _unwrap(p.child_by_field_name("value")) if p.type == "pair" else None
                    if v is not None and v.type in FUNCTIONS and self.src(p.child_by_field_name("key")) == "handler":
                        self.function(v, cut(label, 80), route=cut(f"{text}({{handler}})"))
                    else:
                        self.visit(p)
            else:
                self.visit(a)

    def v_new_expression(self, node) -> None:
        self.v_call_expression(node, new=True)

    def v_decorator(self, node) -> None:
        for c in node.named_children:
            self.visit(c)


