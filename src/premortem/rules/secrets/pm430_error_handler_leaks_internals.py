"""PM430: an error handler sends the stack trace, the error object, config or the environment to the client."""
import re

from ...parse.appcode import env_guard, is_test_file
from ..registry import Hit, rule
from ._debug_mode import debug_mode

SEND = {"json", "send", "jsonp", "end", "write", "render"}
_WRAP = re.compile(r"^(?:dict|vars|str|repr|list|json\.dumps|JSON\.stringify|util\.inspect|inspect|serializeError)"
                   r"\((.*)\)$|^(?:\*\*|\.\.\.)(.*)$")
_TAIL = re.compile(r"\.(?:copy|items|dict|model_dump|to_dict|toJSON)\(\)$|\.__dict__$")
CONFIG = ("config", "settings", "CONFIG", "SETTINGS", "conf")
JS_ERROR_FIELDS = ("stack", "config", "request", "response", "sql")


def _core(ref: str) -> str:
    """`dict(os.environ)` -> `os.environ`, `{...err}` -> `err`, `settings.dict()` -> `settings`."""
    for _ in range(3):
        m = _WRAP.match(ref)
        if m:
            ref = m.group(1) or m.group(2) or ""
        ref = _TAIL.sub("", ref)
    return ref


def leak(ref: str, err: str | None, params: list, imports: dict, python: bool) -> str:
    """What the client gets from this ref, when it is internal ('' when it is not)."""
    m = re.match(r"([\w$]+)(.*)$", ref)
    resolved = (imports.get(m.group(1), m.group(1)) + m.group(2)) if m else ref
    core = _core(ref)
    if re.match(r"traceback\.(?:format_|extract_)|sys\.exc_info\(", resolved):
        return f"the stack trace (`{ref}`)"
    if ref in ("locals()", "globals()", "vars()"):
        return f"every variable in scope (`{ref}`)"
    if core in ("os.environ", "process.env") or _core(resolved) == "os.environ":
        return f"the whole environment (`{ref}`), secrets included"
    if err and python and core == err and ref != err and not ref.startswith("str("):
        return f"the exception's internals (`{ref}`)"
    if err and not python and core == err:
        return (f"the whole error object (`{ref}`), whose fields include an axios error's `config` with the "
                f"Authorization header or a database error's SQL")
    if err and not python and ref.startswith(err + ".") and ref[len(err) + 1:].split(".")[0] in JS_ERROR_FIELDS:
        return f"`{ref}` (the stack trace, or the failed request with its config and headers)"
    if core in CONFIG or core.endswith(tuple("." + c for c in CONFIG)) or re.fullmatch(r"get_(?:settings|config)\(\)", core):
        return f"the whole configuration object (`{ref}`), with its credentials"
    for p in (*params, *(k for k, v in imports.items() if v == "flask.request")):
        if p in ("request", "req", "ctx") and p != err and core in (p, f"{p}.headers", f"{p}.cookies", f"{p}.environ",
                                                                    f"{p}.META", f"{p}.scope"):
            return f"the request itself (`{ref}`: its Authorization header and cookies echoed back)"
    return ""


@rule(id="PM430", name="error-handler-leaks-internals", severity="high",
      severity_reason="Whatever reaches an error response is public: stack traces map the code, and a config or "
                      "environment dump hands out tokens and database passwords.",
      incidents=["4.3"], title="Error handler sends internals (stack, error object, config, environment) to clients",
      formats=("code",), kinds=("PythonModule", "JavaScriptModule"),
      fix="Log the error server-side with a correlation id and send the client a generic message and that id; show "
          "stack traces only behind an explicit development check; never run Flask/Django/Starlette with debug on "
          "in production.")
