"""PM703: a liveness or startup probe that checks a database or another service."""
import re
import shlex
from urllib.parse import urlsplit

from ...k8s.databases import database_of_container
from ...k8s.workloads import containers, env_value
from ..registry import Hit, rule
from ._probes import probes

# client -> (engine it talks to, env var with its default host, flags that take a host)
_PG, _MY = ("postgresql", "PGHOST", ("-h", "--host")), ("mysql", "MYSQL_HOST", ("-h", "--host"))
_URL = ("", "", ())
TOOLS = {
    "psql": _PG, "pg_isready": _PG, "mysql": _MY, "mysqladmin": _MY, "mariadb": _MY, "mariadb-admin": _MY,
    "mysqlsh": _MY, "redis-cli": ("redis", "", ("-h", "-u")), "valkey-cli": ("redis", "", ("-h", "-u")),
    "keydb-cli": ("redis", "", ("-h", "-u")), "mongo": ("mongodb", "", ("--host",)),
    "mongosh": ("mongodb", "", ("--host",)), "cqlsh": ("cassandra", "", ()),
    "kafka-broker-api-versions": ("kafka", "", ("--bootstrap-server",)),
    "kafka-broker-api-versions.sh": ("kafka", "", ("--bootstrap-server",)),
    "etcdctl": ("etcd", "", ("--endpoints",)), "grpc_health_probe": ("", "", ("-addr", "--addr")),
    "curl": _URL, "wget": _URL, "nc": _URL, "ncat": _URL, "netcat": _URL,
}
GLUED = {"postgresql", "mysql"}  # getopt clients that accept -hHOST
LOCAL = {"", "localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "$hostname", "${hostname}", "$pod_ip",
         "${pod_ip}", "$(hostname)", "$(hostname -i)"}
EFFECT = {"livenessProbe": "the kubelet restarts them all at once (CrashLoopBackOff), though a restart cannot fix it",
          "startupProbe": "no new pod can start until it is back, so a rollout or node drain during the outage "
                          "leaves no replicas"}
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")"}
_VAR = re.compile(r"^\$\{?(\w+)\}?$")


def _tokens(command: list) -> list:
    """(element index, token) over the exec command, shell scripts split into words."""
    out = []
    for i, part in enumerate(command):
        text = re.sub(r"\$\(hostname(?: -i)?\)", "localhost", str(part))
        try:
            lex = shlex.shlex(text, posix=True, punctuation_chars=";&|()")
            lex.whitespace_split = True
            words = list(lex)
        except ValueError:
            words = text.split()
        out.extend((i, w) for w in words)
    return out


def _host(word: str) -> str:
    """A host out of a flag value, a URL or host:port."""
    if "://" in word:
        try:
            return urlsplit(word).hostname or ""
        except ValueError:
            return ""
    if word.startswith("host="):  # libpq key=value connection string
        word = word[5:].split()[0]
    return word.rsplit("@", 1)[-1].split("/")[0].split(",")[0].rsplit(":", 1)[0] if word.count(":") <= 1 else word


def _target(tool: str, args: list) -> str | None:
    """The host the tool talks to, None when it names none."""
    engine, _, flags = TOOLS[tool]
    for j, a in enumerate(args):
        for flag in flags:
            if a == flag and j + 1 < len(args):
                return _host(args[j + 1])
            if a.startswith(flag + "="):
                return _host(a.split("=", 1)[1])
            if flag == "-h" and engine in GLUED and a.startswith("-h") and len(a) > 2:
                return _host(a[2:])
        if "://" in a or a.startswith("host="):
            return _host(a)
    if tool in ("curl", "wget"):  # a bare host[:port]/path argument
        for a in args:
            if not a.startswith("-") and re.match(r"^[\w.-]+(:\d+)?(/|$)", a) and (":" in a or "/" in a):
                return _host(a)
    if tool in ("nc", "ncat", "netcat", "cqlsh"):
        words = [a for a in args if not a.startswith("-") and not a.isdigit()]
        return _host(words[0]) if words else None
    return None


def _local(host: str) -> bool:
    return host.lower() in LOCAL or host.startswith(("/", "127."))


