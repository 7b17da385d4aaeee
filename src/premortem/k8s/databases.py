"""Recognising databases and other stateful data stores by image and port.

Shared by the rollout (R10, 7.3), dependencies (R8) and, later, access (3.3) families so every
rule agrees on what a database is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .images import parse_image

# repository basename (or a prefix of it) -> engine
_IMAGES = {
    "postgres": "postgresql", "postgresql": "postgresql", "postgis": "postgresql", "timescaledb": "postgresql",
    "pgvector": "postgresql", "patroni": "postgresql", "spilo": "postgresql", "cloudnative-pg": "postgresql",
    "mysql": "mysql", "mariadb": "mysql", "percona": "mysql", "percona-server": "mysql", "vitess": "mysql",
    "mongo": "mongodb", "mongodb": "mongodb", "mongodb-community-server": "mongodb",
    "redis": "redis", "redis-stack": "redis", "valkey": "redis", "keydb": "redis",
    "memcached": "memcached",
    "cassandra": "cassandra", "scylla": "cassandra",
    "elasticsearch": "elasticsearch", "opensearch": "elasticsearch",
    "etcd": "etcd", "zookeeper": "zookeeper", "kafka": "kafka", "cp-kafka": "kafka",
    "rabbitmq": "rabbitmq", "nats": "nats",
    "clickhouse-server": "clickhouse", "clickhouse": "clickhouse",
    "cockroach": "cockroachdb", "cockroachdb": "cockroachdb",
    "influxdb": "influxdb", "neo4j": "neo4j", "couchdb": "couchdb", "minio": "minio",
    "mssql-server": "mssql", "oracle": "oracle", "db2": "db2",
}
PORTS = {5432: "postgresql", 3306: "mysql", 27017: "mongodb", 6379: "redis", 11211: "memcached",
         9042: "cassandra", 9200: "elasticsearch", 2379: "etcd", 2181: "zookeeper", 9092: "kafka",
         5672: "rabbitmq", 4222: "nats", 9000: "clickhouse", 26257: "cockroachdb", 8086: "influxdb",
         7687: "neo4j", 5984: "couchdb", 1433: "mssql", 1521: "oracle", 50000: "db2"}
# data directories an engine writes to, for "is the data path on a persistent volume?"
DATA_PATHS = {
    "postgresql": ["/var/lib/postgresql", "/var/lib/postgresql/data", "/bitnami/postgresql", "/home/postgres/pgdata"],
    "mysql": ["/var/lib/mysql", "/bitnami/mysql", "/bitnami/mariadb"],
    "mongodb": ["/data/db", "/bitnami/mongodb"],
    "redis": ["/data", "/bitnami/redis/data"],
    "cassandra": ["/var/lib/cassandra"],
    "elasticsearch": ["/usr/share/elasticsearch/data", "/usr/share/opensearch/data"],
    "etcd": ["/var/lib/etcd", "/etcd-data"],
    "zookeeper": ["/data", "/var/lib/zookeeper"],
    "kafka": ["/var/lib/kafka", "/bitnami/kafka", "/var/lib/kafka/data"],
    "rabbitmq": ["/var/lib/rabbitmq"],
    "clickhouse": ["/var/lib/clickhouse"],
    "cockroachdb": ["/cockroach/cockroach-data"],
    "influxdb": ["/var/lib/influxdb", "/var/lib/influxdb2"],
    "minio": ["/data"],
}
# engines that are caches: losing their data is an outage of warm state, not of records
CACHES = {"memcached"}


@dataclass(frozen=True)
class DatabaseGuess:
    engine: str
    evidence: str  # "image 'postgres:15.6'" / "port 5432"


# images named after a database that are not one: exporters, proxies, sentinels, operators...
_NOT_A_DATABASE = re.compile(r"exporter|sentinel|proxy|router|operator|agent|metrics|backup|bouncer|client|cli$", re.I)


def engine_of_image(image: str) -> str | None:
    if not image:
        return None
    ref = parse_image(image)
    base = ref.repository.rsplit("/", 1)[-1].lower()
    if base in _IMAGES:
        return _IMAGES[base]
    if _NOT_A_DATABASE.search(base):
        return None
    for name, engine in _IMAGES.items():
        if base.startswith(name + "-") or base.endswith("-" + name):
            return engine
    return None


def database_of_container(container) -> DatabaseGuess | None:
    """`container` is a k8s.workloads.Container."""
    engine = engine_of_image(container.image)
    if engine:
        return DatabaseGuess(engine, f"image '{container.image}'")
    for p in container.ports:
        port = p.get("containerPort")
        if isinstance(port, int) and port in PORTS:
            return DatabaseGuess(PORTS[port], f"port {port}")
    return None


def database_of(resource) -> tuple | None:
    """(container, DatabaseGuess) for the first non-init container that runs a data store."""
    from .workloads import containers

    for c in containers(resource, include_init=False):
        guess = database_of_container(c)
        if guess:
            return c, guess
    return None
