"""Who uses which database with how big a pool, and what the database allows: pool sizes from
env, ConfigMaps and URLs, a container's env with ConfigMap references resolved from the project
index, `max_connections` of PostgreSQL/MySQL workloads, and the client/server graph PM802 adds up.
Compact facts for the index come from `client_facts`/`server_facts`/`configmap_max_connections`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...k8s.workloads import containers, pod_spec, pod_spec_path
from ...model import Source
from ._dbconn import PLACEHOLDER, _commented, find_connections

ENGINES = {"postgresql": "PostgreSQL", "mysql": "MySQL"}


def as_list(x) -> list:
    return x if isinstance(x, list) else []


def as_dict(x) -> dict:
    return x if isinstance(x, dict) else {}


def cm_volumes(spec) -> dict:
    """volume name -> ConfigMap name, for the ConfigMap volumes of a pod spec."""
    out = {}
    for v in as_list(as_dict(spec).get("volumes")):
        cm = as_dict(as_dict(v).get("configMap")).get("name")
        if isinstance(cm, str) and cm:
            out[str(v.get("name"))] = cm
    return out


# ---- pool sizes (clients) ---------------------------------------------------------------------
_POOL_NAME = re.compile(r"^(?:(?P<prefix>\w*?)_?)(?:MAXIMUM_?POOL_?SIZE|MAX_?POOL_?SIZE|POOL_?SIZE|POOL_?MAX(?:_?SIZE)?"
                        r"|MAX_?OPEN_?CONNS|CONNECTION_?LIMIT)$")
_DB_WORDS = {"DB", "DATABASE", "DATASOURCE", "HIKARI", "HIKARICP", "PG", "POSTGRES", "POSTGRESQL", "MYSQL",
             "MARIADB", "SQL", "JDBC", "SQLALCHEMY", "SPRING", "TYPEORM", "PRISMA", "KNEX", "SEQUELIZE", "GORM",
             "R2DBC", "HIBERNATE", "DBCP", "C3P0", "ACTIVERECORD", "PGX", "PGBOUNCER"}
_NOT_DB = {"REDIS", "THREAD", "THREADS", "WORKER", "WORKERS", "HTTP", "MONGO", "MONGODB", "KAFKA", "GRPC", "TASK",
           "EXECUTOR", "AMQP", "RABBIT", "RABBITMQ", "CACHE", "ELASTIC", "ES", "JEDIS", "LETTUCE", "NATS", "SCHEDULER"}
_POOL_PROP = re.compile(r"^[ \t]*(?P<key>[\w.\-\[\]]*?(?:maximum[-_]?pool[-_]?size|max[-_]?pool[-_]?size|pool[-_]?size"
                        r"|pool[-_]?max|max[-_]?open[-_]?conns|connection[-_]?limit))[ \t]*[:=][ \t]*[\"']?(?P<n>\d+)",
                        re.I | re.M)
URL_POOL_PARAMS = {"poolsize", "maximumpoolsize", "maxpoolsize", "poolmaxconns", "connectionlimit"}
_HOST_NAME = re.compile(r"^(?:(?P<prefix>\w*?)_)?(?:HOST|HOSTNAME|SERVER|ADDR|ADDRESS)$")


def _words(prefix: str) -> set:
    return set(re.split(r"[_.\-\[\]]+", prefix.upper())) - {""}


def pool_from_env(name: str, value) -> int | None:
    m = _POOL_NAME.match(str(name).upper())
    if not m or not re.fullmatch(r"\s*\d+\s*", str(value)):
        return None
    words = _words(m.group("prefix") or "")
    if words & _NOT_DB or (words and not words & _DB_WORDS):
        return None
    return int(value)


def pools_in_text(text: str) -> list:
    """[(size, key, offset)] from properties/YAML lines and URL parameters in a file or value."""
    out = []
    if not isinstance(text, str):
        return out
    for m in _POOL_PROP.finditer(text):
        if not (_words(m.group("key")) & _NOT_DB) and not _commented(text, m.start("key")):
            out.append((int(m.group("n")), m.group("key"), m.start("key")))
    for c in find_connections(text):
        if c.engine in ("postgresql", "mysql"):
            for k in URL_POOL_PARAMS & set(c.params):
                if c.params[k].isdigit():
                    out.append((int(c.params[k]), f"{k} in the URL", c.start))
    return out


def db_host_from_env(name: str, value) -> str:
    m = _HOST_NAME.match(str(name).upper())
    if str(name).upper() in ("PGHOST", "MYSQL_HOST") or (m and _words(m.group("prefix") or "") & _DB_WORDS
                                                         and not _words(m.group("prefix") or "") & _NOT_DB):
        v = str(value or "").strip()
        return v if v and not PLACEHOLDER.search(v) and " " not in v else ""
    return ""


# ---- server side: max_connections -------------------------------------------------------------
_MAXCONN_ARG = re.compile(r"(?:^|\s)(?:-c\s*|--)?max[_-]connections\s*[= ]\s*(\d+)", re.I)
_MAXCONN_CONF = re.compile(r"^[ \t]*max[_-]connections[ \t]*=[ \t]*['\"]?(\d+)", re.I | re.M)
MAXCONN_ENV = {"POSTGRESQL_MAX_CONNECTIONS", "POSTGRES_MAX_CONNECTIONS", "MYSQL_MAX_CONNECTIONS",
               "MARIADB_MAX_CONNECTIONS", "PG_MAX_CONNECTIONS"}
DEFAULT_MAX_CONNECTIONS = {"postgresql": 100, "mysql": 151}


def max_connections_in_args(text: str) -> int | None:
    m = None
    for m in _MAXCONN_ARG.finditer(text or ""):
        pass
    return int(m.group(1)) if m else None


def max_connections_in_conf(text: str) -> tuple | None:
    """(value, offset) of the last uncommented `max_connections = N` of postgresql.conf / my.cnf."""
    last = None
    for m in _MAXCONN_CONF.finditer(text or ""):
        last = (int(m.group(1)), m.start())
    return last


# ---- a container's environment, with ConfigMap references resolved from the index ------------
@dataclass(frozen=True)
class EnvItem:
    name: str
    value: str | None  # None: unknown (secretKeyRef, fieldRef, a ConfigMap not in the scan)
    path: tuple  # where it is written in the workload (the env value, or the envFrom entry)
    where: str  # "env DB_URL", "ConfigMap app-config (envFrom)"


def config_value(project, name: str, key: str, namespace: str) -> str | None:
    entry = project.named("ConfigMap", name, namespace)
    return (entry.facts.get("data") or {}).get(key) if entry else None


def env_items(container, namespace: str, project) -> list:
    """envFrom first, then env (later wins, as in Kubernetes); ConfigMap values from the index."""
    out = []
    for i, ef in enumerate(as_list(container.data.get("envFrom"))):
        if not isinstance(ef, dict):
            continue
        prefix = str(ef.get("prefix") or "")
        ref = ef.get("configMapRef")
        if isinstance(ref, dict) and ref.get("name"):
            entry = project.named("ConfigMap", str(ref["name"]), namespace)
            for k, v in ((entry.facts.get("data") or {}) if entry else {}).items():
                out.append(EnvItem(prefix + str(k), None if v is None else str(v), container.at("envFrom", i),
                                   f"{prefix}{k} from ConfigMap {ref['name']} (envFrom)"))
    for i, e in enumerate(container.env):
        name = e.get("name")
        if not isinstance(name, str):
            continue
        vf = e.get("valueFrom")
        if isinstance(vf, dict):
            ref = vf.get("configMapKeyRef")
            value = None
            if isinstance(ref, dict) and ref.get("name") and ref.get("key"):
                value = config_value(project, str(ref["name"]), str(ref["key"]), namespace)
            out.append(EnvItem(name, value, container.at("env", i), f"env {name}"))
        else:
            v = e.get("value")
            out.append(EnvItem(name, "" if v is None else str(v), container.at("env", i, "value"), f"env {name}"))
    return out


# ---- who uses which database, with how big a pool ---------------------------------------------
@dataclass
class Usage:
    pool: int | None = None
    pool_where: str = ""
    pool_path: tuple | None = None  # inside the workload, when known
    hosts: list = field(default_factory=list)  # (host, engine)


_CONN_MARK = ("://", "@tcp(", "host=")


def _relevant(name: str, value) -> bool:
    v = str(value or "")
    return bool(pool_from_env(name, v) is not None or db_host_from_env(name, v) or any(m in v for m in _CONN_MARK))


def usage_of(items: list, files: list) -> Usage:
    """A container's database use from its env (`EnvItem`s, later wins) and mounted ConfigMap files
    (`(name, text, path, where)`): the pool size in force and the SQL hosts it connects to."""
    u = Usage()
    for e in items:
        if e.value is None:
            continue
        size = pool_from_env(e.name, e.value)
        if size is not None:
            u.pool, u.pool_where, u.pool_path = size, e.where, e.path
        host = db_host_from_env(e.name, e.value)
        if host:
            u.hosts.append((host, ""))
    texts = [(e.value, e.path, e.where) for e in items if e.value and any(m in e.value for m in _CONN_MARK)]
    texts += [(text, path, where) for _, text, path, where in files]
    for text, path, where in texts:
        for c in find_connections(text):
            if c.engine in ("postgresql", "mysql"):
                u.hosts.extend((h, c.engine) for h in c.hosts if h and not PLACEHOLDER.search(h))
        if u.pool is None:
            pools = pools_in_text(text)
            if pools:
                size, key, _ = pools[-1]
                u.pool, u.pool_where, u.pool_path = size, f"{where}: {key}", path
    return u


def client_facts(resource) -> dict:
    """Compact facts for the project index: per container the env literals that matter for
    databases and the ConfigMaps it reads (envFrom, configMapKeyRef, mounted volumes)."""
    cm_vols = cm_volumes(pod_spec(resource))
    out = []
    for c in containers(resource, include_init=False):
        env, refs, env_from = [], [], []
        vols = [cm_vols[str(m.get("name"))] for m in as_list(c.data.get("volumeMounts"))
                if isinstance(m, dict) and str(m.get("name")) in cm_vols]
        for e in c.env:
            name, vf = e.get("name"), e.get("valueFrom")
            if not isinstance(name, str):
                continue
            ref = as_dict(vf).get("configMapKeyRef")
            if isinstance(ref, dict) and ref.get("name") and ref.get("key"):
                refs.append([name, str(ref["name"]), str(ref["key"])])
            elif vf is None and _relevant(name, e.get("value")):
                env.append([name, str(e.get("value"))[:1024]])
        for ef in as_list(c.data.get("envFrom")):
            ref = as_dict(ef).get("configMapRef")
            if isinstance(ref, dict) and ref.get("name"):
                env_from.append([str(ref["name"]), str(ef.get("prefix") or "")])
        if env or refs or env_from or vols:
            out.append({"name": c.name, "env": env, "refs": refs, "from": env_from, "vols": vols})
    return {"c": out} if out else {}


def items_from_facts(c: dict, namespace: str, project) -> list:
    """EnvItems of one container from `client_facts`, ConfigMaps resolved (no paths)."""
    items = []
    for cm, prefix in c.get("from", []):
        entry = project.named("ConfigMap", cm, namespace)
        for k, v in ((entry.facts.get("data") or {}) if entry else {}).items():
            items.append(EnvItem(prefix + k, v, (), f"{prefix}{k} from ConfigMap {cm}"))
    for name, cm, key in c.get("refs", []):
        items.append(EnvItem(name, config_value(project, cm, key, namespace), (), f"env {name}"))
    items.extend(EnvItem(n, v, (), f"env {n}") for n, v in c.get("env", []))
    return items


def volume_files(names: list, namespace: str, project) -> list:
    """(name, text, path, where) for every data file of the named ConfigMaps."""
    out = []
    for cm in names:
        entry = project.named("ConfigMap", cm, namespace)
        for k, v in ((entry.facts.get("data") or {}) if entry else {}).items():
            if isinstance(v, str) and "\n" in v:
                out.append((k, v, None, f"ConfigMap {cm} file {k}"))
    return out


def server_facts(resource) -> dict:
    """For a PostgreSQL/MySQL workload: engine, max_connections set in args or env (with its
    position), and the ConfigMaps mounted into it (a postgresql.conf / my.cnf may set it)."""
    from ...k8s.databases import database_of

    found = database_of(resource)
    if not found or found[1].engine not in DEFAULT_MAX_CONNECTIONS:
        return {}
    c, guess = found
    out = {"engine": guess.engine, "container": c.name}
    for key in ("command", "args"):
        seq = as_list(c.data.get(key))
        for i in range(len(seq)):
            n = max_connections_in_args(" ".join(str(t) for t in seq[max(0, i - 1):i + 1]))
            if n is not None and "connections" in str(seq[i]).lower():
                src = resource.locate(c.at(key, i))
                out.update(max=n, at=[src.file, src.line, src.column], how=f"{key} of container '{c.name}'")
    if "max" not in out:
        for i, e in enumerate(c.env):
            v = e.get("value")
            n = int(v) if str(e.get("name", "")).upper() in MAXCONN_ENV and str(v).strip().isdigit() else \
                max_connections_in_args(str(v or ""))
            if n is not None:
                src = resource.locate(c.at("env", i, "value"))
                out.update(max=n, at=[src.file, src.line, src.column],
                           how=f"env {e.get('name')} of container '{c.name}'")
    out["vols"] = sorted(set(cm_volumes(pod_spec(resource)).values()))
    return out


def configmap_max_connections(resource) -> list:
    """[value, file, line, key] of a `max_connections = N` line in a ConfigMap's postgresql.conf /
    my.cnf data (the line inside a block scalar when the file is written as one)."""
    data = resource.get(("data",))
    for k, v in (data.items() if isinstance(data, dict) else ()):
        found = max_connections_in_conf(v) if isinstance(v, str) else None
        if found:
            src = resource.locate(("data", k))
            block = "\n" in v and resource.locator is None  # text starts on the line after `key: |`
            return [found[0], src.file, src.line + (1 + v[:found[1]].count("\n") if block else 0), str(k)]
    return []


def own_usages(resource, project):
    """(container, Usage) of a workload's containers, with paths to report at (env value, envFrom
    entry, ConfigMap volume)."""
    spec = pod_spec_path(resource)
    if spec is None:
        return
    vols = {}
    for j, v in enumerate(as_list(resource.get(spec + ("volumes",)))):
        cm = as_dict(as_dict(v).get("configMap")).get("name")
        if isinstance(cm, str) and cm:
            vols[str(v.get("name"))] = (cm, spec + ("volumes", j, "configMap", "name"))
    for c in containers(resource, include_init=False):
        files = []
        for m in as_list(c.data.get("volumeMounts")):
            if isinstance(m, dict) and str(m.get("name")) in vols:
                cm, path = vols[str(m["name"])]
                files += [(k, t, path, w) for k, t, _, w in volume_files([cm], resource.namespace, project)]
        yield c, usage_of(env_items(c, resource.namespace, project), files)


class Graph:
    """Every SQL database of the scan, the names that reach it and its clients' pools: built once
    per scan (Project.memo) so judging N workloads stays linear."""

    def __init__(self, project):
        self.servers = [e for e in project.workloads() if e.facts.get("dbserver")]
        self.names = {id(s): {s.name} | {v.name for v in project.services_selecting(s.facts.get("pod_labels") or {},
                                                                                      s.namespace)}
                      for s in self.servers}
        self.scalers: dict = {}
        for h in project.of_kind("HorizontalPodAutoscaler", "ScaledObject"):
            t = as_dict(h.facts.get("target"))
            self.scalers.setdefault((t.get("kind", "Deployment"), t.get("name")), []).append(h)
        self.clients: dict = {}  # id(server) -> [(entry, pool, low, high)]
        for w in project.workloads() if self.servers else ():
            if w.kind == "DaemonSet" or not w.facts.get("db"):
                continue
            for c in w.facts["db"].get("c", []):
                files = volume_files(c.get("vols", []), w.namespace, project)
                u = usage_of(items_from_facts(c, w.namespace, project), files)
                low, high, _, _ = self.replicas(w.kind, w.name, w.namespace, w.facts.get("replicas"))
                if u.pool is None or high is None:
                    continue
                for s in self.targets(u, w.namespace):
                    self.clients.setdefault(id(s), []).append((w, u.pool, low, high))

    def serves(self, server, host: str, client_ns: str) -> bool:
        """Does `host` (a Service name, name.namespace[.svc...] or a StatefulSet pod name) reach `server`?"""
        names, labels = self.names[id(server)], host.lower().split(".")
        if labels[0] in names:
            rest = labels[1:]
        elif len(labels) > 1 and labels[1] in names and re.fullmatch(re.escape(labels[1]) + r"-\d+", labels[0]):
            rest = labels[2:]
        else:
            return False
        if len(rest) >= 2 and rest[1] != "svc":  # mydb.abc123.eu-west-1.rds.amazonaws.com: outside the cluster
            return False
        ns = rest[0] if rest else client_ns
        return not ns or not server.namespace or ns == server.namespace

    def targets(self, usage, namespace: str) -> list:
        hosts = [h for h, _ in usage.hosts]
        if hosts:
            return [s for s in self.servers if any(self.serves(s, h, namespace) for h in hosts)]
        same = [s for s in self.servers if not s.namespace or not namespace or s.namespace == namespace]
        return same if len(same) == 1 else []  # one database in the repo: its clients are its clients

    def replicas(self, kind, name, namespace, declared):
        """(lowest, highest, how, related) replica counts of a workload, autoscalers included."""
        declared = declared if isinstance(declared, int) else (1 if kind in ("Job", "CronJob", "Pod") else None)
        scalers = [(h, h.facts.get("max")) for h in self.scalers.get((kind, name), [])
                   if not h.namespace or not namespace or h.namespace == namespace]
        scalers = [(h, m) for h, m in scalers if isinstance(m, int)]
        if scalers:
            h, top = max(scalers, key=lambda x: x[1])
            low = h.facts.get("min") if isinstance(h.facts.get("min"), int) else 1
            what = "maxReplicaCount" if h.kind == "ScaledObject" else "maxReplicas"
            related = ((Source(h.file, h.line, 1), f"{h.kind} {h.name} scales {kind}/{name} to {top}"),)
            return low, top, f"{h.kind} {h.name} {what}", related
        if declared is None:
            return None, None, "", ()
        return declared, declared, "spec.replicas", ()


def max_connections(server, project) -> tuple:
    """(value, how, Source) of a database entry's max_connections: args/env, a mounted config, or the default."""
    f = server.facts["dbserver"]
    if isinstance(f.get("max"), int):
        file, line, col = f["at"]
        return f["max"], f"max_connections={f['max']} ({f['how']})", Source(file, line, col)
    for cm in f.get("vols", []):
        entry = project.named("ConfigMap", cm, server.namespace)
        if entry and entry.facts.get("max_connections"):
            value, file, line, key = entry.facts["max_connections"]
            return value, f"max_connections = {value} (ConfigMap {cm} {key})", Source(file, line, 1)
    default, engine = DEFAULT_MAX_CONNECTIONS[f["engine"]], ENGINES[f["engine"]]
    return (default, f"{engine}'s default max_connections {default} (it sets none)",
            Source(server.file, server.line, 1))
