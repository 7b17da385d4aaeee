"""Connection strings, pool sizes and max_connections (rules/dependencies/_dbconn.py, _dbpool.py), and the R8
rules PM801/PM802 built on them."""
import pytest

from premortem.model import Severity
from premortem.report import render
from premortem.rules.dependencies._dbconn import context_params, example, find_connections, missing
from premortem.rules.dependencies._dbpool import (db_host_from_env, max_connections_in_args, max_connections_in_conf,
                                                  pool_from_env, pools_in_text)

from .conftest import FIXTURES, run_scan


def one(text):
    c, = find_connections(text)
    return c


@pytest.mark.parametrize("text, kind, hosts, database", [
    ("jdbc:postgresql://payments-db.production.svc:5432/payments?sslmode=require", "jdbc-postgresql",
     ["payments-db.production.svc"], "payments"),
    ("jdbc:mysql:loadbalance://h1:3306,h2:3306/db", "jdbc-mysql", ["h1", "h2"], "db"),
    ("jdbc:mariadb://m:3306/shop", "jdbc-mysql", ["m"], "shop"),
    ("jdbc:sqlserver://sql1:1433;databaseName=crm;loginTimeout=30", "jdbc-sqlserver", ["sql1"], "crm"),
    ("postgres://u@pg/app", "postgresql", ["pg"], "app"),
    ("postgresql+psycopg2://u@pg:5432/app", "postgresql", ["pg"], "app"),
    ("postgresql+asyncpg://u@pg/app", "asyncpg", ["pg"], "app"),
    ("mysql+pymysql://u@my/app", "mysql", ["my"], "app"),
    ("host=db port=5432 dbname=app user=app", "libpq", ["db"], "app"),
    ("app@tcp(mysql:3306)/shop?parseTime=true", "go-mysql", ["mysql"], "shop"),
    ("mongodb+srv://cluster0.abc.mongodb.net/events", "mongodb", ["cluster0.abc.mongodb.net"], "events"),
    ("rediss://cache:6380/0", "redis", ["cache"], "0"),
])
def test_recognised_formats(text, kind, hosts, database):
    c = one(f"url={text}\n")
    assert (c.kind, c.hosts, c.database, c.text) == (kind, hosts, database, text)


@pytest.mark.parametrize("text", ["${DB_URL}", "https://postgres.example.com/db", "postgres", "host=web-01",
                                  "see docs at http://mysql.com", "user=app"])
def test_not_connection_strings(text):
    assert find_connections(text) == []


def test_comment_lines_of_files_are_skipped_but_one_line_values_have_no_comments():
    assert find_connections("# jdbc:postgresql://old/db\nother=1\n") == []
    assert one("--dsn=postgres://u@pg/app").hosts == ["pg"]


def test_passwords_are_found_with_their_delimiters():
    c = one("postgresql://settlement:Hunter2-prod-Pa55@payments-db:5432/payments")
    assert (c.password, c.secret_token) == ("Hunter2-prod-Pa55", ":Hunter2-prod-Pa55@")
    assert c.secrets == ("Hunter2-prod-Pa55", ":Hunter2-prod-Pa55@")
    c = one("host=db dbname=app user=u password='pw 1'")
    assert (c.password, c.secret_token) == ("pw 1", "password='pw 1'")
    assert c.secrets == ("password='pw 1'",)  # too short to replace alone without mangling messages


def test_parameters_from_a_placeholder_are_unknown():
    assert one("jdbc:postgresql://db/app?${JDBC_PARAMS}").templated
    assert not one("jdbc:postgresql://${DB_HOST}/app").templated  # the host is a placeholder, the parameters are not


def test_missing_names_absent_and_disabled_parameters():
    c = one("jdbc:postgresql://db/app?connectTimeout=10&socketTimeout=0")
    assert missing(c) == [("socketTimeout", "sets socketTimeout=0, which disables it"), ("tcpKeepAlive", "missing")]
    assert example(c, ["socketTimeout", "tcpKeepAlive"]) == "socketTimeout=60&tcpKeepAlive=true"
    c = one("host=db dbname=app connect_timeout=5 keepalives_idle=30 keepalives=0")
    assert missing(c) == [("keepalives", "sets keepalives=0, which turns TCP keepalive off")]
    assert missing(one("postgres://u@db/app?Connect_Timeout=5&tcp_user_timeout=30000")) == []


def test_context_parameters_from_hikari_properties_yaml_and_env():
    yaml_file = "spring:\n  datasource:\n    hikari:\n      data-source-properties:\n        socketTimeout: 30\n      other: 1\n"
    extra = context_params([("application.yaml", yaml_file),
                            ("SPRING_DATASOURCE_HIKARI_DATA_SOURCE_PROPERTIES_TCPKEEPALIVE", "true"),
                            ("app.properties", "spring.datasource.hikari.data-source-properties.connectTimeout=10")])
    assert extra == {"sockettimeout": "30", "tcpkeepalive": "true", "connecttimeout": "10"}
    assert missing(one("jdbc:postgresql://db/app"), extra) == []
    assert context_params([("PGCONNECT_TIMEOUT", "5")]) == {"connecttimeout": "5"}


