"""What the Dockerfile rules share: the image a stage pulls (after ARG defaults), where an ARG
that named it is declared, and the chain of stages a final image is built from."""
from __future__ import annotations

import re

from ...k8s.images import ImageRef, parse_image


def pulled_image(resource) -> ImageRef | None:
    """The image a stage pulls from a registry; None when it builds on an earlier stage, on
    `scratch`, or on a value only a build argument gives (never guessed)."""
    d = resource.data
    image = d.get("from") or ""
    if d.get("base_stage") or not image or image.lower() == "scratch" or "$" in image:
        return None
    return parse_image(image)


def arg_origin(resource) -> tuple[str, tuple]:
    """(' (ARG BASE defaults to ...)', related places) when ARG defaults named the FROM image."""
    args = {k: v for k, v in (resource.data.get("from_args") or {}).items() if v is not None}
    if not args:
        return "", ()
    text = ", ".join(f"ARG {k} defaults to '{v}'" for k, v in args.items())
    return f" ({text})", tuple((("args", k), f"ARG {k} defaults to '{v}' here") for k, v in args.items())


def describe(resource) -> str:
    """'stage 'build'' / 'the final stage' / 'stage 2', for messages."""
    d = resource.data
    if d.get("name"):
        return f"stage '{d['name']}'" + (" (the final stage)" if d.get("final") else "")
    return "the final stage" if d.get("final") else f"stage {d.get('index', 0)}"


def lineage(resource) -> list:
    """The stage's data, then the stages it is built FROM (`FROM build AS final`), base last."""
    return [resource.data] + list(resource.data.get("ancestors") or [])


def family(ref: ImageRef) -> str:
    """`python` for python:3.12, docker.io/library/python, mirror.example.com/library/python."""
    return ref.repository.rsplit("/", 1)[-1].lower()


def tag_parts(ref: ImageRef) -> list:
    return [p for p in re.split(r"[-_]", ref.tag.lower()) if p]


_DEV_WORDS = {"dev", "devel", "development", "test", "tests", "testing", "ci", "build", "builder", "local",
              "debug", "devcontainer", "e2e"}


def dev_image(file: str, words: list | None = None) -> bool:
    """A Dockerfile for development, CI or tests (`Dockerfile.dev`, `test.Dockerfile`,
    `.devcontainer/Dockerfile`): meant to carry tools, never shipped."""
    words = set(words) if words is not None else _DEV_WORDS
    parts = file.replace("\\", "/").split("/")
    if ".devcontainer" in parts[:-1]:
        return True
    name = re.sub(r"(?i)dockerfile|containerfile", " ", parts[-1])
    return any(w in words for w in re.split(r"[._\-\s]+", name.lower()) if w)
