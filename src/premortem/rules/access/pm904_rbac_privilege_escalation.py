"""PM904: a Role or ClusterRole grants a privilege-escalation path (impersonate, escalate/bind, and
cluster-wide exec/attach/port-forward or pod/workload creation)."""
from ..registry import Hit, rule
from . import _rbac

RBAC = ("rbac.authorization.k8s.io",)
# (verb, resource, API groups, what it gives): granted at any scope
ANYWHERE = [("impersonate", "users", ("",), "impersonate any user"),
            ("impersonate", "groups", ("",), "impersonate any group, system:masters included"),
            ("impersonate", "serviceaccounts", ("",), "act as any service account"),
            ("escalate", "roles", RBAC, "escalate: write roles granting more than it holds"),
            ("escalate", "clusterroles", RBAC, "escalate: write ClusterRoles granting more than it holds"),
            ("bind", "roles", RBAC, "bind: bind any role, cluster-admin's included, to itself"),
            ("bind", "clusterroles", RBAC, "bind: bind any ClusterRole, cluster-admin included, to itself")]
# granted cluster-wide (a ClusterRoleBinding): reaches every namespace, kube-system included
CLUSTER_WIDE = [("create", "pods/exec", ("",), "exec into every pod and read its mounted Secrets and tokens"),
                ("get", "pods/exec", ("",), "exec into every pod and read its mounted Secrets and tokens"),
                ("create", "pods/attach", ("",), "attach to every pod's processes"),
                ("create", "pods/portforward", ("",), "port-forward to every pod, around NetworkPolicies and auth"),
                ("create", "pods", ("",), "start pods as any service account (kube-system's too) or with hostPath"),
                ("create", "deployments", ("apps",), "start pods through Deployments in any namespace"),
                ("create", "daemonsets", ("apps",), "start a pod on every node through a DaemonSet"),
                ("create", "statefulsets", ("apps",), "start pods through StatefulSets in any namespace"),
                ("create", "replicasets", ("apps",), "start pods through ReplicaSets in any namespace"),
                ("create", "replicationcontrollers", ("",), "start pods through ReplicationControllers"),
                ("create", "jobs", ("batch",), "start pods through Jobs in any namespace"),
                ("create", "cronjobs", ("batch",), "start pods through CronJobs in any namespace"),
                ("create", "serviceaccounts/token", ("",), "mint a token for any service account"),
                ("get", "nodes/proxy", ("",), "call every kubelet's API, which runs commands in any pod")]


@rule(id="PM904", name="rbac-privilege-escalation", severity="high",
      severity_reason="Each of these verbs turns a limited identity into cluster-admin in one or two API calls.",
      incidents=["9.1"], title="RBAC rule grants a privilege-escalation path",
      kinds=["Role", "ClusterRole"], production_only=False,
      fix="Drop impersonate/escalate/bind; grant exec, port-forward and pod/workload creation per namespace with "
          "a RoleBinding (a deployer's Role in its target namespace), never through a ClusterRoleBinding.")
def check(resource, ctx):
    """## What it checks
    Each rule of a Role or ClusterRole (PM902 reports the ones with wildcards) for verbs that
    bypass RBAC: `impersonate` on users, groups or service accounts, `escalate` or `bind` on
    roles or ClusterRoles, at any scope. When a ClusterRoleBinding in the scan grants the role
    cluster-wide (directly or through an aggregating ClusterRole), also `pods/exec`,
    `pods/attach`, `pods/portforward`, `create` on pods or on workload controllers (Deployments,
    DaemonSets, StatefulSets, ReplicaSets, Jobs, CronJobs), `serviceaccounts/token` and
    `nodes/proxy`: in every namespace, kube-system included, these let the holder run code as
    any service account. The same verbs in a namespaced Role (a deployer's Role in its target
    namespace) are not reported. Rules limited by `resourceNames` and roles Kubernetes ships
    (`system:*`) are skipped. The message names who is bound (through the project index).

    ## Why it breaks production
    In catalog 9.1 the compromised pod's token was enough to deploy a crypto-mining container and
    an exfiltrating sidecar: pod creation cluster-wide is code execution as any identity, and the
    cluster had to be rebuilt from scratch.

    ## Bad
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: debug-helper}
    rules:
      - apiGroups: [""]
        resources: ["pods", "pods/exec"]
        verbs: ["get", "list", "create"]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: debug-helper}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: debug-helper}
    subjects: [{kind: ServiceAccount, name: payment-api, namespace: production}]
    ```

    ## Good
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: production}
    rules:
      - apiGroups: ["apps"]
        resources: ["deployments"]
        verbs: ["get", "list", "create", "patch"]
    ```

    ## Fix
    Remove impersonate, escalate and bind. Grant exec and workload creation with a Role in the
    one namespace that needs it, and run debugging through short-lived, audited access.
    """
    if _rbac.is_system_name(resource.name) or resource.labels.get("kubernetes.io/bootstrapping") == "rbac-defaults":
        return
    rules = resource.get(("rules",))
    if not isinstance(rules, list):
        return
    idx = _rbac.index(ctx.project)
    grants = idx.grants(resource.kind, resource.name, resource.namespace, resource.labels)
    cluster = [(b, via) for b, via in grants if b.cluster]
    checks = ANYWHERE + (CLUSTER_WIDE if cluster else [])
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or _rbac.wildcard(r) is not None:
            continue
        verbs, resources = _rbac.strings(r, "verbs"), _rbac.strings(r, "resources")
        found, spots = [], []
        for verb, res, groups, gives in checks:
            if not _rbac.allows(r, verb, res, groups) or gives in found:
                continue
            found.append(gives)
            if verb in ("impersonate", "escalate", "bind") and verb in verbs:
                spots.append(("verbs", verbs.index(verb)))
            elif res in resources:
                spots.append(("resources", resources.index(res)))
        verb_spots = [p for p in spots if p[0] == "verbs"]
        where = min(verb_spots or spots or [("verbs", 0)])
        if not found:
            continue
        who = _rbac.describe_grants(cluster or grants)
        yield Hit(path=("rules", i) + where,
                  message=f"{resource.kind} '{resource.name}' rule {i + 1} lets its holders {'; '.join(found)} — "
                          f"{who}. That is a path to cluster-admin: the 9.1 attacker used such a token to deploy "
                          f"a crypto-miner and an exfiltrating sidecar",
                  related=_rbac.related_grants(cluster or grants, resource.name), identity=str(i))
