"""PM107: `kubectl edit/patch/apply/delete/...` against production from CI or a script, outside GitOps."""
from ...model import Source
from ..registry import Hit, rule
from ._deploys import deploy_target, flag_value, is_dry_run, kube_verb, tool, words

VERBS = ["edit", "patch", "apply", "delete", "scale", "set", "replace", "create", "annotate", "label",
         "rollout restart", "rollout undo", "rollout pause", "rollout resume", "autoscale", "expose"]
# where a GitOps controller lives: applying its Application/Kustomization there is the GitOps bootstrap
GITOPS_NAMESPACES = ["argocd", "flux-system", "openshift-gitops"]
_GITOPS_KINDS = {"Application": "Argo CD Application", "ApplicationSet": "Argo CD ApplicationSet",
                 "Kustomization": "Flux Kustomization", "HelmRelease": "Flux HelmRelease"}
_WHO = {"github": "GitHub Actions job '{}'", "gitlab": "GitLab job '{}'", "jenkins": "Jenkins stage '{}'",
        "script": "script '{}'", "make": "make target '{}'"}


def _gitops(ctx):
    """(description, Source) of the first Argo CD / Flux object in the scan, else None."""
    def compute(project):
        for e in project.of_kind(*_GITOPS_KINDS):
            if e.format == "kubernetes":
                return f"{_GITOPS_KINDS[e.kind]} '{e.name}' in {e.file}", Source(e.file, e.line, 1)
        return None
    return ctx.project.memo("pm107_gitops", compute)


@rule(id="PM107", name="imperative-change-to-production", severity="high",
      severity_reason="A change made with kubectl has no review, no Git record of who made it and nothing to revert to.",
      incidents=["9.3"], title="Imperative kubectl change to production from CI or a script",
      formats=("pipeline",), kinds=("PipelineJob",),
      options={"verbs": VERBS, "gitops_namespaces": GITOPS_NAMESPACES},
      fix="Change production through Git: commit the manifest change and let Argo CD / Flux (or one reviewed "
          "deploy pipeline) apply it; keep CI to read-only kubectl (`diff`, `get`, `apply --dry-run=server`).")
def check(resource, ctx):
    """## What it checks
    `kubectl` / `oc` commands that change objects (`edit`, `patch`, `apply`, `delete`, `scale`,
    `set`, `replace`, `create`, `annotate`, `label`, `rollout restart|undo|pause|resume`,
    `autoscale`, `expose`; option `verbs`) in CI jobs of any system and in shell scripts and
    Makefile targets, when they target production: a production namespace, kube context or
    kubeconfig, a file under a production path (or piped from `kustomize build overlays/prod`), a
    context selected earlier (`kubectl config use-context`, `aws eks update-kubeconfig`), a
    production environment, or a job/script name that says prod. The branch alone is not
    evidence here. Quiet: read-only commands (`get`, `describe`, `logs`, `diff`, `auth can-i`,
    `rollout status`), `--dry-run=server|client`, staging targets, and applies into the GitOps
    controller's own namespace (option `gitops_namespaces`). When the scan holds an Argo CD
    Application or a Flux Kustomization/HelmRelease, the message says the controller will revert
    or fight the change. Every such command is reported (each is one change); PM102 may also
    report the same job when it has no approval gate: a different failure.

    ## Why it breaks production
    In catalog 9.3 an engineer ran `kubectl edit` on a production Deployment, changing its image
    from v1.5 to v2.0-beta; the rollout failed and nobody knew who had changed what, so finding
    and reverting it took hours. A `kubectl patch` in a pipeline or a hotfix script is the same
    change with no pull request, no Git history and no reviewed state to go back to.

    ## Bad
    ```yaml .github/workflows/hotfix.yml
    on: workflow_dispatch
    jobs:
      hotfix:
        runs-on: ubuntu-latest
        steps:
          - run: kubectl -n production set image deployment/api api=registry.example.com/api:2.0.0-beta
    ```

    ## Good
    ```yaml .github/workflows/hotfix.yml
    on: pull_request
    jobs:
      preview:
        runs-on: ubuntu-latest
        steps:
          - run: kubectl -n production diff -f k8s/production/
    ```

    ## Fix
    Commit the change to the manifests (image tag, replicas, patch) and let the GitOps controller
    or one reviewed deploy pipeline apply it; make emergency changes through the same path (a
    fast-tracked pull request), so Git holds who changed production, when and why.
    """
    verbs = set(ctx.options.get("verbs", VERBS))
    skip_ns = set(ctx.options.get("gitops_namespaces", GITOPS_NAMESPACES))
    system = resource.data.get("system")
    who = _WHO.get(system, "CI job '{}'").format(resource.file if system == "script" else resource.name)
    for i, step in enumerate(resource.data.get("steps") or []):
        for j, cmd in enumerate(step.get("commands") or []):
            argv = cmd.get("argv") or []
            if tool(argv) not in ("kubectl", "oc") or is_dry_run(argv):
                continue
            verb = kube_verb(argv)
            if verb not in verbs or flag_value(argv, ("-n", "--namespace")) in skip_ns:
                continue
            path = ("steps", i, "commands", j)
            verdict, evidence = deploy_target(resource, path, cmd, ctx.config, branches=False)
            if verdict != "production":
                continue
            shown = " ".join(words(argv))
            shown = shown if len(shown) <= 70 else shown[:67] + "..."
            gitops = _gitops(ctx)
            if gitops:
                tail = (f"; this repository is GitOps-managed ({gitops[0]}): the controller reverts the change at its "
                        "next sync, or fights it, so it silently disappears or flaps (drift)")
                related = ((gitops[1], "the GitOps controller that owns production state"),)
            else:
                tail = "; nothing in Git says production changed"
                related = ()
            yield Hit(path=path, production=evidence, related=related, message=(
                f"`{shown}` in {who} changes production imperatively ({tool(argv)} {verb}): no review, no record "
                f"of who changed what, and no reviewed state to roll back to{tail}"))
