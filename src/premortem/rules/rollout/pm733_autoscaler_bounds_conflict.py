"""PM733: autoscaler bounds that cannot work: minimum above maximum, or a maximum below the replicas
the workload declares."""
from ...model import Severity
from ..registry import Hit, rule
from ._xref import number, source

# kind -> (min field, its default, max field, its default, what happens when min > max)
FIELDS = {
    "HorizontalPodAutoscaler": ("minReplicas", 1, "maxReplicas", None,
                                "the API server rejects the HorizontalPodAutoscaler, so the kubectl apply, Helm "
                                "upgrade or Argo CD sync that carries it fails (or rolls the release back) and the "
                                "workload is left without autoscaling"),
    "ScaledObject": ("minReplicaCount", 0, "maxReplicaCount", 100,
                     "KEDA refuses the ScaledObject (its admission webhook rejects it, or the operator never "
                     "creates the HPA), so the workload is not autoscaled at all"),
}


@rule(id="PM733", name="autoscaler-bounds-conflict", severity="high",
      severity_reason="min above max is rejected, so the deploy fails and nothing autoscales; medium for a maximum "
                      "below the declared replicas, which removes capacity after every deploy.",
      incidents=["7.3"], title="Autoscaler minimum above maximum, or maximum below the workload's replicas",
      kinds=["HorizontalPodAutoscaler", "ScaledObject"], production_only=False,
      fix="Keep `minReplicas` ≤ `maxReplicas`, and drop `spec.replicas` from a workload an autoscaler owns "
          "(or keep it within the autoscaler's bounds).")
def check(resource, ctx):
    """## What it checks
    A HorizontalPodAutoscaler (autoscaling/v1 and v2; `minReplicas` defaults to 1) or a KEDA
    ScaledObject (`minReplicaCount` 0, `maxReplicaCount` 100 by default) whose minimum is above
    its maximum. Then, when the scale target is in the scan and declares `spec.replicas` above
    the autoscaler's maximum, that conflict is reported at medium.

    ## Why it breaks production
    An HPA with min above max is refused by the API server, so the release carrying it fails
    half-applied and the workload runs without autoscaling, as exposed as the unprotected
    StatefulSet of catalog 7.3. A maximum below `spec.replicas` makes every deploy set the
    declared count and the HPA kill the surplus pods seconds later, in the middle of the rollout.

    ## Bad
    ```yaml
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: checkout, namespace: production}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
      minReplicas: 6
      maxReplicas: 4
    ```

    ## Good
    ```yaml
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: checkout, namespace: production}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
      minReplicas: 4
      maxReplicas: 6
    ```

    ## Fix
    Set the bounds from one values block (`autoscaling.min`/`autoscaling.max`) and validate it in
    the chart's schema; leave `spec.replicas` out of autoscaled workloads so a deploy never
    resets the count.
    """
    min_key, min_default, max_key, max_default, refused = FIELDS[resource.kind]
    spec = resource.get(("spec",))
    if not isinstance(spec, dict):
        return
    lo, hi = number(spec.get(min_key, min_default)), number(spec.get(max_key, max_default))
    if lo is None or hi is None:
        return
    ref = spec.get("scaleTargetRef") if isinstance(spec.get("scaleTargetRef"), dict) else {}
    kind, name = ref.get("kind") or "Deployment", ref.get("name")
    who = f"{resource.kind} '{resource.name}'" + (f" ({kind}/{name})" if isinstance(name, str) else "")
    if lo > hi:
        shown = f"{min_key} {lo}" + ("" if min_key in spec else " (the default)")
        shown_max = f"{max_key} {hi}" + ("" if max_key in spec else " (the default)")
        yield Hit(path=("spec", min_key if min_key in spec else max_key),
                  message=f"{who} has {shown} above {shown_max}: {refused}")
        return
    if not isinstance(name, str) or not isinstance(kind, str):
        return
    target = ctx.project.get(kind, name, resource.namespace)
    n = number(target.facts.get("replicas")) if target else None
    if n is not None and n > hi:
        yield Hit(path=("spec", max_key) if max_key in spec else ("spec",), key=max_key not in spec,
                  severity=Severity.MEDIUM,
                  related=((source(target), f"{target.kind}/{target.name} declares replicas: {n}"),),
                  message=f"{resource.kind} '{resource.name}' caps {target.kind}/{target.name} at {max_key} {hi}, "
                          f"below the {n} replicas it declares: every deploy sets {n} pods and the autoscaler kills "
                          f"{n - hi} of them seconds later, mid-rollout, so the capacity written in the manifest "
                          f"never runs")
