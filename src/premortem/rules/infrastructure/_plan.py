"""What the plan and state rules (PM610-PM617) share: which resource types are critical, what a
change's actions mean, which values are secrets, which environment a plan is for.

Type lists accept fnmatch globs (`aws_rds_*`); rules take them from their options so a
`.premortem.yaml` can change them.
"""
from __future__ import annotations

import fnmatch
import json

from ...model import Severity
from ..secrets.pm402_secret_literal_in_env import secret_in
from ... import environments

# Data stores: destroying or replacing one loses data (the new one starts empty).
STATEFUL_TYPES = [
    "aws_db_instance", "aws_rds_cluster", "aws_rds_global_cluster", "aws_dynamodb_table", "aws_s3_bucket",
    "aws_kms_key", "aws_route53_zone", "aws_efs_file_system", "aws_ebs_volume", "aws_elasticache_cluster",
    "aws_elasticache_replication_group", "aws_docdb_cluster", "aws_neptune_cluster", "aws_redshift_cluster",
    "aws_opensearch_domain", "aws_elasticsearch_domain", "aws_msk_cluster", "aws_secretsmanager_secret",
    "aws_backup_vault", "aws_ecr_repository",
    "google_sql_database_instance", "google_sql_database", "google_storage_bucket", "google_bigquery_dataset",
    "google_bigquery_table", "google_spanner_instance", "google_spanner_database", "google_kms_crypto_key",
    "google_kms_key_ring", "google_dns_managed_zone", "google_filestore_instance", "google_redis_instance",
    "google_compute_disk", "google_alloydb_cluster", "google_firestore_database",
    "azurerm_mssql_server", "azurerm_mssql_database", "azurerm_postgresql_server",
    "azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server", "azurerm_cosmosdb_account",
    "azurerm_storage_account", "azurerm_storage_container", "azurerm_key_vault", "azurerm_key_vault_key",
    "azurerm_dns_zone", "azurerm_managed_disk", "azurerm_redis_cache",
]
# Network paths, clusters and capacity: destroying one is an outage, not data loss.
CRITICAL_TYPES = [
    "aws_vpc", "aws_subnet", "aws_route_table", "aws_route", "aws_nat_gateway", "aws_internet_gateway",
    "aws_egress_only_internet_gateway", "aws_vpc_peering_connection", "aws_ec2_transit_gateway*",
    "aws_vpn_connection", "aws_lb", "aws_alb", "aws_elb", "aws_lb_listener", "aws_route53_record",
    "aws_cloudfront_distribution", "aws_eks_cluster", "aws_eks_node_group", "aws_autoscaling_group",
    "aws_ecs_cluster", "aws_ecs_service",
    "google_compute_network", "google_compute_subnetwork", "google_compute_router", "google_compute_router_nat",
    "google_compute_route", "google_compute_forwarding_rule", "google_compute_global_forwarding_rule",
    "google_container_cluster", "google_container_node_pool", "google_compute_instance_group_manager",
    "google_compute_region_instance_group_manager", "google_dns_record_set",
    "azurerm_virtual_network", "azurerm_subnet", "azurerm_route_table", "azurerm_route", "azurerm_nat_gateway",
    "azurerm_lb", "azurerm_application_gateway", "azurerm_kubernetes_cluster",
    "azurerm_kubernetes_cluster_node_pool", "azurerm_linux_virtual_machine_scale_set",
    "azurerm_windows_virtual_machine_scale_set", "azurerm_dns_a_record", "azurerm_dns_cname_record",
]
# Critical only while something still uses them (an unused security group is a clean-up).
IN_USE_TYPES = [
    "aws_security_group", "aws_iam_role", "aws_iam_instance_profile", "google_compute_firewall",
    "google_service_account", "azurerm_network_security_group", "azurerm_user_assigned_identity",
]
# What losing one means, by type prefix (the first that matches), for messages.
CONSEQUENCES = [
    ("aws_route_table", "every subnet associated with it loses its routes (no internet, no NAT)"),
    ("aws_route", "traffic to that destination has no path"),
    ("aws_subnet", "everything in the subnet goes with it"),
    ("aws_vpc", "the whole network goes with it"),
    ("aws_nat_gateway", "private subnets lose outbound internet"),
    ("aws_internet_gateway", "public subnets lose the internet"),
    ("aws_eks_node_group", "its nodes are drained and terminated"),
    ("aws_eks_cluster", "the cluster and every workload on it go down"),
    ("aws_autoscaling_group", "its instances are terminated"),
    ("aws_lb", "traffic through it stops and its DNS name changes"),
    ("aws_route53_zone", "its records go and the new zone gets new name servers"),
    ("aws_kms_key", "data encrypted with it can no longer be decrypted after the waiting period"),
    ("aws_security_group", "what it allowed is cut, or the apply hangs on DependencyViolation"),
    ("aws_iam_role", "whatever assumes it loses its permissions"),
    ("", ""),
]
DESTRUCTIVE = ("delete", "replace")


