"""PM503: a Dockerfile `FROM` that pulls a base image by a tag that moves (or no tag at all)."""
import re

from ..registry import Hit, rule
from ._eol import CODENAMES
from ._stages import arg_origin, describe, family, pulled_image, tag_parts
from .pm501_mutable_image_tag import MUTABLE_TAGS

MOVING_TAGS = MUTABLE_TAGS + ["lts", "mainline", "rolling", "unstable", "testing", "beta", "rc"]


def moving(ref, words: set) -> str:
    """Why the tag of `ref` moves ('' when it names a version)."""
    tag = ref.tag.lower()
    if not tag:
        return "no tag, which means 'latest'"
    parts = tag_parts(ref)
    codenames = CODENAMES.get(family(ref), {})
    if any(p in codenames for p in parts):  # debian:bookworm-slim, ubuntu:jammy, node:hydrogen-alpine
        return ""
    if tag in words or (parts[0] in words and not any(re.fullmatch(r"v?\d+(\.\d+)*", p) for p in parts)):
        return f"tag '{ref.tag}', which moves to every new release"
    if not re.search(r"\d", tag):
        return f"tag '{ref.tag}', which names a variant but no version, so it follows every new release"
    return ""


@rule(id="PM503", name="base-image-unpinned", severity="high",
      severity_reason="The same Dockerfile builds a different image tomorrow: an untested base reaches production "
                      "and the image that works today cannot be rebuilt.",
      incidents=["5.1"], title="Dockerfile base image is not pinned to a version",
      formats=("dockerfile",), kinds=("DockerStage",), options={"mutable_tags": MOVING_TAGS},
      fix="Pin every `FROM` to a version tag and, for reproducible builds, its digest "
          "(`FROM python:3.12.7-slim@sha256:...`); let Renovate or Dependabot propose the updates.")
def check(resource, ctx):
    """## What it checks
    The `FROM` of every build stage, the final one and the builders: the base image needs a tag
    that names a version (`python:3.12-slim`, `debian:bookworm`, `node:hydrogen`) or a digest
    (`@sha256:...`). Reported: no tag (which means `latest`), a moving tag from `mutable_tags`
    (`latest`, `stable`, `lts`, `edge`, `nightly`, `main`...; also as the first part,
    `lts-alpine`), and a tag that names only a variant (`node:alpine`, `python:slim`).
    `FROM scratch` and `FROM <earlier stage>` are not pulls; a `FROM ${BASE}` is judged on the
    ARG's default, and left alone when only a build argument would give it a value.

    ## Why it breaks production
    In catalog 5.1 a mutable `latest` tag let an untested build reach production and the UI
    went blank for thousands of users; a base image tag that moves does the same one layer
    down. Every rebuild (a security patch, a one-line fix) silently takes whatever the tag
    points at that day, and the image that was tested can no longer be rebuilt.

    ## Bad
    ```dockerfile
    FROM node:latest
    WORKDIR /app
    COPY . .
    RUN npm ci --omit=dev
    CMD ["node", "server.js"]
    ```

    ## Good
    ```dockerfile
    FROM node:20.11.1-bookworm-slim@sha256:545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446
    WORKDIR /app
    COPY . .
    RUN npm ci --omit=dev
    CMD ["node", "server.js"]
    ```

    ## Fix
    Write the version in the tag (`node:20.11.1-bookworm-slim`), add the digest for a build
    that can be repeated byte for byte, and update both through a bot-opened pull request so
    the new base is tested before it ships.
    """
    ref = pulled_image(resource)
    if ref is None or ref.pinned:
        return
    words = {t.lower() for t in ctx.options.get("mutable_tags", MOVING_TAGS)}
    why = moving(ref, words)
    if not why:
        return
    note, related = arg_origin(resource)
    yield Hit(path=("from",), related=related,
              message=f"{describe(resource)} is built FROM '{ref.raw}'{note} with {why}: each build can get a "
                      f"different base, untested, and the image that works today cannot be rebuilt; pin a version "
                      f"(and a digest)")
