"""Code that prints the whole environment: Python read with `ast`, JavaScript/TypeScript with
tree-sitter. Rules of this family call `env_dumps(text, path)` on a TextFile; the parse is cached, so
another rule asking about the same file does not parse it again.

This reads the TextFile itself instead of parse/appcode.py's summary: a dump needs the exact shape
of an argument (`os.environ` vs `os.environ["X"]`, `{...process.env}` vs `process.env.X`) and local
aliases (`env = dict(os.environ); print(env)`), which a summary keeps only as text.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

PY_EXT = (".py", ".pyw")
JS_EXT = (".js", ".mjs", ".cjs", ".jsx")
TS_EXT = (".ts", ".mts", ".cts")
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "msg", "trace",
               "notice", "verbose", "silly", "dir", "table", "print", "echo", "secho", "write", "pprint"}
PY_PRINTS = {"print", "pprint", "pp", "ic"}
# wrappers that keep every value: dict(os.environ), str(...), JSON.stringify(...), Object.entries(...)
KEEPS_ALL = {"dict", "str", "repr", "format", "pformat", "dumps", "stringify", "inspect",
             "entries", "values", "assign", "fromEntries", "toObject", "copy", "items", "__repr__", "__str__", "vars",
             "json", "safe_dump", "dump", "OrderedDict", "Map", "format_map"}
# wrappers that iterate: over a mapping they keep only the names (`sorted(os.environ)`), over
# `.items()` / `.values()` every value
ITERATES = {"list", "tuple", "set", "sorted", "join", "frozenset", "from", "map", "filter"}


@dataclass(frozen=True)
class Dump:
    line: int
    column: int
    sink: str  # "print", "logger.info", "console.log"
    what: str  # "os.environ", "process.env"


def language(path: str) -> str:
    low = path.lower()
    if low.endswith(PY_EXT):
        return "python"
    if low.endswith(".tsx"):
        return "tsx"
    if low.endswith(TS_EXT):
        return "typescript"
    if low.endswith(JS_EXT) and not low.endswith(".min.js"):
        return "javascript"
    return ""


def env_dumps(text: str, path: str) -> list:
    """Every call in the file that logs or prints the whole environment."""
    lang = language(path)
    if lang == "python" and "environ" in text:
        return _py_dumps(text)
    if lang and lang != "python" and any(w in text for w in ("process", "import.meta.env", "Bun.env", "Deno.env")):
        return _js_dumps(text, lang)
    return []


# ---- Python ----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def python_tree(text: str):
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):  # logging.getLogger(__name__).info
        inner = _dotted(node.func)
        return ".".join([inner + "()"] + list(reversed(parts))) if inner else ""
    return ""


def _py_dumps(text: str) -> list:
    tree = python_tree(text)
    if tree is None:
        return []
    env_names = {"os.environ"}  # names that are the whole environment: `import os as o` -> o.environ
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            env_names.update(f"{a.asname}.environ" for a in node.names if a.name == "os" and a.asname)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            env_names.update(a.asname or a.name for a in node.names if a.name == "environ")
    out = []
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes:  # the module first: its aliases hold in every function
        aliases = set(env_names)
        body = list(_own_nodes(scope))
        for node in body:  # env = dict(os.environ); cfg = os.environ.copy()
            if isinstance(node, ast.Assign) and _py_whole(node.value, aliases):
                aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
        if scope is tree:
            env_names = aliases
        for node in body:
            if isinstance(node, ast.Call):
                sink = _py_sink(node)
                args = list(node.args) + [k.value for k in node.keywords]
            elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                sink, args = f"raise {_dotted(node.exc.func) or 'exception'}", list(node.exc.args)
            else:
                continue
            if sink and any(_py_whole(a, aliases) for a in args):
                out.append(Dump(node.lineno, node.col_offset + 1, sink, "os.environ"))
    return sorted(set(out), key=lambda d: (d.line, d.column))


def _own_nodes(scope):
    """Nodes of a module or function, not of the functions nested in it."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ClassDef):
            stack.extend(n for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def _py_sink(call: ast.Call) -> str:
    name = _dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if name in PY_PRINTS or name in ("pprint.pprint", "pprint.pp", "rich.print", "sys.stdout.write",
                                     "sys.stderr.write", "click.echo", "click.secho", "warnings.warn"):
        return name
    receiver = name[: -len(last) - 1].lower() if "." in name else ""
    if last in LOG_METHODS and ("log" in receiver or receiver in ("app", "current_app", "self.app", "console")):
        return name
    return ""


def _py_whole(node, aliases: set) -> bool:
    """Whether an expression carries every value of the environment (not one variable of it)."""
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _dotted(node) in aliases
    if isinstance(node, ast.Call):
        fn = node.func
        if isinstance(fn, ast.Attribute) and _py_whole(fn.value, aliases):
            return fn.attr in KEEPS_ALL  # os.environ.copy() / .items(); not .get("X") / .keys()
        name = _dotted(fn).rsplit(".", 1)[-1]
        args = list(node.args) + [k.value for k in node.keywords]
        if name in ITERATES:
            return any(isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and a.func.attr in ("items", "values")
                       and _py_whole(a.func.value, aliases) for a in args)
        return name in KEEPS_ALL and any(_py_whole(a, aliases) for a in args)
    if isinstance(node, ast.Dict):
        return any(k is None and _py_whole(v, aliases) for k, v in zip(node.keys, node.values))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) and _py_whole(v.value, aliases) for v in node.values)
    if isinstance(node, ast.BinOp):  # "env: %s" % os.environ, "env: " + str(os.environ)
        return _py_whole(node.left, aliases) or _py_whole(node.right, aliases)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_py_whole(e, aliases) for e in node.elts)
    if isinstance(node, (ast.ListComp, ast.DictComp, ast.GeneratorExp)):
        return any(_py_whole(g.iter, aliases) for g in node.generators)
    return False


