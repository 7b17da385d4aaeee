"""PM724: a PodDisruptionBudget that selects no pod in the scan, so it protects nothing."""
from ..registry import Hit, rule
from ._stateful import dangling


@rule(id="PM724", name="pdb-selects-nothing", severity="medium",
      severity_reason="Nothing breaks by itself, but the workload it was meant for has no budget: a drain can "
                      "evict all of its replicas at once while reviewers believe it is protected.",
      incidents=["7.3"], title="PodDisruptionBudget selects no pods",
      kinds=["PodDisruptionBudget"], production_only=False,
      fix="Make `spec.selector.matchLabels` equal to labels of the pod template it should protect "
          "(`spec.template.metadata.labels`), or delete the budget.")
def check(resource, ctx):
    """## What it checks
    A PodDisruptionBudget without `spec.selector` (in policy/v1 that selects no pods), or whose
    selector matches none of the workloads of its namespace in the scan. It stays quiet when the
    scan holds no workload in that namespace (the pods live elsewhere) and when a selector value
    names a custom resource in the namespace (an operator creates those pods). The message names
    a workload that shares the selector's label keys, which is usually the one it was meant for.

    ## Why it breaks production
    Catalog 7.3 prescribes a PodDisruptionBudget so that a Redis StatefulSet is never replaced all at
    once; a budget whose labels drifted from the pod template (`app: redis` vs
    `app.kubernetes.io/name: redis`) gives exactly the unprotected rollout and drain of that incident while
    looking correct in review.

    ## Bad
    ```yaml
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: redis, namespace: production}
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app: redis-cache}}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: production}
    spec:
      replicas: 3
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          containers: [{name: redis, image: "redis:7.2.4"}]
    ```

    ## Good
    ```yaml
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: redis, namespace: production}
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app: redis}}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: production}
    spec:
      replicas: 3
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          containers: [{name: redis, image: "redis:7.2.4"}]
    ```

    ## Fix
    Copy the labels from the workload's pod template into the budget's `matchLabels`, and keep both
    in one chart or kustomization so they change together.
    """
    why = dangling(resource, ctx.project)
    if not why:
        return
    has_selector = resource.get(("spec", "selector")) is not None
    yield Hit(path=("spec", "selector") if has_selector else ("spec",), key=True,
              message=f"PodDisruptionBudget '{resource.name}' {why}: it protects nothing, so a drain can evict "
                      f"every replica of the workload it was meant for at once")
