"""PM732: an HPA or KEDA ScaledObject whose scale target is not in the scan."""
from ...k8s.workloads import POD_SPEC_PATHS
from ..registry import Hit, rule
from ._xref import closest_named, source, templated, where


def _effect(meant) -> str:
    """What happens, naming the workload it was probably meant for and its static replica count."""
    n = meant.facts.get("replicas") if meant is not None else None
    who = (f"{meant.kind}/{meant.name} stays at its {n} replica{'s' if n != 1 else ''}" if isinstance(n, int) else
           "the workload it was meant for stays at its fixed replica count (often 1, left for the autoscaler to set)")
    return (f"the autoscaler finds no target (FailedGetScale) and never scales anything, so {who} and saturates "
            f"when load rises")


def _kind_mismatch(project, name: str, namespace: str):
    return next((w for w in project.workloads(namespace) if w.name == name), None)


@rule(id="PM732", name="autoscaler-target-missing", severity="high",
      severity_reason="An autoscaler aimed at nothing scales nothing: the workload it was written for runs at its "
                      "static replica count and falls over at the first peak, with nothing failing at deploy time.",
      incidents=["7.3"], title="Autoscaler targets a workload that does not exist",
      kinds=["HorizontalPodAutoscaler", "ScaledObject"], production_only=False,
      fix="Point `spec.scaleTargetRef` at the workload's exact kind, name and apiVersion (`apps/v1` "
          "Deployment/StatefulSet, `argoproj.io/v1alpha1` Rollout) in the autoscaler's own namespace.")
def check(resource, ctx):
    """## What it checks
    The `spec.scaleTargetRef` of a HorizontalPodAutoscaler (autoscaling/v1 and v2) or a KEDA
    ScaledObject (kind defaults to Deployment) must name an object of that kind, with that name,
    in the autoscaler's namespace. It stays quiet when the scan holds no workload of that
    namespace (the target lives elsewhere) and, for kinds premortem does not know as workloads,
    when the scan holds no object of that kind there. A workload with the same name but another
    kind (a Deployment turned StatefulSet or Argo Rollout) is reported at `kind`.

    ## Why it breaks production
    Catalog 7.3's Redis lost every replica at once because nothing kept pods available during the
    change; an autoscaler whose target was renamed does the same quietly: the workload falls back
    to its static replica count, often the single replica left in the manifest "because the HPA
    sets it", and one rollout or one traffic peak takes the service down.

    ## Bad
    ```yaml
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: payment-api, namespace: production}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: payment-api}
      minReplicas: 3
      maxReplicas: 12
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payments-api, namespace: production}
    spec:
      selector: {matchLabels: {app: payments-api}}
      template:
        metadata: {labels: {app: payments-api}}
        spec:
          containers: [{name: app, image: "registry.example.com/payments-api:2.7.0"}]
    ```

    ## Good
    ```yaml
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: payment-api, namespace: production}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: payments-api}
      minReplicas: 3
      maxReplicas: 12
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payments-api, namespace: production}
    spec:
      selector: {matchLabels: {app: payments-api}}
      template:
        metadata: {labels: {app: payments-api}}
        spec:
          containers: [{name: app, image: "registry.example.com/payments-api:2.7.0"}]
    ```

    ## Fix
    Render the target's name from the same value as the workload's name (one chart helper), and
    check `kubectl describe hpa` for `ScalingActive False` after a deploy.
    """
    ref = resource.get(("spec", "scaleTargetRef"))
    if not isinstance(ref, dict):
        return
    name, kind, ns = ref.get("name"), ref.get("kind") or "Deployment", resource.namespace
    if not isinstance(name, str) or not name or not isinstance(kind, str) or templated(name) or templated(kind):
        return
    project = ctx.project
    if project.get(kind, name, ns):
        return
    if not (project.workloads(ns) if kind in POD_SPEC_PATHS else project.in_namespace(kind, ns)):
        return  # the target's namespace (or kind) is not in this scan
    other = _kind_mismatch(project, name, ns)
    if other is not None:
        yield Hit(path=("spec", "scaleTargetRef", "kind" if "kind" in ref else "name"),
                  related=((source(other), f"{other.kind}/{other.name}: the workload it probably means"),),
                  message=f"{resource.kind} '{resource.name}' scales {kind}/{name}, but '{name}' in "
                          f"{where(ns)} is a {other.kind}: {_effect(other)}")
        return
    near = closest_named([w for w in project.workloads(ns) if w.kind == kind], name)
    hint = f" (the scan has {near.kind}/{near.name})" if near else ""
    related = ((source(near), f"{near.kind}/{near.name}: the closest name"),) if near else ()
    yield Hit(path=("spec", "scaleTargetRef", "name"), related=related,
              message=f"{resource.kind} '{resource.name}' scales {kind}/{name}, which is not in {where(ns)}{hint}: "
                      f"{_effect(near)}")
