"""Web frameworks left in debug mode (PM430): Flask's Werkzeug debugger, Starlette/FastAPI debug tracebacks,
Django `DEBUG = True` in a settings module that production runs."""
import os
import re

from ...model import Severity
from ...parse.appcode import env_guard, instance
from ..registry import Hit

TRUE = {"True", "1", "true"}
DJANGO_KEYS = {"INSTALLED_APPS", "ROOT_URLCONF", "MIDDLEWARE", "ALLOWED_HOSTS", "DATABASES", "SECRET_KEY",
               "WSGI_APPLICATION", "TEMPLATES"}
NOT_PROD_WORDS = {"dev", "development", "local", "test", "tests", "testing", "ci", "debug", "sandbox", "example",
                  "sample", "base", "common", "default", "defaults", "shared"}  # base/common: overridden per env
SERVERS = re.compile(r"\b(?:gunicorn|uwsgi|waitress-serve|hypercorn|uvicorn|daphne|granian|mod_wsgi)\b")
STARLETTE_APPS = ("fastapi.FastAPI", "fastapi.applications.FastAPI", "starlette.applications.Starlette")


def debug_mode(resource, data, ctx):
    for cid, c in data["calls"].items():
        callee, kw = c["callee"], c["kwargs"]
        if env_guard(c.get("guards")):
            continue
        if kw.get("debug", "").strip() in TRUE and callee.endswith(".run") and (
                callee.startswith("flask.Flask()") or c["text"] == "app.run"):
            main = any("__main__" in g for g, _ in c.get("guards", ()))
            sev, how = _how_started(resource.file, ctx) if main else (None, "")
            if sev != "skip":
                yield Hit(("calls", cid, "kwargs", "debug"),
                          f"`{c['text']}(debug=True)` turns on the Werkzeug debugger: any exception shows its stack "
                          f"trace, local variables and an interactive Python console to whoever triggered it{how}",
                          severity=sev)
        elif kw.get("debug", "").strip() in TRUE and callee in STARLETTE_APPS:
            yield Hit(("calls", cid, "kwargs", "debug"), f"`{c['text']}(debug=True)` returns the stack trace of any "
                                                         f"unhandled exception in the HTTP response")
        elif c["text"].endswith((".config.update", ".config.from_mapping")) and kw.get("DEBUG", "").strip() in TRUE:
            yield Hit(("calls", cid, "kwargs", "DEBUG"), f"`{c['text']}(DEBUG=True)` runs Flask in debug mode: the "
                                                         f"Werkzeug debugger shows tracebacks and a console to clients")
    debugs = [a for a in data["assigns"].values() if a["target"] == "DEBUG" and not a["function"]]
    # a later `if os.environ...: DEBUG = False` (or a value read from the environment) decides instead
    django = _django_settings(resource.file, data) if all(a["value"].strip() in TRUE for a in debugs) else ""
    for aid, a in data["assigns"].items():
        if a["value"].strip() not in TRUE or env_guard(a["guards"]):
            continue
        t = a["target"]
        inst = instance(data, a["function"], t.rsplit(".", 1)[0]) if "." in t else None
        flask = t == "app.debug" or (inst and inst["ctor"] == "flask.Flask" and t.endswith(".debug"))
        if flask or re.search(r"\.config\[['\"]DEBUG['\"]\]$", t):
            yield Hit(("assigns", aid), f"`{t} = True` runs Flask in debug mode: the Werkzeug debugger shows "
                                        f"tracebacks, local variables and a Python console to clients")
        elif t == "DEBUG" and not a["function"] and django:
            yield Hit(("assigns", aid), f"`DEBUG = True` in {django}: Django's debug pages show every settings value "
                                        f"that is not masked, the SQL, the stack and local variables of any error to "
                                        f"whoever triggers it", production=ctx.production)


def _django_settings(file: str, data: dict) -> str:
    names = {a["target"] for a in data["assigns"].values() if not a["function"]}
    base = os.path.basename(file)
    if len(names & DJANGO_KEYS) < 2 and not re.search(r"(?:^|/)settings(?:/|[^/]*\.py$)", file):
        return ""
    words = set(re.split(r"[_.\-]", base[:-3].lower())) | {p.lower() for p in file.split("/")[:-1]}
    if words & NOT_PROD_WORDS:
        return ""
    if words & {"prod", "production", "prd", "live"}:
        return f"production settings module {file}"
    return f"settings module {file} (the one that runs unless DJANGO_SETTINGS_MODULE points elsewhere)"


def _how_started(file: str, ctx) -> tuple:
    """(severity, explanation) for `app.run(debug=True)` under `if __name__ == "__main__"`."""
    base = os.path.basename(file)
    server = None
    for e in ctx.project.of_kind("DockerStage"):
        f = e.facts
        if not f.get("final"):
            continue
        words = " ".join(str(x) for x in (*(f.get("entrypoint") or ()), *(f.get("cmd") or ())))
        if re.search(r"\bpython[\d.]*\b.*" + re.escape(base), words):
            return Severity.HIGH, f"; {e.file} starts this file directly (`{words}`), so the debugger runs in the image"
        if SERVERS.search(words):
            server = e
    if server is not None:
        return "skip", ""
    return Severity.MEDIUM, ("; it sits under `if __name__ == \"__main__\"`, so it runs whenever the file is started "
                             "directly (`python app.py` in a Dockerfile CMD or Procfile)")
