"""PM402: a secret written as a literal env value of a production container (worse with debug on)."""
import re

from ...k8s.workloads import POD_SPEC_PATHS, containers
from ...model import Severity
from ..dependencies._dbpool import env_items
from ..registry import Hit, rule

_WORDS = {"PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "PWD", "PASS", "SECRET", "SECRETS", "TOKEN", "TOKENS",
          "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "SALT"}
_PAIRS = {("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("SECRET", "KEY"), ("AUTH", "KEY"), ("SIGNING", "KEY"),
          ("ENCRYPTION", "KEY"), ("MASTER", "KEY"), ("SESSION", "KEY"), ("ACCOUNT", "KEY")}
_NOT_SECRET = {"FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "HOST", "NAME", "ID", "USER", "USERNAME", "ENABLED",
               "ENABLE", "DISABLED", "REQUIRED", "LENGTH", "LEN", "SIZE", "BYTES", "BITS", "TTL", "EXPIRY", "EXPIRES",
               "EXPIRATION", "LIFETIME", "TIMEOUT", "AGE", "DURATION", "INTERVAL", "HEADER", "TYPE", "ALGORITHM",
               "ALG", "ISSUER", "AUDIENCE", "REF", "MOUNT", "POLICY", "REGION", "ARN", "FORMAT", "PREFIX", "VERSION",
               "COUNT", "MODE", "ROLE", "FIELD", "PARAM", "KIND", "LOCATION", "SCOPE", "SCOPES", "PROVIDER", "STORE",
               "BACKEND", "ROTATION", "NAMESPACE", "LIMIT", "MIN", "MAX", "ROUNDS", "STRATEGY", "KEY_ID"}
KNOWN = [  # (what, pattern): values that are secrets whatever the variable is called
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/T\w+/B\w+/\w+")),
    ("a Stripe live key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a SendGrid key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")),
    ("an OpenAI/Anthropic key", re.compile(r"\bsk-(?:proj-|ant-)[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
]
_URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:(?P<pw>[^@\s/]+)@", re.I)
_KV_PASSWORD = re.compile(r"(?:^|[;\s])(?:password|pwd)\s*=\s*(?P<pw>[^;\s'\"]+)", re.I)
_REFERENCE = re.compile(r"^(?:vault:|ref\+|arn:aws:(?:secretsmanager|ssm):|projects/[^/]+/secrets/|sm://"
                        r"|gcp:secretmanager:|azurekeyvault:|akv:|secret://|file:|/|\./)"
                        r"|\$\(|\$\{|\{\{|^<[^>]*>$|^[*xX]{3,}$", re.I)
PLACEHOLDERS = {"changeme", "change-me", "change_me", "password", "secret", "admin", "test", "example", "dummy",
                "default", "todo", "replace_me", "replaceme", "fixme", "placeholder", "xxx"}
_OFF = {"", "0", "false", "no", "off", "none", "null", "disabled"}
DEV_ENVS = {"NODE_ENV", "RAILS_ENV", "APP_ENV", "FLASK_ENV", "ASPNETCORE_ENVIRONMENT"}


def secret_name(name: str) -> bool:
    tokens = [t for t in re.split(r"[_.\-]+", name.upper()) if t]
    if not tokens or tokens[-1] in _NOT_SECRET or "_".join(tokens[-2:]) in _NOT_SECRET:
        return False
    return (any(t in _WORDS or t.endswith(("PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY")) for t in tokens)
            or any(p in _PAIRS for p in zip(tokens, tokens[1:])))


def secret_in(name: str, value: str) -> tuple | None:
    """(what, the secret part) when a literal env value is a secret, else None."""
    if not value.strip():
        return None
    for what, rx in KNOWN:
        m = rx.search(value)
        if m:
            return what, m.group(0)
    for rx in (_URL_PASSWORD, _KV_PASSWORD):
        m = rx.search(value)
        if m and not _REFERENCE.search(m.group("pw")):
            return "a connection string with an embedded password", m.group(0)
    if _REFERENCE.search(value.strip()):  # ${X}, $(X), <...>, vault:..., a file path: not a literal secret
        return None
    if secret_name(name) and value.strip().lower() not in ("true", "false", "yes", "no", "on", "off"):
        if value.strip().lower() in PLACEHOLDERS:
            return "a well-known placeholder (a guessable credential if the app really uses it)", ""
        return "a secret (judging by its name)", value
    return None


def debug_evidence(env: list, container) -> str:
    """Why this container logs verbosely ('' when it does not): env (ConfigMaps included) and args."""
    for e in reversed(env):
        n, v = e.name.upper(), (e.value or "").strip().lower()
        if e.value is None:
            continue
        if (n == "DEBUG" or n.endswith("_DEBUG")) and v not in _OFF:
            return f"{e.name}={e.value} ({e.where})"
        if "LOG" in n and (re.search(r"\b(?:debug|trace)\b", v) or v in ("all", "verbose", "silly")):
            return f"{e.name}={e.value} ({e.where})"
        if n in DEV_ENVS and v in ("development", "dev", "debug"):
            return f"{e.name}={e.value} ({e.where})"
        if n in ("SPRING_PROFILES_ACTIVE", "GIN_MODE") and "debug" in re.split(r"[,\s]+", v):
            return f"{e.name}={e.value} ({e.where})"
    for key in ("command", "args"):
        seq = container.data.get(key)
        for i, t in enumerate(seq if isinstance(seq, list) else []):
            t = str(t)
            nxt = str(seq[i + 1]).lower() if i + 1 < len(seq) else ""
            if t in ("--debug", "--verbose") or re.fullmatch(r"-v+", t) or re.fullmatch(
                    r"--log[-_]?level=(?:debug|trace)", t, re.I):
                return f"`{t}` in {key}"
            if re.fullmatch(r"--log[-_]?level", t, re.I) and nxt in ("debug", "trace"):
                return f"`{t} {nxt}` in {key}"
    return ""


@rule(id="PM402", name="secret-literal-in-env", severity="high",
      severity_reason="A literal secret is readable by anyone with the manifest; with debug logging on it ends up in "
                      "the log store (critical).",
      incidents=["4.2"], title="Secret written as a literal env value in production",
      kinds=list(POD_SPEC_PATHS), production_only=True,
      fix="Move the value into a Secret (or Vault / External Secrets) and reference it with "
          "`valueFrom.secretKeyRef`, or mount it as a file; rotate the exposed value; turn debug logging off in "
          "production.")
def check(resource, ctx):
    """## What it checks
    Every env entry of every container of a production workload that has a literal `value:`
    holding a secret: a name like `*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`,
    `*PRIVATE_KEY*`, `*CREDENTIALS*`, `AWS_SECRET_ACCESS_KEY` (but not `*_FILE`, `*_PATH`,
    `*_URL`, `*_NAME`, `*_ID`, `*_TTL`, ...), or, whatever the name, a value that is a known
    secret format (AWS key, `ghp_`/`github_pat_`, `glpat-`, `xox?-`, `sk_live_`, `AIza`,
    `-----BEGIN ... PRIVATE KEY-----`, a JWT) or a URL/connection string with a password.
    Not literals, so not reported: empty values, `valueFrom`, `$(VAR)`, `${VAR}`, `{{ }}`,
    `<placeholder>`, `****`, secret-manager references (`vault:`, `ref+`, `arn:aws:secretsmanager:`)
    and file paths. Placeholder *words* (`changeme`, `password`, `admin`) are reported: in
    production they are real, guessable credentials. High; critical when the same container
    logs verbosely: `DEBUG`/`*_DEBUG` on, `LOG_LEVEL` (or any `*LOG*`) debug/trace,
    `NODE_ENV`/`RAILS_ENV`/`ASPNETCORE_ENVIRONMENT` development, `SPRING_PROFILES_ACTIVE`
    with `debug`, or `--debug`, `--verbose`, `-v`, `--log-level=debug` in args/command (env from
    ConfigMaps via `envFrom` counts). The secret is never printed: findings show a redacted form.

    ## Why it breaks production
    Secrets were injected as environment variables and a developer set `DEBUG=true` in a
    Node.js app: one stack trace printed the environment, `DB_PASSWORD = ...` went to ELK and
    was readable in Kibana by anyone with log access (catalog 4.2).

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: orders, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: registry.example.com/orders:1.4.2
              env:
                - name: DEBUG
                  value: "true"
                - name: DB_PASSWORD
                  value: mySuperSecretPassword123
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: orders, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: registry.example.com/orders:1.4.2
              env:
                - name: DB_PASSWORD
                  valueFrom:
                    secretKeyRef: {name: orders-db, key: password}
    ```

    ## Fix
    Put the value in a Secret (better: Vault Agent or External Secrets with a file mount) and
    reference it; rotate the one that was in the manifest, since git history keeps it; and keep
    debug logging out of production so nothing prints the environment.
    """
    for c in containers(resource):
        env = env_items(c, resource.namespace, ctx.project)
        debug = debug_evidence(env, c)
        for e in env:
            if e.path[-1:] != ("value",) or not e.value:
                continue
            found = secret_in(e.name, e.value)
            if not found:
                continue
            what, part = found
            kind = "init container" if c.init else "container"
            msg = (f"env {e.name} of {kind} '{c.name}' is {what} written as a literal value: anyone who can read "
                   f"this manifest, the live object or `kubectl describe pod` has it, and rotating it needs a deploy")
            if debug:
                msg += (f"; with {debug} in the same container a debug print or stack trace dumps the environment, "
                        f"this secret included, into the logs and the log store")
            lines = tuple(ln.strip() for ln in e.value.splitlines() if len(ln.strip()) >= 8)
            secrets = (e.value, part) + lines if part else ()  # a placeholder word is no secret to keep
            yield Hit(e.path, msg, secrets=secrets,
                      severity=Severity.CRITICAL if debug else None, identity=e.name)
