"""PM630 (3.3): a managed database is reachable from the internet (RDS/Redshift `publicly_accessible`,
Cloud SQL authorized for 0.0.0.0/0, an Azure database server firewall rule for every address)."""
import ipaddress

from ..registry import Hit, rule
from . import _tfcloud as tc

PUBLIC_FLAG = ("aws_db_instance", "aws_rds_cluster_instance", "aws_redshift_cluster")
# Azure firewall rule type -> (server reference attribute, server types, start/end attributes)
AZURE_RULES = {
    "azurerm_postgresql_firewall_rule": ("server_name", ("azurerm_postgresql_server",)),
    "azurerm_postgresql_flexible_server_firewall_rule": ("server_id", ("azurerm_postgresql_flexible_server",)),
    "azurerm_mysql_firewall_rule": ("server_name", ("azurerm_mysql_server",)),
    "azurerm_mysql_flexible_server_firewall_rule": ("server_name", ("azurerm_mysql_flexible_server",)),
    "azurerm_mariadb_firewall_rule": ("server_name", ("azurerm_mariadb_server",)),
    "azurerm_mssql_firewall_rule": ("server_id", ("azurerm_mssql_server",)),
    "azurerm_sql_firewall_rule": ("server_name", ("azurerm_sql_server",)),
    "azurerm_redis_firewall_rule": ("redis_cache_name", ("azurerm_redis_cache",)),
}
RDS_MODULES = ("terraform-aws-modules/rds/aws", "terraform-aws-modules/rds-aurora/aws",
               "terraform-aws-modules/terraform-aws-rds")


@rule(id="PM630", name="database-publicly-accessible", severity="critical",
      severity_reason="A database with a public endpoint is one security-group or password mistake away from a "
                      "breach; scanners find open database ports within minutes.",
      incidents=["3.3"], title="Managed database reachable from the internet",
      formats=("terraform",), kinds=PUBLIC_FLAG + ("google_sql_database_instance", "module") + tuple(AZURE_RULES),
      options=dict(tc.PORT_OPTIONS),
      fix="Set `publicly_accessible = false` (RDS), `ipv4_enabled = false` with private IP (Cloud SQL), or "
          "`public_network_access_enabled = false` with a private endpoint (Azure); reach it through the VPC, "
          "a bastion or a VPN, never through 0.0.0.0/0.")
def check(resource, ctx):
    """## What it checks
    - `aws_db_instance`, `aws_rds_cluster_instance`, `aws_redshift_cluster` and calls of the
      terraform-aws-modules `rds`/`rds-aurora` modules with `publicly_accessible = true`; when a
      security group the database uses opens a data-store port to the internet (PM631), it is
      named as a related location.
    - `google_sql_database_instance` whose `settings.ip_configuration` keeps the public IPv4
      address (`ipv4_enabled` true or unset, which defaults to true) and lists an
      `authorized_networks` value covering the whole internet (`0.0.0.0/0`).
    - Azure database server firewall rules (`azurerm_postgresql_firewall_rule`,
      `..._flexible_server_firewall_rule`, `azurerm_mssql_firewall_rule`, MySQL, MariaDB, Redis)
      whose range covers the whole internet (`0.0.0.0`-`255.255.255.255`), for a server of the
      scan whose `public_network_access_enabled` is true or unset (the default is true). The
      `0.0.0.0`-`0.0.0.0` rule ("allow Azure services") is not the internet.
    Values Terraform only knows after apply (variables without a value, references) never fire.

    ## Why it breaks production
    In incident 3.3 one merged change turned a database Service into a LoadBalancer and put the
    database on the internet, synced to production with no review. `publicly_accessible = true`
    or a 0.0.0.0/0 authorized network is the same exposure written in Terraform.

    ## Bad
    ```hcl main.tf
    resource "aws_db_instance" "payments" {
      identifier          = "payments"
      engine              = "postgres"
      instance_class      = "db.r6g.large"
      publicly_accessible = true
    }
    ```

    ## Good
    ```hcl main.tf
    resource "aws_db_instance" "payments" {
      identifier          = "payments"
      engine              = "postgres"
      instance_class      = "db.r6g.large"
      publicly_accessible = false
    }
    ```

    ## Fix
    Keep databases on private subnets without a public address, and let applications reach
    them inside the VPC; people connect through SSM, a bastion or a VPN.
    """
    v = resource.data.get("values") or {}
    kind = resource.kind
    source = str(resource.data.get("source") or "")
    if kind in PUBLIC_FLAG or kind == "module" and any(m in source for m in RDS_MODULES):
        if v.get("publicly_accessible") is True:
            related = tuple(tc.at(e, f"{e.name} opens {tc.describe_ports(o['ports'])} to {o['cidr']}")
                            for e, o in tc.group_openings(ctx.project, resource, v.get("vpc_security_group_ids"),
                                                          ctx.options["ports"]))
            tail = ("; a security group it uses opens its port to the internet too" if related else
                    "; only its security groups stand between the internet and the database's login")
            yield Hit(path=("values", "publicly_accessible"), related=related,
                      message=f"{resource.name} sets publicly_accessible = true: it gets a public IP and a DNS name "
                              f"that resolves to it from anywhere{tail} — the database exposure of incident 3.3")
    elif kind == "google_sql_database_instance":
        yield from _cloud_sql(resource, v)
    elif kind in AZURE_RULES:
        yield from _azure(resource, v, ctx)


def _cloud_sql(resource, v):
    for si, settings in tc.blocks(v, "settings"):
        for ii, ipc in tc.blocks(settings, "ip_configuration"):
            if ipc.get("ipv4_enabled", True) is not True:
                continue  # false (private IP only) or unknown
            for ni, net in tc.blocks(ipc, "authorized_networks"):
                if tc.is_world(net.get("value")):
                    how = "ipv4_enabled = true" if "ipv4_enabled" in ipc else \
                        "ipv4_enabled unset, which defaults to true"
                    path = ("values", "settings", si, "ip_configuration", ii, "authorized_networks", ni, "value")
                    yield Hit(path=path,
                              message=f"{resource.name} has a public IPv4 address ({how}) and authorizes "
                                      f"{net['value']}: every address on the internet may connect to the database")


def _azure(resource, v, ctx):
    ref_attr, server_kinds = AZURE_RULES[resource.kind]
    redis = resource.kind == "azurerm_redis_firewall_rule"
    start, end = ("start_ip", "end_ip") if redis else ("start_ip_address", "end_ip_address")
    try:
        lo, hi = ipaddress.IPv4Address(v.get(start)), ipaddress.IPv4Address(v.get(end))
    except (ValueError, TypeError):
        return  # unknown or malformed
    if int(hi) - int(lo) + 1 < 2 ** 31:  # less than half the internet (0.0.0.0-0.0.0.0 = Azure services)
        return
    for server in tc.resolve(ctx.project, resource, v.get(ref_attr), server_kinds)[:1]:
        sv = server.facts.get("values") or {}
        public = sv.get("public_network_access_enabled", True)
        if public is not True or sv.get("delegated_subnet_id"):
            continue  # disabled, unknown, or a VNet-integrated flexible server (firewall rules do not apply)
        how = "true" if "public_network_access_enabled" in sv else "unset, which defaults to true"
        yield Hit(path=("values", start),
                  related=(tc.at(server, f"{server.name}: public_network_access_enabled {how}"),),
                  message=f"{resource.name} allows {lo}-{hi} to {server.name}, whose public_network_access_enabled "
                          f"is {how}: every address on the internet may connect to the database")
