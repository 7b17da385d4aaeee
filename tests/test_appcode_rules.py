"""PM430 / PM830 / PM831 on application code: positions, messages, severities, stable fingerprints."""
import textwrap

from premortem.model import Severity

from .conftest import FIXTURES, run_scan


def scan_files(tmp_path, files: dict, rule: str):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    result = run_scan(tmp_path, select=[rule])
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule]


def test_pm430_points_at_the_leaking_key_and_names_it():
    result = run_scan(FIXTURES / "PM430" / "bad", select=["PM430"])
    by = {(f.file, f.line): f for f in result.findings}
    stack = by[("server.js", 27)]
    assert stack.column == 5 and "error middleware `app.use()` sends `err.stack`" in stack.message
    env = by[("server.js", 34)]
    assert env.column == 48 and "the whole environment (`process.env`)" in env.message
    spread = by[("api.ts", 7)]
    assert spread.column == 28 and "`...error`" in spread.message and "`error.stack`" in spread.message
    assert by[("server.js", 47)].column == 57  # the `config` shorthand
    flask = by[("flask_app.py", 22)]
    assert "`except` block of request handler `pay`" in flask.message
    assert "`repr(exc)`" in flask.message and "`dict(request.headers)`" in flask.message
    assert all(f.severity == Severity.HIGH for f in result.findings)


def test_pm430_dunder_main_debug_depends_on_how_the_image_starts(tmp_path):
    app = '''
        from flask import Flask
        app = Flask(__name__)
        if __name__ == "__main__":
            app.run(debug=True)
        '''
    [alone] = scan_files(tmp_path / "a", {"app.py": app}, "PM430")
    assert alone.severity == Severity.MEDIUM and "`if __name__ == \"__main__\"`" in alone.message
    assert (alone.line, alone.column) == (5, 19)
    [direct] = scan_files(tmp_path / "b", {"app.py": app, "Dockerfile": 'FROM python:3.12\nCMD python -u app.py\n'},
                          "PM430")
    assert direct.severity == Severity.HIGH and "Dockerfile starts this file directly" in direct.message
    assert scan_files(tmp_path / "c", {"app.py": app, "Dockerfile": 'FROM python:3.12\nCMD ["uvicorn", "app:app"]\n'},
                      "PM430") == []


def test_pm430_django_settings_by_name_and_content(tmp_path):
    settings = "SECRET_KEY = 'x'\nINSTALLED_APPS = []\nDEBUG = True\n"
    overridden = settings + "if os.environ.get('ENV') == 'production':\n    DEBUG = False\n"
    found = scan_files(tmp_path, {"shop/settings.py": settings, "shop/settings/local.py": settings,
                                  "shop/conf/prod.py": settings, "notes/debug.py": "DEBUG = True\n",
                                  "other/settings.py": overridden}, "PM430")
    assert sorted((f.file, f.line) for f in found) == [("shop/conf/prod.py", 3), ("shop/settings.py", 3)]
    prod = next(f for f in found if f.file == "shop/conf/prod.py")
    assert "production settings module" in prod.message and "[production:" in prod.message


def test_pm830_severity_follows_the_request_path_and_related_points_at_the_client():
    result = run_scan(FIXTURES / "PM830" / "bad", select=["PM830"])
    by = {(f.file, f.line): f for f in result.findings}
    hot = by[("checkout.py", 16)]
    assert hot.severity == Severity.HIGH and (hot.column == 12)
    assert "`get_rate`, called from request handler `checkout`" in hot.message
    cold = by[("checkout.py", 31)]
    assert cold.severity == Severity.MEDIUM and "request path" not in cold.message
    none = by[("checkout.py", 29)]
    assert none.column == 70 and "sets `timeout=None`" in none.message and "\"https://catalog.example/items\"" in none.message
    axios = by[("gateway.ts", 10)]
    assert [(r.line, r.message) for r in axios.related] == [(6, "`inventory` is created here without a `timeout`")]
    pool = by[("checkout.py", 33)]
    assert [(r.line, r.message) for r in pool.related] == [(10, "the pool is built here without `timeout=`")]


def test_pm830_fingerprint_survives_lines_added_above(tmp_path):
    src = "import requests\n\ndef f():\n    return requests.get('https://x.example')\n"
    [a] = scan_files(tmp_path / "a", {"svc.py": src}, "PM830")
    [b] = scan_files(tmp_path / "b", {"svc.py": "# header\n\n" + src.replace("def f", "X = 1\n\ndef f")}, "PM830")
    assert (a.line, b.line) == (4, 8) and a.fingerprint == b.fingerprint


def test_pm831_is_quiet_when_a_library_is_applied_but_not_when_only_imported(tmp_path):
    handler = textwrap.dedent('''
        import requests
        {extra}
        from flask import Flask
        app = Flask(__name__)

        @app.get("/rate")
        def rate():
            return requests.get("https://api.currency.example/rates", timeout=3).json()
        ''')
    imported = scan_files(tmp_path / "a", {"app.py": handler.format(extra="import tenacity")}, "PM831")
    assert [(f.line, f.severity) for f in imported] == [(9, Severity.MEDIUM)]
    assert "third-party host api.currency.example" in imported[0].message
    applied = handler.format(extra="import tenacity\npolicy = tenacity.Retrying(stop=tenacity.stop_after_attempt(3))")
    assert scan_files(tmp_path / "b", {"app.py": applied}, "PM831") == []
