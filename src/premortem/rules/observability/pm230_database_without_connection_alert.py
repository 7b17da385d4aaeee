"""PM230: a production database with no alert on connection exhaustion (R8)."""
from ...k8s.databases import database_of
from ...k8s.workloads import containers
from ..registry import Hit, rule
from ._promql import NAMESPACE_LABELS, none_of, scan_facts, tokens

# engine -> (metric prefixes of its exporters, the series to alert on, shown in the message)
ENGINES = {
    "postgresql": (("pg_", "cnpg_", "ccp_", "postgres"), "pg_stat_activity_count against pg_settings_max_connections"),
    "mysql": (("mysql_",), "mysql_global_status_threads_connected against mysql_global_variables_max_connections"),
    "redis": (("redis_",), "redis_connected_clients against redis_config_maxclients"),
    "mongodb": (("mongodb_",), "mongodb_connections{state=\"current\"} against state=\"available\""),
    "pgbouncer": (("pgbouncer_",), "pgbouncer_pools_client_waiting_connections"),
}
CONNECTION_WORDS = {"connections", "connection", "connected", "conn", "clients", "client", "backends",
                    "numbackends", "activity", "maxclients", "threads", "waiting"}


def engine_of(resource) -> tuple:
    """(engine, image) of the workload's data store (PgBouncer counts), else ('', '')."""
    for c in containers(resource, include_init=False):
        if "pgbouncer" in c.image.lower():
            return "pgbouncer", c.image
    found = database_of(resource)
    if found and found[1].engine in ENGINES:
        return found[1].engine, found[0].image
    return "", ""


def watches_connections(summary, engine: str, namespace: str) -> bool:
    """An alert on the engine's connection series that no `namespace` matcher narrows to another
    namespace (exporters label series with their own job, so job matchers are not compared)."""
    prefixes = ENGINES[engine][0]
    if not any(s.metric.startswith(prefixes) and tokens(s.metric) & CONNECTION_WORDS for s in summary.selectors):
        return False
    return not (namespace and any(label in NAMESPACE_LABELS and op == "=" and value != namespace
                                  for label, op, value in summary.label_matchers()))


@rule(id="PM230", name="database-without-connection-alert", severity="high",
      severity_reason="Connection exhaustion takes every client of the database down at once, and without an "
                      "alert it is found by users (the narrative: 498 of 500 connections active).",
      incidents=["R8"], title="Database has no connection-exhaustion alert",
      kinds=["StatefulSet", "Deployment", "Pod"], production_only=True,
      fix="Alert when connections near the limit, e.g. `sum by (instance) (pg_stat_activity_count) / on (instance) "
          "pg_settings_max_connections > 0.8` for 5m (MySQL: threads_connected / max_connections; Redis: "
          "connected_clients / maxclients; PgBouncer: client_waiting_connections > 0).")
def check(resource, ctx):
    """## What it checks
    In a scan that defines alerting rules, every production PostgreSQL, MySQL, Redis, MongoDB
    or PgBouncer workload (recognised by image and port, as for PM720/PM802) needs an alert on
    its connections: a series of its exporter (`pg_stat_activity_count`,
    `pg_settings_max_connections`, `cnpg_backends_total`,
    `mysql_global_status_threads_connected`, `redis_connected_clients`, `mongodb_connections`,
    `pgbouncer_pools_client_waiting_connections`...). Exporters label series with their own job,
    so only a `namespace` matcher that names another namespace keeps an alert from covering the
    database. A scan with no alerting rules is not judged. Reported at the workload's name.

    ## Why it breaks production
    In the on-call narrative (R8) the application stopped responding with 504s because the
    PostgreSQL pool was exhausted: 498 sessions active, 2 idle, after timeouts and keepalives
    were removed from the connection string. No alert watched the connection count; the
    on-call engineer found it by hand in `pg_stat_activity`.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: postgres, namespace: production}
    spec:
      serviceName: postgres
      selector: {matchLabels: {app: postgres}}
      template:
        metadata: {labels: {app: postgres}}
        spec:
          containers:
            - name: postgres
              image: postgres:15.6
              ports: [{containerPort: 5432}]
    ---
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: postgres, namespace: production}
    spec:
      groups:
        - name: postgres
          rules:
            - alert: PostgresDown
              expr: pg_up == 0
              for: 1m
              labels: {severity: critical}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: postgres, namespace: production}
    spec:
      serviceName: postgres
      selector: {matchLabels: {app: postgres}}
      template:
        metadata: {labels: {app: postgres}}
        spec:
          containers:
            - name: postgres
              image: postgres:15.6
              ports: [{containerPort: 5432}]
    ---
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: postgres, namespace: production}
    spec:
      groups:
        - name: postgres
          rules:
            - alert: PostgresDown
              expr: pg_up == 0
              for: 1m
              labels: {severity: critical}
            - alert: PostgresConnectionsNearLimit
              expr: sum by (instance) (pg_stat_activity_count) / on (instance) pg_settings_max_connections > 0.8
              for: 5m
              labels: {severity: critical}
    ```

    ## Fix
    Alert at 80% of max_connections with a few minutes of `for:`, and page on it: the step
    after 80% is every new request failing. Give clients timeouts and keepalives (PM801) and
    keep pool × replicas under max_connections (PM802).
    """
    facts = scan_facts(ctx.project)
    if not facts["alerts"]:
        return
    engine, image = engine_of(resource)
    if not engine:
        return
    for _, f in facts["alerts"]:
        if watches_connections(f.summary, engine, resource.namespace):
            return
    yield Hit(path=("metadata", "name"),
              message=f"{resource.kind} '{resource.name}' runs {engine} (image '{image}') but "
                      f"{none_of(len(facts['alerts']))} watches its connections ({ENGINES[engine][1]}): "
                      f"when clients exhaust the pool every request fails and nobody is paged")
