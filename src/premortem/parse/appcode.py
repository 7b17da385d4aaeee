"""Application code: Python modules (stdlib `ast`) and JavaScript/TypeScript (tree-sitter, appcode_js.py)
summarized into one Resource per file: format "code", kind "PythonModule" or "JavaScriptModule".

The tree is parsed once, summarized and dropped; rules read only the summary. `data` (the same shape
for both languages; every table is a dict keyed by a stable id, so node paths and fingerprints survive
edits elsewhere in the file):

- `language`: "python" | "javascript" | "typescript"
- `imports`: {local name: module path}. Python `import requests as r` -> {"r": "requests"}, `from
  urllib.request import urlopen` -> {"urlopen": "urllib.request.urlopen"}; JS `import axios from
  'axios'` / `const axios = require('axios')` -> {"axios": "axios"}, `import {x as y} from 'm'` ->
  {"y": "m.x"}, `import * as m from 'm'` -> {"m": "m"}. `star_imports`: modules imported with `*`.
- `functions`: {fid: {"name", "class", "params": [names, '' for a destructured one], "decorators":
  [source texts], "route": how it is registered as a request handler ('' if not), "error_handler": how
  it is registered as an error handler ('' if not), "parent": the fid it is nested in}}. fid is the
  qualified name ("Checkout.get_rate", "outer.inner"); a JS callback is named after the call that takes
  it (`app.get('/pay')`); duplicates get "#2", "#3". Routes: Flask/FastAPI/aiohttp decorators with a
  path, DRF `@api_view`, Django views (views.py, first parameter `request`) and view-class methods,
  `add_url_rule`/`add_api_route`; Express/Koa/Fastify `app.get('/x', fn)`, `app.use(fn)`,
  `route({handler})`, NestJS `@Get()`, Next.js API routes and `route.ts` exports.
- `calls`: {cid: {"callee": the callee resolved through imports and instances ("requests.get",
  "requests.Session().get", "axios.create().post", "fetch"), "text": its source text, "function": the
  enclosing fid ('' at module level), "args": [source texts, cut at 120 chars], "kwargs": {name: source
  text} (Python keywords), "objects": {"<arg index>": {key: text}} (JS object-literal arguments; a
  spread is the key "..."), "star": true when `*a`/`**kw`/`...a` is passed, "new": true for `new X()`,
  and when they apply "refs" (what the arguments are made of, see below), "guards", "retry_loop" (inside
  a try inside a loop: a hand-written retry), "except" (the caught exception's name inside an
  except/catch block)}}. cid is "<fid or <module>>/<callee text>".
- `instances`: {name: {"ctor": resolved constructor, "call": cid, "function"}} for `x = Ctor(...)`,
  `with Ctor() as x`, `self.x = Ctor(...)`, `const x = new X()`; a name local to a function is keyed
  "<fid>:<name>".
- `assigns`: {aid: {"target", "value" (source text), "refs", "function", "guards", "except"}} for
  module-level Python names and for attribute/subscript targets anywhere (`app.debug = True`,
  `axios.defaults.timeout = 5000`, `res.locals.error = err`).
- `returns`: {rid: {"function", "kind": "return" | "raise" (JS `throw`), "refs", "except", "guards"}}
  in request and error handlers only (an arrow function's expression body is its return).
- `classes`: {name: {"bases": [resolved texts], "methods": [names], "decorators": [texts]}}.
- JS only: `jsx` (true when the module renders JSX: browser code).

`refs` are the values an expression is made of, each `[text, guards]`: a name chain (`err.stack`,
`os.environ`, `os.environ['X']`), a call whose arguments are all simple (`repr(exc)`,
`traceback.format_exc()`, `JSON.stringify(err)`) kept whole, any other call as `f(…)` followed by
the refs of its arguments, a spread as `...x` / `**x`, an f-string `{x!r}` as `repr(x)`. `guards` are
the conditions under which code runs, `[condition source text, holds]` (`holds` false in an `else`,
after an `if (...) return`, or in a ternary's alternative; `a && b` guards `b` with `a`).

`positions` has (line, column) for ("functions", fid), ("calls", cid) (the call's first character),
("calls", cid, "args", i), ("calls", cid, "kwargs", name) (the value), ("calls", cid, "objects", "i",
key), ("assigns", aid), ("returns", rid) and ("classes", name).

Query helpers for rules: `request_path(data)` (handlers and what they call), `call_graph(data)`,
`enclosing(data, fid)` (a function, its parents and callers), `env_guard(guards)` (the condition that
keeps code out of production), `instance(data, fid, text)`, `is_test_file(rel)`. Entry point:
`parse_code(kind, text, rel)` -> (resources, errors). A Python syntax error is a ScanError naming file
and line (nothing is emitted); a JS/TS one too, but what parsed is still summarized.
"""
from __future__ import annotations

