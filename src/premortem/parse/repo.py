"""Repository governance files, as Resources of format "repo":

- `CODEOWNERS` (root, `.github/`, `docs/`): kind CodeOwners, data {"entries": [{"pattern", "owners"}]},
  one position per entry line.
- `.github/settings.yml` (the Probot settings app: branch protection as code): kind GitHubSettings.
- Evidence of secret scanning: `.gitleaks.toml`, `.pre-commit-config.yaml`, detect-secrets'
  `.secrets.baseline`, `.trufflehog.yml`: kind SecretScanConfig (pre-commit: PreCommitConfig).
"""
from __future__ import annotations

import json
import os
import re
import tomllib

from ..model import Origin, Resource, ScanError
from .yamldoc import load_all

_TOML_LINE = re.compile(r"at line (\d+), column (\d+)")


def _resource(kind: str, rel: str, data, positions=None, key_positions=None, line: int = 1) -> Resource:
    return Resource(format="repo", kind=kind, name=rel, namespace="", data=data, file=rel, line=line,
                    positions=positions or {(): (line, 1)}, key_positions=key_positions or {},
                    origin=Origin("file", rel))


_SECTION = re.compile(r"^(\^)?\[([^\]]+)\](?:\[\d+\])?(?:\s+(.*))?$")  # GitLab: ^[Name][2] @default-owners
_FIELD = re.compile(r"(?:\\.|\S)+")  # whitespace-separated, `\ ` escapes a space in a path


def parse_codeowners(text: str, rel: str) -> tuple[list, list]:
    """Entries in file order: {"pattern", "owners", "line", "section", "optional"}, plus "invalid" (why
    the forge skips the line) for syntax CODEOWNERS does not support. GitLab section headers set the
    section (and its default owners, used by entries that name none) of the entries below them."""
    entries, positions, errors = [], {(): (1, 1)}, []
    section, optional, defaults = "", False, []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        m = _SECTION.match(line)
        if m:
            optional, section, defaults = bool(m.group(1)), m.group(2).strip(), (m.group(3) or "").split()
            continue
        parts = _FIELD.findall(line)
        pattern, owners = parts[0].replace("\\ ", " "), parts[1:]
        bad = [o for o in owners if not (o.startswith("@") or "@" in o)]
        if bad:
            errors.append(ScanError(rel, n, f"CODEOWNERS: '{bad[0]}' is not an @user, @org/team or e-mail"))
        entry = {"pattern": pattern, "owners": owners or list(defaults), "line": n, "section": section,
                 "optional": optional}
        if pattern.startswith("!"):
            entry["invalid"] = "negation (!) is not supported in CODEOWNERS"
        elif "[" in pattern or "]" in pattern:
            entry["invalid"] = "character ranges ([ ]) are not supported in CODEOWNERS"
        positions[("entries", len(entries))] = (n, 1)
        entries.append(entry)
    return [_resource("CodeOwners", rel, {"entries": entries}, positions)], errors


def _yaml_resource(kind: str, text: str, rel: str, extra: dict | None = None) -> tuple[list, list]:
    docs, err = load_all(text)
    errors = [ScanError(rel, err.line, str(err), err.column)] if err else []
    if not docs:
        return ([_resource(kind, rel, dict(extra or {}))] if not errors else []), errors
    doc = docs[0]
    data = doc.data if isinstance(doc.data, dict) else {}
    if extra:
        data = {**data, **extra}
    return [_resource(kind, rel, data, doc.positions, doc.key_positions, doc.line)], errors


def parse_repo_file(text: str, rel: str) -> tuple[list, list]:
    name = os.path.basename(rel).lower()
    if name == "codeowners":
        return parse_codeowners(text, rel)
    if name in ("settings.yml", "settings.yaml"):
        return _yaml_resource("GitHubSettings", text, rel)
    if name.startswith(".pre-commit-config"):
        return _yaml_resource("PreCommitConfig", text, rel)
    if name.startswith(".trufflehog"):
        return _yaml_resource("SecretScanConfig", text, rel, {"tool": "trufflehog"})
    if name.endswith("gitleaks.toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_LINE.search(str(exc))  # "(at line 3, column 7)", or "(at end of document)"
            line = int(m.group(1)) if m else max(len(text.splitlines()), 1)
            return [], [ScanError(rel, line, f"invalid TOML: {exc}", int(m.group(2)) if m else 0)]
        return [_resource("SecretScanConfig", rel, {"tool": "gitleaks", "config": data})], []
    if name == ".secrets.baseline":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [ScanError(rel, exc.lineno, f"invalid JSON: {exc.msg}", exc.colno)]
        return [_resource("SecretScanConfig", rel, {"tool": "detect-secrets",
                                                    "plugins": [p.get("name") for p in data.get("plugins_used", [])
                                                                if isinstance(p, dict)]})], []
    return [], []
