"""PM911 (R11): the EKS aws-auth ConfigMap maps a CI/CD IAM role or user to system:masters."""
from ...k8s import awsauth
from ...model import Source
from ..registry import Hit, rule
from . import _rbac


@rule(id="PM911", name="ci-role-in-system-masters", severity="critical",
      severity_reason="system:masters bypasses RBAC entirely and cannot be revoked by deleting a binding: every "
                      "job that can assume the CI role is cluster-admin.",
      incidents=["R11", "9.1"], title="aws-auth maps a CI/CD IAM identity to system:masters",
      kinds=["ConfigMap"], production_only=False, options=dict(_rbac.DEPLOYER_OPTIONS),
      fix="Map the CI role to its own group (`ci-deployers`) and bind that group with RoleBindings to a deployer "
          "Role in the namespaces it ships to; keep system:masters for the cluster creator's break-glass role.")
def check(resource, ctx):
    """## What it checks
    The EKS `aws-auth` ConfigMap (`kube-system`): each `mapRoles`/`mapUsers` entry whose
    `groups` contain `system:masters`, or a group that a ClusterRoleBinding in the scan binds to
    cluster-admin (or to a ClusterRole granting `*` on `*`), and whose IAM role/user name (path
    included) or `username` names CI/CD: jenkins, gitlab, github, spinnaker, tekton, circleci,
    buildkite, codebuild... anywhere, or the words ci, cd, cicd, deploy, deployer, pipeline,
    runner (options as in PM910). Each such entry is one finding at its own `rolearn`/`userarn`
    line when the map is a literal block in a plain YAML file; in JSON, quoted or rendered
    strings (whose lines are not the file's) the entries are reported together on the
    `mapRoles:`/`mapUsers:` key. Not reported: admin roles for humans (`eks-admins`, SSO `AdministratorAccess`),
    node roles in `system:bootstrappers`/`system:nodes`, and CI roles mapped to a scoped group.

    ## Why it breaks production
    The on-call narrative's deploys ran from "a rogue Jenkins runner with cluster-admin
    privileges", which pushed an untested `:latest` build past staging into production (R11). On
    EKS that runner's IAM role is usually made admin in exactly this ConfigMap.

    ## Bad
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: aws-auth, namespace: kube-system}
    data:
      mapRoles: |
        - rolearn: arn:aws:iam::111122223333:role/jenkins-eks-deployer
          username: jenkins
          groups:
            - system:masters
    ```

    ## Good
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: aws-auth, namespace: kube-system}
    data:
      mapRoles: |
        - rolearn: arn:aws:iam::111122223333:role/jenkins-eks-deployer
          username: jenkins
          groups:
            - ci-deployers
    ```

    ## Fix
    Map the CI role to a group of its own and grant that group a namespaced deployer Role; with
    EKS access entries, give it `AmazonEKSEditPolicy` scoped to the target namespaces instead of
    `AmazonEKSClusterAdminPolicy`.
    """
    if not awsauth.is_aws_auth(resource):
        return
    idx = _rbac.index(ctx.project)
    admin, binding_at = {"system:masters": "system:masters"}, {}
    for b in idx.bindings:
        if b.cluster and b.ref_kind == "ClusterRole" and (
                b.ref_name == "cluster-admin" or _rbac.full_admin(idx.effective_rules(b.ref_name))):
            for s in b.subjects:
                if s.kind == "Group" and not s.system:
                    admin.setdefault(s.name, f"{s.name} (bound to {b.ref_name} by {b.label})")
                    binding_at.setdefault(s.name, (b.ref_at, f"{b.label} binds group {s.name} to {b.ref_name}"))
    data = resource.get(("data",))
    for key in awsauth.KEYS:
        found, related, masters = [], [], False
        for m in awsauth.mappings(data.get(key) if isinstance(data, dict) else None, key)[0]:
            groups = [admin[g] for g in m.groups if g in admin]
            if not groups:
                continue
            word = _rbac.deployer_word(m.iam_name, ctx.options) or _rbac.deployer_word(m.username, ctx.options)
            if not word:
                continue
            what = f"{m.kind} {m.arn}, a CI/CD identity ('{word}'), to {', '.join(groups)}"
            bindings = tuple(binding_at[g] for g in m.groups if g in binding_at)
            line = awsauth.file_line(resource, key, m)
            if line:  # a literal block in a plain file: one finding at the entry's own line
                yield Hit(path=("data", key), at=Source(resource.file, line, 0), identity=f"{key}:{m.arn}",
                          message=_message(key, what, "system:masters" in m.groups), related=bindings)
                continue
            masters = masters or "system:masters" in m.groups
            found.append(what)
            related.extend(b for b in bindings if b not in related)
        if found:  # JSON, quoted or rendered strings: their lines are not the file's, so report the key
            yield Hit(path=("data", key), message=_message(key, "; ".join(found), masters),
                      related=tuple(related), identity=key)


def _message(key: str, what: str, masters: bool) -> str:
    tail = ("system:masters skips RBAC so no binding can take it back" if masters else
            "the group's ClusterRoleBinding makes it so")
    return (f"aws-auth {key} maps {what}: every pipeline job holding that identity is cluster-admin, and "
            f"{tail} — the rogue Jenkins runner with cluster-admin privileges of R11")
