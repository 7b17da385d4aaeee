"""PM101: a CI deploy command that ships a mutable image tag (`latest`, `main`, ...)."""
import re

from ..images.pm501_mutable_image_tag import MUTABLE_TAGS
from ._deploys import commands, subcommand, tool, words
from ._flow import label
from ..registry import Hit, rule

_SET = ("--set", "--set-string")


def _tag(ref: str) -> str:
    """The tag of an image reference ('' when pinned by digest or templated)."""
    if "@sha256:" in ref or "$" in ref or "{{" in ref:
        return ""
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


@rule(id="PM101", name="ci-deploys-mutable-tag", severity="high",
      severity_reason="A deploy of `latest` cannot be reproduced or rolled back, and restarts pull whatever it points at now.",
      incidents=["R1", "5.1"], title="CI deploys a mutable image tag",
      formats=("pipeline",), kinds=("PipelineJob",), options={"mutable_tags": MUTABLE_TAGS},
      fix="Deploy the tag CI just built (`--set image.tag=$CI_COMMIT_SHA`, `app:${{ github.sha }}`) "
          "or its digest, never `latest`.")
def check(resource, ctx):
    """## What it checks
    Deploy commands in CI jobs, shell scripts and make targets: `helm upgrade/install
    --set|--set-string image.tag=<tag>` (any `*.tag` / `*image*=repo:tag` value), `kubectl set
    image ... name=repo:<tag>`, `kustomize edit set image name=repo:<tag>` and `argocd app set
    -p|--helm-set image.tag=<tag>`, where the tag is a moving one (`latest`, `main`, `stable`,
    ... option `mutable_tags`). A CI variable or a digest is fine.

    ## Why it breaks production
    In R1 the payment-api hotfix went out as `helm upgrade --set image.tag=latest`: rescheduled
    pods pulled a different build and there was no version to roll back to. Catalog 5.1 is the
    same failure through `kubectl set image ...:latest`.

    ## Bad
    ```yaml .github/workflows/deploy.yml
    on: push
    jobs:
      deploy:
        runs-on: ubuntu-latest
        steps:
          - run: helm upgrade api ./chart -n production --set image.tag=latest
    ```

    ## Good
    ```yaml .github/workflows/deploy.yml
    on: push
    jobs:
      deploy:
        runs-on: ubuntu-latest
        steps:
          - run: helm upgrade api ./chart -n production --set image.tag=${{ github.sha }}
    ```

    ## Fix
    Tag every build with its commit SHA or version and deploy exactly that tag.
    """
    mutable = {t.lower() for t in ctx.options.get("mutable_tags", MUTABLE_TAGS)}
    for path, cmd in commands(resource):
        argv = words(cmd["argv"])
        t, sub = tool(argv), subcommand(argv)
        values = []
        if t == "helm" and sub in ("upgrade", "install"):
            for k, a in enumerate(argv):
                for flag in _SET:
                    if a == flag and k + 1 < len(argv):
                        values += argv[k + 1].split(",")
                    elif a.startswith(flag + "="):
                        values += a[len(flag) + 1:].split(",")
            for v in values:
                key, _, val = v.partition("=")
                tag = val if re.search(r"(^|\.)tag$", key, re.I) else _tag(val) if "image" in key.lower() else ""
                if tag and tag.lower() in mutable:
                    yield Hit(path=path, message=f"`helm {sub}` in {label(resource)} sets {key}={val}: the "
                                                 f"release runs whatever '{tag}' points at when a pod restarts, "
                                                 "and there is no fixed version to roll back to")
        elif t in ("kubectl", "oc") and sub == "set" and "image" in argv:
            for a in argv[argv.index("image") + 1:]:
                if "=" in a and not a.startswith("-"):
                    tag = _tag(a.split("=", 1)[1])
                    if tag.lower() in mutable or (not tag and "@" not in a and "$" not in a):
                        yield Hit(path=path, message=f"`{t} set image {a}` in {label(resource)} deploys the "
                                                     f"mutable tag '{tag or 'latest'}': restarts pull a different build")
        elif t == "kustomize" and argv[1:4] == ["edit", "set", "image"]:
            for a in argv[4:]:
                ref = a.split("=", 1)[-1]
                tag = _tag(ref) or (ref.split(":", 1)[1] if ref.startswith(":") else "")
                if tag.lower() in mutable:
                    yield Hit(path=path, message=f"`kustomize edit set image {a}` in {label(resource)} writes the "
                                                 f"mutable tag '{tag}' into the overlay that gets deployed: restarts "
                                                 "pull a different build and there is no version to roll back to")
        elif t == "argocd" and argv[1:3] == ["app", "set"]:
            for k, a in enumerate(argv):
                if a in ("-p", "--parameter", "--helm-set", "--helm-set-string") and k + 1 < len(argv):
                    key, _, val = argv[k + 1].partition("=")
                    if re.search(r"(^|\.)tag$", key, re.I) and val.lower() in mutable:
                        yield Hit(path=path, message=f"`argocd app set {a} {argv[k + 1]}` in {label(resource)} "
                                                     f"pins the Application to the mutable tag '{val}'")
