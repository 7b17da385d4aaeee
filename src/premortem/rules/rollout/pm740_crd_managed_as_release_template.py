"""PM740: a CustomResourceDefinition shipped in a Helm chart's templates/, owned by the release."""
from ..registry import Hit, rule

KEEP = "helm.sh/resource-policy"


@rule(id="PM740", name="crd-managed-as-release-template", severity="high",
      severity_reason="Removing the CRD from the chart, an uninstall or a failed upgrade deletes the CRD and, "
                      "with it, every custom resource of that kind; a rollback cannot bring the data back.",
      incidents=["R4"], title="CRD in a Helm chart's templates/ without helm.sh/resource-policy: keep",
      kinds=["CustomResourceDefinition"], production_only=False,
      fix="Move the CRD to the chart's `crds/` directory (installed once, never deleted by Helm) or manage CRDs "
          "in their own chart/GitOps app; at least annotate it `helm.sh/resource-policy: keep`.")
def check(resource, ctx):
    """## What it checks
    CustomResourceDefinitions rendered from a Helm chart's `templates/` (not its `crds/`
    directory) without the annotation `helm.sh/resource-policy: keep`. Helm then owns the CRD
    like any release object: a chart version that drops or renames it, `helm uninstall`, or an
    upgrade that fails and is rolled back deletes it, and Kubernetes deletes every custom
    resource of that kind with it. CRDs in `crds/`, in plain manifests or kept by the annotation
    are not reported. Fires everywhere: a CRD is cluster-wide.

    ## Why it breaks production
    In the on-call narrative (R4) an upgrade removed a CRD from the chart; Helm deleted it, every
    custom resource went with it, and `helm rollback` could not recreate what the operator had
    stored in them. The outage ran on while the team rebuilt the resources by hand.

    ## Bad
    ```yaml charts/payments-operator/templates/crd.yaml
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: ledgers.payments.example.com
    spec:
      group: payments.example.com
      names: {kind: Ledger, plural: ledgers}
      scope: Namespaced
      versions: [{name: v1, served: true, storage: true}]
    ```
    ```yaml charts/payments-operator/Chart.yaml
    apiVersion: v2
    name: payments-operator
    version: 1.4.0
    ```

    ## Good
    ```yaml charts/payments-operator/crds/ledgers.yaml
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: ledgers.payments.example.com
    spec:
      group: payments.example.com
      names: {kind: Ledger, plural: ledgers}
      scope: Namespaced
      versions: [{name: v1, served: true, storage: true}]
    ```
    ```yaml charts/payments-operator/Chart.yaml
    apiVersion: v2
    name: payments-operator
    version: 1.4.0
    ```

    ## Fix
    Put CRDs in `crds/` (Helm installs them once and never deletes them), or ship them in a
    separate chart or GitOps application whose lifecycle is not tied to the workload's release;
    when they must stay in `templates/`, annotate them `helm.sh/resource-policy: keep`.
    """
    if resource.origin.kind != "helm":
        return
    parts = resource.file.split("/")
    if "templates" not in parts or ("crds" in parts and parts.index("crds") < parts.index("templates")):
        return  # crds/ (or a sub-chart's crds/): installed once, never deleted by Helm
    if str(resource.annotations.get(KEEP, "")).strip().lower() == "keep":
        return
    yield Hit(path=("metadata", "name"), message=(
        f"CRD '{resource.name}' is a template of the Helm chart '{resource.origin.unit}': dropping it from the "
        f"chart, `helm uninstall` or a failed upgrade deletes it and every {resource.get(('spec', 'names', 'kind')) or 'custom'} "
        "resource with it, and `helm rollback` cannot restore them (R4)"))