def _resolve(host: str, c) -> str | None:
    """The host with a $VAR taken from the container's literal env; None when it cannot be known."""
    m = _VAR.match(host)
    if not m or host.lower() in LOCAL:
        return host
    value, _ = env_value(c, m.group(1))
    return value


def dependency_calls(c, command: list):
    """(command element index, tool, engine, host) for each client call that leaves the container."""
    own = database_of_container(c)
    toks = _tokens(command)
    for n, (i, word) in enumerate(toks):
        tool = word.rsplit("/", 1)[-1]
        if tool not in TOOLS:
            continue
        engine, env_host, _ = TOOLS[tool]
        args = []
        for _, w in toks[n + 1:]:
            if w in SEPARATORS:
                break
            args.append(w)
        host = _target(tool, args)
        if host is None and env_host:
            value, idx = env_value(c, env_host)
            if idx is not None:
                host = value if value is not None else f"${env_host}"
        if host is None:
            continue  # the client's default: localhost or a local socket
        resolved = _resolve(host, c)
        if resolved is None:  # an unresolvable variable: remote unless this container runs that engine
            if engine and own and own.engine == engine:
                continue
        elif _local(resolved):
            continue
        yield i, tool, engine, resolved or host


@rule(id="PM703", name="probe-checks-dependency", severity="high",
      severity_reason="A dependency outage fails the probe in every replica at once and the kubelet restarts "
                      "them all: a database failover becomes a full outage of the service.",
      incidents=["7.2"], title="Liveness or startup probe checks a database or another service",
      production_only=False,
      fix="Make liveness and startup probes check only the container itself (a local HTTP route, a local "
          "socket, a file the app touches); move dependency checks to the readinessProbe or to alerts.")
def check(resource, ctx):
    """## What it checks
    `livenessProbe` and `startupProbe` of every container: an exec probe must not call a client
    that talks to another host (`psql`, `pg_isready -h`, `mysqladmin ping -h`, `redis-cli -h`,
    `mongosh`, `nc`, `curl`/`wget` to a URL that is not localhost, `grpc_health_probe -addr`), and
    an httpGet/tcpSocket probe must not set `host:` to another machine. `$VAR` hosts are resolved
    from the container's env; `pg_isready` against localhost inside a postgres container, and
    checks of a local file or port, are fine. Readiness probes may check dependencies.

    ## Why it breaks production
    Catalog 7.2's liveness probe failed for a reason outside the container and the kubelet
    restarted every replica into CrashLoopBackOff. A probe that runs `pg_isready -h orders-db`
    does the same on every database failover or slow query: restarting the app cannot fix the
    database, and all replicas go down together, then hammer the database as they come back.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: orders-api, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: api
              image: registry.example.com/orders-api:2.4.1
              livenessProbe:
                exec:
                  command: ["sh", "-c", "pg_isready -h orders-db.production.svc -p 5432"]
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: orders-db, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: postgres
              image: postgres:16.3
              livenessProbe:
                exec:
                  command: ["pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
    ```

    ## Fix
    Let the app's liveness probe check the app alone (`httpGet: {path: /livez, port: http}`); if
    the app cannot work without its database, say so in the readinessProbe, which takes the pod
    out of rotation instead of restarting it.
    """
    for c in containers(resource):
        for kind, probe in probes(c).items():
            if kind == "readinessProbe":
                continue
            calls: dict = {}  # one finding per command element, naming every call in it
            if probe.handler == "exec" and isinstance(probe.action.get("command"), list):
                for i, tool, engine, host in dependency_calls(c, probe.action["command"]):
                    target = f"the {engine} database" if engine else "a service"
                    calls.setdefault(probe.at("exec", "command", i), []).append(f"{tool} against {target} at '{host}'")
            elif probe.handler in ("httpGet", "tcpSocket") and not _local(str(probe.action.get("host") or "")):
                calls[probe.at(probe.handler, "host")] = [f"a check of host '{probe.action['host']}'"]
            for path, what in calls.items():
                yield Hit(path=path, message=f"{kind} of container '{c.name}' runs {' and '.join(what)}, outside the "
                                             f"container: when that is slow, failing over or down, every replica fails "
                                             f"this probe together and {EFFECT[kind]}")
