"""PM801: a database connection string with no connect/socket timeout or keepalive."""
import base64
import binascii

from ...k8s.workloads import containers
from ...model import Severity
from ..registry import Hit, rule
from ._dbconn import context_params, example, find_connections, missing, property_name
from ._dbpool import env_items

KEEPALIVE = {"tcpKeepAlive", "keepalives"}
LOWER = {Severity.CRITICAL: Severity.HIGH, Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW}


def _values(resource, ctx):
    """(path, text, where, context items, extra secrets) for every place a connection string may be written."""
    if resource.kind in ("ConfigMap", "Secret"):
        data = resource.get(("data",))
        data = data if isinstance(data, dict) else {}
        texts, encoded = {}, {}
        for k, v in data.items():
            if resource.kind == "Secret" and isinstance(v, str):
                try:
                    v, encoded[("data", k)] = base64.b64decode(v, validate=True).decode("utf-8"), v
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    continue
            texts[("data", k)] = v
        string_data = resource.get(("stringData",))
        for k, v in string_data.items() if isinstance(string_data, dict) else ():
            texts[("stringData", k)] = v
        items = [(p[-1], v) for p, v in texts.items()]
        for path, v in texts.items():  # base64 of a password is the password: redact it as well
            yield path, v, f"{resource.kind} {resource.name} key {path[-1]}", items, (encoded.get(path, ""),)
        return
    for c in containers(resource):
        env = env_items(c, resource.namespace, ctx.project)
        items = [(e.name, e.value) for e in env]
        who = f"container '{c.name}'"
        for e in env:
            if e.path[-1] == "value":  # literals written here; ConfigMaps are judged on their own
                yield e.path, e.value, f"{e.where} of {who}", items, ()
        for key in ("command", "args"):
            seq = c.data.get(key)
            for i, arg in enumerate(seq if isinstance(seq, list) else []):
                yield c.at(key, i), arg, f"{key}[{i}] of {who}", items, ()


@rule(id="PM801", name="db-connection-without-timeouts", severity="high",
      severity_reason="A connection with no timeouts hangs forever on a stalled database and exhausts the pool: "
                      "a full outage.",
      incidents=["R8"], title="Database connection string without connect/socket timeouts or keepalive",
      kinds=None, production_only=False,
      fix="Add the driver's connect timeout, socket/read timeout and TCP keepalive to the connection string "
          "(JDBC PostgreSQL: `connectTimeout=10&socketTimeout=60&tcpKeepAlive=true`).")
def check(resource, ctx):
    """## What it checks
    Connection strings in container env values, `command`/`args`, and ConfigMap and Secret
    data, including files embedded in them (`application.properties` with
    `spring.datasource.url=...`, `application.yaml`): JDBC PostgreSQL (`connectTimeout`,
    `socketTimeout`, `tcpKeepAlive`), JDBC MySQL/MariaDB (`connectTimeout`, `socketTimeout`),
    JDBC SQL Server (`socketTimeout`), libpq URLs and keyword strings and SQLAlchemy
    `postgresql+driver://` (`connect_timeout`, `keepalives_idle` or `tcp_user_timeout`), asyncpg
    (`timeout`, `command_timeout`), MySQL URLs (`connect_timeout`, `read_timeout`), Go MySQL DSNs
    (`timeout`, `readTimeout`), MongoDB (`connectTimeoutMS`, `socketTimeoutMS`) and Redis URLs.
    A value of `0`/`false` counts as missing. Settings made beside the URL count: Hikari
    `data-source-properties` (properties, YAML or env) and `PGCONNECT_TIMEOUT`. The message
    names the missing parameters; passwords in URLs are redacted. Placeholders (`${DB_URL}`) and
    URLs whose parameters come from a placeholder are not judged. Fires everywhere: high in
    production, one level lower elsewhere; Redis URLs and a missing keepalive alone are medium.

    ## Why it breaks production
    In the payment-api outage someone "optimised" the ConfigMap's connection string by removing
    the timeout and `tcpKeepAlive` parameters: when the database stalled, 498 connections sat
    `active` forever, the pool was exhausted and the API answered 504s until sessions were killed
    by hand (R8).

    ## Bad
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: payment-api-config, namespace: production}
    data:
      SPRING_DATASOURCE_URL: "jdbc:postgresql://payments-db.production.svc:5432/payments?sslmode=require"
    ```

    ## Good
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: payment-api-config, namespace: production}
    data:
      SPRING_DATASOURCE_URL: "jdbc:postgresql://payments-db.production.svc:5432/payments?sslmode=require&connectTimeout=10&socketTimeout=60&tcpKeepAlive=true"
    ```

    ## Fix
    Set a connect timeout (seconds), a socket/read timeout longer than your slowest query, and
    TCP keepalive in the connection string or the driver's data-source properties, so a dead
    database fails requests fast instead of pinning every pooled connection.
    """
    for path, text, where, items, encoded in _values(resource, ctx):
        conns = find_connections(text) if isinstance(text, str) else []
        if not conns:
            continue
        extra = context_params(items)
        for n, conn in enumerate(conns):
            if conn.templated:
                continue
            gaps = missing(conn, extra)
            if not gaps:
                continue
            prop = property_name(text, conn.start)
            place = f"{where}" + (f", {prop}" if prop and not where.endswith(f" {prop}") else "")
            absent = [g for g, why in gaps if why == "missing"]
            off = [why for _, why in gaps if why != "missing"]
            what = "; ".join(([f"has no {', '.join(absent)}"] if absent else []) + off)
            severity = Severity.MEDIUM if conn.engine == "redis" or {g for g, _ in gaps} <= KEEPALIVE else Severity.HIGH
            if not ctx.production:
                severity = LOWER.get(severity, severity)
            yield Hit(path, f"{conn.label} to {conn.target} ({place}) {what}: when the database stalls or a failover "
                            f"drops packets, connections hang instead of failing, requests pile up until the pool is "
                            f"exhausted; add {example(conn, [g for g, _ in gaps])}",
                      secrets=conn.secrets + tuple(e for e in encoded if conn.password and e), severity=severity,
                      identity=f"{n}:{conn.kind}:{conn.target}")
