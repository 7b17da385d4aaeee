"""PM506: a Dockerfile pulls its base image from Docker Hub although the project has a mirror."""
from ..registry import Hit, rule
from ._stages import arg_origin, describe, pulled_image

HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


def mirrored(ref, mirror: str) -> str:
    """The reference through a pull-through mirror: official images live under `library/`."""
    repo = ref.repository if "/" in ref.repository else f"library/{ref.repository}"
    out = f"{mirror.rstrip('/')}/{repo}"
    return out + (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")


@rule(id="PM506", name="base-image-from-docker-hub", severity="medium",
      severity_reason="A Docker Hub outage or pull rate limit stops every build, including the hotfix; running "
                      "services are not affected.",
      incidents=["8.2"], title="Base image pulled from Docker Hub instead of the configured mirror",
      formats=("dockerfile",), kinds=("DockerStage",),
      fix="Pull base images through the registry named in `.premortem.yaml` (`registries.mirror` or one of "
          "`registries.allowed`): `FROM mirror.example.com/library/node:20.11.1-alpine`.")
def check(resource, ctx):
    """## What it checks
    Only when `.premortem.yaml` names a mirror or allowed registries
    (`registries: {mirror: ..., allowed: [...]}`): every `FROM` of every stage whose image
    resolves to Docker Hub: no registry host (`node:20`, `bitnami/redis:7.2`), `docker.io`,
    `index.docker.io` or `registry-1.docker.io`. `FROM scratch`, earlier stages and values only
    a build argument gives are left alone; an ARG default is judged. Listing `docker.io` in
    `registries.allowed` allows it. Without that configuration the rule is silent.

    ## Why it breaks production
    In catalog 8.2 a Docker Hub outage took down image pulls worldwide: CI could not pull
    `node:14-alpine` or `nginx:latest`, every build failed and deployments stopped for hours.
    Anonymous pulls are also rate-limited, so a busy CI fleet fails the same way on a normal day.

    ## Bad
    ```yaml .premortem.yaml
    registries: {mirror: registry.example.com}
    ```
    ```dockerfile
    FROM node:20.11.1-alpine
    COPY . /app
    CMD ["node", "/app/server.js"]
    ```

    ## Good
    ```yaml .premortem.yaml
    registries: {mirror: registry.example.com}
    ```
    ```dockerfile
    FROM registry.example.com/library/node:20.11.1-alpine
    COPY . /app
    CMD ["node", "/app/server.js"]
    ```

    ## Fix
    Mirror the base images (Harbor or Artifactory proxy cache, ECR pull-through cache, or a
    scheduled `docker pull`/`tag`/`push`) and write the mirror's name in every `FROM`; the
    message gives the rewritten reference.
    """
    cfg = ctx.config
    allowed = [r.lower().rstrip("/") for r in cfg.allowed_registries]
    if not cfg.mirror and not allowed:
        return
    ref = pulled_image(resource)
    if ref is None or ref.registry.lower() not in HUB_HOSTS:
        return
    if any(a in HUB_HOSTS or a.split("/", 1)[0] in HUB_HOSTS for a in allowed):
        return
    target = cfg.mirror or allowed[0]
    note, related = arg_origin(resource)
    yield Hit(path=("from",), related=related,
              message=f"{describe(resource)} pulls '{ref.raw}'{note} from Docker Hub although this project pulls "
                      f"through {target}: a Hub outage or rate limit stops every build; use "
                      f"FROM {mirrored(ref, target)}")
