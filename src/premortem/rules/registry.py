"""The rule registry: a decorator on a pure function, metadata beside it, docs from its docstring.

A rule is `check(resource, ctx) -> Iterable[Hit]`. It never reads files or prints; it reports at a
path inside the resource and the engine turns that into file:line, fingerprint and severity.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..model import Severity

DOC_SECTIONS = ("What it checks", "Why it breaks production", "Bad", "Good", "Fix")
FORMATS = {"kubernetes", "dockerfile", "any"}


@dataclass(frozen=True)
class Hit:
    """What a rule yields: a path inside the resource and a message.

    `secrets` are values that must never be printed whole: the engine redacts them everywhere
    (message, snippet) before any reporter sees the finding. `related` is a list of
    (path, message) pairs inside the same resource, or (Source, message) pairs elsewhere.
    `key=True` points at the key rather than the value (useful for a missing child).
    """

    path: tuple
    message: str
    key: bool = False
    secrets: tuple = ()
    related: tuple = ()
    severity: Severity | None = None  # a rule may raise/lower severity for one hit (e.g. with DEBUG on)
    identity: str = ""  # extra stable identity for the fingerprint when one path yields several hits
    production: str = ""  # evidence the rule itself found (an Argo CD destination, say); wins over the resource's
    at: object = None  # a model.Source to report at instead of `path` (a line inside a block string; column 0 = the line)


@dataclass
class Rule:
    id: str
    name: str
    severity: Severity
    severity_reason: str
    incidents: list
    applies_to: dict  # {"formats": [...], "kinds": [...] or None}
    production_only: bool
    title: str
    fix: str
    check: Callable
    options: dict = field(default_factory=dict)
    docs: dict = field(default_factory=dict)
    family: str = ""

    def applies(self, resource) -> bool:
        formats = self.applies_to.get("formats") or ["any"]
        if "any" not in formats and resource.format not in formats:
            return False
        kinds = self.applies_to.get("kinds")
        return not kinds or resource.kind in kinds

    def to_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "severity": self.severity.label,
            "severity_reason": self.severity_reason, "incidents": list(self.incidents),
            "applies_to": self.applies_to, "production_only": self.production_only,
            "title": self.title, "fix": self.fix, "family": self.family,
            "options": self.options, "docs": self.docs,
        }


_RULES: dict = {}
_LOADED: list = []
_ID = re.compile(r"^PM\d{3}$")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def parse_docs(doc: str) -> dict:
    """Split a docstring into its `## Section` parts."""
    sections: dict = {}
    current = None
    for line in (doc or "").splitlines():
        m = re.match(r"^\s*##\s+(.+?)\s*$", line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif current:
            sections[current].append(line)
    out = {}
    for k, lines in sections.items():
        # dedent by the smallest indentation of non-empty lines
        indents = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
        cut = min(indents) if indents else 0
        out[k] = "\n".join(ln[cut:] for ln in lines).strip("\n")
    return out


def rule(*, id: str, name: str, severity: str, severity_reason: str, incidents: list, title: str,
         fix: str, formats=("kubernetes",), kinds=None, production_only: bool = False,
         options: dict | None = None):
    """Register `check(resource, ctx)` as a rule with its metadata."""

    def wrap(fn: Callable[..., Iterable[Hit]]):
        if not _ID.match(id):
            raise ValueError(f"rule id {id!r} must look like PM123")
        if not _NAME.match(name):
            raise ValueError(f"rule name {name!r} must be kebab-case")
        if id in _RULES and _RULES[id].check is not fn:
            raise ValueError(f"rule id {id} registered twice")
        module = fn.__module__.split(".")
        _RULES[id] = Rule(
            id=id, name=name, severity=Severity.parse(severity), severity_reason=severity_reason,
            incidents=list(incidents), applies_to={"formats": list(formats), "kinds": list(kinds) if kinds else None},
            production_only=production_only, title=title, fix=fix, check=fn,
            options=dict(options or {}), docs=parse_docs(fn.__doc__ or ""),
            family=module[-2] if len(module) >= 2 else "",
        )
        fn.rule_id = id
        return fn

    return wrap


_RULE_FILE = re.compile(r"^pm\d{3}_[a-z0-9_]+$")


def rule_modules() -> list:
    """Every rule module: `rules/<family>/pm123_name.py` for each family named in premortem.rules.
    The file is the registration; its name carries the rule ID, so an ID is one step from its code."""
    from . import FAMILIES

    mods = []
    for family in FAMILIES:
        pkg = importlib.import_module(f"premortem.rules.{family}")
        for info in pkgutil.iter_modules(pkg.__path__):
            if _RULE_FILE.match(info.name):
                mods.append(f"premortem.rules.{family}.{info.name}")
    return sorted(mods)


def load_rules() -> dict:
    """Import every rule module and return the registry (id -> Rule), sorted by ID."""
    if not _LOADED:
        for mod in rule_modules():
            importlib.import_module(mod)
        _LOADED.append(True)
    return dict(sorted(_RULES.items()))


def get_rule(rule_id: str) -> Rule | None:
    return load_rules().get(rule_id.upper())
