"""Outbound HTTP calls in application code (the parse/appcode.py summary): which client, whether a
timeout is set, and whether a retry / backoff / circuit breaker is in reach. Shared by PM830 and PM831.

Clients: Python requests (functions and Session methods), httpx, urllib.request.urlopen, urllib3
(PoolManager & co.); Node axios (functions, `axios(config)`, `axios.create()` instances), fetch
(global, node-fetch, undici, cross-fetch) and got. A call whose options are passed through `**kw` /
`...opts` or as a variable is unknown and never reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...parse.appcode import enclosing, instance

VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
_REQUESTS_FN = re.compile(r"requests(?:\.api)?\.(get|post|put|patch|delete|head|options|request)")
_REQUESTS_SESSION = re.compile(r"requests(?:\.sessions)?\.[Ss]ession\(\)\.(get|post|put|patch|delete|head|options|request)")
_HTTPX_FN = re.compile(r"httpx\.(get|post|put|patch|delete|head|options|request|stream)")
_HTTPX_CLIENT = re.compile(r"httpx\.(?:Async)?Client\(\)\.(get|post|put|patch|delete|head|options|request|stream|send)")
_URLOPEN = {"urllib.request.urlopen", "urllib2.urlopen", "six.moves.urllib.request.urlopen"}
_URLLIB3_POOL = re.compile(r"urllib3(?:\.poolmanager|\.connectionpool)?\.(?:PoolManager|ProxyManager|HTTPConnectionPool|"
                           r"HTTPSConnectionPool|connection_from_url|proxy_from_url)\(\)\.(request|urlopen|request_encode_url|"
                           r"request_encode_body)")
_AXIOS = re.compile(r"axios(?:\.default)?(?:\.create\(\))?(?:\.(get|post|put|patch|delete|head|options|request|postForm|"
                    r"putForm|patchForm))?")
_AXIOS_CONFIG_AT = {"get": 1, "delete": 1, "head": 1, "options": 1, "request": 0}  # others: (url, data, config)
_FETCH = {"fetch", "globalThis.fetch", "node-fetch", "node-fetch.default", "undici.fetch", "cross-fetch", "isomorphic-fetch"}
_GOT = re.compile(r"got(?:\.extend\(\))?(?:\.(get|post|put|patch|delete|head|options|stream))?")
_METHOD = re.compile(r"""[fb]?['"`](?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)['"`]""", re.IGNORECASE)
BROWSER_MODULES = ("react", "react-dom", "vue", "svelte", "preact", "solid-js", "@angular/", "next/router",
                   "next/navigation", "react-native")


@dataclass
class Outbound:
    cid: str
    call: dict
    client: str  # requests | httpx | urllib | urllib3 | axios | fetch | got
    timeout: str  # "set" | "missing" | "disabled" (timeout=None)
    at: tuple = ()  # node path to report at
    why: str = ""  # what the client does without a timeout
    related: list = field(default_factory=list)  # (path, message)
    sends: bool = True  # False for a client being built (httpx.Client(timeout=None)): no request yet

    @property
    def label(self) -> str:
        return f"{self.call['text']}(…)"

    @property
    def url(self) -> str:
        """The URL argument as written (`requests.request("GET", url)`: the second), '' when there is none."""
        for a in self.call["args"][:2]:
            if not _METHOD.fullmatch(a):
                return a
        return ""


def browser_module(data: dict) -> bool:
    """A module that runs in the browser (renders JSX or imports a UI framework): its calls hang a tab,
    not a server, and are left alone."""
    if data.get("language") == "python":
        return False
    return bool(data.get("jsx")) or any(_from(m, b) for m in data.get("imports", {}).values() for b in BROWSER_MODULES)


def _from(module: str, base: str) -> bool:
    """`react.useState` and `react-dom/client` come from react / react-dom; `@angular/core` from `@angular/`."""
    return module == base or module.startswith((base + ".", base + "/")) or (base.endswith("/") and module.startswith(base))


def _kw_timeout(call: dict) -> str:
    t = call["kwargs"].get("timeout")
    if t is None:
        return "unknown" if call.get("star") else "missing"
    return "disabled" if t.strip() == "None" else "set"


def _option(call: dict, index: int, keys=("timeout",)) -> str:
    """"set" / "missing" / "unknown" for an options object at argument `index` (JS)."""
    if call.get("star"):
        return "unknown"
    if index >= len(call["args"]):
        return "missing"
    obj = call.get("objects", {}).get(str(index))
    if obj is None:
        return "unknown"  # a variable or an expression: cannot tell
    if "..." in obj or any(k in obj for k in keys):
        return "set"
    return "missing"


def _ctor_call(data: dict, fid: str, text: str) -> dict | None:
    inst = instance(data, fid, text.rsplit(".", 1)[0] if "." in text else text)
    return data["calls"].get(inst["call"]) if inst and inst.get("call") else None


