"""Application-code summaries (parse/appcode.py, appcode_js.py): what the rules read, and where."""
import textwrap

import pytest

from premortem.discover import classify
from premortem.parse.appcode import enclosing, env_guard, instance, is_test_file, parse_code, request_path

from .conftest import run_scan


def py(src: str, rel: str = "app.py"):
    res, errs = parse_code("python", textwrap.dedent(src), rel)
    assert errs == []
    return res[0]


def js(src: str, rel: str = "server.js"):
    res, errs = parse_code("javascript", textwrap.dedent(src), rel)
    assert errs == [], errs
    return res[0]


def call(r, text: str, n: int = 0):
    found = [(cid, c) for cid, c in r.data["calls"].items() if c["text"] == text]
    assert found, f"no call {text!r} in {list(r.data['calls'])}"
    return found[n]


@pytest.mark.parametrize("name,kind", [
    ("app.py", "python"), ("server.js", "javascript"), ("index.mjs", "javascript"), ("cfg.cjs", "javascript"),
    ("App.jsx", "javascript"), ("api.ts", "javascript"), ("Page.tsx", "javascript"),
    ("vendor.min.js", None), ("types.d.ts", None), ("deploy.sh", "script"), ("values.yaml", "yaml"),
])
def test_classify_code_files(name, kind):
    assert classify(name, name) == kind


def test_python_callees_resolve_through_imports_and_instances():
    r = py('''
        import requests as rq
        from urllib.request import urlopen

        session = rq.Session()

        class Client:
            def __init__(self):
                self.http = rq.session()

            def fetch(self):
                with rq.Session() as s:
                    s.get("https://a.example")
                return self.http.post("https://b.example", json={})

        def feed():
            return urlopen("https://c.example")
        ''')
    callees = {c["text"]: c["callee"] for c in r.data["calls"].values()}
    assert callees["s.get"] == "requests.Session().get"
    assert callees["self.http.post"] == "requests.session().post"
    assert callees["urlopen"] == "urllib.request.urlopen"
    assert r.data["imports"] == {"rq": "requests", "urlopen": "urllib.request.urlopen"}
    cid, c = call(r, "s.get")
    assert c["function"] == "Client.fetch" and cid == "Client.fetch/s.get"
    assert r.locate(("calls", cid)).line == 13 and r.locate(("calls", cid)).column == 13
    assert instance(r.data, "Client.fetch", "s")["ctor"] == "requests.Session"


def test_python_kwargs_refs_guards_and_positions():
    r = py('''
        import traceback, os
        from flask import Flask, jsonify
        app = Flask(__name__)

        @app.errorhandler(500)
        def oops(e):
            if not app.debug:
                return {"error": "internal"}, 500
            return jsonify(trace=traceback.format_exc(), env=dict(os.environ), r=f"{e!r}")
        ''')
    f = r.data["functions"]["oops"]
    assert f["error_handler"] == "@app.errorhandler(500)" and f["params"] == ["e"]
    cid, c = call(r, "jsonify")
    assert [ref for ref, _ in c["refs"]] == ["traceback.format_exc()", "dict(os.environ)", "repr(e)"]
    assert c["guards"] == [["not app.debug", False]]  # after the early return
    assert env_guard(c["guards"]) == "not (not app.debug)"
    assert r.locate(("calls", cid, "kwargs", "trace")).column == 26  # the value after `trace=`
    (first, a), (second, b) = r.data["returns"].items()
    assert (a["guards"], b["guards"]) == ([["not app.debug", True]], [["not app.debug", False]])
    assert (r.locate(("returns", first)).line, r.locate(("returns", second)).line) == (9, 10)


def test_python_routes_views_and_registration():
    r = py('''
        from fastapi import FastAPI
        app = FastAPI()

        @app.get("/items/{id}")
        async def item(id: int): ...

        @app.middleware("http")
        async def mw(call_next): ...

        def index(request): ...
        def _helper(obj): ...

        def health(): ...
        app.add_api_route("/health", health)

        class ItemView(APIView):
            def get(self, request): ...
            def helper(self): ...
        ''', rel="shop/views.py")
    funcs = r.data["functions"]
    assert funcs["item"]["route"] == '@app.get("/items/{id}")'
    assert funcs["mw"]["route"] == "" and funcs["_helper"]["route"] == ""
    assert funcs["index"]["route"] == "Django view"  # views.py, first parameter `request`
    assert funcs["health"]["route"] == 'app.add_api_route("/health")'
    assert funcs["ItemView.get"]["route"] == "method of view class ItemView"
    assert funcs["ItemView.helper"]["route"] == ""


def test_request_path_is_transitive_within_the_module():
    r = py('''
        from flask import Flask
        app = Flask(__name__)

        def low(): pass
        def mid(): low()
        def unused(): low()

        @app.post("/pay")
        def pay():
            mid()
        ''')
    hot = request_path(r.data)
    assert set(hot) == {"pay", "mid", "low"}
    assert hot["low"] == "`low`, called from request handler `pay` (@app.post(\"/pay\"))"
    assert set(enclosing(r.data, "low")) == {"low", "mid", "unused", "pay"}


