"""PM631 (3.3): a security group / firewall / NSG opens a database, cache or search port to the internet."""
from ..registry import Hit, rule
from . import _tfcloud as tc

DB_KINDS = ("aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance", "aws_redshift_cluster",
            "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_docdb_cluster",
            "aws_neptune_cluster", "aws_opensearch_domain", "aws_elasticsearch_domain", "aws_instance")


@rule(id="PM631", name="database-port-open-to-world", severity="critical",
      severity_reason="An internet-wide ingress on a data-store port is found by scanners within minutes; the "
                      "database's password (or Redis/Elasticsearch with none) is then all that is left.",
      incidents=["3.3", "9.2"], title="Database, cache or search port open to 0.0.0.0/0",
      formats=("terraform",), kinds=tc.FIREWALL_KINDS, options=dict(tc.PORT_OPTIONS),
      fix="Allow the port only from the application's security group (`source_security_group_id` / "
          "`referenced_security_group_id`) or the VPC's private CIDRs; reach it from outside through a bastion, "
          "SSM or a VPN.")
def check(resource, ctx):
    """## What it checks
    Ingress rules that let `0.0.0.0/0` or `::/0` (or any prefix of /1 or shorter) reach a
    data-store port: MySQL 3306, PostgreSQL 5432, SQL Server 1433, Oracle 1521/2483, MongoDB
    27017-27018, Redis 6379, Elasticsearch 9200/9300, Redshift 5439, Memcached 11211, CouchDB
    5984, Cassandra 7000/7001/9042/9160, Neo4j 7687, CockroachDB 26257, RethinkDB
    28015 (option `ports`). A port range covering one of them counts, and so does protocol
    `-1`/`all` (every port).
    - `aws_security_group` `ingress` blocks (dynamic ones too), `aws_security_group_rule` with
      `type = "ingress"`, `aws_vpc_security_group_ingress_rule` (`cidr_ipv4`/`cidr_ipv6`);
    - `google_compute_firewall` (direction INGRESS, not disabled) whose `source_ranges` hold
      0.0.0.0/0 and whose `allow` blocks cover the port (no `ports` = every port);
    - `azurerm_network_security_rule` and `azurerm_network_security_group` `security_rule`
      blocks: Inbound, Allow, Tcp or `*`, source `*`/`Internet`/`0.0.0.0/0`.
    The database using the group is named when the scan has it. Not reported: egress rules,
    443/80 open to the world, a database port open to private ranges (10.0.0.0/8), UDP.

    ## Why it breaks production
    In incident 3.3 a database Service switched to a LoadBalancer put the database on the
    internet; in 9.2 an internal dashboard had no IP allow-list and attackers walked in. A
    security group with 5432 open to 0.0.0.0/0 is both mistakes in one line of Terraform.

    ## Bad
    ```hcl main.tf
    resource "aws_security_group" "db" {
      name = "payments-db"
      ingress {
        from_port   = 5432
        to_port     = 5432
        protocol    = "tcp"
        cidr_blocks = ["0.0.0.0/0"]
      }
    }
    ```

    ## Good
    ```hcl main.tf
    resource "aws_security_group" "db" {
      name = "payments-db"
      ingress {
        from_port   = 5432
        to_port     = 5432
        protocol    = "tcp"
        cidr_blocks = ["10.20.0.0/16"]
      }
    }
    ```

    ## Fix
    Reference the application's security group instead of a CIDR, or restrict the CIDR to the
    VPC; give humans a bastion, SSM Session Manager or a VPN.
    """
    values = resource.data.get("values") or {}
    used_by = _users(ctx.project, resource, values)
    for o in tc.openings(resource.kind, values, ctx.options["ports"]):
        what = ("every port, including " if o["all"] else "") + tc.describe_ports(o["ports"])
        names = ", ".join(e.name for e in used_by[:3])
        users = f"; {names} use{'s' if len(used_by) == 1 else ''} it" if used_by else ""
        yield Hit(path=o["path"], identity=f"{o['path']}:{o['cidr']}",
                  related=tuple(tc.at(e, f"{e.name} uses this security group") for e in used_by[:3]),
                  message=f"{resource.name} lets {tc.source_name(o['cidr'])} reach {what}{users}: anyone on the "
                          f"internet can try the database's login (or use it outright when it has none)")


def _users(project, resource, values) -> list:
    """Data stores and instances of the same module that use this AWS security group (or the group a rule
    belongs to)."""
    if not resource.kind.startswith("aws_"):
        return []
    prefix = resource.data.get("module") or ""
    if resource.kind == "aws_security_group":
        rel = (resource.name[len(prefix) + 1:] if prefix else resource.name).split("[")[0]
    else:
        rel = next(iter(tc.refs_in(values.get("security_group_id"))), "")
    if not rel:
        return []
    return tc.referrers(project, resource, rel, DB_KINDS, ("vpc_security_group_ids", "security_group_ids"))
