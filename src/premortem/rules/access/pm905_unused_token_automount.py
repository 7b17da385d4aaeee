"""PM905: a workload's own service account has no RBAC and nothing calls the API, yet its token is mounted."""
from ...k8s.workloads import POD_SPEC_PATHS, containers, pod_spec_path
from ...model import Source
from ..registry import Hit, rule
from . import _rbac


@rule(id="PM905", name="unused-token-automount", severity="medium",
      severity_reason="A mounted token the app never uses is a live cluster credential waiting for an RCE; it grants "
                      "little today, but everything anyone binds to the account later.",
      incidents=["9.1"], title="Service-account token mounted into a workload that never calls the API",
      kinds=list(POD_SPEC_PATHS), production_only=False,
      options={"api_client_images": _rbac.API_CLIENT_IMAGES},
      fix="Set `automountServiceAccountToken: false` on the ServiceAccount (or the pod spec); mount a projected "
          "token only in the workloads that call the API.")
def check(resource, ctx):
    """## What it checks
    A workload whose pods run as their own ServiceAccount (not `default`, which PM906 covers)
    defined in the scan, with the token mounted (neither the pod spec nor the ServiceAccount sets
    `automountServiceAccountToken: false`), where nothing suggests it calls the Kubernetes API:
    - no RoleBinding or ClusterRoleBinding in the scan names the account (or
      `system:serviceaccounts[:ns]`): an account with RBAC is assumed to be used;
    - no container sets `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT` or `KUBECONFIG`, or
      mentions kubectl, helm, kubeconfig, in-cluster, `--leader-elect` or the token path in its
      command/args;
    - no image is a known in-cluster client (operators, controllers, kubectl, Prometheus,
      Fluent Bit, Argo CD, ...: option `api_client_images`).
    A workload whose ServiceAccount is not in the scan is not judged (its bindings may live
    elsewhere). Fires everywhere: the fix is one line and costs nothing in any environment.

    ## Why it breaks production
    In catalog 9.1 an RCE in a microservice gave the attacker the service-account token mounted in
    the pod, and with it every Secret in the cluster. A token the application never uses only
    serves the attacker; the seed's fix is "disable default token mounting if not needed".

    ## Bad
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: checkout, namespace: shop}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: shop}
    spec:
      template:
        spec:
          serviceAccountName: checkout
          containers: [{name: app, image: "registry.example.com/shop/checkout:2.3.1"}]
    ```

    ## Good
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: checkout, namespace: shop}
    automountServiceAccountToken: false
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: shop}
    spec:
      template:
        spec:
          serviceAccountName: checkout
          containers: [{name: app, image: "registry.example.com/shop/checkout:2.3.1"}]
    ```

    ## Fix
    Set `automountServiceAccountToken: false` on the ServiceAccount so no pod gets the token by
    default; a workload that does call the API opts in on its pod spec and gets a Role for it.
    """
    spec_path = pod_spec_path(resource)
    if spec_path is None:
        return
    spec = resource.get(spec_path)
    key = "serviceAccountName" if spec.get("serviceAccountName") else "serviceAccount"
    sa = spec.get(key)
    if not isinstance(sa, str) or not sa or sa == "default":
        return
    idx = _rbac.index(ctx.project)
    ns = resource.namespace
    entry = idx.service_account(ns, sa)
    if entry is None:
        return
    mounted, why = _rbac.token_mounted(resource, spec, entry)
    if not mounted or idx.bindings_for_sa(ns, sa):
        return
    if _rbac.api_client_hint(resource, containers(resource), ctx.options.get("api_client_images")):
        return
    at = spec_path + (("automountServiceAccountToken",) if spec.get("automountServiceAccountToken") is True else (key,))
    yield Hit(path=at,
              message=f"{resource.kind} '{resource.name}' runs as ServiceAccount {entry.namespace or ns or '-'}/{sa}, "
                      f"which no RoleBinding or ClusterRoleBinding in the scan grants anything and no container "
                      f"looks like an API client, yet its token is mounted ({why}): an RCE in the pod hands the "
                      f"attacker a cluster credential that gains whatever is bound to '{sa}' later — the 9.1 "
                      f"attacker listed all Secrets with such a token",
              related=((Source(entry.file, entry.line), f"ServiceAccount {sa}: add automountServiceAccountToken: false"),))
