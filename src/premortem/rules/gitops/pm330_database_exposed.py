"""PM330: a database or cache published outside the cluster by its Service (LoadBalancer, NodePort,
public externalIPs) with no source ranges and no internal load balancer."""
from ...k8s.databases import PORTS, engine_of_image
from ...model import Severity
from ..access import _exposure as ex
from ..registry import Hit, rule

NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mongodb": "MongoDB", "redis": "Redis",
         "memcached": "Memcached", "elasticsearch": "Elasticsearch", "cockroachdb": "CockroachDB",
         "clickhouse": "ClickHouse", "influxdb": "InfluxDB", "couchdb": "CouchDB", "mssql": "SQL Server",
         "rabbitmq": "RabbitMQ", "nats": "NATS", "db2": "Db2", "etcd": "etcd"}


def _evidence(resource, pods, ignore, weak) -> tuple | None:
    """(engine, evidence) from the selected pods' images, else from a data-store port on the Service."""
    for w in pods:
        for img in w.facts.get("images") or []:
            engine = engine_of_image(img)
            if engine and engine not in ignore:
                return engine, f"image '{img}' of {w.kind} {w.namespace or '-'}/{w.name}"
    for port, target, _ in ex.service_ports(resource):
        for p in (port, target):
            if isinstance(p, int) and p in PORTS and p not in weak and PORTS[p] not in ignore:
                return PORTS[p], f"Service port {p}" + ("" if pods else "; its pods are not in the scan")
    return None


@rule(id="PM330", name="database-exposed-outside-cluster", severity="critical",
      severity_reason="A production database with a public address is one password guess or one unpatched CVE from "
                      "a breach; high outside production, and one level lower for a NodePort.",
      incidents=["3.3"], title="Database or cache exposed by a LoadBalancer/NodePort Service",
      kinds=["Service"], production_only=False,
      options={"ignore_engines": ["minio"], "weak_ports": [9000, 8086, 50000]},
      fix="Keep data stores on `type: ClusterIP`; if something outside the cluster must connect, use an internal "
          "load balancer (`service.beta.kubernetes.io/aws-load-balancer-internal: \"true\"`, "
          "`networking.gke.io/load-balancer-type: Internal`, `azure-load-balancer-internal`) with "
          "`loadBalancerSourceRanges` limited to the clients' networks, and require review (CODEOWNERS) for "
          "Service type changes in production paths.")
def check(resource, ctx):
    """## What it checks
    A Service of type LoadBalancer or NodePort, or with a public `externalIPs` address, whose selected
    pods run a database, cache or broker image (PostgreSQL, MySQL/MariaDB, MongoDB, Redis, Memcached,
    Elasticsearch, Cassandra, Kafka, RabbitMQ, etcd...; as recognised by `k8s/databases.py`), or which
    listens on a data-store port (5432, 3306, 6379, 27017, 9200...). Ports in `weak_ports` (9000, 8086,
    50000, shared with many web apps) count only when the image confirms it; engines in
    `ignore_engines` (MinIO, an object store meant for clients) are skipped. It is quiet when
    `loadBalancerSourceRanges` (or the source-ranges annotation) restricts the load balancer to
    networks narrower than `0.0.0.0/0`, when a cloud annotation makes it internal, and when every
    external IP is private. Critical in production (and says which evidence decided it), high
    elsewhere, one level lower for a NodePort.

    ## Why it breaks production
    In catalog 3.3 a team member without production rights changed a database Service from ClusterIP
    to LoadBalancer in Git, and Argo CD synced it automatically, exposing the database to the internet.
    Nobody reviewed the one-line change because no CODEOWNERS rule and no policy covered Service types.

    ## Bad
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: orders-db, namespace: production}
    spec:
      type: LoadBalancer
      selector: {app: orders-db}
      ports: [{port: 5432}]
    ```

    ## Good
    ```yaml
    apiVersion: v1
    kind: Service
    metadata:
      name: orders-db
      namespace: production
      annotations:
        networking.gke.io/load-balancer-type: Internal
    spec:
      type: LoadBalancer
      loadBalancerSourceRanges: [10.8.0.0/16]
      selector: {app: orders-db}
      ports: [{port: 5432}]
    ```

    ## Fix
    Revert the Service to `ClusterIP`. Where a client outside the cluster needs the database, use an
    internal load balancer with `loadBalancerSourceRanges`, or a managed private endpoint; guard
    production Service manifests with CODEOWNERS and an admission policy that denies public load
    balancers for data stores.
    """
    exposure = ex.service_exposure(resource)
    if exposure is None or exposure.guards.found:
        return
    pods = ex.selected(ctx.project, resource.get(("spec", "selector")), resource.namespace)
    found = _evidence(resource, pods, set(ctx.options.get("ignore_engines") or ()),
                      set(ctx.options.get("weak_ports") or ()))
    if found is None:
        return
    engine, evidence = found
    name = NAMES.get(engine, engine.capitalize())
    ports = ex.service_ports(resource)
    if exposure.path[1] == "externalIPs":
        reach = "answers at that address on port " + (", ".join(str(p) for p, _, _ in ports if p is not None) or "its ports")
    elif exposure.direct:
        listed = ", ".join(str(p) for p, _, _ in ports if p is not None) or "its ports"
        reach = f"gets an internet-reachable address on port {listed}"
    else:
        listed = ", ".join(str(n) for _, _, n in ports if n is not None) or "an allocated port"
        reach = f"listens on node port {listed} of every node (reachable wherever the nodes' addresses are)"
    message = (f"Service '{resource.name}' {exposure.how}: {name} ({evidence}) {reach}, open to password "
               f"guessing and unauthenticated exploits; in catalog 3.3 a one-line ClusterIP→LoadBalancer change, "
               f"synced automatically by Argo CD, exposed a database the same way")
    if exposure.guards.notes:
        message += ". Not a guard: " + "; ".join(exposure.guards.notes)
    level = Severity.CRITICAL if ctx.production else Severity.HIGH
    if not exposure.direct:
        level = Severity(level - 1)
    if ctx.production:
        message += f" [production: {ctx.production}]"
    yield Hit(path=exposure.path, message=message, severity=level,
              related=ex.related_workloads(pods, f"runs {name} behind this Service"))