def test_retry_loop_and_except_var():
    r = py('''
        import requests
        def f():
            for i in range(3):
                try:
                    requests.get("u", timeout=1)
                except Exception as exc:
                    log(exc)
        ''')
    assert call(r, "requests.get")[1].get("retry_loop") is True
    assert call(r, "log")[1]["except"] == "exc"


def test_python_syntax_error_is_a_scan_error_with_line(tmp_path):
    (tmp_path / "broken.py").write_text("def ok():\n    return 1\n\ndef broken(:\n    pass\n")
    (tmp_path / "fine.py").write_text("import requests\nrequests.get('https://x.example')\n")
    result = run_scan(tmp_path, select=["PM830"])
    [err] = result.errors
    assert (err.file, err.line) == ("broken.py", 4)
    assert err.message.startswith("Python syntax error") and "Traceback" not in err.message
    assert [(f.file, f.line) for f in result.findings] == [("fine.py", 2)]


def test_javascript_imports_functions_and_objects():
    r = js('''
        import axios, { get as g } from 'axios';
        import * as http from 'node:http';
        const { default: got } = require('got');
        const fetchIt = require('node-fetch');
        const api = axios.create({ baseURL: 'https://x.example', timeout: 500, ...defaults });

        app.post('/orders', async (req, res) => {
          const r = await api.get('/a', { headers });
          res.json({ r, ok: true });
        });
        app.use((err, req, res, next) => res.status(500).json({ stack: err.stack }));
        ''')
    assert r.data["imports"] == {"axios": "axios", "g": "axios.get", "http": "node:http", "got": "got",
                                 "fetchIt": "node-fetch"}
    cid, create = call(r, "axios.create")
    assert create["objects"]["0"] == {"baseURL": "'https://x.example'", "timeout": "500", "...": "...defaults"}
    assert r.locate(("calls", cid, "objects", "0", "timeout")).column == 58
    assert call(r, "api.get")[1]["callee"] == "axios.create().get"
    funcs = r.data["functions"]
    assert funcs["app.post('/orders')"]["route"] == "app.post('/orders')"
    assert funcs["app.post('/orders')"]["params"] == ["req", "res"]
    assert funcs["app.use()"]["params"] == ["err", "req", "res", "next"]
    ret = next(v for v in r.data["returns"].values() if v["function"] == "app.use()")
    assert ret["refs"] == [["res.status(500).json(…)", []], ["err.stack", []]]


def test_typescript_types_decorators_and_columns_after_non_ascii():
    r = js('''
        import { Controller, Get } from '@nestjs/common';
        import axios from 'axios';
        @Controller('rates')
        export class RatesController {
          @Get(':id')
          async find(id: string): Promise<unknown> {
            const label = 'café'; return (axios.get(`https://r.example/${id}`) as any)!;
          }
        }
        ''', rel="src/rates.controller.ts")
    assert r.data["language"] == "typescript"
    f = r.data["functions"]["RatesController.find"]
    assert f["route"] == "@Get(':id')" and f["params"] == ["id"]
    cid, c = call(r, "axios.get")
    assert c["function"] == "RatesController.find"
    assert r.locate(("calls", cid)).column == 35  # characters, not UTF-8 bytes (36)


def test_tsx_and_jsx_mark_browser_modules():
    r = js("export const A = () => <div onClick={() => fetch('/x')}>hi</div>;\n", rel="A.tsx")
    assert r.data["jsx"] is True and call(r, "fetch")[1]["function"]


def test_javascript_syntax_error_reports_line_and_keeps_what_parsed():
    res, errs = parse_code("javascript", "const a = fetch('x');\nfunction (\n", "bad.js")
    assert len(errs) == 1 and errs[0].line == 2 and "syntax error" in errs[0].message
    assert call(res[0], "fetch")


def test_javascript_guards_ternaries_and_early_returns():
    r = js('''
        function h(err, req, res, next) {
          if (process.env.NODE_ENV === 'production') return res.json({ m: 'x' });
          res.json({ s: isDev ? err.stack : undefined });
        }
        ''')
    _, c = call(r, "res.json", 1)
    assert c["guards"] == [["process.env.NODE_ENV === 'production'", False]]
    assert c["refs"] == [["err.stack", [["isDev", True]]]]
    assert env_guard(c["guards"]) == "not (process.env.NODE_ENV === 'production')"
    assert env_guard([["process.env.NODE_ENV === 'production'", True]]) == ""  # runs in production
    assert env_guard([["config.retries > 2", True]]) == ""


@pytest.mark.parametrize("rel,test", [("tests/test_api.py", True), ("src/app.py", False), ("api.test.ts", True),
                                      ("src/__tests__/x.js", True), ("conftest.py", True), ("contest.py", False)])
def test_is_test_file(rel, test):
    assert is_test_file(rel) is test


def test_summary_keys_are_stable_when_code_moves():
    a = py("import requests\ndef f():\n    requests.get('u')\n")
    b = py("import requests\n\n# a comment\ndef g(): pass\ndef f():\n    requests.get('u')\n")
    assert set(a.data["calls"]) <= set(b.data["calls"])
    assert a.locate(("calls", "f/requests.get")).line == 3 and b.locate(("calls", "f/requests.get")).line == 6
