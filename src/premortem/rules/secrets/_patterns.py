"""Where secrets hide in text: provider patterns, URLs with passwords, and `password=`-style
assignments judged by entropy, with the context filters that keep false positives low.

`find_secrets(text, path)` returns every credential in a file as `Found` (offset, value, what it
is), placeholders, documented example keys, references (`${VAR}`, `${{ secrets.X }}`,
`{{ .Values.x }}`, `os.environ[...]`), lockfile hashes and clearly marked test fixtures left out.

Patterns are ours, not detect-secrets' (evaluated: its plugins are line-based without columns,
miss fine-grained GitHub tokens, Azure connection strings, GCP service-account keys and database
URLs, pull `requests` in for verification, and fire on every high-entropy hash; our numbers are
in tests/test_secrets_precision.py). Each pattern is bounded on both sides so a token is never
found inside a longer base64 run.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass

_R = r"(?![A-Za-z0-9_])"  # token end; the start is checked in code (_bounded): a leading lookbehind
# would cost every regex its literal-prefix search: 40 ms instead of 0.2 ms per MB)


@dataclass(frozen=True)
class Found:
    kind: str  # detector: "github-token", "aws-key-pair", "assignment", ...
    what: str  # for messages: "a GitHub token"
    secret: str  # the value, to redact
    start: int  # offset of the value in the text
    also: tuple = ()  # more values to redact (the paired key ID, PEM body lines)
    note: str = ""  # extra words for the message
    strong: bool = True  # by shape (provider pattern) rather than by name and entropy
    weak: bool = False  # an AWS key ID with no secret key beside it
    end: int = 0  # where the finding's text ends, when longer than the secret (a PEM block)

    @property
    def span(self) -> tuple:
        return self.start, max(self.end, self.start + len(self.secret))


# (kind, what, regex with group "s" = the secret, literals one of which must be in the text for the regex
# to run: only for regexes that do not start with a literal, which the regex engine finds as fast)
PROVIDERS = [
    ("github-token", "a GitHub token", r"(?P<s>gh[pousr]_[A-Za-z0-9]{36,251})" + _R, ()),
    ("github-token", "a GitHub fine-grained token", r"(?P<s>github_pat_[A-Za-z0-9_]{50,})" + _R, ()),
    ("gitlab-token", "a GitLab token",
     r"(?P<s>gl(?:pat|dt|rt|ptt|ft|soat|cbt|oas|imt|agent)-[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])", ()),
    ("slack-token", "a Slack token", r"(?P<s>xox[abposre]-(?:[0-9]{6,}-){1,3}[A-Za-z0-9-]{10,})(?![A-Za-z0-9-])", ()),
    ("slack-webhook", "a Slack webhook URL",
     r"(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,}/[A-Z0-9]{6,}/[A-Za-z0-9]{16,})", ()),
    ("stripe-key", "a Stripe live key", r"(?P<s>(?:sk|rk)_live_[A-Za-z0-9]{20,247})" + _R, ("_live_",)),
    ("npm-token", "an npm token", r"(?P<s>npm_[A-Za-z0-9]{36})" + _R, ()),
    ("npmrc-auth", "an npm registry token (.npmrc)",
     r"(?m):_(?:authToken|auth|password)[ \t]*=[ \t]*[\"']?(?P<s>[A-Za-z0-9+/=_.~-]{8,})(?=[\s\"']|$)",
     (":_auth", ":_password")),
    ("pypi-token", "a PyPI token", r"(?P<s>pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})", ()),
    ("google-api-key", "a Google API key", r"(?P<s>AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])", ()),
    ("sendgrid-key", "a SendGrid key", r"(?P<s>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])", ()),
    ("openai-key", "an OpenAI key",
     r"(?P<s>sk-(?:proj-|svcacct-|admin-)[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})(?![A-Za-z0-9_-])",
     ("sk-proj-", "sk-svcacct-", "sk-admin-", "T3BlbkFJ")),
    ("anthropic-key", "an Anthropic key", r"(?P<s>sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,})", ()),
    ("twilio-key", "a Twilio API key", r"(?P<s>SK[0-9a-f]{32})" + _R, ()),
    ("azure-storage-key", "an Azure storage account key", r"AccountKey=(?P<s>[A-Za-z0-9+/]{86}==)", ()),
    ("azure-shared-key", "an Azure shared access key (Service Bus / Event Hubs / IoT Hub)",
     r"SharedAccessKey=(?P<s>[A-Za-z0-9+/]{42,44}=)", ()),
    ("azure-sas", "an Azure SAS signature",
     r"[?&]sv=\d{4}-\d\d-\d\d&[^\s\"'<>]*?\bsig=(?P<s>[A-Za-z0-9%+/]{40,}(?:%3D|=)*)", ("sig=",)),
    ("azure-client-secret", "an Azure AD client secret",
     r"(?P<s>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])", ("Q~",)),
    ("docker-auth", "a registry login (docker config.json `auth`)",
     r"\"auth\"\s*:\s*\"(?P<s>[A-Za-z0-9+/]{12,}={0,2})\"", ("\"auth\"",)),
]
_PROVIDERS = [(k, w, re.compile(rx), lits) for k, w, rx, lits in PROVIDERS]

AWS_KEY_ID = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])")
AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_SECRET_NAME = re.compile(r"(?i)secret[\w\"'.-]{0,20}?(?:access)?[\w.-]{0,3}key|aws[\w.-]{0,20}secret")
PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")
URL_CRED = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{1,20})://(?P<user>[^\s:/@?#'\"`<>(){}\[\]]{0,64}):"
                      r"(?P<s>[^\s/@?#'\"`<>]{1,200})@(?P<host>[A-Za-z0-9_.\-\[\]:]+)")
DB_SCHEMES = ("postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss", "amqp",
              "amqps", "mssql", "sqlserver", "oracle", "cockroachdb", "clickhouse", "cassandra", "neo4j", "couchdb",
              "elasticsearch", "memcached", "db2", "snowflake", "postgis", "timescaledb")

# ---- generic assignments -------------------------------------------------------------------------
SECRET_WORDS = {"password", "passwords", "passwd", "passphrase", "pwd", "pass", "secret", "secrets", "token",
                "tokens", "apikey", "credential", "credentials", "creds", "pat"}
SECRET_PAIRS = {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("auth", "key"),
                ("signing", "key"), ("encryption", "key"), ("master", "key"), ("session", "key"),
                ("account", "key"), ("client", "secret"), ("app", "key")}
# names whose last word makes them no secret: `password_file`, `token_url`, `secret_name`, `api_key_id`
NOT_SECRET = {"file", "path", "dir", "url", "uri", "endpoint", "host", "hostname", "name", "id", "user", "username",
              "enabled", "enable", "disabled", "required", "length", "len", "size", "bytes", "bits", "ttl", "expiry",
              "expires", "expiration", "lifetime", "timeout", "age", "duration", "interval", "header", "type",
              "algorithm", "alg", "issuer", "audience", "ref", "mount", "policy", "region", "arn", "format", "prefix",
              "version", "count", "mode", "role", "field", "param", "kind", "location", "scope", "scopes", "provider",
              "store", "backend", "rotation", "namespace", "limit", "min", "max", "rounds", "strategy", "env", "var",
              "selector", "hash", "digest", "checksum", "sha", "fingerprint", "label", "hint", "prompt", "pattern",
              "regex", "validator", "strength", "complexity", "reset", "changed", "change", "confirm",
              "confirmation", "placeholder", "manager", "generator", "salt_rounds", "class", "module", "key_id",
              "keyid", "source", "from", "template", "secretref", "pem_path", "encoding", "mask"}
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_KEY = r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)"
_VALUE = r"""(?:"(?P<dq>[^"\n\\]*(?:\\.[^"\n\\]*)*)"|'(?P<sq>[^'\n]*)'|`(?P<bq>[^`\n]*)`|(?P<bare>[^\s"'`,;#&<>(){}\[\]]+))"""
ASSIGN = re.compile(r"(?<![A-Za-z0-9_.\-$])(?:--)?" + _KEY + r"[\"']?[ \t]*(?::=|=>|=|:|[ \t](?=[\"']))[ \t]*" + _VALUE)
NAME_VALUE = re.compile(r"""(?<![\w.-])(?:name|key)["']?[ \t]*[:=][ \t]*["']?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)["']?"""
                        r"""[ \t]*,?[ \t]*(?:\n(?:[ \t]*#[^\n]*\n)*)?[ \t-]*["']?value["']?[ \t]*[:=][ \t]*""" + _VALUE)
XML_ELEMENT = re.compile(r"<(?P<key>[A-Za-z_][\w:.\-]*)>(?P<bare>[^<\s]{1,200})</(?P=key)>")
# values whose shape a provider pattern judges (a JWT that expired, a Supabase anon key) or that are not
# secret by design (Stripe test-mode and publishable keys): never reported by name alone
_SHAPED = re.compile(r"eyJ[\w-]+\.eyJ|-----BEGIN|(?:sk|rk)_test_|pk_(?:test|live)_|AKIA[A-Z2-7]{16}$")
_SECRETISH = re.compile(r"(?i)pass|pwd|secret|token|key|cred|auth")
_SECRETISH_LOWER = re.compile(r"pass|pwd|secret|token|key|cred|auth")
CODE_EXT = (".py", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".java", ".kt", ".kts", ".scala", ".rb",
            ".php", ".cs", ".rs", ".c", ".h", ".cc", ".cpp", ".hpp", ".swift", ".m", ".dart", ".groovy", ".lua",
            ".pl", ".r", ".ex", ".exs", ".erl", ".clj", ".vue", ".svelte")

# ---- context filters -----------------------------------------------------------------------------
PLACEHOLDER_WORDS = {"changeme", "change-me", "change_me", "password", "passw0rd", "secret", "admin", "test",
                     "example", "dummy", "default", "todo", "replace_me", "replaceme", "fixme", "placeholder", "xxx",
                     "none", "null", "nil", "undefined", "empty", "true", "false", "yes", "no", "on", "off",
                     "redacted", "hidden", "masked", "secret123", "password123", "notasecret", "tbd", "n/a",
                     "required", "optional", "string", "str", "value", "your-password", "mypassword", "pass",
                     "sample", "insecure", "unset", "notset", "not-set"}
_PLACEHOLDER = re.compile(
    r"(?i)example|dummy|fake|sample|placeholder|redacted|changeme|change[-_]me|replace[-_ ]?(?:me|this|with)|"
    r"your[-_ ]?(?:own[-_ ]?)?(?:api[-_ ]?)?(?:key|token|secret|password|pass)|insert[-_ ]|[-_ ]here\b|^todo|fixme|"
    r"(?-i:x{4,}|X{4,})|\*{3}|•{3}|not[-_ ]?a[-_ ]?real|notreal|do[-_ ]?not[-_ ]?use|^<.*>$|^\[.*\]$|^\(.*\)$|\.\.\.")
_REFERENCE = re.compile(
    r"\$\{|\$\(|^\$[A-Za-z_]|\{\{|\}\}|%\(|%[sd]\b|^%[A-Za-z_]+%$|^@[A-Za-z_]+@$|#\{|^<%|^ENC\(|^!(?:Ref|Sub|GetAtt|"
    r"ImportValue|Secret)|^(?:vault|ref\+|arn|secret|sm|gcp|azurekeyvault|akv|file|env|awskms|gcpkms|azurekv|op|"
    r"doppler|bws|infisical)://?|^arn:aws:|^projects/[^/]+/secrets/|^@Microsoft\.KeyVault\(|^/|^\./|^\.\./|^~/|"
    r"os\.environ|os\.getenv|getenv\(|process\.env|ENV\[|System\.getenv|import\.meta\.env|Deno\.env")
LOCKFILES = {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "pipfile.lock",
             "cargo.lock", "go.sum", "composer.lock", "gemfile.lock", "uv.lock", "pdm.lock", "packages.lock.json",
             "flake.lock", "mix.lock", "pubspec.lock", "podfile.lock", "gradle.lockfile", "bun.lock",
             ".terraform.lock.hcl", "conda-lock.yml", "requirements.lock"}
TEST_DIRS = {"test", "tests", "__tests__", "spec", "specs", "fixtures", "fixture", "testdata", "test-data",
             "test_data", "testing", "mocks", "__mocks__", "__fixtures__", "e2e"}
# a marker that says a value in a test file is not real: in the value, its line or the file's name
# ("test" counts only in the value: every line of a test file may say test)
TEST_MARKERS = re.compile(r"(?i)fake|dummy|example|sample|mock|stub|not[-_ ]?real|bogus|invalid|placeholder")
DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s\\]+")
_DOC_JWT_SUBJECTS = {"1234567890"}
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "9876543210")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def words(name: str) -> tuple:
    """'AWS_SECRET_ACCESS_KEY' -> ('aws', 'secret', 'access', 'key'); 'dbPassword' -> ('db', 'password')."""
    return tuple(w for w in _WORD_SPLIT.split(_CAMEL.sub(r"\1_\2", name).lower()) if w)


@functools.lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    """Whether a key names a secret: `DB_PASSWORD`, `apiKey`, `client-secret`; not `password_file`,
    `token_url`, `secretName`, `api_key_id`, `passwordPolicy`."""
    ws = words(name)
    if not ws or ws[-1] in NOT_SECRET or "_".join(ws[-2:]) in NOT_SECRET or "existing" in ws or "public" in ws:
        return False
    return any(w in SECRET_WORDS or w.endswith(("password", "passwd", "secret", "token", "apikey")) for w in ws) \
        or any(p in SECRET_PAIRS for p in zip(ws, ws[1:]))


def placeholder(value: str) -> bool:
    """A value that stands for a secret rather than being one: `changeme`, `<token>`, `${DB_PASSWORD}`,
    `${{ secrets.X }}`, `{{ .Values.x }}`, `%(pw)s`, `os.environ["X"]`, AWS's documented example keys."""
    v = value.strip().strip("\"'")
    if not v or v.lower() in PLACEHOLDER_WORDS or _PLACEHOLDER.search(v) or _REFERENCE.search(v):
        return True
    if len(set(v)) <= 2 or re.search(r"(.)\1{5,}", v):  # "aaaaaaaa", "00000000"
        return True
    return any(s[i:i + 8] in v for s in _SEQUENCES for i in range(len(s) - 7))


def _classes(value: str) -> int:
    return sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value),
                any(not c.isalnum() and c not in "-_." for c in value)))


def plausible(value: str, min_length: int = 8, min_entropy: float = 3.0) -> bool:
    """Whether a value found only by its name can be a credential: long enough, random enough, not a
    word list (`my-secret-name`, `SOME_CONSTANT`), not a number, not a sentence."""
    v = value
    if len(v) < min_length or len(v) > 300 or any(c.isspace() for c in v) or v.isdigit() or v.startswith("--"):
        return False  # too short, a sentence, a number, a fragment of a command line being built
    if re.match(r"(?:https?|wss?)://[^:@\s]*$", v):
        return False  # a URL without credentials (`token_endpoint: https://...`)
    if re.fullmatch(r"[a-z]+(?:[-_.][a-z]+)*|[A-Z]+(?:_[A-Z]+)*|[a-z]+(?:[A-Z][a-z]+)+|(?:[A-Z][a-z]+){2,}", v):
        return False  # identifiers and kebab/snake/camel-case names
    if re.search(r"(?i)pass|secret|token", v) and not any(c.isdigit() for c in v) and _classes(v) < 3:
        return False  # `yourPassword`, `mySecretKey`
    if re.fullmatch(r"\d+(?:\.\d+)*[a-z]*|v?\d+(?:\.\d+)+(?:[-+][\w.]+)?", v):
        return False  # versions, durations
    return _classes(v) >= 2 and entropy(v) >= min_entropy