import ast
import re

from ..model import Resource, ScanError

MAX_TEXT = 120
MAX_REFS = 40
HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
ROUTE_DECORATORS = set(HTTP_VERBS) | {"route", "api_route", "websocket", "view"}
PY_ERROR_DECORATORS = ("errorhandler", "app_errorhandler", "exception_handler")
# registration calls: the argument that is a function name becomes a handler
ROUTE_REGISTRARS = {"add_url_rule", "add_api_route", "Route", "add_route", "route", "all", "use"} | set(HTTP_VERBS) | {"del"}
ERROR_REGISTRARS = {"register_error_handler", "add_exception_handler", "setErrorHandler"}
VIEW_BASES = ("View", "ViewSet", "APIView", "MethodView", "Resource", "HTTPEndpoint", "Endpoint", "Handler")
VIEW_METHODS = set(HTTP_VERBS) | {"list", "create", "retrieve", "update", "partial_update", "destroy", "dispatch"}


def cut(text: str, n: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class Summary:
    """The tables above, filled by a language walker; ids made unique on insertion."""

    def __init__(self, language: str, source: bytes):
        self.data = {"language": language, "imports": {}, "star_imports": [], "functions": {}, "calls": {},
                     "instances": {}, "assigns": {}, "returns": {}, "classes": {}}
        self.positions: dict = {}
        self._src = source
        self._starts = [0] + [m.end() for m in re.finditer(b"\n", source)]

    def key(self, table: str, base: str) -> str:
        t = self.data[table]
        if base not in t:
            return base
        n = 2
        while f"{base}#{n}" in t:
            n += 1
        return f"{base}#{n}"

    def at(self, path: tuple, line: int, byte_col: int) -> None:
        """Record a position: `line` 1-based, `byte_col` 0-based in UTF-8 bytes (as ast and tree-sitter give)."""
        start = self._starts[line - 1] if 0 < line <= len(self._starts) else 0
        col = len(self._src[start:start + byte_col].decode("utf-8", "replace")) + 1
        self.positions[path] = (line, col)

    def text(self, start_byte: int, end_byte: int) -> str:
        return self._src[start_byte:end_byte].decode("utf-8", "replace")

    def offset(self, line: int, byte_col: int) -> int:
        return (self._starts[line - 1] if 0 < line <= len(self._starts) else 0) + byte_col

    def resolve(self, text: str, fid: str = "", depth: int = 0) -> str:
        """`r.get` -> `requests.get`; `session.get` -> `requests.Session().get` (via instances)."""
        head, dot, rest = text.partition(".")
        inst = self.data["instances"]
        for prefix in _prefixes(text):
            for k in ((f"{fid}:{prefix}", prefix) if fid else (prefix,)):
                if k in inst and depth < 5:
                    ctor = self.resolve(inst[k]["ctor"], inst[k].get("function", ""), depth + 1)
                    return f"{ctor}()" + text[len(prefix):]
        mod = self.data["imports"].get(head)
        if mod:
            return mod + dot + rest
        return text

    def finish(self) -> None:
        """Resolve callees, mark functions registered by name, keep returns of handlers only."""
        d = self.data
        for c in d["calls"].values():
            c["callee"] = self.resolve(c["text"], c["function"])
        for inst in d["instances"].values():
            inst["ctor"] = self.resolve(inst["ctor"], inst.get("function", ""))
        by_name: dict = {}
        for fid, f in d["functions"].items():
            by_name.setdefault(f["name"], []).append(fid)
        for c in d["calls"].values():
            last = c["text"].rsplit(".", 1)[-1]
            if last not in ROUTE_REGISTRARS and last not in ERROR_REGISTRARS:
                continue
            names = [a for a in c["args"] if re.fullmatch(r"[\w$.]+", a)] + [
                v for k, v in c["kwargs"].items() if k in ("view_func", "endpoint", "handler")]
            for name in names:
                for fid in by_name.get(name.rsplit(".", 1)[-1], ()):
                    f = d["functions"][fid]
                    if last in ERROR_REGISTRARS:
                        f["error_handler"] = f["error_handler"] or cut(c["text"] + "(…)")
                    elif c["args"] and _PATH.match(c["args"][0]) or last in ("add_url_rule", "add_api_route", "Route"):
                        f["route"] = f["route"] or cut(f"{c['text']}({c['args'][0]})")
        drop = {r for r, v in d["returns"].items() if not (d["functions"].get(v["function"], {}).get("route")
                                                           or d["functions"].get(v["function"], {}).get("error_handler"))}
        for rid in drop:
            del d["returns"][rid]
        for p in [p for p in self.positions if p[0] == "returns" and p[1] in drop]:
            del self.positions[p]


_PATH = re.compile(r"""^[rbfu]*['"`][/*^]""", re.IGNORECASE)  # a route path: '/pay', '*', a regex '^/x'


def _prefixes(text: str) -> list:
    """`self.session.get` -> ["self.session.get", "self.session", "self"]: the longest receiver first
    (the whole text too: an instance called as a function, `client(url)`)."""
    parts = text.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


# ---- query helpers for rules --------------------------------------------------------------------
def request_path(data: dict) -> dict:
    """{fid: description} of request handlers and of the module's functions they call (transitively, by
    name): "request handler `pay` (@app.route('/pay'))" or "`get_rate`, called from request handler ..."."""
    funcs = data.get("functions", {})
    out = {fid: f"request handler `{f['name']}`" + (f" ({f['route']})" if f["route"] != f["name"] else "")
           for fid, f in funcs.items() if f.get("route")}
    edges, children = call_graph(data), {}
    for fid, f in funcs.items():
        if f.get("parent"):
            children.setdefault(f["parent"], []).append(fid)
    todo = list(out)
    while todo:  # callees by name, and functions nested in a reached one (callbacks)
        fid = todo.pop()
        origin = out[fid].split(", called from ")[-1]
        for callee in sorted(edges.get(fid, ())):
            if callee not in out:
                out[callee] = f"`{funcs[callee]['name']}`, called from {origin}"
                todo.append(callee)
        for child in children.get(fid, ()):
            if child not in out:
                out[child] = out[fid]
                todo.append(child)
    return out


def call_graph(data: dict) -> dict:
    """{caller fid ('' = module level): {callee fids}}: calls of the module's own functions by name
    (`get_rate(...)`, `self.get_rate(...)`, `this.getRate(...)`)."""
    by_name: dict = {}
    for fid, f in data.get("functions", {}).items():
        by_name.setdefault(f["name"], []).append(fid)
    edges: dict = {}
    for c in data.get("calls", {}).values():
        name = re.sub(r"^(?:self|this|cls)\.", "", c["text"])
        if "." not in name and name in by_name:
            edges.setdefault(c["function"], set()).update(by_name[name])
    return edges


def enclosing(data: dict, fid: str) -> list:
    """`fid`, the functions it is nested in, and every function that calls any of them (transitively)."""
    funcs, edges = data.get("functions", {}), call_graph(data)
    callers: dict = {}
    for caller, callees in edges.items():
        for c in callees:
            callers.setdefault(c, set()).add(caller)
    out, todo = [], [fid]
    while todo:
        f = todo.pop()
        if not f or f in out:
            continue
        out.append(f)
        todo.append(funcs.get(f, {}).get("parent", ""))
        todo.extend(sorted(callers.get(f, ())))
    return out


_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|__mocks__|spec|e2e|cypress|playwright|fixtures|testing)/|"
                        r"(?:^|/)(?:test_[^/]*|[^/]*_test|conftest)\.py$|\.(?:test|spec|cy|e2e)\.[cm]?[jt]sx?$", re.IGNORECASE)


