"""PM620: a literal secret in Terraform source: resource, data, provider, backend and module arguments,
variable defaults and tfvars values (reported where the literal is written)."""
import os
import re

from ..registry import Hit, rule
from . import _tfsecrets as ts

_SKIP = {"lifecycle", "depends_on", "count", "for_each", "provider", "providers", "source", "version", "description"}
_SET_HERE = re.compile(r"^var\.([\w-]+) is set here$")
_HARM = ("it is in the repository and its history, in every plan and in the state in clear text: whoever reads any "
         "of them has it, and deleting the line does not revoke it")


@rule(id="PM620", name="terraform-hardcoded-secret", severity="critical",
      severity_reason="A committed credential is readable by everyone with the repository, its forks and its "
                      "state, for as long as the credential lives.",
      incidents=["6.3"], title="Secret hard-coded in Terraform source or tfvars",
      formats=("terraform",),
      options={"secret_names": ts.SECRET_NAMES, "placeholders": ts.PLACEHOLDERS},
      fix="Rotate the credential; read it at apply time from a secret store (data source or "
          "`manage_master_user_password = true`) or pass it as `TF_VAR_...` from the pipeline's secrets.")
def check(resource, ctx):
    """## What it checks
    Every literal string in the arguments of resources, data sources, providers, backends and
    module calls, in variable defaults and in values set by `*.tfvars` files: attributes (and
    map keys) whose name ends in a secret word (option `secret_names`: `password`,
    `master_password`, `secret`, `secret_key`, `access_key`, `token`, `api_key`, `private_key`,
    `client_secret`, `credentials`, ...; not `password_length`, `kms_key_id`, `secret_arn`),
    the value attributes of secret resources (`aws_secretsmanager_secret_version.secret_string`,
    SecureString `aws_ssm_parameter.value`, `azurerm_key_vault_secret.value`, ...), and values
    that are credentials by shape under any name (private keys, GitHub/GitLab/Slack/Stripe
    tokens, JWTs, connection strings and URLs with a password, an AWS access key ID together
    with a 40-character secret in the same block). `sensitive("...")` around a literal and
    `sensitive = true` on a variable still count: they hide output, not the repository.
    Not secrets, so not reported: values Terraform only knows at apply time
    (`data.aws_secretsmanager_secret_version.x.secret_string`, `random_password.x.result`,
    `var.db_password` without default or tfvars value), empty strings, placeholders (option
    `placeholders`: `changeme`, `REPLACE_ME`, `xxx`, `<db-password>`, `your_token_here`, AWS's
    documented `AKIAIOSFODNN7EXAMPLE`), masks (`****`), store references (`arn:...`,
    `vault:...`), names of secrets kept elsewhere (`auth.existingSecret`, `secret` inside
    `secret_key_ref`/`value_from` blocks), short enum words (`access_token = "hours"`), and an
    AWS key ID alone. Entries of maps and of `jsonencode`d documents are judged by their key, or
    by `name` in `{name = "DB_PASSWORD", value = ...}` pairs (ECS environments, Helm `set`). A value
    that came through a variable is reported where it is written: the tfvars line, the
    variable's `default`, or the module call's argument, with the resource that uses it as
    related location; one from a secret-named `local` is reported at the local only. The secret is never printed: findings show a redacted form.

    ## Why it breaks production
    In catalog 6.3 a junior engineer wrote `password = "SuperSecret123!"` into an
    `aws_db_instance`; Terraform stored it in `terraform.tfstate`, which was synced to a bucket
    with misconfigured public access, exposing every credential in it.

    ## Bad
    ```hcl main.tf
    resource "aws_db_instance" "main" {
      identifier     = "payments"
      engine         = "postgres"
      instance_class = "db.t3.medium"
      username       = "admin"
      password       = "SuperSecret123!"
    }
    ```

    ## Good
    ```hcl main.tf
    data "aws_ssm_parameter" "db_password" {
      name            = "/prod/db/password"
      with_decryption = true
    }

    resource "aws_db_instance" "main" {
      identifier     = "payments"
      engine         = "postgres"
      instance_class = "db.t3.medium"
      username       = "admin"
      password       = data.aws_ssm_parameter.db_password.value
    }
    ```

    ## Fix
    Rotate the credential first: it is in the git history. Then let the service own it
    (`manage_master_user_password = true` for RDS), or read it from Vault, SSM Parameter Store
    or Secrets Manager with a data source, or pass it from the pipeline's secret store as
    `TF_VAR_db_password`; keep the state in an encrypted, access-controlled backend (PM621).
    """
    names = ctx.options.get("secret_names") or ts.SECRET_NAMES
    placeholders = {str(p).lower() for p in ctx.options.get("placeholders", ts.PLACEHOLDERS)}
    values = resource.data.get("values") or {}
    if resource.kind == "variable":
        label = (resource.data.get("labels") or ["?"])[0]
        found = list(ts.leaves(values["default"], ("values", "default"), label)) if "default" in values else []
    else:
        found = [leaf for k, v in values.items() if k not in _SKIP for leaf in ts.leaves(v, ("values", k), k)]
    if resource.kind != "locals":  # a literal from a secret-named local is reported at the local
        written = _secret_locals(resource, ctx, names)
        found = [leaf for leaf in found if leaf[2] not in written]
    key_ids = [i for _, _, s in found for i in ts.aws_ids(s)]
    groups: dict = {}  # the attribute (or block attribute) a secret sits in -> [(leaf path, value, what, parts, label)]
    for path, name, value in found:
        what = _classify(resource, path, name, value, key_ids, names, placeholders)
        inside = [] if what else [(p, n, v, _classify(resource, p, n, v, key_ids, names, placeholders))
                                  for p, n, v in ts.json_leaves(path, value)]  # a jsonencode'd document
        for p, n, v, w in [(path, name, value, what)] + inside:
            if w:
                attr = next(p[:k] for k in range(len(p), 1, -1) if p[:k] in resource.key_positions or k == 2)
                label = ".".join(str(x) for x in p[len(attr):]) + (f" ({n})" if n != p[-1] else "")
                groups.setdefault(attr, []).append((p, v) + w + (label,))
    for attr, leaves in groups.items():
        yield _hit(resource, attr, leaves)