def in_test_fixture(path: str, value: str, line: str) -> bool:
    """A secret in a test directory that says it is fake: a marker word (fake, dummy, example, test,
    mock...) in the value, on its line, or in the file's name."""
    parts = path.lower().split("/")
    if not any(p in TEST_DIRS for p in parts[:-1]) and not re.match(r"(?:test_|.*_test\.|.*\.(?:test|spec)\.)", parts[-1]):
        return False
    return bool(TEST_MARKERS.search(value) or "test" in value.lower() or TEST_MARKERS.search(line)
                or TEST_MARKERS.search(parts[-1]))


# ---- the scan ------------------------------------------------------------------------------------
def find_secrets(text: str, path: str, min_length: int = 8, min_entropy: float = 3.0) -> list:
    """Every secret in `text` (a file at `path`), in order, at most one per place."""
    name = path.rsplit("/", 1)[-1].lower()
    if "\n" not in text[:4096] and len(text) > 20000 and name.endswith((".map", ".min.js", ".min.css")):
        text = text[:0]  # source maps and bundles of a single line: nothing a person wrote
    if "base64," in text:  # data: URIs (inline images, fonts) are high-entropy noise: blank them, keep offsets
        text = DATA_URI.sub(lambda m: " " * len(m.group(0)), text)
    found: list = []
    found.extend(_providers(text))
    found.extend(_private_keys(text))
    found.extend(_aws(text))
    found.extend(_jwts(text))
    found.extend(_urls(text))
    if name not in LOCKFILES:
        found.extend(_assignments(text, name, min_length, min_entropy))
    out, taken = [], []
    for f in sorted(found, key=lambda f: (f.start, not f.strong, -len(f.secret))):
        start, end = f.span
        if any(s < end and start < e for s, e in taken):
            continue
        line = _line_of(text, f.start)
        if in_test_fixture(path, f.secret, line):
            continue
        taken.append((start, end))
        out.append(f)
    return out


