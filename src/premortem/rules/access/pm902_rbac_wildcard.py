"""PM902: a Role or ClusterRole grants `*` verbs or `*` resources on Kubernetes' own API groups."""
from ...model import Severity
from ..registry import Hit, rule
from . import _rbac

SENSITIVE = {"secrets", "pods", "pods/exec", "serviceaccounts", "serviceaccounts/token", "roles", "rolebindings",
             "clusterroles", "clusterrolebindings", "nodes", "namespaces", "deployments", "daemonsets", "statefulsets",
             "replicasets", "jobs", "cronjobs", "mutatingwebhookconfigurations", "validatingwebhookconfigurations",
             "customresourcedefinitions", "persistentvolumes"}


@rule(id="PM902", name="rbac-wildcard", severity="high",
      severity_reason="A wildcard grants everything the API has and will have (Secrets, exec, RBAC itself); critical "
                      "when a ClusterRole is `*` on `*` in `*`, which is cluster-admin under another name.",
      incidents=["9.1"], title="RBAC rule grants wildcard verbs or resources",
      kinds=["Role", "ClusterRole"], production_only=False,
      fix="List the verbs and resources the identity uses (`get`/`list` on `pods`, `patch` on `deployments`); "
          "start from `kubectl auth can-i --list --as=system:serviceaccount:NS:NAME` and the audit log.")
def check(resource, ctx):
    """## What it checks
    Each rule of a Role or ClusterRole whose `verbs` contain `*` on a built-in API group (the
    core group `""`, `*`, `apps`, `batch`, `policy`, `autoscaling`, `extensions`, any
    `*.k8s.io` but the read-only metrics APIs), or whose `resources` contain `*` on the core or
    `*` group, or together with a write verb. It reports at the `*` and names who is bound to the role through the project
    index: RoleBindings and ClusterRoleBindings to it, and to any ClusterRole that aggregates it
    (its `aggregationRule` selects the role's labels, or the role carries a built-in
    `aggregate-to-admin/edit/view` label). Not reported: roles Kubernetes ships (`system:*`,
    `kubernetes.io/bootstrapping: rbac-defaults`), rules limited by `resourceNames`, `*` on a
    CRD's own group (`monitoring.coreos.com`), anything on `metrics.k8s.io` (served read-only), and
    read-only `*` resources on a non-core group (`apps`). Severity: critical for a ClusterRole with `*`/`*`/`*`, medium for `*`
    verbs on resources that reach no Secret, pod, workload, node or RBAC object, high otherwise.

    ## Why it breaks production
    In catalog 9.1 overly permissive RBAC rules let a compromised pod's token list every Secret in
    the cluster and start a crypto-miner; the cluster had to be rebuilt. A wildcard also grows
    with the API: every CRD installed later is covered too.

    ## Bad
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: payment-api}
    rules:
      - apiGroups: ["*"]
        resources: ["*"]
        verbs: ["*"]
    ```

    ## Good
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: read-pods, namespace: production}
    rules:
      - apiGroups: [""]
        resources: ["pods"]
        verbs: ["get", "list"]
    ```

    ## Fix
    Replace the wildcard with the verbs and resources the identity calls, in a namespaced Role
    where possible, as in the seed's `read-pods` Role (`get`, `list` on `pods`).
    """
    if _rbac.is_system_name(resource.name) or resource.labels.get("kubernetes.io/bootstrapping") == "rbac-defaults":
        return
    rules = resource.get(("rules",))
    if not isinstance(rules, list):
        return
    idx = _rbac.index(ctx.project)
    grants = idx.grants(resource.kind, resource.name, resource.namespace, resource.labels)
    bound = _rbac.describe_grants(grants)
    for i, r in enumerate(rules):
        if not isinstance(r, dict):
            continue
        found = _rbac.wildcard(r)
        if found is None:
            continue
        what, field, j = found
        groups = ", ".join(f"'{g}'" for g in _rbac.groups_of(r))
        resources = _rbac.strings(r, "resources")
        cluster_wide = resource.kind == "ClusterRole" and (not grants or any(b.cluster for b, _ in grants))
        core = bool({"", "*"} & set(_rbac.groups_of(r)))
        severity, then = None, "lists all Secrets and deploys crypto-miners, as in 9.1"
        if _rbac.full_admin([r]):
            effect = ("every verb on every resource of every API group: cluster-admin under another name"
                      if cluster_wide else "every verb on every resource of the namespaces it is bound in, "
                                           "Secrets and RBAC included")
            severity = Severity.CRITICAL if cluster_wide else None
        elif "*" in resources:
            effect = f"every resource of API group(s) {groups}" + (", Secrets included" if core else "")
            if not core:
                then = "starts crypto-miners as new workloads, as in 9.1"
        else:
            reach = sorted(set(resources) & SENSITIVE)
            effect = f"every verb (delete, deletecollection, escalate...) on {', '.join(resources)}"
            if not reach:
                severity, then = Severity.MEDIUM, f"can also delete or rewrite every one of its {', '.join(resources)}"
        yield Hit(path=("rules", i, field, j),
                  message=f"{resource.kind} '{resource.name}' rule {i + 1} grants wildcard {what} — {effect}; "
                          f"{bound}. A compromised pod holding such a token {then}",
                  severity=severity, related=_rbac.related_grants(grants, resource.name), identity=str(i))
