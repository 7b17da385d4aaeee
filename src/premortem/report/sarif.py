"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every registered rule is described (help from its docs: what it checks, why it breaks
production, the fix); each finding is a result located relative to `%SRCROOT%` (the checkout
when the scanned root lies inside it, see github.workspace) with its fingerprint as
`partialFingerprints["premortem/v1"]`. Scan errors become tool execution notifications and
`executionSuccessful: false`. Suppressed findings are left out (GitHub would open alerts for
them); the run's properties count them.
"""
from __future__ import annotations

import json
import pathlib
from urllib.parse import quote

from .. import __version__
from ..model import Severity
from .common import repo_path, workspace

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "0.0"}
SECURITY_FAMILIES = {"secrets", "access"}  # their findings are security alerts in code scanning
HELP_SECTIONS = ("What it checks", "Why it breaks production", "Fix")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _rule(rule) -> dict:
    docs = rule.docs or {}
    sections = [(s, docs.get(s, "").strip()) for s in HELP_SECTIONS if docs.get(s, "").strip()]
    text = "\n\n".join(f"{s}:\n{body}" for s, body in sections) or rule.fix
    markdown = "\n\n".join(f"## {s}\n\n{body}" for s, body in sections) or rule.fix
    tags = ["reliability"] + (["security"] if rule.family in SECURITY_FAMILIES else [])
    tags += ([rule.family] if rule.family else []) + [f"incident:{i}" for i in rule.incidents]
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": _flat(docs.get("What it checks", "")) or rule.title},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": tags, "precision": "high", "security-severity": SECURITY_SEVERITY[rule.severity],
                       "severity": rule.severity.label, "production_only": rule.production_only},
    }


def _location(prefix: str, file: str, line: int, column: int, message: str = "") -> dict:
    path = repo_path(prefix, file)
    if path.startswith("/"):
        artifact = {"uri": pathlib.PurePosixPath(path).as_uri()}
    else:
        artifact = {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}
    physical: dict = {"artifactLocation": artifact}
    if line > 0:
        physical["region"] = {"startLine": line, **({"startColumn": column} if column > 0 else {})}
    out: dict = {"physicalLocation": physical}
    if message:
        out["message"] = {"text": message}
    return out


def _result(f, index, prefix: str) -> dict:
    loc = _location(prefix, f.file, f.line, f.column)
    if f.snippet and "region" in loc["physicalLocation"]:
        loc["physicalLocation"]["region"]["snippet"] = {"text": f.snippet}
    out = {
        "ruleId": f.rule_id,
        **({"ruleIndex": index} if index is not None else {}),
        "level": LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [loc],
        "partialFingerprints": {"premortem/v1": f.fingerprint},
        "properties": {"severity": f.severity.label, "incidents": list(f.incidents), "resource": f.resource,
                       "production": f.production},
    }
    if f.related:
        out["relatedLocations"] = [dict(id=i, **_location(prefix, r.file, r.line, r.column, r.message))
                                   for i, r in enumerate(f.related, 1)]
    return out


def to_dict(result) -> dict:
    base, prefix = workspace(result)
    ids = list(result.rules)
    index = {rid: i for i, rid in enumerate(ids)}
    notifications = [{"level": "error", "message": {"text": e.message},
                      "locations": [_location(prefix, e.file, e.line, e.column)]} for e in result.errors]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "premortem", "version": __version__, "semanticVersion": __version__,
                                "rules": [_rule(result.rules[rid]) for rid in ids]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": pathlib.Path(base).as_uri().rstrip("/") + "/",
                                                 "description": {"text": "The directory paths are relative to."}}},
            "invocations": [{"executionSuccessful": not result.errors,
                             "toolExecutionNotifications": notifications}],
            "results": [_result(f, index.get(f.rule_id), prefix) for f in result.findings],
            "columnKind": "unicodeCodePoints",
            "properties": {"files": result.files, "resources": result.resources,
                           "suppressed": len(result.suppressed), "baselined": result.baselined},
        }],
    }


def render(result, color: bool = False) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
