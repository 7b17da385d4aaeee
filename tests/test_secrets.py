"""PM401, PM403, PM404: positions, messages, severities, and PM401 yielding to the specific secret rules."""
import json

import pytest

from premortem.model import Severity
from premortem.rules.secrets import _patterns as pat
from premortem.rules.secrets._code import env_dumps

from .conftest import FIXTURES, run_scan

AWS_SECRET = "80EXTw65OvUeRAGI7IPK4g9pKJpBgjZb63LKw/Ag"
GCP_KEY_BODY = ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" "q3J9pZ2xVbN8mK4LwT6rY1sD0fH5gJ7uE9iO2aP3sQ4"
                "dF6gH8jK1lZ3xC5vB7nM9qW2eR4tY6uI8oP0aS2dF4gH6jK8lL1zX3cV5bN7mQ9wE1rT3yU5iO7pA9sD2fG4hJ6kL8zX0cV2bN4m")


@pytest.fixture(scope="module")
def bad():
    return run_scan(FIXTURES / "PM401" / "bad", select=["PM401"])


def _at(result, file, line):
    found = [f for f in result.findings if f.file == file and f.line == line]
    assert len(found) == 1, [(f.file, f.line) for f in result.findings]
    return found[0]


def test_aws_pair_is_one_finding_at_the_secret_key_naming_its_key_id(bad):
    f = _at(bad, "config.js", 5)
    assert (f.column, f.severity) == (21, Severity.CRITICAL)
    assert f.message.startswith("an AWS secret access key (80EX…[redacted sha256:")
    assert "(paired with access key ID AKIA…[redacted sha256:" in f.message
    assert not [g for g in bad.findings if g.file == "config.js" and g.line == 3]  # the key ID line: same credential
    assert "80EX…[redacted" in f.snippet and AWS_SECRET not in f.snippet


def test_key_id_alone_and_name_only_values_are_high(bad):
    f = _at(bad, ".env.production", 12)
    assert f.severity == Severity.HIGH and "with no secret access key within 10 lines" in f.message
    g = _at(bad, ".env.production", 3)
    assert g.severity == Severity.HIGH and g.column == 13
    assert "a secret assigned to `DB_PASSWORD` (Hunt…[redacted sha256:" in g.message
    assert "17 characters with 3.7 bits of entropy per character" in g.message


def test_url_password_points_at_the_password_and_names_the_host(bad):
    f = _at(bad, ".env.production", 5)
    assert f.column == 32 and f.severity == Severity.CRITICAL
    assert "a database URL with a password (Zq7p…" in f.message
    assert "(postgres://orders:…@orders-db.internal:5432)" in f.message
    g = _at(bad, ".github/workflows/deploy.yml", 12)
    assert "credentials in a URL (basic auth)" in g.message and "https://deploy:…@registry.internal.io" in g.message


def test_name_value_pairs_and_private_keys(bad):
    assert "a secret assigned to `PAYMENTS_API_TOKEN`" in _at(bad, "k8s/dev/api.yaml", 13).message
    f = _at(bad, "deploy/id_rsa", 2)
    assert f.column == 1 and f.message.startswith("an RSA private key (")


def test_each_occurrence_is_a_finding_with_its_own_fingerprint(tmp_path):
    token = "ghp_R7x2Lq9ZkT4mVw8NbP3sYc6HdJ1fGa0EeUuI"
    (tmp_path / "a.sh").write_text(f"export GH={token}\necho ok\ncurl -H 'token {token}' x\n")
    fs = run_scan(tmp_path, select=["PM401"]).findings
    assert [(f.line, f.column) for f in fs] == [(1, 11), (3, 16)]
    assert fs[0].fingerprint != fs[1].fingerprint
    again = run_scan(tmp_path, select=["PM401"]).findings
    assert [f.fingerprint for f in again] == [f.fingerprint for f in fs]


def test_gcp_service_account_json(tmp_path):
    key = "-----BEGIN PRIVATE KEY-----\\n" + "\\n".join(GCP_KEY_BODY[i:i + 64] for i in range(0, len(GCP_KEY_BODY), 64)) \
        + "\\n-----END PRIVATE KEY-----\\n"
    (tmp_path / "sa.json").write_text('{\n  "type": "service_account",\n  "project_id": "orders-prod",\n'
                                      '  "private_key_id": "3f2a",\n  "private_key": "' + key + '",\n'
                                      '  "client_email": "deployer@orders-prod.iam.gserviceaccount.com"\n}\n')
    f, = run_scan(tmp_path, select=["PM401"]).findings
    assert (f.file, f.line, f.column) == ("sa.json", 5, 19)
    assert f.message.startswith("a GCP service-account private key (MIIE…[redacted")
    assert "(service account deployer@orders-prod.iam.gserviceaccount.com)" in f.message
    assert GCP_KEY_BODY[:64] not in f.message + f.snippet


