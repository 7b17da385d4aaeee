"""PM312: an ApplicationSet whose template auto-syncs with prune and generates production Applications."""
from ...model import Severity
from ..registry import Hit, rule
from ._gitops import (
    _dict,
    _list,
    argo_target,
    auto_sync_consequence,
    automated,
    gate_note,
    generator_params,
    is_argo,
    production_of,
    render,
    truthy,
)


def manual_rollout_step(spec) -> bool:
    """A RollingSync strategy with a `maxUpdate: 0` step: those apps wait for a person."""
    strategy = _dict(spec.get("strategy"))
    steps = _list(_dict(strategy.get("rollingSync")).get("steps"))
    return strategy.get("type") == "RollingSync" and any(str(_dict(s).get("maxUpdate")) in ("0", "0%") for s in steps)


def production_apps(ctx, resource, template):
    """(path, app name, evidence, gate note) of each generated Application that lands in production
    without a sync window: the template alone when it is production already, else per generator input."""
    spec = resource.get(("spec",))
    inputs = [((), "template", {})] + list(generator_params(spec.get("generators"), ("spec", "generators")))
    for i, (path, kind, params) in enumerate(inputs):
        tpl = render(template, params)
        tspec = _dict(tpl.get("spec"))
        name = str(_dict(tpl.get("metadata")).get("name") or resource.name)
        ns, candidates, server, cluster = argo_target(tspec, resource.file)
        if kind == "git":
            candidates = [("git generator path", params["path"])] + candidates
        elif kind == "clusters":
            candidates = [(f"cluster selector label '{k}'", v) for k, v in params.items()] + candidates
        evidence = production_of(ctx, ns, candidates)
        if not evidence:
            continue
        note = gate_note(ctx, tspec.get("project") or "default", name, ns, server, cluster)
        if note is not None:
            yield path, name, evidence, note
        if i == 0:  # the template alone delivers to production: so does every app it generates
            return


@rule(id="PM312", name="applicationset-prod-auto-sync", severity="high",
      severity_reason="One template change auto-syncs, with prune, into every production Application it "
                      "generates at once (medium without selfHeal).",
      incidents=["3.1"], title="ApplicationSet generates auto-syncing, pruning production Applications",
      kinds=["ApplicationSet"], production_only=False,
      fix="Generate production Applications without `syncPolicy.automated` (split the production elements into "
          "their own ApplicationSet), or roll out with `strategy: {type: RollingSync}` and a `maxUpdate: 0` step for "
          "production, or gate them with an AppProject sync window.")
def check(resource, ctx):
    """## What it checks
    An Argo CD `ApplicationSet` whose `spec.template.spec.syncPolicy.automated` has `prune: true`
    and which generates at least one production Application. Each generator input is rendered
    into the template (`{{env}}`, `{{.env}}`, `{{values.x}}` from list elements, also inside
    matrix/merge generators); git generator paths and cluster-generator selector labels count as
    evidence too. Production is decided as for PM310 (destination namespace, source path, Helm
    values files, cluster name/server) and the message names the generated apps and evidence.
    Quiet when every production app is covered by an AppProject sync window, or when a
    `RollingSync` strategy has a `maxUpdate: 0` step (a person releases those apps).

    ## Why it breaks production
    Catalog 3.1: an auto-synced commit set the payment service's replicas from 3 to 0 and limits
    vanished, taking production down for 20 minutes. An ApplicationSet multiplies it: one edit
    to the shared template or chart reaches the dev, staging and production apps in the same
    minute, and prune deletes whatever the edit dropped.

    ## Bad
    ```yaml
    apiVersion: argoproj.io/v1alpha1
    kind: ApplicationSet
    metadata: {name: payment, namespace: argocd}
    spec:
      generators:
        - list:
            elements:
              - {env: dev}
              - {env: prod}
      template:
        metadata: {name: "payment-{{env}}"}
        spec:
          project: default
          source: {repoURL: "https://github.com/org/repo", path: "envs/{{env}}/payment", targetRevision: HEAD}
          destination: {server: "https://kubernetes.default.svc", namespace: "payment-{{env}}"}
          syncPolicy:
            automated: {prune: true, selfHeal: true}
    ```

    ## Good
    ```yaml
    apiVersion: argoproj.io/v1alpha1
    kind: ApplicationSet
    metadata: {name: payment, namespace: argocd}
    spec:
      generators:
        - list:
            elements:
              - {env: dev}
              - {env: staging}
      template:
        metadata: {name: "payment-{{env}}"}
        spec:
          project: default
          source: {repoURL: "https://github.com/org/repo", path: "envs/{{env}}/payment", targetRevision: HEAD}
          destination: {server: "https://kubernetes.default.svc", namespace: "payment-{{env}}"}
          syncPolicy:
            automated: {prune: true, selfHeal: true}
    ```

    ## Fix
    Keep auto-sync for the non-production elements and generate production from a separate
    ApplicationSet without `automated`, or use progressive syncs: `strategy: {type: RollingSync,
    rollingSync: {steps: [{matchExpressions: [{key: env, operator: In, values: [prod]}], maxUpdate: 0}]}}`.
    """
    if not is_argo(resource) or not isinstance(resource.get(("spec",)), dict):
        return
    template = resource.get(("spec", "template"))
    auto = automated(template.get("spec")) if isinstance(template, dict) else None
    if auto is None or not truthy(auto.get("prune")) or manual_rollout_step(resource.get(("spec",))):
        return
    apps = list(production_apps(ctx, resource, template))
    if not apps:
        return
    self_heal = truthy(auto.get("selfHeal"))
    flags = "prune and selfHeal" if self_heal else "prune"
    named = "; ".join(f"'{name}' ({evidence})" for _, name, evidence, _ in apps[:3])
    more = f" and {len(apps) - 3} more" if len(apps) > 3 else ""
    yield Hit(path=("spec", "template", "spec", "syncPolicy", "automated", "prune"),
              severity=None if self_heal else Severity.MEDIUM, production=apps[0][2],
              related=tuple((path, f"generates production Application '{name}' ({evidence})")
                            for path, name, evidence, _ in apps if path),
              message=f"ApplicationSet '{resource.name}' generates production Applications that auto-sync with "
                      f"{flags}: {named}{more}; {auto_sync_consequence(self_heal)}, in every generated app at once; "
                      f"{apps[0][3]}")
