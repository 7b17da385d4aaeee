"""What the Terraform source rules PM620-PM624 share: which attribute names hold secrets, which
literal values are placeholders or references rather than secrets, which resource types hold data
worth a `prevent_destroy`, and small helpers over evaluated values (parse/terraform.py).

Values are what parse/hcl_eval.py resolved; an `Unknown` (a data source, `random_password`, a
variable nobody set) is never a secret here and never a finding.
"""
from __future__ import annotations

import fnmatch
import functools
import json
import re

from ...parse.hcl_eval import Unknown
from ..secrets.pm402_secret_literal_in_env import _KV_PASSWORD, _URL_PASSWORD, KNOWN
from ..secrets.pm402_secret_literal_in_env import PLACEHOLDERS as _PM402_PLACEHOLDERS

# An attribute (or map key) holds a secret when its name ends with one of these, word by word:
# `master_password`, `admin_password`, `AWS_SECRET_ACCESS_KEY`, `auth_token`; not `password_length`,
# `kms_key_id`, `secret_arn`, `token_validity_units`. `connection_string` is judged by its value.
SECRET_NAMES = [
    "password", "passwd", "passphrase", "secret", "token", "api_key", "apikey", "app_key", "access_key",
    "secret_key", "private_key", "client_secret", "auth_token", "preshared_key", "shared_key",
    "account_key", "sse_customer_key", "credentials", "credential", "secret_string", "secret_data",
    "authorization", "passwords", "password_wo", "secret_string_wo",
]
# blocks and maps that point at a secret kept elsewhere (`value_source { secret_key_ref { secret = "db" } }`,
# `value_from`, `secret_ref`): a name inside them is the secret's name, not its value
_REFERENCE_WORDS = {"ref", "reference", "from", "source"}
# Attributes that are the secret whatever they are called: (type, attribute, condition on values).
SECRET_VALUES = [
    ("aws_ssm_parameter", "value", lambda v: str(v.get("type", "")).lower() == "securestring"),
    ("aws_secretsmanager_secret_version", "secret_string", None),
    ("aws_api_gateway_api_key", "value", None),
    ("azurerm_key_vault_secret", "value", None),
    ("google_secret_manager_secret_version", "secret_data", None),
    ("github_actions_secret", "plaintext_value", None),
    ("github_actions_organization_secret", "plaintext_value", None),
    ("vault_generic_secret", "data_json", None),
    ("vault_kv_secret_v2", "data_json", None),
]
PLACEHOLDERS = sorted(_PM402_PLACEHOLDERS | {"none", "null", "n/a", "na", "tbd", "redacted", "sample", "insert",
                                             "notset", "not-set", "unset", "empty", "secret123"})
_PLACEHOLDER = re.compile(r"^(?:your[-_ ]|replace|change[-_ ]?me|insert[-_ ]|todo|fixme|tbd\b)|example|placeholder"
                          r"|dummy|[-_ ]here$|^(.)\1+$", re.I)
# Not a literal secret: references to a store, interpolations left as text, masks, paths
_REFERENCE = re.compile(r"^(?:arn:|alias/|vault:|ref\+|projects/[^/]+/secrets/|sm://|secret://|gcp:secretmanager:"
                        r"|azurekeyvault:|akv:|file:|/|\./|\.\./|~/|@Microsoft\.KeyVault\()"
                        r"|\$\{|\$\(|\{\{|%\{|^<[^>]*>$|^[*xX•.#-]{3,}$", re.I)
AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")
AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*[a-z])(?=[A-Za-z0-9/+=]*[A-Z])"
                        r"(?=[A-Za-z0-9/+=]*[0-9/+])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")
_SENSITIVE_CALL = re.compile(r'^\s*(?:non)?sensitive\(\s*"((?:[^"\\$%]|\\.)*)"\s*\)\s*$')

# Data stores: losing one loses data. prevent_destroy makes Terraform refuse a plan that deletes them.
PREVENT_DESTROY_TYPES = [
    "aws_db_instance", "aws_rds_cluster", "aws_rds_global_cluster", "aws_dynamodb_table", "aws_s3_bucket",
    "aws_kms_key", "aws_efs_file_system", "aws_elasticache_replication_group", "aws_docdb_cluster",
    "aws_neptune_cluster", "aws_redshift_cluster", "aws_opensearch_domain", "aws_elasticsearch_domain",
    "aws_msk_cluster", "aws_backup_vault", "aws_route53_zone", "aws_secretsmanager_secret",
    "google_sql_database_instance", "google_storage_bucket", "google_bigquery_dataset", "google_spanner_instance",
    "google_spanner_database", "google_kms_crypto_key", "google_filestore_instance", "google_alloydb_cluster",
    "google_redis_instance", "google_firestore_database",
    "azurerm_mssql_server", "azurerm_mssql_database", "azurerm_postgresql_flexible_server",
    "azurerm_mysql_flexible_server", "azurerm_cosmosdb_account", "azurerm_storage_account", "azurerm_key_vault",
    "azurerm_redis_cache",
]


def matches(kind: str, patterns) -> bool:
    return _matches(kind, tuple(patterns))