def _line_of(text: str, offset: int) -> str:
    a = text.rfind("\n", 0, offset) + 1
    b = text.find("\n", offset)
    return text[a:b if b >= 0 else len(text)]


def position(text: str, offset: int) -> tuple:
    """1-based (line, column) of an offset."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _bounded(text: str, start: int) -> bool:
    """Whether a token starts a word (not the middle of a longer run: `xghp_...`, base64)."""
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")


def _providers(text: str):
    for kind, what, rx, lits in _PROVIDERS:
        if lits and not any(lit in text for lit in lits):  # no literal prefix: a cheap check first
            continue
        for m in rx.finditer(text):
            s = m.group("s")
            if not _bounded(text, m.start("s")) and kind not in ("azure-storage-key", "azure-shared-key", "azure-sas",
                                                                 "docker-auth", "npmrc-auth", "slack-webhook"):
                continue
            body = s.split("_", 2)[-1] if kind in ("github-token", "stripe-key") else s
            if placeholder(s) or (kind != "docker-auth" and entropy(body) < 3.0):
                continue
            if kind == "docker-auth" and not _decodes_to_login(s):
                continue
            yield Found(kind, what, s, m.start("s"))


def _decodes_to_login(value: str) -> bool:
    try:
        raw = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    user, _, pw = raw.partition(":")
    return bool(user) and bool(pw) and not placeholder(pw)


def _private_keys(text: str):
    if "PRIVATE KEY" not in text:
        return
    gcp = re.search(r"\"type\"\s*:\s*\"service_account\"", text)
    email = re.search(r"\"client_email\"\s*:\s*\"([^\"]+)\"", text) if gcp else None
    for m in PEM_BEGIN.finditer(text):
        stop = text.find("-----END", m.end(), m.end() + 16384)
        chunk = text[m.end(): stop if stop >= 0 else m.end() + 8192]
        body: list = []
        for ln in re.split(r"\\r\\n|\\n|\r?\n", chunk):
            s = ln.strip().strip("\"',+ ")
            if not s or (":" in s and not body):  # blank lines, Proc-Type/DEK-Info headers
                continue
            if not re.fullmatch(r"[A-Za-z0-9+/=]+", s):
                break
            body.append(s)
        key = "".join(body)
        if len(key) < 64 or entropy(key) < 4.0 or _PLACEHOLDER.search(key):
            continue  # a marker in code that builds or parses PEM, or a truncated `MIIE...` in docs
        end = stop + 8 if stop >= 0 else m.end() + len(chunk)
        kind = m.group(1).strip()
        what = "a GCP service-account private key" if gcp else f"{_KEY_NAMES.get(kind, 'a ' + kind)} private key"
        note = f"service account {email.group(1)}" if email else ""
        yield Found("private-key", what, key, m.start(), end=end,
                    also=(text[m.start():end],) + tuple(b for b in body if len(b) >= 16), note=note)


_KEY_NAMES = {"": "a PKCS#8", "RSA": "an RSA", "EC": "an EC", "DSA": "a DSA", "OPENSSH": "an OpenSSH",
              "ENCRYPTED": "an encrypted", "PGP": "a PGP", "SSH2 ENCRYPTED": "an SSH2"}


def _aws(text: str):
    ids = [m for m in AWS_KEY_ID.finditer(text) if "EXAMPLE" not in m.group(0) and _bounded(text, m.start())]
    used_ids = set()
    if ids:  # pairs: any 40-character secret near a key ID
        candidates = AWS_SECRET.finditer(text)
    else:  # alone: only on a line that names it (`aws_secret_access_key = ...`)
        candidates = (m for a, b in secretish_lines(text) if _AWS_SECRET_NAME.search(text, a, b)
                      for m in AWS_SECRET.finditer(text, a, b))
    for m in candidates:
        s = m.group(0)
        if not (any(c.islower() for c in s) and any(c.isupper() for c in s) and any(c.isdigit() or c in "/+" for c in s)):
            continue
        if "EXAMPLE" in s.upper() or entropy(s) < 3.8 or placeholder(s):
            continue
        line_no = text.count("\n", 0, m.start())
        near = [i for i in ids if abs(text.count("\n", 0, i.start()) - line_no) <= 10]
        named = _AWS_SECRET_NAME.search(_line_of(text, m.start())[:m.start() - text.rfind("\n", 0, m.start()) - 1])
        if not near and not named:
            continue
        pair = near[0].group(0) if near else ""
        used_ids.update(i.start() for i in near)
        yield Found("aws-key-pair" if pair else "aws-secret-key", "an AWS secret access key", s, m.start(),
                    also=(pair,) if pair else (), note=f"paired with access key ID {pair}" if pair else "")
    for i in ids:
        if i.start() not in used_ids:
            yield Found("aws-key-id", "an AWS access key ID", i.group(0), i.start(), weak=True)


def _jwts(text: str):
    if "eyJ" not in text:
        return
    for m in JWT.finditer(text):
        if not _bounded(text, m.start()):
            continue
        head, payload = (_b64json(p) for p in m.group(0).split(".")[:2])
        if not isinstance(head, dict) or "alg" not in head or str(head.get("alg")).lower() == "none":
            continue
        if not isinstance(payload, dict) or str(payload.get("sub")) in _DOC_JWT_SUBJECTS or payload.get("role") == "anon":
            continue  # jwt.io's documented example; Supabase's anon key is public by design
        if isinstance(payload.get("exp"), (int, float)) and payload["exp"] < _now():
            continue  # expired: it opens nothing any more
        yield Found("jwt", "a signed JWT", m.group(0), m.start())


def _now() -> float:
    import time

    return time.time()


def _b64json(part: str):
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


_LOCAL_HOSTS = re.compile(r"(?i)^(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\]|::1|host|hostname|server|"
                          r"[\w.-]*\.(?:example|test|invalid|local|localhost)|example\.(?:com|org|net))(?::\d+)?$")


def _url_creds(text: str):
    """URL_CRED matches, searched from each `://` (a literal the regex engine finds fast) rather than
    at every offset: the scheme is at most 21 characters before it."""
    pos = text.find("://")
    while pos >= 0:
        start = max(0, pos - 21)
        nl = max(text.rfind("\n", start, pos), text.rfind(" ", start, pos))
        m = URL_CRED.search(text, max(start, nl + 1), text.find("\n", pos) if text.find("\n", pos) >= 0 else len(text))
        if m is not None and m.start() <= pos:
            yield m
        pos = text.find("://", pos + 3)


def _urls(text: str):
    if "://" not in text or "@" not in text:
        return
    for m in _url_creds(text):
        pw, user, host = m.group("s"), m.group("user"), m.group("host")
        if placeholder(pw) or pw == user or user.startswith("$") or _LOCAL_HOSTS.match(host) or len(pw) < 4:
            continue
        if re.fullmatch(r"[A-Za-z_]+", pw) and pw.lower() in ("pass", "pw", "pwd", "password", "secret", "token"):
            continue
        scheme = m.group("scheme").lower().split("+")[0]
        what = ("a database URL with a password" if scheme in DB_SCHEMES or m.group("scheme").lower() in DB_SCHEMES
                else "credentials in a URL (basic auth)")
        yield Found("url-password", what, pw, m.start("s"), note=f"{m.group('scheme')}://{user}:…@{host}")


def secretish_lines(text: str) -> list:
    """(start, end) of each line that mentions a secret word. Searches a lowercased copy: a
    case-insensitive regex is 15 times slower."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer: offsets would shift
        low, rx = text, _SECRETISH
    else:
        rx = _SECRETISH_LOWER
    out, pos = [], 0
    while True:
        m = rx.search(low, pos)
        if m is None:
            return out
        a = text.rfind("\n", 0, m.start()) + 1
        b = text.find("\n", m.end())
        b = len(text) if b < 0 else b
        out.append((a, b))
        pos = b + 1


def _assignments(text: str, name: str, min_length: int, min_entropy: float):
    code = name.endswith(CODE_EXT)
    lines = [(a, b) for a, b in secretish_lines(text) if b - a <= 1000]  # ASSIGN runs only there
    rxs = (ASSIGN, XML_ELEMENT) if "</" in text else (ASSIGN,)
    matches = [m for a, b in lines for rx in rxs for m in rx.finditer(text, a, b)]
    if "value" in text:  # `name: X` + `value: Y`: the name line is secret-ish; the value follows within a few lines
        seen = set()
        for a, b in lines:
            end = b
            for _ in range(4):
                nxt = text.find("\n", end + 1)
                end = len(text) if nxt < 0 else nxt
            for m in NAME_VALUE.finditer(text, a, end):
                if m.start() not in seen and m.start("key") < b:
                    seen.add(m.start())
                    matches.append(m)
    for m in matches:
        key = m.group("key").lstrip("-")
        if not _SECRETISH.search(key) or not secret_name(key):
            continue
        group = next(g for g in ("dq", "sq", "bq", "bare") if m.groupdict().get(g) is not None)
        value = m.group(group)
        if code and group == "bare" and m.re is not XML_ELEMENT:
            continue  # `password = get_password()`, `token: string`: code, not a literal
        if group == "bare" and (value.endswith(":") or text[m.end(group):m.end(group) + 1] in ("(", "[", "{")):
            continue  # a call or index (`token: getToken()`), not a literal
        if placeholder(value) or not plausible(value, min_length, min_entropy) or _SHAPED.match(value):
            continue
        yield Found("assignment", f"a secret assigned to `{key}`", value, m.start(group), strong=False)