def is_test_file(rel: str) -> bool:
    """Test code (tests/, __tests__/, test_*.py, *_test.py, conftest.py, *.test.js, *.spec.ts, e2e/...)."""
    return bool(_TEST_PATH.search(rel))


_ENV = re.compile(r"NODE_ENV|\benv\b|ENVIRONMENT|environ|getenv|\bDEBUG\b|\bdebug\b|isDev|isProd|is_dev|is_prod|"
                  r"development|production|settings\.DEBUG|app\.debug|IS_PRODUCTION|IS_DEV", re.IGNORECASE)
_PROD = re.compile(r"""(?:===?|==)\s*['"](?:prod|production|live)['"]|['"](?:prod|production|live)['"]\s*(?:===?)|"""
                   r"""\bis_?prod(?:uction)?\b|\bIS_PROD(?:UCTION)?\b""", re.IGNORECASE)
_NOT_PROD = re.compile(r"""!==?\s*['"](?:prod|production)['"]|['"](?:prod|production)['"]\s*!==?""", re.IGNORECASE)


def env_guard(guards) -> str:
    """The condition (source text) that keeps this code out of production, '' when none does.
    `NODE_ENV !== 'production'`, `isDev`, `settings.DEBUG`, `app.debug` holding, or `NODE_ENV ===
    'production'` / `isProd` not holding. An environment check whose direction is unclear counts."""
    for cond, holds in guards or ():
        if not _ENV.search(cond):
            continue
        negated = cond.lstrip().startswith(("!", "not "))
        prod = bool(_PROD.search(cond)) and not _NOT_PROD.search(cond)
        if prod and holds != negated:  # runs only in production
            continue
        return cond if holds else f"not ({cond})"
    return ""


