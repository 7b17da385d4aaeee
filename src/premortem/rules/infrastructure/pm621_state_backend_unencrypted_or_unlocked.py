"""PM621: an S3 state backend without encryption or without state locking."""
from ..registry import Hit, rule
from . import _tfsecrets as ts

_ENCRYPT = ("Terraform writes the state object without asking S3 to encrypt it: the state, with every password and "
            "key it records, is protected at rest only by whatever default the bucket has (many S3-compatible stores "
            "have none) and no KMS key policy limits who can read it")
_LOCK = ("two runs at once (a pipeline and a laptop, two merges) both read and write the same state unlocked: the "
         "later write wins, the state no longer matches what exists, and the next apply recreates or destroys "
         "resources (the R5 split-brain)")


@rule(id="PM621", name="state-backend-unencrypted-or-unlocked", severity="high",
      severity_reason="Unlocked state is corrupted by the first concurrent apply; unencrypted state exposes every "
                      "secret Terraform manages.",
      incidents=["6.3", "R5"], title="S3 state backend without encryption or locking",
      formats=("terraform",), kinds=("backend",),
      fix="Set `encrypt = true` (with `kms_key_id` for a customer key) and `use_lockfile = true` "
          "(Terraform 1.10+) or `dynamodb_table` in the `backend \"s3\"` block.")
def check(resource, ctx):
    """## What it checks
    Every `backend "s3"` block of a root module: `encrypt` must be `true` (missing means false)
    and state locking must be on, through `use_lockfile = true` (Terraform 1.10+) or a
    `dynamodb_table`. It reports which one is missing, at the block, or the value that turns it
    off (`encrypt = false`, `use_lockfile = false` with no table, `dynamodb_table = ""`). A
    partial configuration (no `bucket` in the block: the rest comes from `-backend-config` at
    `terraform init`) and values that are not known are not judged. `gcs` and `azurerm`
    backends are not reported: Google Cloud Storage and Azure Storage encrypt every object and
    both backends lock the state natively (GCS lock files, blob leases). `local`, `http` and
    other backends are out of scope.

    ## Why it breaks production
    In the R5 incident an engineer could not get the DynamoDB lock and applied with
    `-lock=false` while a crashed job still held it: two writers split the state and it took
    thirty-two `terraform import`s to recover; without a lock table that is every concurrent
    apply. In catalog 6.3 the state, synced to S3 without encryption or access control,
    exposed every credential in it.

    ## Bad
    ```hcl main.tf
    terraform {
      backend "s3" {
        bucket = "acme-terraform-state"
        key    = "payments/terraform.tfstate"
        region = "eu-west-1"
      }
    }
    ```

    ## Good
    ```hcl main.tf
    terraform {
      backend "s3" {
        bucket       = "acme-terraform-state"
        key          = "payments/terraform.tfstate"
        region       = "eu-west-1"
        encrypt      = true
        kms_key_id   = "alias/terraform-state"
        use_lockfile = true
      }
    }
    ```

    ## Fix
    Add `encrypt = true` (and `kms_key_id` so reading the state needs the key as well as the
    bucket) and `use_lockfile = true`, or keep `dynamodb_table` on Terraform before 1.10.
    Run `terraform init -reconfigure` afterwards; pipelines then queue on the lock instead of
    racing (`-lock-timeout=10m`).
    """
    if resource.data.get("type") != "s3" or resource.data.get("module"):
        return
    v = resource.data.get("values") or {}
    if "bucket" not in v:  # partial configuration: the rest is given to `terraform init -backend-config`
        return
    where = f"backend \"s3\" (bucket {v['bucket']!r})" if isinstance(v["bucket"], str) else "backend \"s3\""
    missing = []
    encrypt = ts.truth(v.get("encrypt"))
    if "encrypt" not in v:
        missing.append(f"no `encrypt = true`: {_ENCRYPT}")
    elif encrypt is False:
        yield Hit(path=("values", "encrypt"), identity="encrypt",
                  message=f"{where} sets `encrypt = false`: {_ENCRYPT}")
    table, lockfile = v.get("dynamodb_table"), v.get("use_lockfile")
    locked = (isinstance(table, str) and table.strip()) or ts.truth(lockfile) is True
    unknown = ("dynamodb_table" in v and not isinstance(table, str)) or (
        "use_lockfile" in v and ts.truth(lockfile) is None)
    if not locked and not unknown:
        if ts.truth(lockfile) is False:
            yield Hit(path=("values", "use_lockfile"), identity="lock",
                      message=f"{where} sets `use_lockfile = false` and has no `dynamodb_table`: no state locking; {_LOCK}")
        elif "dynamodb_table" in v:
            yield Hit(path=("values", "dynamodb_table"), identity="lock",
                      message=f"{where} has an empty `dynamodb_table` and no `use_lockfile = true`: no state "
                              f"locking; {_LOCK}")
        else:
            missing.append(f"no state locking (neither `use_lockfile = true` nor `dynamodb_table`): {_LOCK}")
    if missing:  # both at the block: one finding, each problem named
        yield Hit(path=(), identity="block", message=f"{where} has " + "; and ".join(missing))
