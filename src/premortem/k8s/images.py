"""Container image references: registry, repository, tag, digest (docker reference grammar)."""
from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    raw: str
    registry: str
    repository: str
    tag: str
    digest: str

    @property
    def pinned(self) -> bool:
        return bool(self.digest)

    @property
    def templated(self) -> bool:
        """Contains an unresolved variable ($VAR, ${VAR}, {{ }}) we cannot judge."""
        return "$" in self.raw or "{{" in self.raw

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}" if self.registry != DOCKER_HUB else self.repository


def parse_image(ref: str) -> ImageRef:
    raw = ref.strip()
    rest, digest = raw, ""
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    tag = ""
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
    parts = rest.split("/", 1)
    if len(parts) == 2 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, repo = parts
    else:
        registry, repo = DOCKER_HUB, rest
    return ImageRef(raw=raw, registry=registry, repository=repo, tag=tag, digest=digest)
