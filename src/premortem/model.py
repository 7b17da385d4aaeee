"""Core data types: where things are (Source), what was parsed (Resource), what is wrong (Finding)."""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[str(text).strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (expected one of: {', '.join(s.label for s in cls)})"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


Path = tuple  # a path inside a document: ("spec", "template", "spec", "containers", 0, "image")


@dataclass(frozen=True, slots=True)
class Source:
    """A place in a file: 1-based line and column, file relative to the scan root."""

    file: str
    line: int = 1
    column: int = 1


@dataclass(slots=True)
class Origin:
    """How a resource got into the scan: a plain file, a rendered Helm chart, a Kustomize build."""

    kind: str = "file"  # file | helm | kustomize | terraform
    unit: str = ""  # chart dir / overlay dir / file, relative to root
    detail: str = ""  # values files used, etc.
    # the environment a parser read from the input itself (Terraform workspace, var-file, backend key,
    # `var.environment`): (name, how it was found), e.g. ("prod", "var-file envs/prod.tfvars")
    environment: tuple = ()


@dataclass(slots=True)
class Resource:
    """One parsed object (a Kubernetes object, a Dockerfile, ...) with positions for its nodes.

    `positions` maps a path inside `data` to the (line, column) of that node's value; `key_positions`
    maps it to the key's position. `locate()` turns a path into a Source, walking up to the nearest
    ancestor that has a position.
    """

    format: str  # kubernetes | dockerfile | ...
    kind: str
    name: str
    namespace: str
    data: Any
    file: str
    line: int
    positions: dict = field(default_factory=dict)
    key_positions: dict = field(default_factory=dict)
    origin: Origin = field(default_factory=Origin)
    doc_index: int = 0
    # For rendered/built objects: maps a path to another Source (e.g. the values.yaml line)
    value_sources: dict = field(default_factory=dict)
    # callable(path, key) -> Source | None overriding locate (Helm templates, Kustomize patches)
    locator: Any = None
    # callable(path) -> list[(Source, str)] of related places (Helm values lines)
    relator: Any = None

    @property
    def api_version(self) -> str:
        if isinstance(self.data, dict):
            return str(self.data.get("apiVersion", ""))
        return ""

    @property
    def id(self) -> str:
        ns = self.namespace or "-"
        return f"{self.kind}/{ns}/{self.name}" if self.format == "kubernetes" else f"{self.kind}/{self.name}"

    @property
    def labels(self) -> dict:
        md = self.data.get("metadata") if isinstance(self.data, dict) else None
        labels = md.get("labels") if isinstance(md, dict) else None
        return labels if isinstance(labels, dict) else {}

    @property
    def annotations(self) -> dict:
        md = self.data.get("metadata") if isinstance(self.data, dict) else None
        ann = md.get("annotations") if isinstance(md, dict) else None
        return ann if isinstance(ann, dict) else {}

    def get(self, path: Path, default: Any = None) -> Any:
        node = self.data
        for step in path:
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node):
                node = node[step]
            else:
                return default
        return node

    def locate(self, path: Path = (), key: bool = False) -> Source:
        if self.locator is not None:
            found = self.locator(tuple(path), key)
            if found is not None:
                return found
        table = self.key_positions if key else self.positions
        p = tuple(path)
        while True:
            if p in table:
                line, col = table[p]
                return Source(self.file, line, col)
            if not key and p in self.key_positions:
                line, col = self.key_positions[p]
                return Source(self.file, line, col)
            if not p:
                return Source(self.file, self.line, 1)
            p = p[:-1]

    def related(self, path: Path) -> list:
        if self.relator is None:
            return []
        return self.relator(path) or []


@dataclass(slots=True)
class Related:
    file: str
    line: int
    column: int
    message: str

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}


@dataclass(slots=True)
class Finding:
    rule_id: str
    rule: str
    severity: Severity
    title: str
    message: str
    incidents: list
    file: str
    line: int
    column: int
    resource: str
    fix: str
    fingerprint: str
    production: str = ""  # the evidence that made this production ("namespace 'production'")
    related: list = field(default_factory=list)
    snippet: str = ""
    suppressed: str = ""  # reason, when suppressed (kept out of normal output)

    def to_dict(self) -> dict:
        out = {
            "rule_id": self.rule_id,
            "rule": self.rule,
            "severity": self.severity.label,
            "title": self.title,
            "message": self.message,
            "incidents": list(self.incidents),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "resource": self.resource,
            "fix": self.fix,
            "fingerprint": self.fingerprint,
        }
        if self.production:
            out["production"] = self.production
        if self.related:
            out["related"] = [r.to_dict() for r in self.related]
        return out


@dataclass(slots=True)
class ScanError:
    file: str
    line: int
    message: str
    column: int = 0

    def to_dict(self) -> dict:
        out = {"file": self.file, "line": self.line, "message": self.message}
        if self.column:
            out["column"] = self.column
        return out

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def fingerprint(*parts: object) -> str:
    """A stable identity for a finding that leaves line numbers out (baselines survive edits)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "replace"))
    return h.hexdigest()[:32]


def redact(secret: str) -> str:
    """A secret as shown anywhere: first 4 characters and a short hash, never the whole value."""
    digest = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:8]
    head = secret[:4] if len(secret) >= 12 else secret[:2]
    return f"{head}…[redacted sha256:{digest}]"