def instance(data: dict, fid: str, text: str) -> dict | None:
    """The `instances` entry the receiver of `text` (`session.get` -> `session`) was built by, if any."""
    inst = data.get("instances", {})
    for prefix in _prefixes(text):
        for k in (f"{fid}:{prefix}", prefix):
            if k in inst:
                return inst[k]
    return None


# ---- Python ------------------------------------------------------------------------------------
def parse_python(text: str, rel: str) -> tuple[list, list]:
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        where = f" (column {exc.offset})" if exc.offset else ""
        return [], [ScanError(rel, exc.lineno or 0, f"Python syntax error: {exc.msg}{where}; not analysed",
                              column=exc.offset or 0)]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [], [ScanError(rel, 0, f"Python code not analysed: {type(exc).__name__}: {exc}")]
    s = Summary("python", text.encode("utf-8"))
    w = _Py(s, rel)
    try:
        w.block(tree.body)
    except RecursionError:
        return [], [ScanError(rel, 0, "Python code nested too deeply to analyse")]
    s.finish()
    return [Resource(format="code", kind="PythonModule", name=rel, namespace="", data=s.data, file=rel,
                     line=1, positions=s.positions)], []


def _exits(body: list) -> bool:
    last = body[-1] if body else None
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    return (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and _chain(last.value.func) in ("abort", "flask.abort", "sys.exit", "exit"))


