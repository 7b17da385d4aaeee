"""PM501: a production container image that is not pinned to an immutable version."""
from ...k8s.images import parse_image
from ...k8s.workloads import containers
from ..registry import Hit, rule

MUTABLE_TAGS = ["latest", "master", "main", "develop", "dev", "edge", "nightly", "stable", "staging",
                "snapshot", "canary", "current", "head"]


@rule(id="PM501", name="mutable-image-tag", severity="high",
      severity_reason="A mutable tag means the code running in production can change without a deploy and cannot be rolled back to.",
      incidents=["5.1", "R1"], title="Production image uses a mutable tag",
      kinds=None, production_only=True, options={"mutable_tags": MUTABLE_TAGS},
      fix="Pin the image to a version built from one commit (`payment-api:1.42.0` or `payment-api:3f9c2e1`), "
          "ideally with its digest (`@sha256:...`); set it through CI, never `latest`.")
def check(resource, ctx):
    """## What it checks
    Every container and init container of a production workload: the image must carry a tag
    that is not a moving one (`latest`, `main`, `stable`, ... configurable as `mutable_tags`),
    or be pinned by digest. An image with no tag at all means `latest`. The message says what
    `imagePullPolicy` makes of it: `Always` pulls whatever the tag points at on every restart,
    `IfNotPresent` leaves nodes running different builds under one name.

    ## Why it breaks production
    In the payment-api outage a "quick fix" shipped `our-priv-reg.io/fintech/payment-api:latest`:
    restarted pods pulled a new build with no matching platform and went to ImagePullBackOff,
    and there was no previous version to roll back to (catalog 5.1, R1). The frontend in 5.1
    went blank the same way when `latest` silently changed under a running Deployment.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: our-priv-reg.io/fintech/payment-api:latest
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production, labels: {track: latest}}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: our-priv-reg.io/fintech/payment-api:1.42.0@sha256:4bc453b53cb3d914b45f4b250294236adba2c0e09ff6f03793949e7e39fd4cc1
    ```

    ## Fix
    Tag images with a version or commit SHA in CI and deploy that exact tag (or digest);
    promote the same artifact from staging to production instead of re-tagging `latest`.
    """
    mutable = {t.lower() for t in ctx.options.get("mutable_tags", MUTABLE_TAGS)}
    for c in containers(resource):
        if not c.image:
            continue
        ref = parse_image(c.image)
        if ref.pinned or ref.templated:
            continue
        tag = ref.tag.lower()
        if tag and tag not in mutable:
            continue
        what = f"tag '{ref.tag}'" if tag else "no tag (which means 'latest')"
        policy = c.data.get("imagePullPolicy")
        if policy == "IfNotPresent":
            effect = ("with imagePullPolicy IfNotPresent each node keeps whichever build it pulled first, "
                      "so replicas run different code under one name")
        elif policy == "Never":
            effect = "with imagePullPolicy Never nodes run whatever stale build they cached"
        else:
            effect = ("pull policy Always (the default for this tag) pulls whatever the tag points at "
                      "on every restart, so a reschedule can deploy an untested build")
        kind = "init container" if c.init else "container"
        yield Hit(path=c.at("image"),
                  message=f"{kind} '{c.name}' runs '{c.image}' with {what}; {effect}, and there is no "
                          f"fixed version to roll back to")