@functools.lru_cache(maxsize=4096)
def _matches(kind: str, patterns: tuple) -> bool:
    return any(fnmatch.fnmatchcase(kind, p) for p in patterns)


@functools.lru_cache(maxsize=4096)
def words(name: str) -> tuple:
    """'AWS_SECRET_ACCESS_KEY' -> ('aws', 'secret', 'access', 'key'); 'masterPassword' -> ('master', 'password')."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return tuple(w for w in re.split(r"[^A-Za-z0-9]+", name.lower()) if w)


def secret_name(name: str, names=SECRET_NAMES) -> str:
    """The entry of `names` that `name` ends with, word by word ('' when none)."""
    ws = words(name)
    if "existing" in ws:  # `auth.existingSecret`: the name of a Secret that holds it, not the secret
        return ""
    for n, nw in _suffixes(tuple(names)):
        if ws[-len(nw):] == nw:
            return n
    return ""


@functools.lru_cache(maxsize=16)
def _suffixes(names: tuple) -> tuple:
    return tuple((n, words(n)) for n in names if words(n))


def in_reference(path: tuple) -> bool:
    """Whether a leaf sits in a block that references a secret stored elsewhere, or in a block named like
    the leaf (`volumes { secret { secret = "db-password" } }`: the block's secret is an ID)."""
    outer = [str(p) for p in path[1:-1] if not isinstance(p, int)]
    return any(_REFERENCE_WORDS & set(words(p)) for p in outer) or (bool(outer) and outer[-1] == str(path[-1]))


def placeholder(value: str, placeholders=PLACEHOLDERS) -> bool:
    v = value.strip()
    return (not v or v.lower() in placeholders or bool(_PLACEHOLDER.search(v)) or bool(_REFERENCE.search(v)))


def plausible(value: str) -> bool:
    """Whether a value found only by its name can be a credential: `access_token = "hours"` (a unit),
    a sentence, `true` cannot; `password = "SuperSecret123!"` can."""
    v = value.strip()
    if len(v) < 6 or len(v.split()) > 3 or v.lower() in ("true", "false", "yes", "no", "on", "off"):
        return False
    return not (v.isalpha() and len(v) < 10)


def literal(value):
    """A known string; `sensitive("...")` around a literal is still that literal."""
    if isinstance(value, str):
        return value
    if isinstance(value, Unknown):
        m = _SENSITIVE_CALL.match(value.text)
        if m:
            return m.group(1)
    return None


def leaves(value, path: tuple, name: str):
    """(path, name, string) for every literal string in a value; name = the nearest attribute or map key."""
    if isinstance(value, dict):
        # `{name = "auth.password", value = "..."}` (helm_release `set`, ECS environment entries)
        pair = value.get("name") if isinstance(value.get("name"), str) and "value" in value else None
        for k, v in value.items():
            yield from leaves(v, path + (k,), pair if pair and k == "value" else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,), name)
    else:
        s = literal(value)
        if s is not None:
            yield path, name, s


def json_leaves(path: tuple, value: str):
    """leaves() inside a JSON document held in a string (`container_definitions = jsonencode([...])`)."""
    if not value.lstrip().startswith(("{", "[")):
        return
    try:
        data = json.loads(value)
    except ValueError:
        return
    yield from leaves(data, path, "")


def pattern_secret(value: str) -> tuple | None:
    """(what, the secret part) for a value that is a credential by its shape, whatever its name.
    AWS access keys are left to aws_pair (a key ID alone is not a secret)."""
    for what, rx in KNOWN:
        if what == "an AWS access key":
            continue
        m = rx.search(value)
        if m and not _PLACEHOLDER.search(m.group(0)):
            return what, m.group(0)
    for rx in (_URL_PASSWORD, _KV_PASSWORD):
        m = rx.search(value)
        if m and not placeholder(m.group("pw")) and len(m.group("pw")) >= 4:
            return "a connection string with an embedded password", m.group("pw")
    return None


def aws_ids(value: str) -> list:
    return [m.group(0) for m in AWS_KEY_ID.finditer(value) if "EXAMPLE" not in m.group(0)]


def aws_secrets(value: str) -> list:
    return [m.group(0) for m in AWS_SECRET.finditer(value) if "EXAMPLE" not in m.group(0).upper()]


def inner_secrets(value: str, names=SECRET_NAMES) -> list:
    """Secret values inside a JSON string (`jsonencode({password = "..."})`), for redaction."""
    try:
        data = json.loads(value)
    except ValueError:
        return []
    return [s for _, n, s in leaves(data, (), "") if secret_name(n, names) and len(s) >= 4]


def truth(value):
    """True / False for a known boolean (Terraform converts "true"/"false"), None when unknown."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def module_prefix(address: str) -> str:
    """'module.a.aws_s3_bucket.x' -> 'module.a.'; '' at the root."""
    m = re.match(r"^((?:module\.[^.\[]+(?:\[[^\]]*\])?\.)*)", address)
    return m.group(1) if m else ""


def local_address(address: str) -> str:
    """'module.a.aws_s3_bucket.x["k"]' -> 'aws_s3_bucket.x' (what a reference inside module a names)."""
    return re.sub(r"\[[^\]]*\]$", "", address[len(module_prefix(address)):])
