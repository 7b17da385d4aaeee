"""PM403: secrets in the environment of a config that also turns debug logging on (.env, Compose, Spring)."""
import re

from ...model import Source
from ...parse.yamldoc import load_all
from ..registry import Hit, rule
from . import _patterns as pat

_OFF = {"", "0", "false", "no", "off", "none", "null", "disabled", "info", "warn", "warning", "error"}
_DEV_ENVS = {"NODE_ENV", "RAILS_ENV", "APP_ENV", "FLASK_ENV", "ASPNETCORE_ENVIRONMENT", "DJANGO_ENV", "ENVIRONMENT"}
# files meant for a developer's machine or as a template: debug on there is expected
_NOT_DEPLOYED = {"dev", "development", "local", "test", "testing", "example", "examples", "sample", "samples",
                 "template", "dist", "ci", "override", "debug", "e2e", "fixtures", "tests", "docs", "demo"}
_SPRING = re.compile(r"^(?:application|bootstrap)(?:[-.][\w.-]+)?\.(?:ya?ml|properties)$")
_COMPOSE = re.compile(r"^(?:docker-)?compose(?:[-.][\w.-]+)?\.ya?ml$")


def kind_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "dotenv"
    if _SPRING.match(name):
        return "spring"
    if _COMPOSE.match(name):
        return "compose"
    return ""


def deployed(path: str) -> bool:
    """Whether a config is one that gets deployed: not `.env.example`, `application-dev.yml`,
    `docker-compose.override.yml` or a file under `examples/`, `test/`."""
    ws = {w for part in path.lower().split("/") for w in re.split(r"[-_.]", part) if w}
    return not (ws & _NOT_DEPLOYED)


def debug_flag(name: str, value) -> bool:
    n, v = name.upper().replace(".", "_").replace("-", "_"), str(value).strip().strip("\"'").lower()
    if n in ("DEBUG", "TRACE") or n.endswith(("_DEBUG", "_DEBUG_MODE")) or n == "DEBUG_MODE":
        return v not in _OFF
    if ("LOG" in n and ("LEVEL" in n or n.endswith("LOG"))) and (
            re.search(r"\b(?:debug|trace)\b", v) or v in ("all", "verbose", "silly")):
        return n.startswith(("LOGGING_LEVEL_ROOT", "LOGGING_LEVEL_ORG_SPRINGFRAMEWORK", "LOGGING_LEVEL_WEB")) \
            or not n.startswith("LOGGING_LEVEL_")  # Spring: only root/framework levels print the configuration
    if n in _DEV_ENVS:
        return v in ("development", "dev", "debug")
    if n in ("SPRING_PROFILES_ACTIVE", "GIN_MODE"):
        return "debug" in re.split(r"[,\s]+", v)
    if n == "MANAGEMENT_ENDPOINT_ENV_SHOW_VALUES":  # Spring actuator /env shows values, not masks
        return v == "always"
    return False


