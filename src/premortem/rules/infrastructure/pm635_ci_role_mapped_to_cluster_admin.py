"""PM635 (R11): Terraform makes a CI/CD identity cluster-admin (EKS access policies, aws-auth, RBAC bindings)."""
from ...k8s import awsauth
from ..access import _rbac
from ..registry import Hit, rule
from . import _tfcloud as tc

EKS_MODULES = ("terraform-aws-modules/eks/aws", "terraform-aws-modules/terraform-aws-eks")
CONFIG_MAPS = ("kubernetes_config_map", "kubernetes_config_map_v1", "kubernetes_config_map_v1_data")
BINDINGS = ("kubernetes_cluster_role_binding", "kubernetes_cluster_role_binding_v1")
_R11 = "every pipeline job that can assume it is cluster-admin — R11's rogue Jenkins runner with cluster-admin"


@rule(id="PM635", name="ci-role-mapped-to-cluster-admin", severity="critical",
      severity_reason="The CI system runs whatever is pushed to it: cluster-admin for its identity makes every "
                      "pipeline edit, leaked runner token or compromised build step a full cluster takeover.",
      incidents=["R11", "9.1"], title="Terraform grants a CI/CD identity cluster-admin",
      formats=("terraform",), kinds=("aws_eks_access_policy_association", "module") + CONFIG_MAPS + BINDINGS,
      options=dict(_rbac.DEPLOYER_OPTIONS),
      fix="Give the CI role `AmazonEKSEditPolicy` (or a deployer Role) scoped to the namespaces it ships to, or "
          "let a GitOps controller inside the cluster pull changes; keep cluster-admin for a break-glass role.")
def check(resource, ctx):
    """## What it checks
    A CI/CD identity made cluster-admin by Terraform:
    - `aws_eks_access_policy_association` with `AmazonEKSClusterAdminPolicy`, or
      `AmazonEKSAdminPolicy` with `access_scope { type = "cluster" }`;
    - the terraform-aws-modules `eks` module's `access_entries` with such a
      `policy_associations` entry, and its `aws_auth_roles`/`aws_auth_users` (also of the
      `//modules/aws-auth` submodule; `map_roles`/`map_users` before v18) with `system:masters`;
    - `kubernetes_config_map(_v1)` / `kubernetes_config_map_v1_data` named `aws-auth` whose
      `mapRoles`/`mapUsers` give the identity `system:masters`;
    - `kubernetes_cluster_role_binding(_v1)` of `cluster-admin` to a subject that is CI/CD.
    The identity is CI/CD when its IAM role/user name (or username, service account, namespace)
    carries a CI word as in PM910 (jenkins, gitlab, github, ci, cd, deploy, pipeline, runner...),
    or when the role is defined in the scan with a trust policy that lets GitHub Actions, GitLab
    or Terraform Cloud assume it through OIDC; the finding says so and points at that role.
    Principals Terraform only knows after apply are followed to the resource they reference,
    never guessed.

    ## Why it breaks production
    In the on-call narrative deploys ran from "a rogue Jenkins runner with cluster-admin
    privileges", which pushed an untested `:latest` image past staging into production (R11).
    On EKS that runner's IAM role is made cluster-admin in exactly these Terraform resources.

    ## Bad
    ```hcl main.tf
    resource "aws_eks_access_policy_association" "ci" {
      cluster_name  = "payments"
      principal_arn = "arn:aws:iam::111122223333:role/github-actions-deployer"
      policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
      access_scope {
        type = "cluster"
      }
    }
    ```

    ## Good
    ```hcl main.tf
    resource "aws_eks_access_policy_association" "ci" {
      cluster_name  = "payments"
      principal_arn = "arn:aws:iam::111122223333:role/github-actions-deployer"
      policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
      access_scope {
        type       = "namespace"
        namespaces = ["payments"]
      }
    }
    ```

    ## Fix
    Scope the CI identity to the namespaces it deploys to with an edit-level policy, or move
    deploys to a GitOps controller so CI only pushes to Git.
    """
    v = resource.data.get("values") or {}
    kind, source = resource.kind, str(resource.data.get("source") or "")
    if kind == "aws_eks_access_policy_association":
        grant = _admin_policy(ctx, resource, v.get("policy_arn"), tc.block(v, "access_scope"))
        name, why, related = _who(ctx, resource, v.get("principal_arn")) if grant else ("", "", ())
        if name:
            yield Hit(path=("values", "principal_arn"), related=related,
                      message=f"{grant} is associated with IAM principal '{name}', a CI/CD identity ({why}): {_R11}")
    elif kind == "module" and any(m in source for m in EKS_MODULES):
        found = []  # one finding per attribute: positions inside a map are the attribute's
        entries = v.get("access_entries")
        for key, entry in (entries.items() if isinstance(entries, dict) else []):
            assoc = entry.get("policy_associations") if isinstance(entry, dict) else None
            for pa in (assoc.values() if isinstance(assoc, dict) else []):
                grant = _admin_policy(ctx, resource, pa.get("policy_arn"), pa.get("access_scope"), "cluster") \
                    if isinstance(pa, dict) else ""  # the module's access_scope defaults to the cluster
                name, why, related = _who(ctx, resource, entry.get("principal_arn")) if grant else ("", "", ())
                if name:
                    found.append((f"access_entries.{key} gives '{name}', a CI/CD identity ({why}), {grant}", related))
        if found:
            yield _hit(("values", "access_entries"), found, f"{_R11}")
        for attr, arn_key in (("aws_auth_roles", "rolearn"), ("map_roles", "rolearn"), ("aws_auth_users", "userarn"),
                              ("map_users", "userarn")):
            found = _masters(ctx, resource, tc.structure(v.get(attr)), arn_key, attr)
            if found:
                yield _hit(("values", attr), found, _MASTERS)
    elif kind in CONFIG_MAPS:
        meta = tc.block(v, "metadata") or {}
        data = v.get("data")
        aws_auth = meta.get("name") == "aws-auth" and meta.get("namespace", "kube-system") == "kube-system"
        if aws_auth and isinstance(data, dict):
            found = [f for key, arn_key in (("mapRoles", "rolearn"), ("mapUsers", "userarn"))
                     for f in _masters(ctx, resource, tc.structure(data.get(key)), arn_key, key)]
            if found:
                yield _hit(("values", "data"), found, _MASTERS)
    elif kind in BINDINGS:
        yield from _binding(ctx, resource, v)


