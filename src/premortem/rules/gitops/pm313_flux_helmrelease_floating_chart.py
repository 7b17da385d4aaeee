"""PM313: a production Flux HelmRelease that follows a floating chart version from a Helm repository."""
import re

from ...model import Severity
from ..registry import Hit, rule
from ._gitops import production_of, truthy

EXACT = re.compile(r"^=?\s*v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")


def floating(version) -> str:
    """'' for an exact version, else how it floats ('unbounded' or 'bounded')."""
    if version is None or (isinstance(version, str) and version.strip() in ("", "*", "x", "latest")):
        return "unbounded"
    text = str(version).strip()
    if EXACT.match(text):
        return ""
    upper = "<" in text or "^" in text or "~" in text or re.search(r"\d\.(?:[x*]|\d+\.[x*])", text) or " - " in text
    return "bounded" if upper else "unbounded"


@rule(id="PM313", name="flux-helmrelease-floating-chart", severity="high",
      severity_reason="Every chart published upstream is installed in production by the controller, with no "
                      "commit, review or diff in Git (medium when the range has an upper bound).",
      incidents=["3.1", "5.1"], title="Production HelmRelease follows a floating chart version",
      kinds=["HelmRelease"], production_only=False,
      fix="Pin `spec.chart.spec.version` to an exact chart version (`1.4.2`) and bump it in a reviewed commit "
          "(Renovate/Dependabot can open the PR), or `suspend` the release.")
def check(resource, ctx):
    """## What it checks
    A Flux `HelmRelease` (`helm.toolkit.fluxcd.io`) delivering into production whose chart comes
    from a `HelmRepository` and whose `spec.chart.spec.version` is missing (Flux then installs the
    latest), `*`, or a semver range. Unbounded ranges (`*`, `>=1.0.0`) are high; ranges with an
    upper bound (`~1.4.0`, `^1.4`, `1.4.x`, `<2.0.0`) medium. Production is decided from
    `spec.targetNamespace` (else the release's own namespace), the release's file and name. Not
    reported: exact versions, charts from a GitRepository or Bucket (their version field is
    ignored; the commit is the version), `spec.chartRef`, and `suspend: true`.

    ## Why it breaks production
    Catalog 3.1 is an auto-sync that applied an unreviewed change to production (replicas 3 to
    0, limits removed) and cost 20 minutes of payments. A floating chart version is the same
    with no commit at all: the next chart release upstream is rolled into production at the
    next reconcile, like the silently moving `latest` tag of catalog 5.1.

    ## Bad
    ```yaml
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: redis, namespace: production}
    spec:
      interval: 10m
      chart:
        spec:
          chart: redis
          version: ">=18.0.0"
          sourceRef: {kind: HelmRepository, name: bitnami}
    ```

    ## Good
    ```yaml
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: redis, namespace: production}
    spec:
      interval: 10m
      chart:
        spec:
          chart: redis
          version: "18.19.2"
          sourceRef: {kind: HelmRepository, name: bitnami}
    ```

    ## Fix
    Pin the exact chart version and let a bot open the upgrade PR, so the new chart is diffed
    and reviewed (and tried in staging) before production reconciles it.
    """
    if not resource.api_version.startswith("helm.toolkit.fluxcd.io/") or truthy(resource.get(("spec", "suspend"))):
        return
    chart = resource.get(("spec", "chart", "spec"))
    if not isinstance(chart, dict) or not isinstance(chart.get("sourceRef"), dict):
        return
    if str(chart["sourceRef"].get("kind", "HelmRepository")) != "HelmRepository":
        return
    how = floating(chart.get("version"))
    if not how:
        return
    target = resource.get(("spec", "targetNamespace"))
    evidence = production_of(ctx, target or resource.namespace, [("HelmRelease file", resource.file),
                                                                  ("HelmRelease name", resource.name)],
                             ns_label="targetNamespace" if target else "release namespace")
    if not evidence:
        return
    has_version = "version" in chart
    shown = f"version '{chart.get('version')}'" if has_version else "no version (Flux installs the latest)"
    yield Hit(path=("spec", "chart", "spec") + (("version",) if has_version else ("chart",)),
              severity=None if how == "unbounded" else Severity.MEDIUM,
              message=f"HelmRelease '{resource.name}' installs chart '{chart.get('chart')}' with {shown}: every new "
                      f"chart release {'' if how == 'unbounded' else 'inside the range '}is rolled into production "
                      f"at the next reconcile, with no commit, review or staging run",
              production=evidence)
