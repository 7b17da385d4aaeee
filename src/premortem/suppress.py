"""Suppressions: inline comments, whole-file comments, Kubernetes annotations, and baselines.

    # premortem:ignore PM501 reason=pinned by Argo Image Updater until=2026-12-31
    # premortem:ignore-file PM701 reason=batch workers have no traffic
    metadata.annotations: premortem.dev/ignore: "PM501 reason=..."

An inline comment covers its own line and the line below. A suppression with a past `until` no
longer suppresses. Unused, expired and malformed suppressions are reported (rules PM001-PM003).
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field

ANNOTATION = "premortem.dev/ignore"
_COMMENT = re.compile(r"(?:^|\s)(?:#|//)\s*premortem:(ignore-file|ignore)\b(.*)$")
_ID = re.compile(r"^(PM\d{3}|all)$", re.I)


@dataclass
class Suppression:
    file: str
    line: int  # where the suppression is written
    ids: list
    reason: str
    until: _dt.date | None
    scope: str  # line | file | resource
    resource: str = ""
    used: bool = False
    problem: str = ""  # malformed: why

    def expired(self, today: _dt.date) -> bool:
        return self.until is not None and self.until < today

    def covers_rule(self, rule_id: str) -> bool:
        return any(i.upper() == rule_id or i.lower() == "all" for i in self.ids)


def parse_spec(text: str) -> tuple[list, str, _dt.date | None, str]:
    """'PM501,PM502 reason=... until=2026-12-31' -> (ids, reason, until, problem)."""
    ids: list = []
    reason_parts: list = []
    until = None
    problem = ""
    tokens = text.strip().split()
    i = 0
    while i < len(tokens) and not tokens[i].startswith(("reason=", "until=")):
        for part in tokens[i].split(","):
            if part:
                if _ID.match(part):
                    ids.append(part.upper() if part.lower() != "all" else "all")
                else:
                    problem = problem or f"'{part}' is not a rule ID (expected PM123)"
        i += 1
    mode = None
    for tok in tokens[i:]:
        if tok.startswith("until="):
            raw = tok[6:]
            try:
                until = _dt.date.fromisoformat(raw)
            except ValueError:
                problem = problem or f"until={raw} is not a date (expected YYYY-MM-DD)"
            mode = None
        elif tok.startswith("reason="):
            reason_parts.append(tok[7:])
            mode = "reason"
        elif mode == "reason":
            reason_parts.append(tok)
        else:
            reason_parts.append(tok)
    if not ids and not problem:
        problem = "names no rule ID (write '# premortem:ignore PM123 reason=...')"
    reason = " ".join(reason_parts).strip().strip('"')
    if not reason and not problem:
        problem = "has no reason (add reason=...)"
    return ids, reason, until, problem


def comment_suppressions(text: str, file: str) -> list:
    out = []
    if "premortem:" not in text:
        return out
    for n, line in enumerate(text.splitlines(), start=1):
        if "premortem:" not in line:
            continue
        m = _COMMENT.search(line)
        if not m:
            continue
        ids, reason, until, problem = parse_spec(m.group(2))
        out.append(Suppression(file, n, ids, reason, until, "file" if m.group(1) == "ignore-file" else "line",
                               problem=problem))
    return out


def annotation_suppression(resource) -> Suppression | None:
    if resource.format != "kubernetes":
        return None
    value = resource.annotations.get(ANNOTATION)
    if value is None:
        return None
    src = resource.locate(("metadata", "annotations", ANNOTATION))
    ids, reason, until, problem = parse_spec(str(value))
    return Suppression(src.file, src.line, ids, reason, until, "resource", resource=resource.id, problem=problem)


@dataclass
class SuppressionIndex:
    today: _dt.date
    by_file: dict = field(default_factory=dict)  # file -> [Suppression]
    by_resource: dict = field(default_factory=dict)  # (file, resource id) -> [Suppression]

    def add_file(self, file: str, items: list) -> None:
        if items:
            self.by_file.setdefault(file, []).extend(items)

    def add_resource(self, s: Suppression) -> None:
        self.by_resource.setdefault((s.file, s.resource), []).append(s)

    def match(self, finding, resource_file: str = "") -> Suppression | None:
        """The suppression that silences `finding`, if any (expired ones never do)."""
        cands = []
        for s in self.by_file.get(finding.file, []):
            if s.scope == "file" or s.line in (finding.line, finding.line - 1):
                cands.append(s)
        for key in ((finding.file, finding.resource), (resource_file, finding.resource)):
            cands.extend(self.by_resource.get(key, []))
        for s in cands:
            if not s.problem and s.covers_rule(finding.rule_id) and not s.expired(self.today):
                s.used = True
                return s
        for s in cands:  # an expired one that would have matched: mark it seen, report it as expired
            if not s.problem and s.covers_rule(finding.rule_id):
                s.used = True
        return None

    def all(self) -> list:
        seen = []
        for items in self.by_file.values():
            seen.extend(items)
        for items in self.by_resource.values():
            seen.extend(items)
        return seen


# ---- baseline ---------------------------------------------------------------------------------
def write_baseline(path: str, findings: list) -> None:
    data = {"tool": "premortem", "version": 1,
            "findings": sorted({f.fingerprint: {"fingerprint": f.fingerprint, "rule_id": f.rule_id,
                                                "file": f.file, "resource": f.resource}
                                for f in findings}.values(), key=lambda d: (d["file"], d["rule_id"], d["fingerprint"]))}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")


def read_baseline(path: str) -> set:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    items = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("not a premortem baseline (expected an object with a 'findings' list)")
    return {str(i.get("fingerprint")) for i in items if isinstance(i, dict)}