@pytest.mark.parametrize("name, size", [
    ("SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE", 20), ("SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE", 20),
    ("HIKARI_MAXIMUMPOOLSIZE", 20), ("DB_POOL_SIZE", 20), ("POOL_SIZE", 20), ("DB_MAX_OPEN_CONNS", 20),
    ("REDIS_POOL_SIZE", None), ("THREAD_POOL_SIZE", None), ("HTTP_POOL_SIZE", None), ("WORKER_POOL_SIZE", None),
    ("DB_POOL_SIZE_HINT", None),
])
def test_pool_size_from_env(name, size):
    assert pool_from_env(name, "20") == size


def test_pool_sizes_in_files_and_urls():
    text = ("spring.redis.jedis.pool-size=100\n# spring.datasource.hikari.maximum-pool-size=5\n"
            "spring.datasource.hikari.maximum-pool-size=50\n")
    assert [(n, k) for n, k, _ in pools_in_text(text)] == [(50, "spring.datasource.hikari.maximum-pool-size")]
    assert [n for n, _, _ in pools_in_text("hikari:\n  maximumPoolSize: 12\n")] == [12]
    assert [n for n, _, _ in pools_in_text("postgresql://u@db/app?connection_limit=7")] == [7]


def test_database_hosts_from_env():
    assert db_host_from_env("PGHOST", "pg.db.svc") == "pg.db.svc"
    assert db_host_from_env("DB_HOST", "orders-db") == "orders-db"
    assert db_host_from_env("REDIS_HOST", "cache") == "" and db_host_from_env("DB_HOST", "${HOST}") == ""


def test_max_connections():
    assert max_connections_in_args("-c max_connections=200") == 200
    assert max_connections_in_args("--max-connections=500 --max_connections=600") == 600
    assert max_connections_in_args("-c shared_buffers=1GB") is None
    assert max_connections_in_conf("[mysqld]\n# max_connections = 5\nmax_connections = 300\n") == (300, 31)


# ---- PM801 -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pm801():
    return run_scan(FIXTURES / "PM801" / "bad", select=["PM801"])


def finding(result, file, line):
    f, = [f for f in result.findings if (f.file, f.line) == (file, line)]
    return f


def test_pm801_names_what_is_missing_and_how_to_add_it(pm801):
    f = finding(pm801, "config.yaml", 9)
    assert f.severity == Severity.HIGH and f.column == 26
    assert "JDBC PostgreSQL URL to payments-db.production.svc/payments" in f.message
    assert "has no connectTimeout, socketTimeout, tcpKeepAlive" in f.message
    assert f.message.endswith("add connectTimeout=10&socketTimeout=60&tcpKeepAlive=true")
    embedded = finding(pm801, "config.yaml", 12)
    assert "key application.properties, spring.datasource.url" in embedded.message and "has no socketTimeout:" in embedded.message


def test_pm801_is_lower_outside_production(pm801):
    f = finding(pm801, "workers.yaml", 40)
    assert f.severity == Severity.MEDIUM and "has no timeout, readTimeout" in f.message


def test_pm801_never_prints_the_password(pm801):
    for fmt in ("json", "text"):
        out = render(pm801, fmt)
        assert "Hunter2-prod-Pa55" not in out and "cartpass99" not in out
    assert "redacted" in finding(pm801, "config.yaml", 25).snippet


# ---- PM802 -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pm802():
    return run_scan(FIXTURES / "PM802" / "bad", select=["PM802"])


def test_pm802_shows_the_arithmetic_over_every_client(pm802):
    f = finding(pm802, "payments.yaml", 45)
    assert f.severity == Severity.CRITICAL  # 50 × 4 + 10 × 2 already exceeds 100 before any scale-out
    assert ("pool 50 (env SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE) × 10 replicas (HorizontalPodAutoscaler "
            "payment-api maxReplicas) = 500, plus Deployment settlement-worker 10 × 2: 520 connections") in f.message
    assert "max_connections=100 (args of container 'postgres') on StatefulSet payments-db" in f.message
    assert ("payments.yaml", 22) in {(r.file, r.line) for r in f.related}  # the -c max_connections=100 arg


def test_pm802_reads_mounted_configs_and_defaults(pm802):
    f = finding(pm802, "orders.yaml", 50)
    assert f.severity == Severity.HIGH and "× 8 replicas (ScaledObject orders-api maxReplicaCount) = 240" in f.message
    assert "max_connections = 200 (ConfigMap orders-db-config my.cnf)" in f.message
    assert ("orders.yaml", 9) in {(r.file, r.line) for r in f.related}  # the line inside my.cnf, not the comment
    d = finding(pm802, "orders.yaml", 88)
    assert "PostgreSQL's default max_connections 100 (it sets none)" in d.message


def test_pm801_redacts_the_base64_form_of_a_secret_too(tmp_path):
    import base64

    encoded = base64.b64encode(b"postgresql://app:VerySecretPw99@db:5432/app").decode()
    (tmp_path / "s.yaml").write_text(f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: production}}\n"
                                     f"data:\n  DATABASE_URL: {encoded}\n")
    result = run_scan(tmp_path, select=["PM801"])
    f, = result.findings
    assert (f.line, f.column) == (5, 17) and "PostgreSQL (libpq) URL to db/app (Secret s key DATABASE_URL)" in f.message
    out = render(result, "text")
    assert encoded not in out and "VerySecretPw99" not in out