def test_docker_config_login_and_lockfile_credentials(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"registry.example.io": {
        "auth": "ZGVwbG95OlZXOHJnVWZPRDlKUzBRd013TzR6"}}}, indent=2))
    (tmp_path / "package-lock.json").write_text(json.dumps({"packages": {"node_modules/x": {
        "resolved": "https://ci:Tq8vLm2Xp9Rz@npm.internal.example.io/x/-/x-1.0.0.tgz",
        "integrity": "sha512-rfkIusSNv9Lerzjql4RGLWjFmnKDUv8MukQCgUGUsZgowG9kRslj9aB97Djf7PSReO3Y4KiuaVl35Jy7rCcYPQ==",
        "password": "Xr7#kQ2!mZp9Lw"}}}, indent=2))
    got = {(f.file, f.line): f.message for f in run_scan(tmp_path, select=["PM401"]).findings}
    assert set(got) == {("config.json", 4), ("package-lock.json", 4)}, got
    assert "a registry login (docker config.json `auth`)" in got[("config.json", 4)]
    assert "credentials in a URL" in got[("package-lock.json", 4)]  # a lockfile's hashes are skipped, its URLs not


PROD_DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: %s}
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/orders:1.4.2
          env:
            - name: DB_PASSWORD
              value: mySuperSecretPassword123
"""


@pytest.mark.parametrize("namespace,rule", [("production", "PM402"), ("dev", "PM401")])
def test_pm401_leaves_a_line_to_pm402_in_production_only(tmp_path, namespace, rule):
    (tmp_path / "deploy.yaml").write_text(PROD_DEPLOY % namespace)
    fs = run_scan(tmp_path, select=["PM401", "PM402"]).findings
    assert [(f.rule_id, f.line) for f in fs] == [(rule, 12)]


def test_pm401_leaves_terraform_literals_to_pm620(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_db_instance" "main" {\n  engine   = "postgres"\n'
                                      '  password = "SuperSecret123!"\n}\n# token ghp_R7x2Lq9ZkT4mVw8NbP3sYc6HdJ1fGa0EeUuI\n')
    fs = run_scan(tmp_path, select=["PM401", "PM620"]).findings
    assert [(f.rule_id, f.line) for f in fs] == [("PM620", 3), ("PM401", 5)]  # a comment is PM401's alone


@pytest.mark.parametrize("name,expected", [
    ("DB_PASSWORD", True), ("dbPassword", True), ("spring.datasource.password", True), ("client-secret", True),
    ("AWS_SECRET_ACCESS_KEY", True), ("apiKey", True), ("password_file", False), ("token_url", False),
    ("secretName", False), ("api_key_id", False), ("PASSWORD_MIN_LENGTH", False), ("existingSecret", False),
    ("license_key", False), ("public_key", False), ("password_hash", False),
])
def test_secret_names(name, expected):
    assert pat.secret_name(name) is expected


# ---- PM403 ------------------------------------------------------------------------------------
def test_pm403_reports_the_debug_setting_and_names_secrets_never_values(tmp_path):
    (tmp_path / ".env.production").write_text("DB_PASSWORD=Hunter2-prod-Pa55\nAPI_TOKEN=${API_TOKEN}\nDEBUG=true\n")
    f, = run_scan(tmp_path, select=["PM403"]).findings
    assert (f.line, f.column) == (3, 1)
    assert f.message.startswith("`DEBUG=true` turns debug output on in this file, which also gives the process 2 "
                                "secrets (DB_PASSWORD, API_TOKEN): a stack trace")
    assert "Hunter2-prod-Pa55" not in f.message + f.snippet


def test_pm403_compose_is_judged_per_service():
    result = run_scan(FIXTURES / "PM403" / "bad", select=["PM403"])
    f, = [f for f in result.findings if f.file == "docker-compose.yml" and f.line == 6]
    assert "`NODE_ENV: development` turns debug output on in service 'api' of this file" in f.message
    assert "1 secret (JWT_SECRET)" in f.message and "prints it into the logs" in f.message
    assert not [f for f in result.findings if f.file == "docker-compose.yml" and f.line == 18]  # web: no secret


# ---- PM404 ------------------------------------------------------------------------------------
def test_pm404_message_and_position():
    result = run_scan(FIXTURES / "PM404" / "bad", select=["PM404"])
    f = next(f for f in result.findings if f.file == "server.js" and f.line == 7)
    assert f.column == 1 and f.message.startswith("`console.log(...)` writes the whole `process.env`: every secret")
    g = next(f for f in result.findings if f.file == "app.py" and f.line == 24)
    assert g.column == 5 and g.message.startswith("`raise RuntimeError(...)` writes the whole `os.environ`")


@pytest.mark.parametrize("path,code,lines", [
    ("a.py", "import os as o\nprint(o.environ)\nprint(o.environ['X'])\n", [2]),
    ("a.py", "import os\nENV = {**os.environ}\ndef f():\n    print(ENV)\n", [4]),
    ("a.py", "import os\nprint(sorted(os.environ.items()))\nprint(sorted(os.environ))\n", [2]),
    ("a.py", "def f(:\n  print(os.environ)\n", []),  # a syntax error: nothing, never a crash
    ("a.tsx", "const { env } = process;\nexport const A = () => { console.log(env); return <div/>; };\n", [2]),
    ("a.mjs", "console.log(import.meta.env);\nconsole.log(import.meta.env.VITE_API);\n", [1]),
    ("a.js", "res.json(process.env);\nconsole.log(Object.entries(process.env));\n", [2]),
])
def test_env_dumps(path, code, lines):
    assert [d.line for d in env_dumps(code, path)] == lines


def test_pm403_spring_profile_keys_that_are_null_or_scalars(tmp_path):
    from .conftest import run_scan

    (tmp_path / "application.yml").write_text("spring:\n  config:\n    activate:\ndebug: true\n---\nspring: x\n")
    result = run_scan(tmp_path, select=["PM403"])
    assert not result.errors