def _chain(node) -> str | None:
    """`a.b.c`, `os.environ['X']` as text; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _chain(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, (str, int)):
        base = _chain(node.value)
        return f"{base}[{node.slice.value!r}]" if base else None
    return None


def _route_decorator(fn: str, call) -> bool:
    """`@app.route(...)`, `@app.get("/x")`, `@router.post(path=...)`, DRF `@api_view`, Django `@require_POST`."""
    last = fn.rsplit(".", 1)[-1]
    if last in ("api_view", "action", "require_http_methods", "require_GET", "require_POST", "require_safe"):
        return True
    if call is None or last not in ROUTE_DECORATORS or "." not in fn:
        return False
    return (last == "route" or any(isinstance(x, ast.Constant) and isinstance(x.value, str) for x in call.args[:1])
            or any(k.arg in ("path", "rule") for k in call.keywords))


def _is_simple(node) -> bool:
    return isinstance(node, ast.Constant) or _chain(node) is not None


_LEAVES = (ast.Name, ast.Constant)


class _Py:
    def __init__(self, s: Summary, rel: str):
        self.s = s
        self.rel = rel
        self.views_module = bool(re.search(r"(?:^|/)views(?:\.py$|/)", rel))
        self.fn = ""  # enclosing function id
        self.cls = ""  # enclosing class (qualified)
        self.cls_view = False
        self.guards: list = []
        self.loops = 0
        self.retry_loop = False
        self.except_var: str | None = None

    # -- helpers
    def src(self, node) -> str:
        s = self.s
        end_line = getattr(node, "end_lineno", None) or node.lineno
        end_col = getattr(node, "end_col_offset", None)
        if end_col is None:
            return ""
        return s.text(s.offset(node.lineno, node.col_offset), s.offset(end_line, end_col))

    def at(self, path: tuple, node) -> None:
        self.s.at(path, node.lineno, node.col_offset)

    def refs(self, node, guards=(), out=None) -> list:
        out = [] if out is None else out
        if node is None or len(out) >= MAX_REFS:
            return out
        ch = _chain(node)
        if ch is not None:
            out.append([ch, [list(g) for g in guards]])
        elif isinstance(node, ast.Call):
            fn = _chain(node.func) or cut(self.src(node.func), 60)
            if all(_is_simple(a) for a in node.args) and all(_is_simple(k.value) for k in node.keywords):
                out.append([cut(self.src(node), MAX_TEXT), [list(g) for g in guards]])
            else:
                out.append([f"{fn}(…)", [list(g) for g in guards]])
                for a in node.args:
                    self.refs(a, guards, out)
                for k in node.keywords:
                    self.refs(k.value, guards, out)
        elif isinstance(node, ast.IfExp):
            cond = cut(self.src(node.test))
            self.refs(node.body, (*guards, (cond, True)), out)
            self.refs(node.orelse, (*guards, (cond, False)), out)
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            g = tuple(guards)
            for v in node.values:
                self.refs(v, g, out)
                g = (*g, (cut(self.src(v)), True))
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if k is None:
                    c = _chain(v)
                    if c:
                        out.append([f"**{c}", [list(g) for g in guards]])
                        continue
                self.refs(v, guards, out)
        elif isinstance(node, ast.FormattedValue):
            c = _chain(node.value)
            if c and node.conversion == ord("r"):
                out.append([f"repr({c})", [list(g) for g in guards]])
            else:
                self.refs(node.value, guards, out)
        elif isinstance(node, ast.Starred):
            c = _chain(node.value)
            out.append([f"*{c}", [list(g) for g in guards]]) if c else self.refs(node.value, guards, out)
        elif isinstance(node, (ast.Lambda, ast.Constant)):
            pass
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.refs(child, guards, out)
        return out

    # -- statements
    def block(self, stmts: list) -> None:
        pushed = 0
        for st in stmts:
            self.stmt(st)
            if isinstance(st, ast.If) and not st.orelse and _exits(st.body):
                self.guards.append((cut(self.src(st.test)), False))
                pushed += 1
        if pushed:
            del self.guards[-pushed:]

    def guarded(self, cond: str, holds: bool, stmts: list) -> None:
        self.guards.append((cond, holds))
        self.block(stmts)
        self.guards.pop()

    def stmt(self, st) -> None:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(st)
        elif isinstance(st, ast.ClassDef):
            self.klass(st)
        elif isinstance(st, ast.If):
            self.expr(st.test)
            cond = cut(self.src(st.test))
            self.guarded(cond, True, st.body)
            if st.orelse:
                self.guarded(cond, False, st.orelse)
        elif isinstance(st, (ast.For, ast.AsyncFor, ast.While)):
            self.expr(st.iter if not isinstance(st, ast.While) else st.test)
            self.loops += 1
            self.block(st.body)
            self.loops -= 1
            self.block(st.orelse)
        elif isinstance(st, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            saved = self.retry_loop
            self.retry_loop = saved or self.loops > 0
            self.block(st.body)
            self.retry_loop = saved
            for h in st.handlers:
                if h.type is not None:
                    self.expr(h.type)
                outer, self.except_var = self.except_var, h.name or "<exception>"
                self.block(h.body)
                self.except_var = outer
            self.block(st.orelse)
            self.block(st.finalbody)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            for item in st.items:
                self.expr(item.context_expr)
                if item.optional_vars is not None and isinstance(item.context_expr, ast.Call):
                    self.instance(item.optional_vars, item.context_expr)
            self.block(st.body)
        elif isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            if st.value is not None:
                self.expr(st.value)
                for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                    self.assign(t, st.value)
        elif isinstance(st, (ast.Return, ast.Raise)):
            value = st.value if isinstance(st, ast.Return) else st.exc
            if value is not None:
                self.expr(value)
                if self.fn:
                    kind = "return" if isinstance(st, ast.Return) else "raise"
                    rid = self.s.key("returns", f"{self.fn}/{kind}")
                    self.s.data["returns"][rid] = {"function": self.fn, "kind": kind, "refs": self.refs(value),
                                                   "except": self.except_var, "guards": [list(g) for g in self.guards]}
                    self.at(("returns", rid), st)
        elif isinstance(st, ast.Import):
            for a in st.names:
                if a.asname:
                    self.s.data["imports"][a.asname] = a.name
                else:
                    head = a.name.split(".")[0]
                    self.s.data["imports"][head] = head
        elif isinstance(st, ast.ImportFrom):
            mod = "." * st.level + (st.module or "")
            for a in st.names:
                if a.name == "*":
                    self.s.data["star_imports"].append(mod)
                else:
                    self.s.data["imports"][a.asname or a.name] = f"{mod}.{a.name}" if st.module else f"{mod}{a.name}"
        else:
            for _name, value in ast.iter_fields(st):
                items = value if isinstance(value, list) else [value]
                if items and all(isinstance(i, ast.stmt) for i in items):
                    self.block(items)
                    continue
                for i in items:
                    if isinstance(i, ast.expr):
                        self.expr(i)
                    elif isinstance(i, ast.AST):  # match_case, etc.
                        for sub in ast.iter_child_nodes(i):
                            if isinstance(sub, ast.stmt):
                                self.stmt(sub)
                            elif isinstance(sub, ast.expr):
                                self.expr(sub)

    def function(self, st) -> None:
        name = st.name
        fid = self.s.key("functions", f"{self.fn or self.cls}.{name}" if (self.fn or self.cls) else name)
        a = st.args
        params = [p.arg for p in (*a.posonlyargs, *a.args)]
        if self.cls and not self.fn and params and params[0] in ("self", "cls"):
            params = params[1:]
        decorators = []
        route = error = ""
        for d in st.decorator_list:
            self.expr(d)
            text = cut(self.src(d))
            decorators.append(text)
            call = d if isinstance(d, ast.Call) else None
            fn = _chain(call.func if call else d) or ""
            last = fn.rsplit(".", 1)[-1]
            if last in PY_ERROR_DECORATORS:
                error = f"@{text}"
            elif _route_decorator(fn, call):
                route = f"@{text}"
        if not route and not self.cls and not self.fn and self.views_module and params[:1] == ["request"]:
            route = "Django view"
        if not route and self.cls_view and not self.fn and name in VIEW_METHODS:
            route = f"method of view class {self.cls}"
        self.s.data["functions"][fid] = {"name": name, "class": self.cls, "params": params,
                                         "decorators": decorators, "route": route, "error_handler": error,
                                         "parent": self.fn}
        self.at(("functions", fid), st)
        for dflt in (*a.defaults, *[x for x in a.kw_defaults if x is not None]):
            self.expr(dflt)
        saved = (self.fn, self.guards, self.loops, self.retry_loop, self.except_var)
        self.fn, self.guards, self.loops, self.retry_loop, self.except_var = fid, [], 0, False, None
        self.block(st.body)
        self.fn, self.guards, self.loops, self.retry_loop, self.except_var = saved

    def klass(self, st) -> None:
        for b in (*st.bases, *st.decorator_list):
            self.expr(b)
        name = f"{self.cls}.{st.name}" if self.cls else st.name
        bases = [_chain(b) or cut(self.src(b)) for b in st.bases]
        self.s.data["classes"][name] = {"bases": [self.s.resolve(b) for b in bases],
                                        "methods": [x.name for x in st.body if isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef))],
                                        "decorators": [cut(self.src(d)) for d in st.decorator_list]}
        self.at(("classes", name), st)
        saved = (self.cls, self.cls_view)
        self.cls = name
        self.cls_view = any(b.rsplit(".", 1)[-1].endswith(VIEW_BASES) for b in bases)
        if self.fn:  # a class inside a function: its methods are not request handlers
            self.cls_view = False
        self.block(st.body)
        self.cls, self.cls_view = saved

    def assign(self, target, value) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            return
        ch = _chain(target)
        inner = value.value if isinstance(value, ast.Await) else value
        if isinstance(inner, ast.Call) and ch:
            self.instance(target, inner)
        if ch is None or (isinstance(target, ast.Name) and self.fn):
            return
        aid = self.s.key("assigns", f"{self.fn or '<module>'}/{ch}")
        self.s.data["assigns"][aid] = {"target": ch, "value": cut(self.src(value)), "refs": self.refs(value),
                                       "function": self.fn, "guards": [list(g) for g in self.guards],
                                       "except": self.except_var}
        self.at(("assigns", aid), target)

    def instance(self, target, call) -> None:
        ch = _chain(target)
        ctor = _chain(call.func) or cut(self.src(call.func))
        if not ch:
            return
        key = f"{self.fn}:{ch}" if self.fn and isinstance(target, ast.Name) else ch
        self.s.data["instances"][key] = {"ctor": ctor, "call": getattr(call, "_cid", ""), "function": self.fn}

    # -- expressions
    def expr(self, node) -> None:
        while isinstance(node, (ast.Attribute, ast.Starred, ast.Await)):  # nothing to record on the way down
            node = node.value
        if node is None or isinstance(node, _LEAVES):
            return
        if isinstance(node, ast.Call):
            self.call(node)
            return
        if isinstance(node, ast.IfExp):
            self.expr(node.test)
            cond = cut(self.src(node.test))
            self.guards.append((cond, True))
            self.expr(node.body)
            self.guards[-1] = (cond, False)
            self.expr(node.orelse)
            self.guards.pop()
            return
        if isinstance(node, ast.Lambda):
            self.expr(node.body)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
            elif isinstance(child, ast.comprehension):
                self.expr(child.iter)
                for cond in child.ifs:
                    self.expr(cond)

    def call(self, node) -> None:
        text = cut(self.src(node.func), 200)
        cid = self.s.key("calls", f"{self.fn or '<module>'}/{cut(text, 80)}")
        rec: dict = {"callee": text, "text": text, "function": self.fn, "args": [], "kwargs": {}, "star": False}
        self.s.data["calls"][cid] = rec
        node._cid = cid
        self.at(("calls", cid), node)
        for i, a in enumerate(node.args):
            if isinstance(a, ast.Starred):
                rec["star"] = True
            rec["args"].append(cut(self.src(a)))
            self.at(("calls", cid, "args", i), a)
        for k in node.keywords:
            if k.arg is None:
                rec["star"] = True
                continue
            rec["kwargs"][k.arg] = cut(self.src(k.value))
            self.at(("calls", cid, "kwargs", k.arg), k.value)
        refs = [r for a in (*node.args, *(k.value for k in node.keywords)) for r in self.refs(a)]
        call_context(rec, refs, self)
        self.expr(node.func)
        for a in node.args:
            self.expr(a)
        for k in node.keywords:
            self.expr(k.value)


def parse_code(kind: str, text: str, rel: str) -> tuple[list, list]:
    """The engine's entry point: kind "python" or "javascript" (by extension, see discover.classify)."""
    if kind == "python":
        return parse_python(text, rel)
    from .appcode_js import parse_javascript

    return parse_javascript(text, rel)


def call_context(rec: dict, refs: list, walker) -> None:
    """What a call record keeps of where it sits (both languages): the names its arguments are built
    from, the conditions it runs under, a hand-written retry loop around it, the enclosing except."""
    if refs:
        rec["refs"] = refs[:MAX_REFS]
    if walker.guards:
        rec["guards"] = [list(g) for g in walker.guards]
    if walker.retry_loop:
        rec["retry_loop"] = True
    if walker.except_var:
        rec["except"] = walker.except_var
