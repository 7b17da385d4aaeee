"""PM802: connection pools × replicas of a database's clients exceed its max_connections."""
from ...k8s.workloads import POD_SPEC_PATHS
from ...model import Severity, Source
from ..registry import Hit, rule
from ._dbpool import Graph, max_connections, own_usages


@rule(id="PM802", name="connection-pool-exceeds-max-connections", severity="high",
      severity_reason="At full scale the database refuses new connections ('too many clients'): requests fail "
                      "and pods crash-loop.",
      incidents=["R8"], title="Connection pools × replicas exceed the database's max_connections",
      kinds=list(POD_SPEC_PATHS), production_only=False,
      fix="Size pools so that Σ pool × max replicas of every client stays below max_connections (with headroom for "
          "admin and migration sessions), raise max_connections, or put PgBouncer in front.")
def check(resource, ctx):
    """## What it checks
    A workload that sets a connection pool size (`SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE`,
    `HIKARI_MAXIMUMPOOLSIZE`, `DB_POOL_SIZE`, `POOL_SIZE`, `*_MAX_OPEN_CONNS`, `maximum-pool-size`
    in a mounted or envFrom ConfigMap, `pool_size=`/`connection_limit=` in the URL) and talks to
    a PostgreSQL or MySQL workload in the same repository: by the host in its URL or `DB_HOST`
    matching the database's Service or name, or, when it names no host, the only database in
    its namespace. It adds pool × maximum replicas (HPA/KEDA max, else `spec.replicas`) over
    every client of that database and compares the sum with `max_connections` from the
    database's args (`-c max_connections=200`, `--max-connections`), env
    (`POSTGRESQL_MAX_CONNECTIONS`, `MYSQL_MAX_CONNECTIONS`) or a mounted postgresql.conf/my.cnf,
    else the engine's default (PostgreSQL 100, MySQL 151, said so in the message). Critical when
    the minimum replica count already exceeds it. DaemonSets (one pod per node) are not counted.
    Fires everywhere: the arithmetic is the same in staging.

    ## Why it breaks production
    In the payment-api outage PostgreSQL showed 498 active connections out of 500: the pools of
    every replica together held more connections than the server allows, so new pods and
    retries could not connect and the API returned 5xx until someone raised the RDS limit (R8).

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      replicas: 4
      template:
        spec:
          containers:
            - name: payment-api
              image: our-priv-reg.io/fintech/payment-api:1.42.0
              env:
                - {name: SPRING_DATASOURCE_URL, value: "jdbc:postgresql://payments-db:5432/payments"}
                - {name: SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE, value: "50"}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: payments-db, namespace: production}
    spec:
      template:
        spec:
          containers: [{name: postgres, image: "postgres:15.6", args: ["-c", "max_connections=100"]}]
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      replicas: 4
      template:
        spec:
          containers:
            - name: payment-api
              image: our-priv-reg.io/fintech/payment-api:1.42.0
              env:
                - {name: SPRING_DATASOURCE_URL, value: "jdbc:postgresql://payments-db:5432/payments"}
                - {name: SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE, value: "20"}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: payments-db, namespace: production}
    spec:
      template:
        spec:
          containers: [{name: postgres, image: "postgres:15.6", args: ["-c", "max_connections=100"]}]
    ```

    ## Fix
    Budget connections: Σ (pool × max replicas) over all clients must stay below
    `max_connections` minus a few for admin sessions. Shrink pools (a Hikari pool of 10 serves
    thousands of requests per second), cap the HPA, raise `max_connections`, or pool with PgBouncer.
    """
    if resource.kind == "DaemonSet":
        return
    own = [(c, u) for c, u in own_usages(resource, ctx.project) if u.pool is not None and u.pool_path]
    if not own:
        return
    graph = ctx.project.memo("PM802.graph", Graph)
    me = (resource.kind, resource.name, resource.namespace)
    if any((s.kind, s.name, s.namespace) == me for s in graph.servers):
        return
    low, high, how, scaler = graph.replicas(resource.kind, resource.name, resource.namespace,
                                            resource.get(("spec", "replicas"), 1))
    if high is None:
        return
    for c, u in own:
        for server in graph.targets(u, resource.namespace):
            limit, limit_how, limit_at = max_connections(server, ctx.project)
            total, total_low, others, related = u.pool * high, u.pool * low, [], list(scaler)
            for w, pool, wl, wh in graph.clients.get(id(server), []):
                if (w.kind, w.name, w.namespace) == me:
                    continue
                total, total_low = total + pool * wh, total_low + pool * wl
                others.append(f"{w.kind} {w.name} {pool} × {wh}")
                related.append((Source(w.file, w.line, 1), f"another client of {server.name}: pool {pool} × {wh}"))
            if total <= limit:
                continue
            rest = f", plus {', '.join(others)}" if others else ""
            yield Hit(u.pool_path,
                      f"container '{c.name}': pool {u.pool} ({u.pool_where}) × {high} replicas ({how}) = "
                      f"{u.pool * high}{rest}: {total} connections at full scale against {limit_how} on "
                      f"{server.kind} {server.name}; past {limit} the database refuses new connections ('too many "
                      f"clients'), so scaled-out pods fail their requests",
                      severity=Severity.CRITICAL if total_low > limit else None,
                      related=tuple(related) + ((limit_at, f"{server.name}: {limit_how}"),),
                      identity=f"{c.name}:{server.name}")