def matches(rtype: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(rtype, p) for p in patterns or ())


def category(rtype: str, stateful=None, critical=None, in_use=None) -> str:
    """'stateful' | 'critical' | 'in_use' | '' for a resource type."""
    if matches(rtype, STATEFUL_TYPES if stateful is None else stateful):
        return "stateful"
    if matches(rtype, CRITICAL_TYPES if critical is None else critical):
        return "critical"
    if matches(rtype, IN_USE_TYPES if in_use is None else in_use):
        return "in_use"
    return ""


def consequence(rtype: str, cat: str) -> str:
    if cat == "stateful":
        return "its data goes with it"
    return next(text for prefix, text in CONSEQUENCES if rtype.startswith(prefix))


def action(actions) -> str:
    """A change's actions as one word: create, update, replace, delete, read, no-op, forget."""
    acts = [a for a in actions or () if isinstance(a, str)]
    if sorted(acts) == ["create", "delete"]:
        return "replace"
    return "+".join(acts) or "no-op"


def replace_reason(data: dict) -> str:
    """Why Terraform replaces rather than updates: 'because `name` changed (forces replacement)'."""
    reason = str(data.get("action_reason") or "")
    paths = [p for p in data.get("replace_paths") or [] if isinstance(p, list)]
    if paths:
        names = ", ".join(f"`{path_text(p)}`" for p in paths[:3])
        return f"because {names} changed (forces replacement)"
    return {"replace_because_tainted": "because it is tainted",
            "replace_by_request": "because `-replace` asked for it",
            "replace_by_triggers": "because `replace_triggered_by` fired"}.get(reason, "")


DELETE_REASONS = {
    "delete_because_no_resource_config": "because its block is gone from the configuration",
    "delete_because_no_module": "because its module call is gone",
    "delete_because_count_index": "because its count index is gone",
    "delete_because_each_key": "because its for_each key is gone",
    "delete_because_wrong_repetition": "because count/for_each was added or removed",
    "delete_because_no_move_target": "because a `moved` block points nowhere",
}


def delete_reason(data: dict) -> str:
    return DELETE_REASONS.get(str(data.get("action_reason") or ""), "")


def path_text(path) -> str:
    """('scaling_config', 0, 'desired_size') -> 'scaling_config[0].desired_size'."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def marked(mark, path) -> bool:
    """Whether `path` is marked in an after_sensitive/after_unknown tree (true at it or above it)."""
    node = mark
    for step in path:
        if node is True:
            return True
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return False
    return node is True


def leaves(value, path=()):
    """(path, scalar) for every leaf of a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    else:
        yield path, value


def secret_leaves(values, sensitive=None):
    """(path, value, what it holds) for string leaves that are secrets: by attribute name or value
    pattern ("a private key"), or marked in `sensitive` (a state's sensitive paths, as a mark tree)."""
    for path, value in leaves(values):
        if not isinstance(value, str) or not value.strip() or not path:
            continue
        name = next((str(s) for s in reversed(path) if not isinstance(s, int)), "")
        if sensitive is not None and marked(sensitive, path):
            yield path, value, "a value the provider marks sensitive"
            continue
        found = secret_in(name, value)
        if found and found[1] and (found[1] != value or plausible(value)):
            yield path, value, found[0]  # the whole value: a key's body is as secret as its header


def forms(*values) -> tuple:
    """Secrets as the engine must redact them: as found and as written in JSON (a PEM's newlines are
    `\\n` on the line a finding shows)."""
    out = []
    for v in values:
        out.append(v)
        escaped = json.dumps(v, ensure_ascii=False)[1:-1]
        if escaped != v:
            out.append(escaped)
    return tuple(out)


def plausible(value: str) -> bool:
    """Whether a value found only by its attribute's name can be a credential: `access_token = "hours"`
    (a Cognito validity unit) cannot; `password = "SuperSecret123!"` can."""
    v = value.strip()
    return len(v) >= 8 and (not v.isalpha() or len(v) >= 16) and " " not in v


def environment(data: dict) -> tuple:
    """(environment, evidence) of a plan, from its variables (`environment = "prod"`), else ('', '')."""
    env = data.get("environment")
    if isinstance(env, (list, tuple)) and len(env) == 2:
        return environments.environment_of(env[0]) or str(env[0]), str(env[1])
    return "", ""


def production(data: dict, ctx) -> tuple:
    """(evidence when production, True when the plan names another environment)."""
    if ctx.production:
        return ctx.production, False
    env, evidence = environment(data)
    if env == environments.PRODUCTION:
        return evidence, False
    return "", bool(env)


def graded(severity: Severity, non_production: bool) -> Severity:
    """A plan for a named non-production environment is reported, but below the default gate."""
    return min(severity, Severity.MEDIUM) if non_production else severity


def short(value, limit: int = 40) -> str:
    text = value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else str(value)
    if isinstance(value, bool):
        text = str(value).lower()
    return text if len(text) <= limit else text[: limit - 1] + "…"
