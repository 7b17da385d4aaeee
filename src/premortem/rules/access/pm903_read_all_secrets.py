"""PM903: a ClusterRole bound cluster-wide lets its holders read every Secret in the cluster."""
from ..registry import Hit, rule
from . import _rbac


@rule(id="PM903", name="cluster-wide-secret-read", severity="high",
      severity_reason="Reading Secrets cluster-wide is reading every database password, API key, TLS key and "
                      "service-account token at once: one stolen token becomes every credential.",
      incidents=["9.1"], title="ClusterRole bound cluster-wide can read all Secrets",
      kinds=["ClusterRole"], production_only=False,
      fix="Grant Secret access in a namespaced Role, limited with `resourceNames` to the Secrets the workload "
          "mounts; better, mount Secrets as volumes and grant no Secret verbs at all.")
def check(resource, ctx):
    """## What it checks
    A rule of a ClusterRole that grants `get`, `list` or `watch` (or `*` verbs, which PM902
    reports instead) on `secrets` of the core group with no `resourceNames`, when the role is
    granted cluster-wide: a ClusterRoleBinding in the scan binds it, or a ClusterRole that
    aggregates it (aggregationRule selectors matching its labels) is bound by one. A role
    labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"` is reported too: the built-in
    `view` role (deliberately Secret-free) would then hand Secrets to everyone who has `view`.
    Not reported: the same role bound only by RoleBindings (one namespace), a role no binding in
    the scan uses, roles Kubernetes ships (`system:*`), and rules limited by `resourceNames`.

    ## Why it breaks production
    In catalog 9.1 the attacker's first move with the stolen service-account token was to list
    all Secrets in the cluster; with those credentials they exfiltrated data and the cluster had
    to be rebuilt from scratch.

    ## Bad
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: config-reader}
    rules:
      - apiGroups: [""]
        resources: ["configmaps", "secrets"]
        verbs: ["get", "list", "watch"]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: config-reader}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: config-reader}
    subjects: [{kind: ServiceAccount, name: payment-api, namespace: production}]
    ```

    ## Good
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: config-reader}
    rules:
      - apiGroups: [""]
        resources: ["configmaps", "secrets"]
        verbs: ["get", "list", "watch"]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: config-reader, namespace: production}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: config-reader}
    subjects: [{kind: ServiceAccount, name: payment-api, namespace: production}]
    ```

    ## Fix
    Bind the role with a RoleBinding in the namespace whose Secrets the workload needs, and list
    them by `resourceNames`; mount Secrets as files instead of reading them through the API.
    """
    if _rbac.is_system_name(resource.name) or resource.labels.get("kubernetes.io/bootstrapping") == "rbac-defaults":
        return
    rules = resource.get(("rules",))
    if not isinstance(rules, list):
        return
    idx = _rbac.index(ctx.project)
    grants = [(b, via) for b, via in idx.grants("ClusterRole", resource.name, "", resource.labels) if b.cluster]
    into_view = "view" in idx.aggregators(resource.labels) and "view" not in idx.clusterroles
    if not grants and not into_view:
        return
    if grants:
        who = _rbac.describe_grants(grants)
    else:
        who = ("aggregated into the built-in 'view' ClusterRole by its aggregate-to-view label, so everyone "
               "bound to view, edit or admin gets it")
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or _rbac.wildcard(r) is not None:
            continue  # PM902 reports wildcards
        resources = _rbac.strings(r, "resources")
        verbs = [v for v in _rbac.READ_VERBS if _rbac.allows(r, v, "secrets")]
        if "secrets" not in resources or not verbs:
            continue
        yield Hit(path=("rules", i, "resources", resources.index("secrets")),
                  message=f"ClusterRole '{resource.name}' grants {', '.join(verbs)} on Secrets in every namespace, "
                          f"{who}: one compromised pod token or leaked kubeconfig of these identities reads every "
                          f"password, TLS key and token in the cluster — the first step of the 9.1 compromise",
                  related=_rbac.related_grants(grants, resource.name), identity=str(i))
