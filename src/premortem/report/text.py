"""`--format text` (default): findings grouped by file, the offending line with a caret under it,
the incident it stands for and the fix. Colours only when writing to a terminal."""
from __future__ import annotations

from ..model import Severity
from .common import summary

_COLORS = {Severity.CRITICAL: "\033[1;35m", Severity.HIGH: "\033[1;31m", Severity.MEDIUM: "\033[33m",
           Severity.LOW: "\033[36m", Severity.INFO: "\033[2m"}
_RESET, _BOLD, _DIM = "\033[0m", "\033[1m", "\033[2m"


def _c(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color and code else text


def render(result, color: bool = False) -> str:
    out: list = []
    by_file: dict = {}
    for f in result.findings:
        by_file.setdefault(f.file, []).append(f)
    for file in sorted(by_file):
        out.append(_c(file, _BOLD, color))
        for f in by_file[file]:
            sev = _c(f.severity.label.upper(), _COLORS[f.severity], color)
            out.append(f"  {f.line}:{f.column}  {sev}  {f.rule_id} {f.rule}  {f.resource}".rstrip())
            out.append(f"    {f.message}")
            if f.snippet:
                text = f.snippet.expandtabs(1)
                gutter = f"    {f.line:>4} | "
                out.append(_c(gutter, _DIM, color) + text)
                out.append(" " * (len(gutter) + max(f.column - 1, 0)) + _c("^", _COLORS[f.severity], color))
            for r in f.related:
                out.append(f"    also {r.file}:{r.line}: {r.message}")
            if f.incidents:
                out.append(f"    incident: {', '.join(f.incidents)}  (premortem explain {f.rule_id})")
            out.append(f"    fix: {f.fix}")
            out.append("")
    if result.errors:
        out.append(_c("errors (the scan is incomplete):", _BOLD, color))
        for e in result.errors:
            loc = f"{e.file}:{e.line}" if e.line else e.file
            out.append(f"  {loc}: {e.message}")
        out.append("")
    out.append(summary(result))
    return "\n".join(out) + "\n"
