"""PM723: a PodDisruptionBudget that allows no eviction at all, so every drain hangs."""
from ...k8s.workloads import SERVED_KINDS
from ..registry import Hit, rule
from ._stateful import autoscaler_for, dangling, scaled, selected_workloads

def _n(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


CONSEQUENCE = ("`kubectl drain` waits forever, node upgrades stall and the cluster autoscaler cannot remove the "
               "node; people then force the drain and evict everything at once")


def expected_pods(project, workloads) -> tuple[int | None, str]:
    """Pods the selected workloads run at their minimum, and a description; None when unknown."""
    total, parts = 0, []
    for w in workloads:
        hpa = autoscaler_for(project, w.kind, w.name, w.namespace)
        n = hpa.facts.get("min") if hpa else (1 if w.kind == "Pod" else w.facts.get("replicas"))
        if w.kind not in SERVED_KINDS or not isinstance(n, int) or isinstance(n, bool):
            return None, ""
        total += n
        parts.append(f"{w.kind}/{w.name}: " + (f"{hpa.kind} minimum {n}" if hpa else _n(n, "replica")))
    return total, "; ".join(parts)


@rule(id="PM723", name="pdb-blocks-all-evictions", severity="high",
      severity_reason="A budget that allows zero disruptions blocks every drain: node upgrades and scale-downs "
                      "stall until someone forces them, evicting all pods at once.",
      incidents=["7.3"], title="PodDisruptionBudget allows no voluntary eviction",
      kinds=["PodDisruptionBudget"], production_only=False,
      fix="Use `maxUnavailable: 1` (or a minAvailable below the replica count) so one pod at a time can move; "
          "run at least two replicas of anything a PDB must keep up.")
def check(resource, ctx):
    """## What it checks
    A PodDisruptionBudget whose numbers leave zero allowed disruptions: `maxUnavailable: 0` or
    `"0%"`, `minAvailable: "100%"`, or a `minAvailable` (number or percent, rounded up as the
    disruption controller does) at or above the pods the selected workloads run. The pod count is
    the sum of the replicas of every workload in the scan the selector matches, or an HPA's
    `minReplicas` when one scales the workload (scale-downs happen when load is low). DaemonSets,
    Jobs and unresolved replica counts make the count unknown; then only the count-free cases fire.
    Any environment: a stuck drain is a stuck drain.

    ## Why it breaks production
    Catalog 7.3 says to "use PodDisruptionBudgets to avoid full replacements", but a budget that
    permits nothing does the opposite: drains and cluster-autoscaler scale-downs (the node
    scale-down of the on-call narrative, R10) never finish, until an operator force-deletes the pods and
    the StatefulSet loses every replica at once.

    ## Bad
    ```yaml
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: redis, namespace: production}
    spec:
      minAvailable: 3
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

    ## Good
    ```yaml
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: redis, namespace: production}
    spec:
      minAvailable: 2
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
    Prefer `maxUnavailable: 1`: it stays correct when replicas change. For a single-replica
    workload either add replicas or accept the disruption (no PDB); a PDB cannot make one pod
    highly available.
    """
    spec = resource.get(("spec",))
    if not isinstance(spec, dict) or dangling(resource, ctx.project):
        return
    workloads = selected_workloads(ctx.project, spec.get("selector"), resource.namespace)
    total, described = expected_pods(ctx.project, workloads) if workloads else (None, "")
    scope = f" ({described})" if described else ""
    max_u, min_a = spec.get("maxUnavailable"), spec.get("minAvailable")
    if max_u is not None and str(max_u).strip() in ("0", "0%"):
        yield Hit(path=("spec", "maxUnavailable"),
                  message=f"maxUnavailable {max_u} allows no voluntary eviction of the pods it selects{scope}: "
                          f"{CONSEQUENCE}")
    elif min_a is not None and str(min_a).strip() == "100%":
        yield Hit(path=("spec", "minAvailable"),
                  message=f"minAvailable 100% allows no voluntary eviction of the pods it selects{scope}: "
                          f"{CONSEQUENCE}")
    elif min_a is not None and total:
        need = scaled(min_a, total)
        if need is not None and need >= total:
            shown = f"{min_a} (= {need} pods)" if str(min_a).endswith("%") else f"{min_a}"
            yield Hit(path=("spec", "minAvailable"),
                      message=f"minAvailable {shown} with {_n(total, 'pod')} selected ({described}): 0 disruptions "
                              f"allowed, so {CONSEQUENCE}")
