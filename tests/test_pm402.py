"""PM402: secrets as env literals in production, critical beside debug logging, never printed."""
import pytest

from premortem.model import Severity
from premortem.report import render
from premortem.rules.secrets.pm402_secret_literal_in_env import secret_in, secret_name

from .conftest import FIXTURES, run_scan

SECRETS = ["mySuperSecretPassword123", "Hunter2-prod-Pa55", "ghp_R7x2Lq9ZkT4mVw8NbP3sYc6HdJ1fGa0EeUuI",
           "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
           "xoxb-123456789012-abcdefghijklmnop", "r3d1s-Pa55w0rd"]


@pytest.fixture(scope="module")
def result():
    return run_scan(FIXTURES / "PM402" / "bad", select=["PM402"])


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_secret_appears_in_any_output(result, fmt):
    out = render(result, fmt)
    assert "PM402" in out
    for s in SECRETS:
        assert s not in out, f"{s[:6]}... leaked in {fmt} output"


def test_debug_in_the_same_container_makes_it_critical(result):
    sev = {f.line: f.severity for f in result.findings}
    assert sev[18] == sev[32] == Severity.CRITICAL and sev[58] == sev[65] == Severity.HIGH
    f, = [f for f in result.findings if f.line == 18]
    assert "env DB_PASSWORD of container 'worker' is a secret (judging by its name)" in f.message
    assert "with DEBUG=true (env DEBUG) in the same container" in f.message
    g, = [f for f in result.findings if f.line == 32]
    assert "`--log-level debug` in args" in g.message


def test_debug_from_an_envfrom_configmap_counts(tmp_path):
    (tmp_path / "a.yaml").write_text("""\
apiVersion: v1
kind: ConfigMap
metadata: {name: flags, namespace: production}
data: {NODE_ENV: development}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: production}
spec:
  template:
    spec:
      containers:
        - name: api
          image: r/api:1.0.0
          envFrom: [{configMapRef: {name: flags}}]
          env: [{name: STRIPE_API_KEY, value: "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}]
""")
    f, = run_scan(tmp_path, select=["PM402"]).findings
    assert f.severity == Severity.CRITICAL and "a Stripe live key" in f.message
    assert "NODE_ENV=development (NODE_ENV from ConfigMap flags (envFrom))" in f.message
    assert "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in f.message + f.snippet


@pytest.mark.parametrize("name, secret", [
    ("DB_PASSWORD", True), ("AWS_SECRET_ACCESS_KEY", True), ("GITHUB_TOKEN", True), ("STRIPE_API_KEY", True),
    ("SSH_PRIVATE_KEY", True), ("GCP_CREDENTIALS", True), ("DBPASSWORD", True), ("SMTP_PASS", True),
    ("DB_PASSWORD_FILE", False), ("TOKEN_TTL", False), ("JWT_SECRET_NAME", False), ("AWS_ACCESS_KEY_ID", False),
    ("PASSWORD_MIN_LENGTH", False), ("OAUTH_TOKEN_URL", False), ("BYPASS_MODE", False), ("KEYCLOAK_REALM", False),
])
def test_secret_names(name, secret):
    assert secret_name(name) is secret


@pytest.mark.parametrize("name, value, what", [
    ("X", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a private key"),
    ("X", "Server=db;Database=crm;User Id=sa;Password=Str0ng!;", "a connection string with an embedded password"),
    ("DB_PASSWORD", "changeme", "a well-known placeholder (a guessable credential if the app really uses it)"),
    ("DB_PASSWORD", "${DB_PASSWORD}", None), ("DB_PASSWORD", "$(PW)", None), ("DB_PASSWORD", "<set me>", None),
    ("DB_PASSWORD", "********", None), ("API_TOKEN", "ref+vault://secret/api#token", None),
    ("DATABASE_URL", "postgres://u:$(DB_PASSWORD)@db/app", None), ("FEATURE_TOKEN_AUTH", "true", None),
])
def test_secret_values(name, value, what):
    found = secret_in(name, value)
    assert (found[0] if found else None) == what
