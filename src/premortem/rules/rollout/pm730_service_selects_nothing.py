"""PM730: a Service whose selector matches no pod template in the scan, so it has no endpoints."""
from ..registry import Hit, rule
from ._stateful import show_selector
from ._xref import closest_workload, selects_nothing, service_selector, source, where


@rule(id="PM730", name="service-selects-nothing", severity="high",
      severity_reason="A Service without endpoints fails every request sent to it while its pods run healthy: "
                      "an outage that no pod-level probe or alert sees.",
      incidents=["7.1"], title="Service selector matches no pod template",
      kinds=["Service"], production_only=False,
      fix="Make `spec.selector` a subset of the labels of the pod template it should route to "
          "(`spec.template.metadata.labels`), and keep Service and workload in one chart or kustomization.")
def check(resource, ctx):
    """## What it checks
    A Service with a selector that matches the pod template of none of the workloads
    (Deployment, StatefulSet, DaemonSet, Argo Rollout, Pod, ...) of its namespace in the scan.
    Labels that controllers add to pods (`statefulset.kubernetes.io/pod-name`,
    `pod-template-hash`, `rollouts-pod-template-hash`, `job-name`, ...) are left out of the
    comparison. It stays quiet for Services without a selector (manual Endpoints,
    ExternalName), when the scan holds no workload of that namespace (the pods live elsewhere)
    and when a selector value names a custom resource of the namespace (an operator makes those
    pods, as for PM724). The message names the workload whose labels come closest.

    ## Why it breaks production
    Catalog 7.1 is traffic reaching pods that cannot serve it; a Service whose selector drifted
    from the pod labels (a relabel to `app.kubernetes.io/name`, a `version: v2` left in after a
    canary) is the extreme case: no endpoints at all, so every request through it gets a
    connection refused or an ingress 503 while every pod reports Ready.

    ## Bad
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: payment-api, namespace: production}
    spec:
      selector: {app: payment-api}
      ports: [{name: http, port: 80, targetPort: http}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      replicas: 3
      selector: {matchLabels: {app.kubernetes.io/name: payment-api}}
      template:
        metadata: {labels: {app.kubernetes.io/name: payment-api}}
        spec:
          containers:
            - name: app
              image: registry.example.com/payment-api:2.7.0
              ports: [{name: http, containerPort: 8080}]
    ```

    ## Good
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: payment-api, namespace: production}
    spec:
      selector: {app.kubernetes.io/name: payment-api}
      ports: [{name: http, port: 80, targetPort: http}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      replicas: 3
      selector: {matchLabels: {app.kubernetes.io/name: payment-api}}
      template:
        metadata: {labels: {app.kubernetes.io/name: payment-api}}
        spec:
          containers:
            - name: app
              image: registry.example.com/payment-api:2.7.0
              ports: [{name: http, containerPort: 8080}]
    ```

    ## Fix
    Copy the selector from the workload's own `spec.selector.matchLabels` (which must match its
    pod template anyway) and render both from one helper in a chart. Check with
    `kubectl get endpointslices -l kubernetes.io/service-name=<service>` after a deploy.
    """
    selector = service_selector(resource)
    if not selector or not selects_nothing(ctx.project, selector, resource.namespace):
        return
    n = len(ctx.project.workloads(resource.namespace))
    hint, related = "", ()
    near = closest_workload(ctx.project, selector, resource.namespace)
    if near:
        w, labels = near
        hint = f" (closest: the pods of {w.kind}/{w.name} have {labels})"
        related = ((source(w), f"{w.kind}/{w.name}, whose pod labels come closest: {labels}"),)
    yield Hit(path=("spec", "selector"), key=True, related=related,
              message=f"Service '{resource.name}' selects {show_selector(selector)}, which matches none of the {n} "
                      f"pod template{'s' if n != 1 else ''} in {where(resource.namespace)}{hint}: the Service has no "
                      f"endpoints, so every request to it is refused (a 503 at the ingress) while its pods run Ready")