def _flat(data, prefix: tuple = ()):
    """(path, dotted key, value) of every scalar in a YAML mapping."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _flat(v, prefix + (k,))
    elif not isinstance(data, list):
        yield prefix, ".".join(str(p) for p in prefix), data


def _settings(text: str, kind: str, path: str):
    """Groups of settings that reach one process: [(label, [(name, value, (line, col))])]."""
    if kind == "dotenv" or path.lower().endswith(".properties"):
        items = []
        for n, line in enumerate(text.splitlines(), start=1):
            m = re.match(r"^(\s*(?:export\s+)?)([A-Za-z_][\w.\-]*)\s*[=:]\s*(.*?)\s*$", line)
            if m and not line.lstrip().startswith(("#", "!")):
                items.append((m.group(2), m.group(3), (n, len(m.group(1)) + 1)))
        return [("", items)]
    docs, _ = load_all(text)
    groups = []
    for doc in docs:
        if not isinstance(doc.data, dict):
            continue
        if kind == "spring":
            node = doc.data
            for key in ("spring", "config", "activate"):  # any level may be missing, null or a scalar
                node = node.get(key) if isinstance(node, dict) else None
            profile = str(node.get("on-profile") or "") if isinstance(node, dict) else ""
            if profile and not deployed(profile):
                continue
            groups.append(("", [(k, v, doc.positions.get(p) or doc.key_positions.get(p, (doc.line, 1)))
                                for p, k, v in _flat(doc.data)]))
            continue
        services = doc.data.get("services")
        for svc, spec in (services.items() if isinstance(services, dict) else ()):
            env = spec.get("environment") if isinstance(spec, dict) else None
            items = []
            if isinstance(env, dict):
                items = [(str(k), "${" + str(k) + "}" if v is None else v,
                          doc.positions.get(("services", svc, "environment", k), (0, 0)))
                         for k, v in env.items()]
            elif isinstance(env, list):
                for i, e in enumerate(env):
                    k, _, v = str(e).partition("=")
                    items.append((k, v if v else "${" + k + "}", doc.positions.get(("services", svc, "environment", i), (0, 0))))
            command = spec.get("command") if isinstance(spec, dict) else None
            cmd = " ".join(map(str, command)) if isinstance(command, list) else str(command or "")
            m = re.search(r"(?:^|\s)(--debug|--verbose|--log[-_]level[= ](?:debug|trace))\b", cmd, re.IGNORECASE)
            if m:
                items.append(("command", m.group(1), doc.positions.get(("services", svc, "command"), (0, 0)), ))
            groups.append((f"service '{svc}'", items))
    return groups


@rule(id="PM403", name="secrets-logged-with-debug", severity="high",
      severity_reason="Debug output (stack traces, debug pages, configuration dumps) prints the environment, and "
                      "with it every secret the process was given, into logs many people can read.",
      incidents=["4.2"], title="Secrets in the environment of a config that turns debug logging on",
      formats=("text",), kinds=["TextFile"],
      fix="Turn debug off in every deployed config (`DEBUG=false`, `LOG_LEVEL=info`, `NODE_ENV=production`, Spring "
          "`debug: false` and `logging.level.root: INFO`); keep debug for local files such as `.env.development`, "
          "and mount secrets as files rather than environment variables.")
def check(resource, ctx):
    """## What it checks
    Deployed configuration files outside Kubernetes (PM402 covers pods): `.env` files
    (`.env`, `.env.production`, `prod.env`), Docker Compose files (per service `environment:`)
    and Spring Boot `application*.yml`/`.properties`/`bootstrap.yml` (per profile document).
    A finding when the same file (Compose: the same service) holds a secret-named setting
    (`DB_PASSWORD`, `STRIPE_API_KEY`, `spring.datasource.password`, ...; literal or a
    `${VAR}` reference: either way the process has it in its environment or configuration)
    and turns debug output on: `DEBUG=true`/`*_DEBUG` (`APP_DEBUG`, `FLASK_DEBUG`,
    `DJANGO_DEBUG`), `LOG_LEVEL=debug|trace`, `NODE_ENV`/`RAILS_ENV`/`APP_ENV=development`
    (Express sends stack traces and Laravel debug pages print the environment),
    `SPRING_PROFILES_ACTIVE=debug`, Spring `debug: true`/`trace: true`,
    `logging.level.root` or `logging.level.org.springframework*: DEBUG`,
    `management.endpoint.env.show-values: always`, or `--debug`/`--log-level debug` in a
    Compose `command`. Reported at the debug setting, naming the secrets (never their values).
    Files meant for a laptop or as templates are left out: a name or folder with `dev`,
    `development`, `local`, `test`, `example`, `sample`, `template`, `dist`, `ci`, `override`
    (`.env.example`, `application-dev.yml`, `docker-compose.override.yml`, `examples/`).

    ## Why it breaks production
    Vault injected secrets into pods as environment variables; a developer enabled
    `DEBUG=true` in a Node.js app and one stack trace printed the environment, so
    `DB_PASSWORD` went to ELK and was readable in Kibana by anyone with log access (catalog 4.2).

    ## Bad
    ```text .env.production
    NODE_ENV=production
    DEBUG=true
    DB_PASSWORD=${VAULT_DB_PASSWORD}
    ```

    ## Good
    ```text .env.production
    NODE_ENV=production
    DEBUG=false
    DB_PASSWORD=${VAULT_DB_PASSWORD}
    ```

    ## Fix
    Keep debug settings out of deployed configs (put them in `.env.development` or a dev
    profile), set `LOG_LEVEL=info` and `NODE_ENV=production`, and prefer secrets mounted as
    files (Vault Agent templates, Docker/Compose `secrets:`) so an environment dump has
    nothing to show.
    """
    kind = kind_of(resource.file)
    text = resource.data.get("text") if isinstance(resource.data, dict) else None
    if not kind or not text or not deployed(resource.file):
        return
    if kind == "spring" and not resource.file.lower().endswith(".properties") and "debug" not in text.lower() \
            and "trace" not in text.lower() and "always" not in text.lower():
        return
    for label, items in _settings(text, kind, resource.file):
        secrets = [(n, v) for n, v, _ in items if str(v).strip().strip("\"'") and pat.secret_name(n.rsplit(".", 1)[-1]
                   if kind == "spring" else n) and str(v).strip().lower() not in ("true", "false")]
        if not secrets:
            continue
        for n, v, (line, col) in items:
            if not (debug_flag(n, v) or (n == "command" and label)):
                continue
            names = ", ".join(dict.fromkeys(s for s, _ in secrets))
            where = f"{label} of this file" if label else "this file"
            literal = tuple(str(x) for _, x in secrets if not pat.placeholder(str(x)) and len(str(x)) >= 4)
            setting = f"{n}={v}" if kind == "dotenv" or "=" in str(v) or not label and "." not in n else f"{n}: {v}"
            yield Hit((), f"`{setting}` turns debug output on in {where}, which also gives the process "
                          f"{len(secrets)} secret{'s' if len(secrets) > 1 else ''} ({names}): a stack trace, debug "
                          f"page or configuration dump prints {'them' if len(secrets) > 1 else 'it'} into the logs and the "
                          f"log store",
                      at=Source(resource.file, line, col or 0), secrets=literal, identity=f"{label}:{n}")
