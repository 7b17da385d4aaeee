"""PM622: the S3 bucket that holds the Terraform state, defined in the same scan, without versioning or
without a full public access block."""
import os

from ...model import Source
from ...parse.hcl_eval import Unknown
from ..registry import Hit, rule
from . import _tfsecrets as ts

FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


@rule(id="PM622", name="state-bucket-unprotected", severity="high",
      severity_reason="Without versions a corrupted state cannot be rolled back; a public state bucket publishes "
                      "every secret in the state.",
      incidents=["6.3"], title="Terraform state bucket without versioning or public access block",
      formats=("terraform",), kinds=("aws_s3_bucket",),
      fix="Add `aws_s3_bucket_versioning` (status Enabled) and `aws_s3_bucket_public_access_block` with all four "
          "settings true for the state bucket.")
def check(resource, ctx):
    """## What it checks
    An `aws_s3_bucket` whose `bucket` is the bucket of a `backend "s3"` in the same scan (the
    state bucket, managed by Terraform itself): it needs versioning, from an
    `aws_s3_bucket_versioning` with `status = "Enabled"` that names it (by reference,
    `bucket = aws_s3_bucket.state.id`, or by literal name) or the legacy inline
    `versioning { enabled = true }`; and public access blocked, from an
    `aws_s3_bucket_public_access_block` that names it with `block_public_acls`,
    `block_public_policy`, `ignore_public_acls` and `restrict_public_buckets` all true (or an
    `aws_s3_account_public_access_block` with all four). Reported at the bucket, naming what is
    missing or which settings are off. Values that are not known (a bucket name from a
    variable nobody set, a versioning resource whose bucket cannot be resolved in the same
    module) are not findings. Buckets created through remote modules are not seen.

    ## Why it breaks production
    In catalog 6.3 the state file was synced to an S3 bucket with misconfigured public access and
    every credential in it was exposed. In the R5 incident a `-lock=false` apply corrupted the
    state; with bucket versioning the previous state version is one restore away, without it
    recovery took thirty-two `terraform import`s.

    ## Bad
    ```hcl main.tf
    terraform {
      backend "s3" {
        bucket = "acme-terraform-state"
        key    = "bootstrap/terraform.tfstate"
      }
    }

    resource "aws_s3_bucket" "state" {
      bucket = "acme-terraform-state"
    }
    ```

    ## Good
    ```hcl main.tf
    terraform {
      backend "s3" {
        bucket = "acme-terraform-state"
        key    = "bootstrap/terraform.tfstate"
      }
    }

    resource "aws_s3_bucket" "state" {
      bucket = "acme-terraform-state"
    }

    resource "aws_s3_bucket_versioning" "state" {
      bucket = aws_s3_bucket.state.id
      versioning_configuration {
        status = "Enabled"
      }
    }

    resource "aws_s3_bucket_public_access_block" "state" {
      bucket                  = aws_s3_bucket.state.id
      block_public_acls       = true
      block_public_policy     = true
      ignore_public_acls      = true
      restrict_public_buckets = true
    }
    ```

    ## Fix
    Version the state bucket (and keep old versions with a lifecycle rule for noncurrent
    versions rather than deleting them) and block every form of public access on it; AWS blocks
    public access on buckets created since April 2023, but only the configuration keeps a
    console change or an older bucket from undoing it.
    """
    name = (resource.data.get("values") or {}).get("bucket")
    if not isinstance(name, str) or not name:
        return
    here = os.path.dirname(resource.file)
    backends = sorted((e for e in ctx.project.of_kind("backend") if e.facts.get("type") == "s3"
                       and (e.facts.get("values") or {}).get("bucket") == name),
                      key=lambda e: (os.path.dirname(e.file) != here, e.file, e.line))  # its own module's first
    if not backends:
        return
    backend = backends[0]
    problems = [p for p in (_versioning(resource, ctx, name), _public_access(resource, ctx, name)) if p]
    if problems:
        yield Hit(path=(), related=((Source(backend.file, backend.line, 1), "the backend keeps its state here"),),
                  message=f"{resource.name} holds the Terraform state (backend \"s3\" bucket {name!r}) but has "
                          + "; and ".join(problems))


def _targets(resource, entry, name: str):
    """True when the entry's `bucket` names this bucket, None when it may (unknown), else False."""
    ref = (entry.facts.get("values") or {}).get("bucket")
    if isinstance(ref, str):
        return ref == name
    same_module = (ts.module_prefix(entry.name) == ts.module_prefix(resource.name)
                   and os.path.dirname(entry.file) == os.path.dirname(resource.file))
    if not isinstance(ref, Unknown) or not same_module:
        return False
    if ts.local_address(resource.name) in ref.refs:
        return True
    return None if not any(r.startswith("aws_s3_bucket.") for r in ref.refs) else False


def _versioning(resource, ctx, name: str) -> str:
    inline = ((resource.data.get("values") or {}).get("versioning") or [{}])[0]
    if isinstance(inline, dict) and "enabled" in inline and ts.truth(inline["enabled"]) is not False:
        return ""  # legacy inline versioning (enabled, or not known)
    off = ""
    for e in ctx.project.of_kind("aws_s3_bucket_versioning"):
        t = _targets(resource, e, name)
        if t is None:
            return ""
        if t:
            status = (((e.facts.get("values") or {}).get("versioning_configuration") or [{}])[0] or {}).get("status")
            if not isinstance(status, str) or status == "Enabled":
                return ""
            off = f" ({e.name} sets status {status!r})"
    return (f"no versioning{off or ' (no aws_s3_bucket_versioning with status Enabled names it)'}: a corrupted or "
            "overwritten state (an unlocked apply, a wrong `terraform state push`) cannot be rolled back to the "
            "version before")


def _public_access(resource, ctx, name: str) -> str:
    for e in ctx.project.of_kind("aws_s3_account_public_access_block"):
        v = e.facts.get("values") or {}
        if all(f in v and ts.truth(v[f]) is not False for f in FLAGS):
            return ""
    partial = ""
    for e in ctx.project.of_kind("aws_s3_bucket_public_access_block"):
        t = _targets(resource, e, name)
        if t is None:
            return ""
        if t:
            off = [f for f in FLAGS if ts.truth((e.facts.get("values") or {}).get(f)) is False
                   or f not in (e.facts.get("values") or {})]
            if not off:
                return ""
            partial = f"{e.name} leaves {', '.join(off)} off"
    harm = ("one bucket policy or ACL mistake makes the state, and every secret Terraform stored in it, readable by "
            "anyone (the 6.3 incident)")
    return f"{partial}: {harm}" if partial else (
        f"no public access block (no aws_s3_bucket_public_access_block with all four settings true): {harm}")
