"""PM901: a ClusterRoleBinding hands a built-in cluster-admin/admin/edit role to a non-system identity."""
from ...model import Severity, Source
from ..registry import Hit, rule
from . import _rbac


@rule(id="PM901", name="cluster-wide-admin-binding", severity="high",
      severity_reason="Whoever holds the identity (or compromises a pod using it) reads every Secret and runs pods "
                      "in every namespace; critical for cluster-admin and for catch-all groups.",
      incidents=["9.1"], title="ClusterRoleBinding grants cluster-admin, admin or edit cluster-wide",
      kinds=["ClusterRoleBinding"], production_only=False,
      options={"roles": list(_rbac.POWERFUL_ROLES), **_rbac.DEPLOYER_OPTIONS},
      fix="Bind a Role with the verbs and resources the identity uses, per namespace (RoleBinding); keep "
          "cluster-admin for break-glass humans, never for workloads' service accounts.")
def check(resource, ctx):
    """## What it checks
    A ClusterRoleBinding whose `roleRef` is the built-in `cluster-admin`, `admin` or `edit`
    ClusterRole (option `roles`). Each subject is reported at its `name`, with the workloads
    that run as it (found through the project index) as related locations. Not reported:
    identities Kubernetes ships (`system:*`, `eks:*` users and groups, bootstrap bindings
    labelled `kubernetes.io/bootstrapping: rbac-defaults`), RoleBindings (a grant limited to one
    namespace), and CI/CD deployer identities bound to cluster-admin, which PM910 reports as
    critical. Catch-all groups (`system:authenticated`, `system:serviceaccounts[:ns]`,
    `system:unauthenticated`) are reported, critical. Fires everywhere: a ClusterRoleBinding has
    no namespace, and cluster-wide rights in any cluster reach that cluster's production data.

    ## Why it breaks production
    In catalog 9.1 a microservice hit by an RCE ran as a service account bound to cluster-admin:
    the attacker used its token to list every Secret in the cluster, deployed a crypto-miner and
    exfiltrated credentials through a sidecar. The cluster had to be rebuilt from scratch.

    ## Bad
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: payment-api-admin}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    subjects:
      - kind: ServiceAccount
        name: payment-api
        namespace: production
    ```

    ## Good
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: payment-api-view}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    subjects:
      - kind: ServiceAccount
        name: payment-api
        namespace: production
    ```

    ## Fix
    Write a Role listing the resources and verbs the workload calls (the seed's `read-pods`:
    `get`/`list` on `pods`), bind it with a RoleBinding in the workload's namespace, and give
    each workload its own service account.
    """
    role = str(resource.get(("roleRef", "name")) or "")
    if resource.get(("roleRef", "kind")) != "ClusterRole" or role not in ctx.options.get("roles", []):
        return
    if resource.labels.get("kubernetes.io/bootstrapping") == "rbac-defaults":
        return
    idx = _rbac.index(ctx.project)
    what = _rbac.POWERFUL_ROLES.get(role, "broad rights")
    for i, s in enumerate(_rbac.subjects_of(resource.get(("subjects",)), "")):
        if s.system:
            continue
        if role == "cluster-admin" and idx.deployer_evidence(s, ctx.options)[0]:
            continue  # PM910 (R11) reports CI/CD deployers with cluster-admin
        related, users = [], ""
        if s.sa is not None:
            ws = idx.workloads_of(*s.sa)
            related = [(Source(w.file, w.line), f"{w.kind} {w.namespace or '-'}/{w.name} runs as {s.identity}")
                       for w in ws]
            if ws:
                users = f" ({', '.join(f'{w.kind} {w.name}' for w in ws[:3])} run{'s' if len(ws) == 1 else ''} as it)"
        who = f"{s.identity} ({s.broad})" if s.broad else f"{s.identity}{users}"
        holder = ("any compromised pod or leaked credential" if s.broad else
                  "one compromised pod holding its token" if s.sa is not None else "one leaked or phished credential")
        critical = role == "cluster-admin" or bool(s.broad)
        yield Hit(path=("subjects", i, "name"),
                  message=f"ClusterRoleBinding '{resource.name}' grants {who} the built-in '{role}' ClusterRole "
                          f"({what}): {holder} can list all Secrets and deploy crypto-miners cluster-wide, as "
                          f"in the 9.1 incident",
                  severity=Severity.CRITICAL if critical else None, related=tuple(related),
                  identity=s.identity)