# ---- JavaScript / TypeScript -----------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _parser(lang: str):
    from tree_sitter import Language, Parser

    if lang == "javascript":
        import tree_sitter_javascript as m

        return Parser(Language(m.language()))
    import tree_sitter_typescript as t

    return Parser(Language(t.language_tsx() if lang == "tsx" else t.language_typescript()))


@functools.lru_cache(maxsize=8)
def js_tree(text: str, lang: str):
    return _parser(lang).parse(text.encode("utf-8"))


ENV_OBJECTS = {"process.env", "import.meta.env", "Bun.env", "Deno.env.toObject()"}
JS_SINKS = {"console", "logger", "log", "winston", "pino", "bunyan", "debug", "signale", "consola"}


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _js_dumps(text: str, lang: str) -> list:
    root = js_tree(text, lang).root_node
    aliases = set(ENV_OBJECTS)
    calls = []
    stack = [root]
    while stack:  # one walk: aliases (`const env = process.env`) and calls, in source order
        node = stack.pop()
        if node.type == "variable_declarator":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if name is not None and value is not None:
                if name.type == "identifier" and _js_whole(value, aliases):
                    aliases.add(_text(name))
                elif name.type == "object_pattern" and _text(value) == "process":  # const { env } = process
                    aliases.update(_text(c) for c in name.named_children if _text(c) == "env")
        elif node.type == "call_expression":
            calls.append(node)
        stack.extend(reversed(node.children))
    out = []
    for call in calls:
        fn, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
        sink = _js_sink(fn)
        if sink and args is not None and any(_js_whole(a, aliases) for a in args.named_children):
            out.append(Dump(call.start_point[0] + 1, call.start_point[1] + 1, sink, "process.env"))
    return out


def _js_sink(fn) -> str:
    if fn is None:
        return ""
    name = _text(fn)
    if fn.type == "identifier":
        return name if name in ("debug", "log", "print") else ""
    if fn.type != "member_expression":
        return ""
    obj, prop = fn.child_by_field_name("object"), fn.child_by_field_name("property")
    recv, method = _text(obj).lower() if obj is not None else "", _text(prop) if prop is not None else ""
    if name in ("process.stdout.write", "process.stderr.write", "util.log"):
        return name
    if method in LOG_METHODS and (recv.rsplit(".", 1)[-1] in JS_SINKS or "log" in recv):
        return name
    return ""


def _js_whole(node, aliases: set) -> bool:
    t = node.type
    if t in ("member_expression", "identifier", "call_expression") and _text(node) in aliases:
        return True
    if t == "parenthesized_expression" or t == "spread_element" or t == "await_expression":
        return any(_js_whole(c, aliases) for c in node.named_children)
    if t == "call_expression":
        fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        name = _text(fn).rsplit(".", 1)[-1] if fn is not None else ""
        if fn is not None and fn.type == "member_expression":
            obj = fn.child_by_field_name("object")
            if obj is not None and _js_whole(obj, aliases):
                return name in KEEPS_ALL  # Object-like methods on the env itself
        if name in ITERATES or args is None:  # Array.from(process.env) is empty; names need Object.keys
            return False
        return name in KEEPS_ALL and any(_js_whole(a, aliases) for a in args.named_children)
    if t == "object":  # { ...process.env }
        return any(c.type == "spread_element" and _js_whole(c, aliases) for c in node.named_children)
    if t == "template_string":
        return any(c.type == "template_substitution" and any(_js_whole(x, aliases) for x in c.named_children)
                   for c in node.named_children)
    if t == "binary_expression":
        return any(_js_whole(c, aliases) for c in node.named_children)
    if t in ("array", "arguments", "as_expression", "satisfies_expression", "non_null_expression"):
        return any(_js_whole(c, aliases) for c in node.named_children)
    return False
