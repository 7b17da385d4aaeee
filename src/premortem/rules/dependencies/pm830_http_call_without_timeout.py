"""PM830: an outbound HTTP call that can wait forever (no timeout, or the timeout turned off)."""
from ...model import Severity
from ...parse.appcode import is_test_file, request_path
from ..registry import Hit, rule
from ._http import outbound_calls


@rule(id="PM830", name="http-call-without-timeout", severity="medium",
      severity_reason="A call with no timeout hangs as long as the remote end does; high when it runs in a request "
                      "handler, where every hung call holds a worker until the service stops answering.",
      incidents=["8.3"], title="Outbound HTTP call without a timeout",
      formats=("code",), kinds=("PythonModule", "JavaScriptModule"),
      fix="Pass a timeout on every call (`requests.get(url, timeout=(3.05, 10))`, `fetch(url, {signal: "
          "AbortSignal.timeout(5000)})`, `axios.create({timeout: 5000})`, `got(url, {timeout: {request: 5000}})`) "
          "or once on the client; never `timeout=None`.")
def check(resource, ctx):
    """## What it checks
    Every outbound HTTP call in Python and JavaScript/TypeScript code (test files left out):
    - Python `requests.get/post/put/patch/delete/head/options/request(...)` and the same methods
      of a `requests.Session()` without `timeout=` (or with `timeout=None`). A session counts as
      having a timeout when this module mounts an adapter class of its own (a `HTTPAdapter`
      subclass whose methods set `timeout`) on it, or replaces `session.request` (e.g. with
      `functools.partial(session.request, timeout=5)`).
    - `httpx` functions, `httpx.Client()`/`AsyncClient()` and their methods with `timeout=None`
      (httpx has a 5 s default, so only turning it off is reported).
    - `urllib.request.urlopen(url)` without a `timeout` (keyword or third argument).
    - `urllib3` `PoolManager`/`HTTPConnectionPool` requests when neither the pool nor the request
      has `timeout=`; `urllib3.request(...)` without it.
    - Node `axios.get/post/...(...)`, `axios(config)`, `axios.request(config)` and calls on an
      `axios.create({...})` instance, when neither the call's config, the instance's config nor
      `axios.defaults.timeout` sets a timeout; `fetch(url, init)` (global, node-fetch, undici)
      without `signal` (e.g. `AbortSignal.timeout(3000)`) or node-fetch's `timeout`; `got(...)`
      and `got.extend({...})` clients without `timeout`.
    Options passed as a variable or spread (`**kwargs`, `...opts`) are unknown and not reported;
    browser modules (JSX, or importing React/Vue/Svelte/Angular) are left out. High when the call is
    in a request path: inside a Flask/FastAPI/Django/DRF view, an Express/Koa/Fastify/NestJS/Next.js
    handler, or a function of the module such a handler calls.

    ## Why it breaks production
    In catalog 8.3 a checkout service called a third-party currency API on every transaction;
    when the API slowed down and rate-limited, the calls hung with no timeout and no fallback and
    checkout failed for thousands of users. A call with no timeout holds its worker for as long
    as the other side stays silent, so one slow dependency drains the whole pool.

    ## Bad
    ```python app.py
    import requests
    from flask import Flask

    app = Flask(__name__)

    @app.route("/checkout", methods=["POST"])
    def checkout():
        rate = requests.get("https://api.currency.example/rates/EUR").json()
        return {"rate": rate}
    ```

    ## Good
    ```python app.py
    import requests
    from flask import Flask

    app = Flask(__name__)

    @app.route("/checkout", methods=["POST"])
    def checkout():
        rate = requests.get("https://api.currency.example/rates/EUR", timeout=(3.05, 5)).json()
        return {"rate": rate}
    ```

    ## Fix
    Give every call a timeout shorter than your own request budget — per call or once on the
    client (`axios.create({timeout})`, a session adapter that sets one, `httpx.Client(timeout=5)`).
    In Node pass `signal: AbortSignal.timeout(ms)` to `fetch`.
    """
    if is_test_file(resource.file):
        return
    data = resource.data
    hot = None
    for o in outbound_calls(data):
        if o.timeout not in ("missing", "disabled"):
            continue
        if hot is None:
            hot = request_path(data)
        where = hot.get(o.call["function"])
        target = f" to {o.url}" if o.url and len(o.url) <= 80 else ""
        if o.timeout == "disabled":
            path = ("calls", o.cid, "kwargs", "timeout") if "timeout" in o.call["kwargs"] else ("calls", o.cid)
            what = f"`{o.label}`{target} sets `timeout=None`: it waits forever for a server that never answers"
        else:
            path = ("calls", o.cid)
            what = f"`{o.label}`{target} has no timeout; {o.why}"
        if where:
            what += (f"; it runs in the request path: {where}; every hung call holds a worker, and a slow upstream "
                     f"exhausts the pool and takes this service down with it")
        yield Hit(path, what, related=tuple(o.related), severity=Severity.HIGH if where else None)
