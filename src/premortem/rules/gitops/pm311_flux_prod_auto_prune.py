"""PM311: a Flux Kustomization that applies and prunes production on every commit, with nothing to hold it."""
from ..registry import Hit, rule
from ._gitops import production_of, released_source, truthy


@rule(id="PM311", name="flux-prod-auto-prune", severity="high",
      severity_reason="Flux applies every merged commit to production, deletes what Git lost and overwrites "
                      "manual fixes at each reconcile: a mistake has no human gate.",
      incidents=["3.1"], title="Flux reconciles and prunes production with no suspend or gate",
      kinds=["Kustomization"], production_only=False,
      fix="Reconcile production from a release someone promotes (a GitRepository pinned to a `tag` or `semver` "
          "range) instead of a branch head, and `suspend` it while a change must not roll out; protect stateful "
          "objects with the `kustomize.toolkit.fluxcd.io/prune: disabled` annotation.")
def check(resource, ctx):
    """## What it checks
    A Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`) with `spec.prune: true` that is not
    suspended and delivers into production. Production is decided from `spec.targetNamespace`,
    then `spec.path`, the kubeconfig Secret of a remote cluster, the Kustomization's own file
    (the `clusters/production/` layout of `flux bootstrap`) and its name, through the
    `production` settings; the message names the evidence. Flux has no selfHeal switch: every
    `interval` it re-applies Git over whatever changed in the cluster, so `prune: true` is the
    whole of catalog 3.1's auto-sync + prune + selfHeal. Not reported: `prune: false`,
    `suspend: true`, a `sourceRef` whose GitRepository/OCIRepository in the scan is pinned to a
    `tag`, `semver` range, `commit` or `digest` (a release someone cuts is the gate), and the
    plain-Kustomize `kustomize.config.k8s.io` kind.

    ## Why it breaks production
    In catalog 3.1 an auto-synced commit removed limits and scaled the payment service from 3
    replicas to 0, taking the gateway offline for 20 minutes. A Flux Kustomization that prunes a
    production path does the same on every merge, and deletes the live objects of any manifest
    that a bad commit moves or removes.

    ## Bad
    ```yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./clusters/production/apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    ```

    ## Good
    ```yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./clusters/staging/apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    ```

    ## Fix
    Point the production Kustomization at a source that only moves when someone promotes a
    release (`GitRepository.spec.ref.semver` or `tag`), suspend it during risky changes
    (`flux suspend kustomization apps`), and mark stateful objects
    `kustomize.toolkit.fluxcd.io/prune: disabled` so a lost manifest never deletes them.
    """
    if not resource.api_version.startswith("kustomize.toolkit.fluxcd.io/"):
        return
    if not truthy(resource.get(("spec", "prune"))) or truthy(resource.get(("spec", "suspend"))):
        return
    path = resource.get(("spec", "path"))
    kubeconfig = resource.get(("spec", "kubeConfig", "secretRef", "name"))
    evidence = production_of(ctx, resource.get(("spec", "targetNamespace")), [
        ("path", path), ("kubeConfig Secret", kubeconfig), ("Kustomization file", resource.file),
        ("Kustomization name", resource.name)], ns_label="targetNamespace")
    if not evidence or released_source(ctx, resource):
        return
    interval = resource.get(("spec", "interval"))
    every = f"every {interval}" if isinstance(interval, str) and interval else "at every reconcile"
    what = f"'{path}'" if isinstance(path, str) and path else "its source root"
    yield Hit(path=("spec", "prune"),
              message=f"Kustomization '{resource.name}' applies {what} to production {every} with prune: a bad "
                      f"commit (replicas 3→0, limits removed) is live within one interval, manifests deleted or "
                      f"moved in Git are deleted in the cluster, and manual fixes are overwritten; nothing holds it "
                      f"(not suspended, source not pinned to a release)",
              production=evidence)
