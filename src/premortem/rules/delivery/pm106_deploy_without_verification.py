"""PM106: a production deploy of an image by tag, with no digest and no signature verification before it."""
from ..registry import Hit, rule
from ._artifacts import VERIFIERS, cluster_verification, deployed_images, deploys, find
from ._flow import downstream, is_ci, label, upstream

POLICY_KINDS = ["ClusterImagePolicy"]
VERIFIER_IMAGES = ["connaisseur", "sigstore/policy-controller", "ratify"]


@rule(id="PM106", name="deploy-without-verification", severity="medium",
      severity_reason="Nothing proves the image production pulls is the one CI built and tested; a re-pushed or "
                      "wrong tag goes live silently.",
      incidents=["1.3"], title="Production deploy of an image without digest or signature verification",
      formats=("pipeline",), kinds=("PipelineJob",),
      options={"verifiers": VERIFIERS, "policy_kinds": POLICY_KINDS, "verifier_images": VERIFIER_IMAGES},
      fix="Deploy by digest (`--set image.digest=$DIGEST`, `app@sha256:...`) or run `cosign verify` (or "
          "`notation verify`) on the image before the deploy step; a Kyverno `verifyImages` policy or sigstore "
          "policy-controller in the cluster also counts.")
def check(resource, ctx):
    """## What it checks
    CI deploy commands that target production (environment, namespace, kube context, values file
    or branch) and name the image they deploy by tag: `helm upgrade --set image.tag=...` (or
    `*image*=repo:tag`, argocd `--helm-set`), `kubectl set image c=repo:tag`, `gcloud run deploy
    --image`. The deploy is fine when the image is pinned by digest
    (`@sha256:`, a `*digest*` key or a `$..DIGEST` value), when a signature/attestation check
    (`cosign verify`, `cosign verify-attestation`, `notation verify`, `gh attestation verify`...,
    option `verifiers`) runs before it in the same job or in a job it waits for, or when the scan
    holds cluster-side verification: a sigstore `ClusterImagePolicy`, a Kyverno policy with
    `verifyImages` (named for verification when the index does not keep its spec), or a
    Connaisseur/policy-controller/Ratify workload. A deploy that does not show its image
    (`kubectl apply -f k8s/`, a values file) is not judged. Scripts run by hand are not checked.

    ## Why it breaks production
    In catalog 1.3 the staging artifact was tagged and deployed to production because nothing
    checked what was being promoted: no checksum verification, no promotion gate. A tag can be
    re-pointed at any time; a digest or a verified signature ties the deploy to the exact build
    that passed staging.

    ## Bad
    ```yaml .github/workflows/deploy.yml
    on:
      push:
        branches: [main]
    jobs:
      deploy:
        runs-on: ubuntu-latest
        environment: production
        steps:
          - run: helm upgrade api ./chart -n production --set image.tag=${{ github.sha }}
    ```

    ## Good
    ```yaml .github/workflows/deploy.yml
    on:
      push:
        branches: [main]
    jobs:
      deploy:
        runs-on: ubuntu-latest
        environment: production
        steps:
          - uses: sigstore/cosign-installer@v3
          - run: |
              cosign verify ghcr.io/acme/api:${{ github.sha }} \\
                --certificate-identity-regexp 'https://github.com/acme/.*' \\
                --certificate-oidc-issuer https://token.actions.githubusercontent.com
              helm upgrade api ./chart -n production --set image.tag=${{ github.sha }}
    ```

    ## Fix
    Sign images in the build job (`cosign sign --yes $IMAGE@$DIGEST`), verify the signature (or
    deploy the digest the build printed) in the production job, and enforce it in the cluster with
    an admission policy so a manual deploy cannot skip it.
    """
    data = resource.data
    if not is_ci(data):
        return
    verifiers = ctx.options.get("verifiers") or VERIFIERS
    checks = find(data, verifiers)
    earlier = [(n, find(d, verifiers)) for n, d in upstream(ctx, resource)]
    if any(found for _, found in earlier):
        return
    for order, path, action, kind, evidence, cmd in deploys(resource.name, data, ctx.config, resource.file):
        images = deployed_images(cmd["argv"])
        if kind != "production" or not images or any(pinned for _, _, pinned in images):
            continue
        if any(o < order for o, *_ in checks):
            continue
        cluster = cluster_verification(ctx.project, ctx.options.get("policy_kinds") or POLICY_KINDS,
                                       ctx.options.get("verifier_images") or VERIFIER_IMAGES)
        if cluster:
            return
        after = [(f"at line {c[3]['line']}", c[2]) for c in checks if c[3]]
        after += [(f"in job '{n}'", f[0][2]) for n, d in downstream(ctx, resource) for f in [find(d, verifiers)] if f]
        late = f" (`{after[0][1]}` {after[0][0]} runs only after it)" if after else ""
        yield Hit(path=path, production=evidence, message=(
            f"`{action}` to production in {label(resource)} deploys {images[0][0]} by tag, with no digest and no "
            f"signature check before it{late}: whatever the tag points at when the pods pull it goes live, "
            "even an image re-pushed or promoted by mistake"))
