"""PM906: a production workload runs as its namespace's `default` service account with the token mounted."""
from ...k8s.workloads import POD_SPEC_PATHS, containers, pod_spec_path
from ...model import Severity
from ..registry import Hit, rule
from . import _rbac


@rule(id="PM906", name="default-service-account", severity="medium",
      severity_reason="Every pod of the namespace shares the `default` identity, so one grant to it (or one RCE) "
                      "reaches them all; high when the scan already binds roles to it, critical for cluster-wide "
                      "admin roles.",
      incidents=["9.1"], title="Production workload runs as the default service account with its token mounted",
      kinds=list(POD_SPEC_PATHS), production_only=True,
      options={"api_client_images": _rbac.API_CLIENT_IMAGES},
      fix="Create a ServiceAccount per workload and set `serviceAccountName`; set `automountServiceAccountToken: "
          "false` on the namespace's `default` ServiceAccount (and on pods that never call the API).")
def check(resource, ctx):
    """## What it checks
    A production workload (production decided as in DESIGN.md: configured namespaces, then
    namespace and path evidence, which the message quotes) whose `serviceAccountName` is unset
    or `default`, while the token is mounted: neither the pod spec nor a `default`
    ServiceAccount in the scan sets `automountServiceAccountToken: false` (with the token not
    mounted, the shared identity is unusable from the pod and nothing is reported). Severity
    rises to high when a RoleBinding or ClusterRoleBinding in the scan grants the namespace's
    `default` account (or `system:serviceaccounts[:ns]`) anything, and to critical when that is
    a ClusterRoleBinding to cluster-admin, admin or edit. The message says whether the workload
    looks like an API client (same hints as PM905) and so which fix fits.

    ## Why it breaks production
    In catalog 9.1 the compromised microservice ran with the default service account, which had
    been bound to cluster-admin: the attacker listed all Secrets, deployed a crypto-miner and
    exfiltrated credentials, and the cluster was rebuilt from scratch.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      template:
        spec:
          containers: [{name: app, image: "our-priv-reg.io/fintech/payment-api:1.42.0"}]
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      template:
        spec:
          serviceAccountName: payment-api
          automountServiceAccountToken: false
          containers: [{name: app, image: "our-priv-reg.io/fintech/payment-api:1.42.0"}]
    ```

    ## Fix
    Give each workload its own ServiceAccount (with a Role only if it calls the API), and turn off
    token automounting on the `default` ServiceAccount of every production namespace.
    """
    spec_path = pod_spec_path(resource)
    if spec_path is None:
        return
    spec = resource.get(spec_path)
    key = next((k for k in ("serviceAccountName", "serviceAccount") if spec.get(k)), "")
    if key and spec.get(key) != "default":
        return
    idx = _rbac.index(ctx.project)
    ns = resource.namespace
    mounted, why = _rbac.token_mounted(resource, spec, idx.service_account(ns, "default"))
    if not mounted:
        return
    bindings = idx.bindings_for_sa(ns, "default")
    severity, bound = None, ""
    if bindings:
        severity = Severity.HIGH
        if any(b.cluster and b.ref_kind == "ClusterRole" and (b.ref_name in _rbac.POWERFUL_ROLES or
               _rbac.full_admin(idx.effective_rules(b.ref_name))) for b in bindings):
            severity = Severity.CRITICAL
        bound = (f" The scan already binds it: {'; '.join(f'{b.label} → {b.ref_kind} {b.ref_name}' for b in bindings[:3])}"
                 f", so every pod in the namespace holds those rights.")
    hint = _rbac.api_client_hint(resource, containers(resource), ctx.options.get("api_client_images"))
    advice = (f" It looks like an API client ({hint}): give it its own ServiceAccount and a Role." if hint else
              " Nothing in it calls the API: set automountServiceAccountToken: false.")
    how = "serviceAccountName: default" if key else "no serviceAccountName"
    at = spec_path + (key,) if key else spec_path + ("automountServiceAccountToken",) \
        if spec.get("automountServiceAccountToken") is True else spec_path
    yield Hit(path=at, key=not key and at == spec_path,
              message=f"{resource.kind} '{resource.name}' runs as the default ServiceAccount of namespace "
                      f"{ns or '(unset)'} ({how}) with its token mounted ({why}): every pod there shares this "
                      f"identity, and in the 9.1 incident the default account held cluster-admin, so one RCE "
                      f"listed all Secrets and deployed miners.{bound}{advice}",
              severity=severity,
              related=tuple((b.ref_at, f"{b.label} grants {b.ref_kind} {b.ref_name} to default") for b in bindings))