def _session_has_default_timeout(data: dict, receiver: str) -> str:
    """A requests Session with a timeout applied to every request: a mounted adapter class of this module
    that sets a timeout, or `session.request = functools.partial(..., timeout=...)`."""
    for a in data["assigns"].values():
        if a["target"] in (f"{receiver}.request", f"{receiver}.send", f"{receiver}.get"):
            return f"`{a['target']} = {a['value']}`"
    for c in data["calls"].values():
        if c["text"] != f"{receiver}.mount" or len(c["args"]) < 2:
            continue
        adapter = c["args"][1]
        m = re.match(r"([\w.]+)\(", adapter)
        inst = instance(data, c["function"], adapter)
        ctor = m.group(1) if m else (inst["ctor"] if inst else "")
        cls = data["classes"].get(ctor)
        if not cls or not any(b.endswith("HTTPAdapter") for b in cls["bases"]):
            continue
        methods = {f"{ctor}.{m}" for m in cls["methods"]}
        if any(x["function"] in methods and "timeout" in (x.get("target", "") + x.get("text", "") + " ".join(x.get("args", ()))
                                                            + " ".join(x.get("kwargs", ())))
               for x in (*data["calls"].values(), *data["assigns"].values())):
            return f"adapter `{ctor}` mounted with `{c['text']}`"
    return ""


def outbound_calls(data: dict) -> list:
    """Every outbound HTTP call of a module, with its timeout state."""
    if browser_module(data):
        return []
    out = []
    for cid, c in data.get("calls", {}).items():
        o = _classify(data, cid, c)
        if o is not None:
            out.append(o)
    return out


def _classify(data: dict, cid: str, c: dict) -> Outbound | None:
    callee, fid = c["callee"], c["function"]
    if data.get("language") == "python":
        m = _REQUESTS_FN.fullmatch(callee) or _REQUESTS_SESSION.fullmatch(callee)
        if m:
            t = _kw_timeout(c)
            o = Outbound(cid, c, "requests", t, why="requests has no default timeout: it waits forever for a "
                                                  "server that accepted the connection but never answers")
            if t == "missing" and _REQUESTS_SESSION.fullmatch(callee):
                receiver = c["text"].rsplit(".", 1)[0]
                if _session_has_default_timeout(data, receiver):
                    o.timeout = "set"
            return o
        if _HTTPX_FN.fullmatch(callee) or _HTTPX_CLIENT.fullmatch(callee) or callee in ("httpx.Client", "httpx.AsyncClient"):
            t = "disabled" if c["kwargs"].get("timeout", "").strip() == "None" else "set"
            return Outbound(cid, c, "httpx", t, why="timeout=None turns off httpx's 5 s default: the call waits "
                                                    "forever", sends=callee not in ("httpx.Client", "httpx.AsyncClient"))
        if callee in _URLOPEN:
            t = "set" if len(c["args"]) >= 3 else _kw_timeout(c)
            return Outbound(cid, c, "urllib", t, why="urlopen without a timeout uses the socket default, which is "
                                                     "no timeout at all")
        if _URLLIB3_POOL.fullmatch(callee) or callee == "urllib3.request":
            t = _kw_timeout(c)
            ctor = _ctor_call(data, fid, c["text"]) if callee != "urllib3.request" else None
            if t == "missing" and ctor is not None:
                t = _kw_timeout(ctor)
            o = Outbound(cid, c, "urllib3", t, why="urllib3 without a timeout (on the pool or the request) waits "
                                                   "forever for a response")
            if ctor is not None:
                inst = instance(data, fid, c["text"].rsplit(".", 1)[0])
                o.related.append((("calls", inst["call"]), "the pool is built here without `timeout=`"))
            return o
        return None
    m = _AXIOS.fullmatch(callee)
    if m and not c.get("new") and (m.group(1) or callee.endswith(("axios", "create()"))) and callee != "axios.create":
        return _axios(data, cid, c, m.group(1))
    if callee in _FETCH:
        t = _option(c, 1, ("signal", "timeout"))
        if t == "missing" and c["args"] and c["args"][0].startswith("new Request("):
            t = "unknown"  # the Request may carry the signal
        return Outbound(cid, c, "fetch", t, why="fetch has no timeout of its own: without an `AbortSignal` a "
                                                "stalled server keeps the request (and whatever awaits it) open "
                                                "for minutes")
    m = _GOT.fullmatch(callee)
    if m and callee not in ("got.extend",):
        first_is_object = "0" in c.get("objects", {})
        t = _option(c, 0 if first_is_object else 1)
        if t == "missing" and "extend()" in callee:
            ctor = _ctor_call(data, fid, c["text"])
            t = _option(ctor, 0) if ctor is not None else "unknown"
        return Outbound(cid, c, "got", t, why="got has no timeout by default: a stalled server holds the request "
                                              "open indefinitely")
    return None


