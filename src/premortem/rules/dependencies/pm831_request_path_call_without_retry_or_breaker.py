"""PM831: a request handler depends on an outbound HTTP call with no retry, backoff or circuit breaker."""
import re

from ...model import Severity
from ...parse.appcode import instance, is_test_file, request_path
from ..registry import Hit, rule
from ._http import applied_libraries, call_retries, module_retries, outbound_calls

_URL = re.compile(r"""^(?:f|`|['"])*https?://([^/:'"`${}\s?#]+)""")
_INTERNAL = re.compile(r"^(?:localhost|127\.|10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|0\.0\.0\.0|\[?::1)|"
                       r"\.(?:svc|cluster\.local|internal|local|localdomain|lan|consul)$|^[^.]+$")


def external_host(o, data) -> str:
    """The host when the call goes to a literal third-party URL (or an axios instance's baseURL), else ''."""
    urls = [o.url]
    if o.client == "axios" and "create()" in o.call["callee"]:
        inst = instance(data, o.call["function"], o.call["text"].rsplit(".", 1)[0])
        ctor = data["calls"].get(inst["call"], {}) if inst else {}
        urls.append(ctor.get("objects", {}).get("0", {}).get("baseURL", ""))
    for u in urls:
        m = _URL.match(u.strip())
        if m and not _INTERNAL.search(m.group(1).lower()):
            return m.group(1)
    return ""


@rule(id="PM831", name="request-path-call-without-retry-or-breaker", severity="low",
      severity_reason="A transient upstream error (429, reset, 503) fails the user's request instead of being "
                      "absorbed; medium when the call goes to a third-party URL, whose rate limits you do not control.",
      incidents=["8.3"], title="Request handler calls an HTTP API with no retry, backoff or circuit breaker",
      formats=("code",), kinds=("PythonModule", "JavaScriptModule"),
      fix="Wrap the call in a retry with exponential backoff and jitter (tenacity, backoff, urllib3 `Retry` on a "
          "session adapter; axios-retry, p-retry, cockatiel) and, for third-party APIs, a circuit breaker "
          "(pybreaker, opossum) with a fallback such as a cached value.")
def check(resource, ctx):
    """## What it checks
    Outbound HTTP calls (the clients PM830 knows: requests, httpx, urllib, urllib3, axios, fetch,
    got) made in a request path — inside a Flask/FastAPI/Django/DRF view, an Express/Koa/Fastify/
    NestJS/Next.js handler, or a function of the same module such a handler calls — when nothing in
    reach retries or breaks the circuit. Kept conservative; any one of these counts as in reach:
    - a resilience library imported AND used in the module (a call, a decorator or an instance):
      tenacity, backoff, retrying, retry, stamina, pybreaker, circuitbreaker, aiobreaker, urllib3
      `Retry`, opnieuw, redo; axios-retry, retry-axios, p-retry, async-retry, promise-retry, retry,
      exponential-backoff, fetch-retry, cockatiel, opossum, brakes, @lifeomic/attempt,
      ts-retry-promise. Used anywhere in the module, it counts for every call of the module;
    - a client-level retry in the module: `HTTPAdapter(max_retries=N)`, httpx
      `HTTPTransport(retries=N)`; urllib3 pools (3 retries by default unless `retries=0/False`);
      got (retries idempotent requests by default);
    - a hand-written retry: the call inside a `try` inside a loop;
    - a function on the call's path (its own, the one it is nested in, any caller in the module)
      whose name or decorator says retry/backoff/circuit/breaker (`@with_retries`,
      `get_with_retry`, a `pRetry(() => ...)` callback).
    Test files and browser modules are left out. Low; medium when the URL is a literal third-party
    host (not localhost, a private IP, `*.svc`, `*.cluster.local`, `*.internal` or a bare service name).

    ## Why it breaks production
    In catalog 8.3 the checkout backend called a third-party currency API on every transaction;
    during a flash sale the API answered 429 and, with no retry, circuit breaker or fallback,
    checkout failed for thousands of users. A retry with backoff absorbs short blips and a breaker
    with a fallback keeps the request path up while the dependency is down.

    ## Bad
    ```python app.py
    import requests
    from flask import Flask

    app = Flask(__name__)

    @app.route("/checkout", methods=["POST"])
    def checkout():
        rate = requests.get("https://api.currency.example/rates/EUR", timeout=5).json()
        return {"rate": rate}
    ```

    ## Good
    ```python app.py
    import requests
    from flask import Flask
    from tenacity import retry, stop_after_attempt, wait_exponential

    app = Flask(__name__)

    @retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2))
    def get_rate(currency):
        return requests.get(f"https://api.currency.example/rates/{currency}", timeout=5).json()

    @app.route("/checkout", methods=["POST"])
    def checkout():
        return {"rate": get_rate("EUR")}
    ```

    ## Fix
    Retry idempotent calls with exponential backoff and jitter, cap the attempts inside your own
    latency budget, and put a circuit breaker with a fallback (a cached rate, a degraded answer)
    in front of third-party APIs on the request path.
    """
    if is_test_file(resource.file):
        return
    data = resource.data
    calls = outbound_calls(data)
    if not calls:
        return
    hot = request_path(data)
    calls = [o for o in calls if o.sends and o.call["function"] in hot]
    if not calls or applied_libraries(data) or module_retries(data):
        return
    for o in calls:
        if call_retries(data, o):
            continue
        host = external_host(o, data)
        target = f" to third-party host {host}" if host else (f" to {o.url}" if o.url and len(o.url) <= 80 else "")
        msg = (f"`{o.label}`{target} has no retry, backoff or circuit breaker in reach and runs in the request path: "
               f"{hot[o.call['function']]}; one 429, reset or 503 from the upstream fails the user's request, and "
               f"while it is down every request fails with it")
        yield Hit(("calls", o.cid), msg, severity=Severity.MEDIUM if host else None)