_MASTERS = f"that group skips RBAC entirely, and {_R11}"


def _hit(path, found, tail):
    related = tuple(r for _, rel in found for r in rel)
    return Hit(path=path, related=related, message="; ".join(d for d, _ in found) + f": {tail}")


def _admin_policy(ctx, resource, arn, scope, default_scope=None) -> str:
    name = tc.managed_policy(ctx.project, resource, arn)
    stype = scope.get("type") if isinstance(scope, dict) else default_scope
    if name == "AmazonEKSClusterAdminPolicy":
        return name + (" (cluster-wide)" if stype == "cluster" else "")
    if name == "AmazonEKSAdminPolicy" and stype == "cluster":
        return "AmazonEKSAdminPolicy cluster-wide"
    return ""


def _who(ctx, resource, principal):
    return tc.ci_identity(ctx.project, resource, principal, ctx.options, ("aws_iam_role", "aws_iam_user"))


def _masters(ctx, resource, value, arn_key, label) -> list:
    """[(description, related)] of aws-auth entries (a YAML string or a list of maps) putting a CI identity in
    system:masters."""
    items = awsauth.mappings(value, label if label in awsauth.KEYS else "mapRoles")[0] if isinstance(value, str) else [
        awsauth.Mapping(label, i, "", str(m.get("username") or ""), tuple(map(str, tc.strs(m.get("groups")))), raw=m)
        for i, m in enumerate(value if isinstance(value, list) else []) if isinstance(m, dict)]
    found = []
    for m in items:
        if "system:masters" not in m.groups:
            continue
        principal = m.arn or m.raw.get(arn_key)
        name, why, related = _who(ctx, resource, principal)
        word = _rbac.deployer_word(m.username, ctx.options)
        if not name and word:
            name = principal if isinstance(principal, str) else getattr(principal, "text", "") or m.username
            why = f"its username '{m.username}' contains '{word}'"
        if name:
            found.append((f"aws-auth {label} maps '{name}', a CI/CD identity ({why}), to system:masters", related))
    return found


def _binding(ctx, resource, v):
    ref = tc.block(v, "role_ref") or {}
    if ref.get("name") != "cluster-admin" or ref.get("kind", "ClusterRole") != "ClusterRole":
        return
    idx = _rbac.index(ctx.project)
    for i, s in tc.blocks(v, "subject"):
        if not all(isinstance(s.get(k, ""), str) for k in ("kind", "name", "namespace")):
            continue  # unknown subject
        kind = s.get("kind", "")
        ns = (s.get("namespace") or "default") if kind == "ServiceAccount" else ""
        subject = _rbac.Subject(kind, s.get("name", ""), ns)
        if subject.system:
            continue
        why, related = idx.deployer_evidence(subject, ctx.options)
        if why:
            yield Hit(path=("values", "subject", i, "name"), identity=subject.identity, related=tuple(related),
                      message=f"{resource.name} binds cluster-admin cluster-wide to {subject.identity}, a CI/CD "
                              f"identity ({why}): every pipeline job running as it is cluster-admin — R11's rogue "
                              f"Jenkins runner with cluster-admin")