def _axios(data: dict, cid: str, c: dict, method: str | None) -> Outbound:
    if method is None:  # axios(config) or axios(url, config)
        index = 1 if c["args"] and "0" not in c.get("objects", {}) else 0
    else:
        index = _AXIOS_CONFIG_AT.get(method, 2)
    t = _option(c, index)
    o = Outbound(cid, c, "axios", t, why="axios' default timeout is 0 (none): a stalled upstream keeps the request "
                                         "open until the socket dies")
    if t != "missing":
        return o
    receiver = c["text"].rsplit(".", 1)[0] if method else c["text"]
    defaults = {"axios.defaults.timeout", f"{receiver}.defaults.timeout"}
    if any(a["target"] in defaults for a in data["assigns"].values()):
        o.timeout = "set"
    elif "create()" in c["callee"]:
        ctor = _ctor_call(data, c["function"], c["text"] if method else c["text"] + ".x")
        if ctor is None or _option(ctor, 0) != "missing":
            o.timeout = "set" if ctor is not None and _option(ctor, 0) == "set" else "unknown"
        else:
            inst = instance(data, c["function"], receiver)
            o.related.append((("calls", inst["call"]), f"`{receiver}` is created here without a `timeout`"))
    return o


# ---- retries and circuit breakers (PM831) ---------------------------------------------------------
RESILIENCE_PY = ("tenacity", "backoff", "retrying", "retry", "pybreaker", "circuitbreaker", "aiobreaker", "stamina",
                 "urllib3.util.retry", "urllib3.util.Retry", "urllib3.Retry", "requests.adapters.Retry",
                 "requests.packages.urllib3.util.retry", "opnieuw", "redo")
RESILIENCE_JS = ("axios-retry", "opossum", "cockatiel", "p-retry", "async-retry", "retry", "promise-retry",
                 "exponential-backoff", "fetch-retry", "@lifeomic/attempt", "brakes", "ts-retry-promise", "retry-axios")
_HOMEMADE = re.compile(r"retr(?:y|ies|ying)|backoff|circuit|breaker|resilien", re.IGNORECASE)


def _lib(name: str, libs) -> str:
    return next((lib for lib in libs if name == lib or name.startswith((lib + ".", lib + "()"))), "")


def applied_libraries(data: dict) -> dict:
    """{library: how it is used} for resilience libraries imported AND used in the module (a call, a
    decorator, an instance)."""
    libs = RESILIENCE_PY if data.get("language") == "python" else RESILIENCE_JS
    out: dict = {}
    for c in data["calls"].values():
        lib = _lib(c["callee"], libs)
        if lib:
            out.setdefault(lib, f"`{c['text']}(…)`")
    for f in data["functions"].values():
        for d in f["decorators"]:
            head = re.match(r"@?([\w.]+)", d)
            name = head.group(1) if head else ""
            first, _, rest = name.partition(".")
            resolved = data["imports"].get(first, first) + ("." + rest if rest else "")
            lib = _lib(resolved, libs)
            if lib:
                out.setdefault(lib, f"`@{d}` on `{f['name']}`")
    for i in data["instances"].values():
        lib = _lib(i["ctor"], libs)
        if lib:
            out.setdefault(lib, f"`{i['ctor']}(…)`")
    return out


def module_retries(data: dict) -> str:
    """A client-level retry configured in the module: requests' `HTTPAdapter(max_retries=...)`, httpx
    `HTTPTransport(retries=...)`; '' when none."""
    for c in data["calls"].values():
        last = c["callee"].rsplit(".", 1)[-1]
        if last == "HTTPAdapter" and c["kwargs"].get("max_retries", "0").strip() not in ("0", "None", "False"):
            return f"`{c['text']}(max_retries={c['kwargs']['max_retries']})`"
        if last in ("HTTPTransport", "AsyncHTTPTransport") and c["kwargs"].get("retries", "0").strip() != "0":
            return f"`{c['text']}(retries={c['kwargs']['retries']})`"
    return ""


def call_retries(data: dict, o: Outbound) -> str:
    """Why this call is retried or guarded ('' when nothing is in reach): built-in retries (urllib3,
    got), a hand-written retry loop, or a function on its path decorated/wrapped by a retry or breaker
    helper of the module."""
    c = o.call
    if o.client == "urllib3":
        ctor = _ctor_call(data, c["function"], c["text"])
        r = (c["kwargs"].get("retries") or (ctor or {"kwargs": {}})["kwargs"].get("retries") or "").strip()
        if r not in ("0", "False", "None"):
            return "urllib3 retries 3 times by default"
    if o.client == "got":
        return "got retries idempotent requests twice by default"
    if c.get("retry_loop"):
        return "a retry loop (try/except inside a loop) around it"
    funcs = data["functions"]
    for fid in enclosing(data, c["function"]):  # its function, the ones it is nested in, their callers
        f = funcs.get(fid, {})
        for d in f.get("decorators", ()):
            if _HOMEMADE.search(d):
                return f"`@{d}` on `{f['name']}`"
        if _HOMEMADE.search(f.get("name", "")):  # get_with_retry(), a pRetry(() => ...) callback
            return f"it runs inside `{f['name']}`"
    return ""

