"""PM634 (R10): a production database without automated backups, a final snapshot or deletion protection."""
from ..registry import Hit, rule
from . import _tfcloud as tc

AWS_DB = ("aws_db_instance", "aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster")
REPLICA_ATTRS = ("replicate_source_db", "replication_source_identifier", "master_instance_name",
                 "replica_configuration")
_GONE = "the data has no copy outside the live volume"


@rule(id="PM634", name="database-without-backups-or-deletion-protection", severity="high",
      severity_reason="Without backups or a final snapshot, one bad plan, a replacement or a corrupting deploy "
                      "loses production data for good; deletion protection is the last stop before that.",
      incidents=["R10", "6.1"], title="Production database without backups or deletion protection",
      formats=("terraform",), kinds=AWS_DB + ("aws_dynamodb_table", "google_sql_database_instance"),
      production_only=True,
      fix="Keep automated backups on (`backup_retention_period` >= 7, `point_in_time_recovery { enabled = true }`, "
          "`backup_configuration { enabled = true }`), take a final snapshot on destroy and set "
          "`deletion_protection = true`.")
def check(resource, ctx):
    """## What it checks
    Production databases (environment from the path, a `prod.tfvars` variant, `var.environment`
    or the backend key), each missing safeguard once per resource:
    - `aws_db_instance`, `aws_rds_cluster`, `aws_docdb_cluster`, `aws_neptune_cluster`:
      `backup_retention_period = 0` (automated backups off), `skip_final_snapshot = true`,
      `deletion_protection = false` or unset (the default is false). Read replicas
      (`replicate_source_db`, `replication_source_identifier`) are left alone.
    - `aws_dynamodb_table` without `point_in_time_recovery { enabled = true }`.
    - `google_sql_database_instance`: `settings.backup_configuration` missing or
      `enabled = false` (backups are off by default), `deletion_protection = false` (Terraform's
      default is true). Replicas (`master_instance_name`) are left alone.
    A value Terraform only knows after apply is never reported. `lifecycle { prevent_destroy }`
    does not count: it guards this configuration only, not the database (a console click, a
    renamed resource or a removed block still deletes it).

    ## Why it breaks production
    In the on-call narrative a node scale-down detached a database volume and three hours went
    into recovering a PVC that had no backup (R10); the same night a plan with "14 to destroy"
    was applied unread (6.1). A database with no backups, no final snapshot and no deletion
    protection turns either mistake into permanent data loss.

    ## Bad
    ```hcl envs/prod/main.tf
    resource "aws_db_instance" "payments" {
      identifier              = "payments"
      engine                  = "postgres"
      instance_class          = "db.r6g.large"
      backup_retention_period = 0
      skip_final_snapshot     = true
    }
    ```

    ## Good
    ```hcl envs/prod/main.tf
    resource "aws_db_instance" "payments" {
      identifier                = "payments"
      engine                    = "postgres"
      instance_class            = "db.r6g.large"
      backup_retention_period   = 14
      final_snapshot_identifier = "payments-final"
      deletion_protection       = true
    }
    ```

    ## Fix
    Turn automated backups and point-in-time recovery on, keep the final snapshot, and set
    deletion protection; turning it off becomes a reviewed change of its own.
    """
    v = resource.data.get("values") or {}
    if any(v.get(a) is not None for a in REPLICA_ATTRS):
        return  # a replica: its source holds the backups
    if resource.kind in AWS_DB:
        yield from _aws(resource, v)
    elif resource.kind == "aws_dynamodb_table":
        pitr = tc.block(v, "point_in_time_recovery")
        if pitr is None or "enabled" not in pitr:
            yield Hit(path=() if pitr is None else ("values", "point_in_time_recovery", 0), key=True,
                      message=f"{resource.name} has no point_in_time_recovery {{ enabled = true }}: a bad write or a "
                              f"deleted item cannot be rolled back, and {_GONE}")
        elif pitr["enabled"] is False:
            yield Hit(path=("values", "point_in_time_recovery", 0, "enabled"),
                      message=f"{resource.name} turns point-in-time recovery off: {_GONE}")
    else:
        yield from _cloud_sql(resource, v)


def _aws(resource, v):
    if tc.as_int(v.get("backup_retention_period")) == 0:
        yield Hit(path=("values", "backup_retention_period"),
                  message=f"{resource.name} sets backup_retention_period = 0: automated backups and point-in-time "
                          f"restore are off, so {_GONE}")
    if v.get("skip_final_snapshot") is True:
        yield Hit(path=("values", "skip_final_snapshot"),
                  message=f"{resource.name} sets skip_final_snapshot = true: a destroy or a replacement in a plan "
                          f"deletes it without a last snapshot")
    dp = v.get("deletion_protection", False)
    if dp is False:
        how = ("deletion_protection = false" if "deletion_protection" in v else
               "no deletion_protection (the default is false)")
        yield Hit(path=("values", "deletion_protection") if "deletion_protection" in v else (),
                  key="deletion_protection" not in v,
                  message=f"{resource.name} has {how}: a plan that destroys or replaces it (the unread \"14 to "
                          f"destroy\") deletes the database with nothing in the way")


def _cloud_sql(resource, v):
    for si, settings in tc.blocks(v, "settings"):
        backup = tc.block(settings, "backup_configuration")
        if backup is None or "enabled" not in backup:
            yield Hit(path=("values", "settings", si) + (("backup_configuration", 0) if backup is not None else ()),
                      key=True, message=f"{resource.name} does not enable backup_configuration (backups are off by "
                                        f"default): {_GONE}")
        elif backup["enabled"] is False:
            yield Hit(path=("values", "settings", si, "backup_configuration", 0, "enabled"),
                      message=f"{resource.name} turns automated backups off: {_GONE}")
    if v.get("deletion_protection") is False:
        yield Hit(path=("values", "deletion_protection"),
                  message=f"{resource.name} sets deletion_protection = false: a plan that destroys or replaces it "
                          f"deletes the instance and every database on it")
