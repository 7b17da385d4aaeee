"""PM624: a production data store without `lifecycle { prevent_destroy = true }`."""
from ..registry import Hit, rule
from . import _tfsecrets as ts

# what losing one means, by the first matching word of its type
_LOSS = (("kms", "every object encrypted with it becomes unreadable"),
         ("key_vault", "every secret and key in it goes with it"),
         ("secretsmanager", "the secret and its versions go with it"),
         ("route53_zone", "its records and the domain's delegation go with it"),
         ("bucket", "every object in it goes with it"), ("storage", "every object in it goes with it"),
         ("efs", "every file on it goes with it"), ("filestore", "every file on it goes with it"),
         ("backup_vault", "every recovery point in it goes with it"),
         ("", "its data goes with it and a replacement starts empty"))


@rule(id="PM624", name="prevent-destroy-missing", severity="medium",
      severity_reason="Nothing is lost until a destroying plan is applied, but then nothing stops it.",
      incidents=["6.1"], title="Production data store without prevent_destroy",
      formats=("terraform",), production_only=True,
      options={"types": ts.PREVENT_DESTROY_TYPES},
      fix="Add `lifecycle { prevent_destroy = true }` to production data stores; remove it deliberately, in "
          "a reviewed change, on the day one really must go.")
def check(resource, ctx):
    """## What it checks
    Production resources of the data-holding types (option `types`, fnmatch patterns:
    `aws_db_instance`, `aws_rds_cluster`, `aws_dynamodb_table`, `aws_s3_bucket`, `aws_kms_key`,
    `aws_efs_file_system`, `aws_elasticache_replication_group`, `google_sql_database_instance`,
    `google_storage_bucket`, `azurerm_mssql_database`, `azurerm_postgresql_flexible_server`,
    ...) without `lifecycle { prevent_destroy = true }`: reported at the block when the setting
    is missing, at the value when it is `false`. Production comes from the module's path
    (`envs/prod/`), a tfvars variant (`prod.tfvars`), `var.environment` or the backend key; a
    resource inside a local module counts when the call carries that evidence (a production
    var file, `var.environment`, the backend key), and is reported in the module's file. Provider-side deletion protection
    (`deletion_protection`, `deletion_window_in_days`) is a separate rule and not looked at
    here: `prevent_destroy` stops the plan, deletion protection stops the API call.

    ## Why it breaks production
    In catalog 6.1 a dev configuration applied against production's state destroyed and replaced
    the entire production infrastructure, and in the R6 scene a plan with "14 to destroy" was
    applied without being read. With `prevent_destroy` on the data stores Terraform refuses such a
    plan instead of deleting the databases in it.

    ## Bad
    ```hcl envs/prod/main.tf
    resource "aws_db_instance" "payments" {
      identifier     = "payments"
      engine         = "postgres"
      instance_class = "db.r6g.large"
    }
    ```

    ## Good
    ```hcl envs/prod/main.tf
    resource "aws_db_instance" "payments" {
      identifier     = "payments"
      engine         = "postgres"
      instance_class = "db.r6g.large"

      lifecycle {
        prevent_destroy = true
      }
    }
    ```

    ## Fix
    Add `lifecycle { prevent_destroy = true }` to every production data store (in a shared
    module too: it is cheap in dev and essential in prod); turn on the provider's deletion
    protection as well. When one really must be destroyed, remove the setting in its own
    reviewed change.
    """
    kind = resource.kind
    if kind.startswith("data.") or not ts.matches(kind, ctx.options.get("types") or ts.PREVENT_DESTROY_TYPES):
        return
    lifecycle = (resource.data.get("values") or {}).get("lifecycle") or []
    block = lifecycle[0] if lifecycle and isinstance(lifecycle[0], dict) else {}
    loss = next(text for word, text in _LOSS if word in kind)
    if "prevent_destroy" not in block:
        yield Hit(path=(), message=f"{resource.name} has no `lifecycle {{ prevent_destroy = true }}`: a plan that "
                                   f"destroys or replaces it (a renamed address, a changed identifier, another "
                                   f"environment's configuration against this state) is applied without Terraform "
                                   f"refusing: {loss}")
    elif ts.truth(block["prevent_destroy"]) is False:
        yield Hit(path=("values", "lifecycle", 0, "prevent_destroy"),
                  message=f"{resource.name} sets `prevent_destroy = false`: Terraform applies a plan that destroys or "
                          f"replaces it: {loss}")
