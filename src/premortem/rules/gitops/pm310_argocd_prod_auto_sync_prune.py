"""PM310: an Argo CD Application that auto-syncs and prunes in production with no sync window."""
from ...model import Severity
from ..registry import Hit, rule
from ._gitops import (
    argo_target,
    auto_sync_consequence,
    automated,
    gate_note,
    is_argo,
    production_of,
    truthy,
)


@rule(id="PM310", name="argocd-prod-auto-sync-prune", severity="high",
      severity_reason="Every merged mistake is applied and its deletions executed in production with no human "
                      "in the loop; selfHeal also undoes the manual fix (medium without selfHeal).",
      incidents=["3.1"], title="Argo CD auto-syncs and prunes into production with no sync window",
      kinds=["Application"], production_only=False,
      fix="Turn off `syncPolicy.automated` for production Applications and sync by hand or from a reviewed "
          "promotion step, or gate it with an AppProject `syncWindows` entry (kind deny/allow) covering the app; "
          "keep auto-sync with prune and selfHeal for dev and staging.")
def check(resource, ctx):
    """## What it checks
    An Argo CD `Application` whose `spec.syncPolicy.automated` has `prune: true` while its
    destination is production, and whose AppProject (`spec.project`, looked up in the scan) has
    no sync window of kind `allow` or `deny` covering it by application name, destination
    namespace or cluster. Production is decided from where the app delivers, not from the
    `argocd` namespace it lives in: the destination namespace, then the source path(s) and Helm
    values files, the destination cluster name or server URL, and the Application's own file,
    through the same `production` settings as every rule; the message names the evidence.
    With `selfHeal: true` as well the finding is high, without it medium. Auto-sync without
    `prune` is not reported (nothing is deleted because Git lost it), nor is `automated.enabled: false`.

    ## Why it breaks production
    In catalog 3.1 a commit removed resource limits and set `replicas: 3` to `0`; Argo CD, set to
    auto-sync, applied it at once and the payment gateway was offline for 20 minutes. With
    `prune` and `selfHeal` nothing stands between a merge and production, and the on-call's
    `kubectl scale` is reverted by the controller.

    ## Bad
    ```yaml
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {name: payment-app, namespace: argocd}
    spec:
      project: default
      source: {repoURL: "https://github.com/org/repo", path: k8s/payment, targetRevision: HEAD}
      destination: {server: "https://kubernetes.default.svc", namespace: prod}
      syncPolicy:
        automated: {prune: true, selfHeal: true}
    ```

    ## Good
    ```yaml
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {name: payment-app, namespace: argocd}
    spec:
      project: default
      source: {repoURL: "https://github.com/org/repo", path: k8s/payment, targetRevision: HEAD}
      destination: {server: "https://kubernetes.default.svc", namespace: prod}
      syncPolicy:
        syncOptions: [ApplyOutOfSyncOnly=true]
    ```

    ## Fix
    Sync production by hand (or from a promotion pipeline that needs an approval) and keep
    `automated` for lower environments, or add a sync window to the production AppProject:
    `syncWindows: [{kind: deny, schedule: "* * * * *", duration: 24h, applications: ["*"], manualSync: true}]`
    blocks automated syncs while still allowing a reviewed manual one.
    """
    if not is_argo(resource):
        return
    spec = resource.get(("spec",))
    auto = automated(spec)
    if auto is None or not truthy(auto.get("prune")):
        return
    ns, candidates, server, cluster = argo_target(spec, resource.file)
    evidence = production_of(ctx, ns, candidates)
    if not evidence:
        return
    project = resource.get(("spec", "project")) or "default"
    note = gate_note(ctx, project, resource.name, ns, server, cluster)
    if note is None:
        return
    self_heal = truthy(auto.get("selfHeal"))
    flags = "prune and selfHeal" if self_heal else "prune"
    yield Hit(path=("spec", "syncPolicy", "automated", "prune"),
              severity=None if self_heal else Severity.MEDIUM,
              message=f"Application '{resource.name}' auto-syncs with {flags} into production: "
                      f"{auto_sync_consequence(self_heal)}; {note}",
              production=evidence)
