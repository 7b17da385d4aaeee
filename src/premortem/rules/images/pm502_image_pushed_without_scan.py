"""PM502: CI builds and pushes an image that no vulnerability scanner checks before it is deployed."""
from types import SimpleNamespace

from ..delivery._artifacts import (BUILD_ACTIONS, BUILDS, PUSH_ACTIONS, PUSHES, SCANNER_ACTIONS, SCANNER_IMAGES,
                                   SCANNERS, SCANNING_TEMPLATES, SELF_PUSHES, deploys, find, pushed_image)
from ..delivery._flow import is_ci, label, pipeline_jobs, upstream
from ..registry import Hit, rule


@rule(id="PM502", name="image-pushed-without-scan", severity="medium",
      severity_reason="Known CVEs in the base image or dependencies reach the registry and production unnoticed; "
                      "the damage needs an attacker, so it is not an outage by itself.",
      incidents=["5.3"], title="Image built and pushed with no vulnerability scan",
      formats=("pipeline",), kinds=("PipelineJob",),
      options={"scanners": SCANNERS, "scanner_actions": SCANNER_ACTIONS, "scanner_images": SCANNER_IMAGES,
               "scanning_templates": SCANNING_TEMPLATES, "pushes": PUSHES, "self_pushes": SELF_PUSHES,
               "push_actions": PUSH_ACTIONS, "builds": BUILDS, "build_actions": BUILD_ACTIONS},
      fix="Scan the image before it is pushed or deployed and fail on serious findings: "
          "`trivy image --exit-code 1 --severity HIGH,CRITICAL $IMAGE` (or `aquasecurity/trivy-action`, grype, "
          "`snyk container test`, `docker scout cves`, GitLab's Container-Scanning template).")
def check(resource, ctx):
    """## What it checks
    CI jobs (GitHub Actions, GitLab CI, Jenkins `sh` steps) that push an image they built:
    `docker buildx build --push`, kaniko, `ko build`, jib, `gcloud builds submit`, `crane push`,
    `docker/build-push-action` with `push: true`, or `docker push` / `buildah push` /
    `podman push` after a build in the same job or a job it waits for (a push with no build,
    such as a promotion `docker tag $SHA ... && docker push`, is left alone). The pipeline must
    run a vulnerability scanner (trivy, grype, `snyk container`, `docker scout`, anchore,
    clair, twistcli, `aquasecurity/trivy-action`, `anchore/scan-action`, a scanner container run
    with `docker run aquasec/trivy`, GitLab's `Container-Scanning` template; options `scanners`,
    `scanner_actions`, `scanner_images`, `scanning_templates`) before the push or before the image
    is deployed: in the same job, in a job the push waits for, or in another job of the pipeline
    that runs before the production deploy. A scanner in a job that runs only after the deploy
    does not count, and the message says so. Reported at the first push of each image. Shell
    scripts and make targets are not checked, nor Jenkins plugin steps (only `sh` steps are read).

    ## Why it breaks production
    In catalog 5.3 a Python app was containerized and pushed to production without image
    scanning; an audit later found a Python 3.6 base with a high-severity urllib3 CVE allowing
    remote code execution, exploitable for weeks. A Trivy step in CI would have failed that build.

    ## Bad
    ```yaml .github/workflows/image.yml
    on: push
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: |
              docker build -t ghcr.io/acme/api:${{ github.sha }} .
              docker push ghcr.io/acme/api:${{ github.sha }}
    ```

    ## Good
    ```yaml .github/workflows/image.yml
    on: push
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: docker build -t ghcr.io/acme/api:${{ github.sha }} .
          - uses: aquasecurity/trivy-action@0.24.0
            with:
              image-ref: ghcr.io/acme/api:${{ github.sha }}
              exit-code: "1"
              severity: HIGH,CRITICAL
          - run: docker push ghcr.io/acme/api:${{ github.sha }}
    ```

    ## Fix
    Add a scanner step between build and push (or at least before the deploy job) that fails the
    pipeline on HIGH/CRITICAL findings, and rebuild on a supported base image.
    """
    data, opt = resource.data, ctx.options
    if not is_ci(data):
        return
    if any(t.lower() in str(i).lower() for i in data.get("includes") or [] for t in opt["scanning_templates"]):
        return
    up = upstream(ctx, resource)
    before = {n for n, _ in up}
    built = find(data, opt["builds"], opt["build_actions"])
    built_up = any(find(d, opt["builds"], opt["build_actions"]) for _, d in up)
    pushes = find(data, opt["self_pushes"], opt["push_actions"])
    pushes += [p for p in find(data, opt["pushes"]) if built_up or any(b[0] < p[0] for b in built)]
    if not pushes:
        return
    late = []  # (where, what, deploy) of scanners that only run after a deploy
    for name, d in pipeline_jobs(ctx, resource):
        scans = find(d, opt["scanners"], opt["scanner_actions"], opt["scanner_images"])
        if not scans:
            continue
        if name in before:
            return
        job = SimpleNamespace(name=name, data=d, file=resource.file)
        shipped = [(n, p) for n, dd in upstream(ctx, job) for p in deploys(n, dd, ctx.config, resource.file)]
        shipped += [(name, p) for p in deploys(name, d, ctx.config, resource.file) if p[0] < scans[0][0]]
        shipped = [(n, p) for n, p in shipped if p[3] != "staging"]
        if not shipped:
            return
        at = (scans[0][3] or d["steps"][scans[0][0][0]]).get("line")
        late.append((f"job '{name}' (line {at})", scans[0][2], f"`{shipped[0][1][2]}` in job '{shipped[0][0]}'"))
    mine = data.get("pipeline") or resource.file
    other = next((f" (`{f[0][2]}` in {e.file} runs in another pipeline and gates nothing here)"
                  for e in ctx.project.of_kind("PipelineJob") for d in [e.facts.get("data") or {}]
                  if (d.get("pipeline") or e.file) != mine and is_ci(d)
                  for f in [find(d, opt["scanners"], opt["scanner_actions"], opt["scanner_images"])] if f), "")
    seen = set()
    for order, path, what, cmd in sorted(pushes, key=lambda p: p[0]):
        step = data["steps"][order[0]]
        image = pushed_image(cmd["argv"], None) if cmd else pushed_image([], step)
        repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
        if (repo or path) in seen:
            continue
        seen.add(repo or path)
        why = (f"the scanner `{late[0][1]}` in {late[0][0]} runs only after the deploy {late[0][2]}, when the "
               "image is already live" if late else "no vulnerability scanner (trivy, grype, snyk container, docker scout) "
               "runs before it is pushed or deployed" + other)
        yield Hit(path=path, message=(
            f"`{what}` in {label(resource)} pushes {('image ' + image) if image else 'an image'} and {why}: known "
            "CVEs in its base image and packages ship unnoticed"))