def _secret_locals(resource, ctx, names) -> set:
    """Literal values of secret-named locals of the same module (`locals { db_password = "..." }`)."""
    def compute(project):
        table: dict = {}
        for e in project.of_kind("locals"):
            key = (ts.module_prefix(e.name), os.path.dirname(e.file))
            table.setdefault(key, set()).update(
                v for _, n, v in ts.leaves(e.facts.get("values") or {}, (), "") if ts.secret_name(n, names))
        return table

    table = ctx.project.memo(f"PM620 secret locals {names!r}", compute)
    return table.get((ts.module_prefix(resource.name), os.path.dirname(resource.file)), set())


def _classify(resource, path, name, value, key_ids, names, placeholders):
    """(what the value is, the secret parts to redact) or None."""
    found = ts.pattern_secret(value)
    if found:
        return found[0], (found[1],)
    keys = ts.aws_secrets(value) if key_ids else []
    if keys:
        ids = ts.aws_ids(value) or key_ids
        return f"an AWS secret access key (paired with key ID {ids[0]})", tuple(keys) + tuple(dict.fromkeys(key_ids))
    if ts.aws_ids(value):  # a key ID alone identifies a key; it is reported with its secret
        return None
    if ts.placeholder(value, placeholders):
        return None
    rtype, attr = resource.data.get("type"), path[1] if len(path) > 1 else ""
    for t, a, cond in ts.SECRET_VALUES:
        if rtype == t and attr == a and len(path) == 2 and (cond is None or cond(resource.data.get("values") or {})):
            return f"the secret value of {rtype}.{a}", (value,)
    matched = ts.secret_name(name, names)
    if matched and ts.plausible(value) and not ts.in_reference(path):
        return f"a literal {matched.replace('_', ' ')}", (value,)
    return None


def _hit(resource, path, leaves):
    secrets = []
    for _, value, _, parts, _ in leaves:
        lines = tuple(ln.strip() for ln in value.splitlines() if len(ln.strip()) >= 8) if "\n" in value else ()
        secrets += [value, *parts, *lines, *ts.inner_secrets(value)]
    secrets = tuple(dict.fromkeys(secrets))
    attr = ".".join(str(p) for p in path[1:])
    whole = len(leaves) == 1 and leaves[0][0] == path
    if whole:
        what = f"{leaves[0][2]} ({leaves[0][1]})"
    else:  # entries of a map (lambda environment variables, a secret's data): each named
        what = "; ".join(f"`{label}` is {w} ({v})" for _, v, w, _, label in leaves)
    if resource.kind == "variable":
        label = (resource.data.get("labels") or ["?"])[0]
        hidden = (" (`sensitive = true` hides it from plan output, not from the repository)"
                  if (resource.data.get("values") or {}).get("sensitive") is True else "")
        return Hit(path=path, key=True, secrets=secrets, identity=attr,
                   message=f"variable '{label}' {'defaults to' if whole else 'has a default where'} {what}{hidden}: {_HARM}")
    origins = resource.related(path)
    if len(origins) == 1 and whole:
        # the attribute's whole value came through one variable: report where the literal is written
        src, note = origins[0]
        m = _SET_HERE.match(note)
        via = f"var.{m.group(1)}" if m else "a variable"
        # path () so the engine adds no "set here" note pointing at the finding itself; identity keeps it apart
        return Hit(path=(), key=True, secrets=secrets, identity=attr, at=src,
                   related=((path, f"{resource.name} uses it as `{attr}`"),),
                   message=f"{what} is written here and reaches `{attr}` of {resource.name} through {via}: {_HARM}")
    return Hit(path=path, key=True, secrets=secrets, identity=attr,
               message=f"{resource.name}: `{attr}` is {what} written in the configuration: {_HARM}" if whole
               else f"{resource.name}: `{attr}` holds literal secrets: {what}: {_HARM}")