def check(resource, ctx):
    """## What it checks
    - Express error middleware `(err, req, res, next)` (and Fastify `setErrorHandler`, and the
      `catch` blocks of route handlers) that sends — `res.json/send/jsonp/end/write/render(...)`,
      `res.locals.x = ...`, Koa's `ctx.body = ...` — the error object itself (`err`, `...err`,
      `JSON.stringify(err)`), `err.stack`, `err.config`, `err.request`, `err.response`, `err.sql`,
      `process.env`, a whole `config`/`settings` object or `req.headers`.
    - Python error handlers (`@app.errorhandler`, `@app.exception_handler`,
      `register_error_handler`, `add_exception_handler`) and the `except` blocks of request handlers
      that return or raise (`HTTPException(detail=...)`) `traceback.format_exc()` and friends,
      `sys.exc_info()`, `repr(exc)`, `exc.__traceback__`, `locals()`, `os.environ`, a whole
      `settings`/`app.config` object or the `request` (its headers).
    - Debug mode: Flask `app.run(debug=True)`, `app.debug = True`, `app.config["DEBUG"] = True`,
      `app.config.update(DEBUG=True)`; `FastAPI(debug=True)` / `Starlette(debug=True)`; Django
      `DEBUG = True` in a settings module (one that sets two of INSTALLED_APPS, DATABASES,
      SECRET_KEY, ...), unless the file is named for a non-production environment (dev, local,
      test, ci...) or is a base/common file that environments override. `app.run(debug=True)` under
      `if __name__ == "__main__"` is medium, high when a Dockerfile of the scan starts that file with
      `python`, and not reported when the Dockerfile starts a WSGI/ASGI server (gunicorn, uvicorn...).
    Not reported: anything under an environment check that keeps it out of production
    (`if (process.env.NODE_ENV !== 'production')`, `isDev ? err.stack : undefined`, `if app.debug:`,
    `settings.DEBUG and ...`), `err.message`/`str(exc)` alone, values read from the environment
    (`DEBUG = os.environ.get("DEBUG") == "1"`), and test files.

    ## Why it breaks production
    In catalog 4.3 a backend hit an unexpected 500 and its error handler returned the whole
    config object — a bearer token and the MongoDB connection string with its password — in the
    JSON response, and Google indexed the page before anyone noticed. Error payloads are public:
    anything the handler echoes (stack, config, environment) is in the attacker's hands.

    ## Bad
    ```javascript server.js
    const express = require('express');
    const app = express();

    app.use((err, req, res, next) => {
      res.status(500).json({ message: err.message, stack: err.stack, config: err.config });
    });
    ```

    ## Good
    ```javascript server.js
    const express = require('express');
    const app = express();

    app.use((err, req, res, next) => {
      console.error(err);
      res.status(500).json({
        message: 'Internal Server Error',
        stack: process.env.NODE_ENV !== 'production' ? err.stack : undefined,
      });
    });
    ```

    ## Fix
    Log the full error on the server with a request id, answer with a generic message and that
    id, and keep stack traces behind an explicit development check. Read debug flags from the
    environment (`DEBUG = os.environ.get("DJANGO_DEBUG") == "1"`) so production defaults to off.
    """
    if is_test_file(resource.file):
        return
    data = resource.data
    if data.get("language") == "python":
        yield from debug_mode(resource, data, ctx)
        yield from _python_handlers(data)
    else:
        yield from _js_handlers(data)


def _python_handlers(data):
    funcs, imports = data["functions"], data["imports"]
    for rid, r in data["returns"].items():
        f = funcs.get(r["function"], {})
        if f.get("error_handler"):
            err = f["params"][-1] if f["params"] else None
            where = f"error handler `{f['name']}` ({f['error_handler']})"
        elif f.get("route") and r["except"]:
            err = r["except"]
            where = f"the `except` block of request handler `{f['name']}`"
        else:
            continue
        found = [w for ref, g in r["refs"] if not env_guard(r["guards"] + g)
                 for w in [leak(ref, err, f["params"], imports, True)] if w]
        if found:
            verb = "raises" if r["kind"] == "raise" else "returns"
            yield Hit(("returns", rid), f"{where} {verb} {' and '.join(dict.fromkeys(found))} to the client; error "
                                        f"responses are public, and this one maps the code and may carry secrets")


def _js_handlers(data):
    funcs, imports = data["functions"], data["imports"]
    owner: dict = {}  # fid -> (handler fid, error var or None): the function a send belongs to
    for fid, f in funcs.items():
        params = f["params"]
        if f.get("error_handler") or (len(params) == 4 and params[2]):
            owner[fid] = (fid, params[0] or None, "error middleware")
        elif f.get("route"):
            owner[fid] = (fid, None, "route")
    for fid in funcs:  # nested callbacks belong to their handler
        p = funcs[fid].get("parent", "")
        while fid not in owner and p:
            if p in owner:
                owner[fid] = owner[p]
            p = funcs.get(p, {}).get("parent", "")
    sites = [(("calls", cid), c, c.get("refs", ()), c.get("guards", ()), c["text"]) for cid, c in data["calls"].items()
             if c["text"].rsplit(".", 1)[-1] in SEND]
    sites += [(("assigns", aid), a, a["refs"], a["guards"], a["target"]) for aid, a in data["assigns"].items()
              if re.search(r"\.locals\.\w+$|^ctx\.body$|\.body$", a["target"])]
    for path, site, refs, guards, text in sites:
        h = owner.get(site["function"])
        if h is None:
            continue
        handler = funcs[h[0]]
        params = handler["params"]
        err = h[1] if h[2] == "error middleware" else site.get("except")
        if not err or text.split(".")[0] not in params:
            continue  # only what goes out through the handler's own response object
        found = []
        for ref, g in refs:
            w = leak(ref, err, params, imports, False)
            if w and not env_guard(list(guards) + list(g)):
                found.append((ref, w))
        if not found:
            continue
        where = (f"error middleware `{handler['name']}`" if h[2] == "error middleware"
                 else f"the `catch` block of route handler `{handler['name']}`")
        yield Hit(_precise(path, site, found[0][0]), f"{where} sends {' and '.join(dict.fromkeys(w for _, w in found))}"
                                                     f" to the client; error responses are public")


def _precise(path: tuple, site: dict, ref: str) -> tuple:
    """The object key or argument whose value holds `ref`, else the call."""
    for i, obj in site.get("objects", {}).items():
        for k, v in obj.items():
            if ref in v or ref.lstrip(".") in v:
                return (*path, "objects", i, k)
    for i, a in enumerate(site.get("args", ())):
        if ref in a:
            return (*path, "args", i)
    return path
