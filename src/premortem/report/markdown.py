"""`--format markdown`: a pull-request comment.

A heading with counts by severity, a table worst first (severity, rule, file:line, resource,
message), one collapsible `<details>` per finding with the fix and incidents, the scan errors,
and how many findings were suppressed or baselined. Text from findings is escaped (`|`, backticks, HTML) so a
manifest cannot break the table or inject markup. The comment stays under GitHub's limit: past
MAX_CHARS the remaining findings are left out with a note saying how many.
"""
from __future__ import annotations

import re

from ..model import Severity
from .common import repo_path, workspace

MAX_CHARS = 65_000  # GitHub rejects comments over 65,536 characters
ICON = {Severity.CRITICAL: "🟣", Severity.HIGH: "🔴", Severity.MEDIUM: "🟠", Severity.LOW: "🔵", Severity.INFO: "⚪"}
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def html(s: str) -> str:
    """Text inside raw HTML (where Markdown escapes would show literally)."""
    return " ".join(_CONTROL.sub("\ufffd", str(s)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split())


def text(s: str) -> str:
    """Plain text shown literally inside Markdown (and a table cell): escapes HTML, Markdown
    punctuation (including `|` and backticks) and folds newlines."""
    return _SPECIAL.sub(r"\\\1", html(s))


def code(s: str, table: bool = True) -> str:
    """A code span that survives backticks inside it; `|` escaped for table cells ('' stays '')."""
    s = " ".join(_CONTROL.sub("\ufffd", str(s)).split())
    if not s:
        return ""
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    out = f"{fence}{pad}{s}{pad}{fence}"
    return out.replace("|", "\\|") if table else out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _heading(result) -> list:
    counts: dict = {}
    for f in result.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    if counts:
        by = ", ".join(f"{ICON[s]} {counts[s]} {s.label}" for s in sorted(counts, reverse=True))
        head = f"## premortem: {_plural(len(result.findings), 'finding')} ({by})"
    else:
        head = "## premortem: no findings"
    head += f", {_plural(len(result.errors), 'error')}" if result.errors else ("" if counts else " ✅")
    lines = [head, "", f"Scanned {_plural(result.files, 'file')} and {_plural(result.resources, 'resource')}."]
    if result.errors:
        lines[-1] += " ⚠️ **The scan is incomplete**: some files could not be read (see Errors)."
    return lines + [""]


def _details(f, where: str) -> str:
    lines = ["<details>", f"<summary>{f.severity.label} · {f.rule_id} {html(f.rule)} · {html(where)}</summary>", "",
             f"**{text(f.title)}**" + (f" in {code(f.resource, table=False)}" if f.resource else ""), "",
             text(f.message), ""]
    if f.snippet:
        fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", f.snippet)), default=0) + 1)
        lines += [fence, f.snippet, fence, ""]
    for r in f.related:
        lines.append(f"- also {code(f'{r.file}:{r.line}', table=False)}: {text(r.message)}")
    lines += [f"**Fix:** {f.fix}", ""]
    if f.incidents:
        lines += [f"**Incidents:** {', '.join(text(i) for i in f.incidents)} (`premortem explain {f.rule_id}`)", ""]
    return "\n".join(lines + ["</details>", ""])


def render(result, color: bool = False) -> str:
    _, prefix = workspace(result)
    head = _heading(result)
    tail = []
    if result.errors:
        tail += ["### Errors", ""]
        for e in result.errors:
            path = repo_path(prefix, e.file)
            tail.append(f"- {code(f'{path}:{e.line}' if e.line else path, table=False)}: {text(e.message)}")
        tail.append("")
    hidden = []
    if result.suppressed:
        hidden.append(f"{len(result.suppressed)} suppressed")
    if result.baselined:
        hidden.append(f"{result.baselined} in the baseline")
    tail.append(f"_{' and '.join(hidden)} not shown._" if hidden else "_No findings were suppressed or baselined._")
    rows, details = [], []
    for f in sorted(result.findings, key=lambda f: -f.severity):  # worst first: they survive truncation
        where = f"{repo_path(prefix, f.file)}:{f.line}"
        rows.append(f"| {ICON[f.severity]} {f.severity.label} | {f.rule_id} {text(f.rule)} | {code(where)} | "
                    f"{code(f.resource)} | {text(f.message)} |")
        details.append(_details(f, where))
    table = ["| Severity | Rule | File | Resource | Message |", "|---|---|---|---|---|"] if rows else []

    def assemble(n_rows: int, n_details: int) -> str:
        body = head + (table + rows[:n_rows] + [""] if rows else [])
        if n_rows < len(rows):
            body += [f"**{len(rows) - n_rows} more findings are not shown** (comment size limit); "
                     "run `premortem scan` or use `--format sarif` for all of them.", ""]
        if n_details:
            body += ["### Details", ""] + details[:n_details]
            if n_details < len(details):
                body += [f"_Details of {len(details) - n_details} more findings are left out (comment size limit)._", ""]
        return "\n".join(body + tail) + "\n"

    out = assemble(len(rows), len(details))
    if len(out) <= MAX_CHARS:
        return out
    # keep every table row if possible, then as many details as fit; else as many rows as fit
    n_rows = _most(len(rows), lambda k: len(assemble(k, 0)) <= MAX_CHARS)
    n_details = _most(len(details), lambda k: len(assemble(n_rows, k)) <= MAX_CHARS) if n_rows == len(rows) else 0
    out = assemble(n_rows, n_details)
    if len(out) > MAX_CHARS:  # only errors left: cut them too
        out = out[:MAX_CHARS - 80].rsplit("\n", 1)[0] + "\n\n_…cut at the comment size limit._\n"
    return out


def _most(n: int, fits) -> int:
    """The largest k in 0..n with fits(k) (fits is monotonic), by bisection: few re-renders."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo
