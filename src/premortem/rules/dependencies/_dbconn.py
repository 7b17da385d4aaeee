"""Database connection strings, pool sizes and server max_connections, found in free text (env
values, ConfigMap data, embedded application.properties / YAML files, args). Shared by PM801
(timeouts, R8) and PM802 (the hosts a client connects to, pool sizes in URLs); pools, env and
max_connections are in `_dbpool`.

Recognised: JDBC URLs (postgresql, mysql, mariadb, sqlserver), postgres:// and mysql:// URLs with
SQLAlchemy `+driver` suffixes, libpq keyword strings (`host=db dbname=app connect_timeout=5`),
Go MySQL DSNs (`user:pw@tcp(db:3306)/app?timeout=5s`), mongodb(+srv):// and redis(s):// URLs.
Parameter names compare case-insensitively without `_`/`-` (connect_timeout = connectTimeout).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

# kind -> (label, engine, [(parameter as documented, {normalised names that satisfy it}, example setting)])
KINDS = {
    "jdbc-postgresql": ("JDBC PostgreSQL URL", "postgresql", [
        ("connectTimeout", {"connecttimeout", "logintimeout"}, "connectTimeout=10"),
        ("socketTimeout", {"sockettimeout"}, "socketTimeout=60"),
        ("tcpKeepAlive", {"tcpkeepalive"}, "tcpKeepAlive=true")]),
    "jdbc-mysql": ("JDBC MySQL URL", "mysql", [
        ("connectTimeout", {"connecttimeout"}, "connectTimeout=10000"),
        ("socketTimeout", {"sockettimeout"}, "socketTimeout=60000")]),
    "jdbc-sqlserver": ("JDBC SQL Server URL", "mssql", [
        ("socketTimeout", {"sockettimeout"}, "socketTimeout=60000")]),
    "postgresql": ("PostgreSQL (libpq) URL", "postgresql", [
        ("connect_timeout", {"connecttimeout"}, "connect_timeout=10"),
        ("keepalives_idle or tcp_user_timeout", {"keepalivesidle", "tcpusertimeout"}, "keepalives_idle=30")]),
    "libpq": ("libpq connection string", "postgresql", [
        ("connect_timeout", {"connecttimeout"}, "connect_timeout=10"),
        ("keepalives_idle or tcp_user_timeout", {"keepalivesidle", "tcpusertimeout"}, "keepalives_idle=30")]),
    "asyncpg": ("asyncpg URL", "postgresql", [
        ("timeout", {"timeout", "connecttimeout"}, "timeout=10"),
        ("command_timeout", {"commandtimeout"}, "command_timeout=60")]),
    "mysql": ("MySQL URL", "mysql", [
        ("connect_timeout", {"connecttimeout", "timeout"}, "connect_timeout=10"),
        ("read_timeout", {"readtimeout", "sockettimeout"}, "read_timeout=60")]),
    "go-mysql": ("Go MySQL DSN", "mysql", [
        ("timeout", {"timeout"}, "timeout=5s"),
        ("readTimeout", {"readtimeout"}, "readTimeout=30s")]),
    "mongodb": ("MongoDB URI", "mongodb", [
        ("connectTimeoutMS", {"connecttimeoutms"}, "connectTimeoutMS=10000"),
        ("socketTimeoutMS", {"sockettimeoutms"}, "socketTimeoutMS=60000")]),
    "redis": ("Redis URL", "redis", [
        ("a connect timeout (socket_connect_timeout / dial_timeout)",
         {"socketconnecttimeout", "dialtimeout", "connecttimeout", "timeout"}, "socket_connect_timeout=5"),
        ("a read timeout (socket_timeout / read_timeout)", {"sockettimeout", "readtimeout", "timeout"},
         "socket_timeout=5")]),
}
OFF = {"0", "false", "no", "off", ""}
_URL = re.compile(
    r"(?<![\w+.-])(?P<scheme>jdbc:(?:postgresql|mysql|mariadb|sqlserver)(?::\w+)?|postgres(?:ql)?(?:\+\w+)?"
    r"|mysql(?:\+\w+)?|mariadb(?:\+\w+)?|mongodb(?:\+srv)?|rediss?)://(?P<rest>[^\s\"'<>`]+)", re.I)
_GO_MYSQL = re.compile(r"(?<![\w/:@])(?P<user>[\w.-]*)(?::(?P<pw>[^\s@\"'/]*))?@(?:tcp|unix)\((?P<addr>[^)\s]*)\)"
                       r"/(?P<db>[\w.$-]*)(?:\?(?P<q>[^\s\"'<>`]*))?")
_LIBPQ_KEYS = ("host|hostaddr|port|dbname|user|password|sslmode|connect_timeout|keepalives|keepalives_idle|"
               "keepalives_interval|keepalives_count|tcp_user_timeout|application_name|options|"
               "target_session_attrs|sslrootcert|sslcert|sslkey|passfile|client_encoding")
_LIBPQ = re.compile(rf"(?<![\w.])(?:(?:{_LIBPQ_KEYS})\s*=\s*(?:'[^']*'|[^\s'\"=]+)(?:[ \t]+|$)){{2,}}", re.I | re.M)
_LIBPQ_HINT = re.compile(r"(?:host|hostaddr|dbname|user|sslmode|connect_timeout|keepalives)\s*=", re.I)
_PAIR = re.compile(rf"({_LIBPQ_KEYS})\s*=\s*('[^']*'|[^\s'\"=]+)", re.I)
PLACEHOLDER = re.compile(r"\$\{|\$\(|\{\{|%\(|#\{")


def norm(name: str) -> str:
    return re.sub(r"[-_.\s]", "", str(name)).lower()


@dataclass
class Conn:
    kind: str
    start: int
    end: int
    text: str
    hosts: list = field(default_factory=list)
    database: str = ""
    params: dict = field(default_factory=dict)  # normalised name -> value
    names: dict = field(default_factory=dict)  # normalised name -> as written
    password: str = ""
    secret_token: str = ""  # the password with its delimiters as written (for redaction)
    templated: bool = False  # parameters come from a placeholder: unknown

    @property
    def label(self) -> str:
        return KINDS[self.kind][0]

    @property
    def engine(self) -> str:
        return KINDS[self.kind][1]

    @property
    def target(self) -> str:
        host = ",".join(self.hosts) or "?"
        return host + (f"/{self.database}" if self.database else "")

    @property
    def secrets(self) -> tuple:
        return tuple(s for s in (self.password if len(self.password) >= 6 else "", self.secret_token) if s)


def _query(q: str, sep: str = "&", names: dict | None = None) -> dict:
    out = {}
    for part in re.split(sep, q):
        if part:
            k, _, v = part.partition("=")
            out[norm(unquote(k))] = unquote(v)
            if names is not None:
                names[norm(unquote(k))] = unquote(k)
    return out


def _trim(rest: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets after a URL."""
    while rest:
        ch = rest[-1]
        pair = {")": "(", "]": "[", "}": "{"}.get(ch)
        if ch in ".,;" or (pair and rest.count(pair) < rest.count(ch)):
            rest = rest[:-1]
        else:
            break
    return rest


def _url_conn(m) -> Conn | None:
    scheme, rest = m.group("scheme").lower(), _trim(m.group("rest"))
    if scheme.startswith("jdbc:sqlserver"):
        kind = "jdbc-sqlserver"
    elif scheme.startswith("jdbc:postgresql"):
        kind = "jdbc-postgresql"
    elif scheme.startswith("jdbc:"):
        kind = "jdbc-mysql"
    elif scheme.startswith("postgres"):
        kind = "asyncpg" if scheme.endswith("+asyncpg") else "postgresql"
    elif scheme.startswith(("mysql", "mariadb")):
        kind = "mysql"
    else:
        kind = "mongodb" if scheme.startswith("mongodb") else "redis"
    end = m.start("rest") + len(rest)
    c = Conn(kind, m.start(), end, m.string[m.start():end])
    if kind == "jdbc-sqlserver":
        netloc, _, props = rest.partition(";")
        c.params = _query(props, ";", c.names)
        q_part = props
        c.database = c.params.get("databasename", c.params.get("database", ""))
        if c.params.get("password"):
            c.password = c.params["password"]
            c.secret_token = re.search(r"password=[^;]*", props, re.I).group(0)
    else:
        netloc, _, path = rest.partition("/")
        path, _, q_part = path.partition("?")
        c.database = path
        c.params = _query(q_part, "&", c.names)
        if "@" in netloc:
            userinfo, _, netloc = netloc.rpartition("@")
            if ":" in userinfo:
                c.password = unquote(userinfo.split(":", 1)[1])
                c.secret_token = ":" + userinfo.split(":", 1)[1] + "@"
        if c.params.get("password"):
            c.password = c.params["password"]
            c.secret_token = re.search(r"password=[^&]*", q_part, re.I).group(0)
    c.hosts = [h.strip("[]").rsplit(":", 1)[0] if not h.startswith("[") else h for h in netloc.split(",") if h]
    c.templated = bool(PLACEHOLDER.search(q_part) or PLACEHOLDER.search(c.database))
    return c


def _libpq_conn(m) -> Conn | None:
    pairs = {k.lower(): v.strip("'") for k, v in _PAIR.findall(m.group(0))}
    if "host" not in pairs and "hostaddr" not in pairs:
        return None
    if "dbname" not in pairs and "user" not in pairs:
        return None
    c = Conn("libpq", m.start(), m.end(), m.group(0).rstrip())
    c.params = {norm(k): v for k, v in pairs.items()}
    c.names = {norm(k): k for k in pairs}
    c.hosts = [h for h in (pairs.get("host") or pairs.get("hostaddr", "")).split(",") if h]
    c.database = pairs.get("dbname", "")
    if pairs.get("password"):
        c.password = pairs["password"]
        c.secret_token = re.search(r"password\s*=\s*('[^']*'|\S+)", m.group(0), re.I).group(0)
    return c


def _go_conn(m) -> Conn:
    c = Conn("go-mysql", m.start(), m.end(), m.group(0))
    c.params = _query(m.group("q") or "", "&", c.names)
    c.hosts = [m.group("addr").rsplit(":", 1)[0]] if m.group("addr") else []
    c.database = m.group("db")
    if m.group("pw"):
        c.password = m.group("pw")
        c.secret_token = f":{m.group('pw')}@"
    c.templated = bool(PLACEHOLDER.search(m.group("q") or ""))
    return c


def _commented(text: str, pos: int) -> bool:
    """On a comment line of a file (properties, YAML, shell); a one-line value has no comments."""
    if "\n" not in text:
        return False
    line_start = text.rfind("\n", 0, pos) + 1
    return text[line_start:pos].lstrip().startswith(("#", "!", "//"))


def find_connections(text: str) -> list:
    """Every connection string in `text` outside comments, in order."""
    if not isinstance(text, str) or len(text) < 8:
        return []
    found = []
    # cheap substring tests first: ConfigMaps carry megabytes of dashboards with no connection string
    if "://" in text:
        for m in _URL.finditer(text):
            found.append(_url_conn(m))
    if "@tcp(" in text or "@unix(" in text:
        for m in _GO_MYSQL.finditer(text):
            if not any(c.start <= m.start() < c.end for c in found):
                found.append(_go_conn(m))
    if "=" in text and _LIBPQ_HINT.search(text):
        for m in _LIBPQ.finditer(text):
            if not any(c.start <= m.start() < c.end for c in found):
                c = _libpq_conn(m)
                if c:
                    found.append(c)
    return sorted((c for c in found if c and not _commented(text, c.start)), key=lambda c: c.start)


def property_name(text: str, pos: int) -> str:
    """The property/key a value at `pos` is assigned to on its line (`spring.datasource.url`)."""
    line = text[text.rfind("\n", 0, pos) + 1:pos]
    m = re.search(r"([\w.\-\[\]]+)\s*[=:]\s*[\"']?$", line)
    return m.group(1) if m else ""


# ---- settings that apply to a connection from around it ------------------------------------
_DSP = re.compile(r"data[-_.]?source[-_.]?properties[._-]+(\w+)\s*[=:]\s*[\"']?([^\s\"']+)", re.I)
_DSP_BLOCK = re.compile(r"^(\s*)(?:data-source-properties|dataSourceProperties)\s*:\s*$", re.M)
ENV_PARAMS = {"PGCONNECT_TIMEOUT": "connecttimeout"}


def context_params(items) -> dict:
    """Driver parameters set beside the URL: `(name, text)` pairs of env variables or files.
    Hikari `data-source-properties` (properties, YAML, SPRING_..._DATASOURCEPROPERTIES_X env) and
    libpq's PGCONNECT_TIMEOUT."""
    out: dict = {}
    for name, text in items:
        up = str(name or "").upper()
        if up in ENV_PARAMS and text not in (None, ""):
            out[ENV_PARAMS[up]] = str(text)
        m = re.search(r"DATA_?SOURCE_?PROPERTIES_(\w+)$", up)
        if m and text is not None:
            out[norm(m.group(1))] = str(text)
        if not isinstance(text, str):
            continue
        for k, v in _DSP.findall(text):
            out[norm(k)] = v
        for b in _DSP_BLOCK.finditer(text):
            indent = len(b.group(1))
            for line in text[b.end():].splitlines()[1:]:
                if not line.strip():
                    continue
                if len(line) - len(line.lstrip()) <= indent:
                    break
                kv = re.match(r"\s*([\w.-]+)\s*:\s*[\"']?([^\s\"'#]+)", line)
                if kv:
                    out[norm(kv.group(1))] = kv.group(2)
    return out


def missing(conn: Conn, extra: dict | None = None) -> list:
    """[(parameter, why)] for every required parameter absent or disabled."""
    params = {**(extra or {}), **conn.params}
    out = []
    for name, names, _ in KINDS[conn.kind][2]:
        present = [(n, params[n]) for n in names if n in params]
        if not present:
            out.append((name, "missing"))
        elif all(str(v).strip().lower() in OFF for _, v in present):
            n, v = present[0]
            out.append((name, f"sets {conn.names.get(n, n)}={v}, which disables it"))
    if conn.kind in ("libpq", "postgresql") and str(params.get("keepalives", "1")).strip() in OFF:
        out.append(("keepalives", f"sets keepalives={params['keepalives']}, which turns TCP keepalive off"))
    return out


def example(conn: Conn, names: list) -> str:
    sep = " " if conn.kind == "libpq" else ";" if conn.kind == "jdbc-sqlserver" else "&"
    table = {n: ex for n, _, ex in KINDS[conn.kind][2]} | {"keepalives": "keepalives=1"}
    return sep.join(table[n] for n in names if n in table)
