"""`--format github`: GitHub Actions workflow commands, one annotation per finding and scan error.

    ::error file=k8s/deploy.yaml,line=11,col=18,title=PM501 mutable-image-tag (high)::container 'app' ...

critical/high → `error`, medium → `warning`, low/info → `notice`. Escaping follows the Actions
toolkit: data escapes `%`, CR and LF; properties also escape `:` and `,`. Scan errors come first,
then findings from the worst down (GitHub shows only the first annotations of each kind per
step); a last plain line sums up.

Paths are made relative to the repository checkout (`$GITHUB_WORKSPACE`, else the working
directory) when the scanned root lies inside it, so annotations land on the right file even when
only a subdirectory was scanned. The SARIF, JUnit and Markdown reporters share that helper.
"""
from __future__ import annotations

import os
import posixpath

from ..model import Severity

COMMAND = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
           Severity.LOW: "notice", Severity.INFO: "notice"}


# ---- shared by the CI-facing reporters --------------------------------------------------------
def workspace(result) -> tuple[str, str]:
    """(base directory, prefix of the scanned root inside it, '' or ending in '/')."""
    root = os.path.abspath(result.root or ".")
    base = os.path.abspath(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    try:
        rel = os.path.relpath(root, base)
    except ValueError:  # another drive
        return root, ""
    if rel == os.curdir:
        return base, ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return root, ""
    return base, rel.replace(os.sep, "/") + "/"


def repo_path(prefix: str, file: str) -> str:
    """A file relative to the scanned root, made relative to the workspace base."""
    if not prefix or not file or os.path.isabs(file):
        return file
    return posixpath.normpath(prefix + file)


def summary(result) -> str:
    """'premortem: 2 files, 1 resources: 1 high (1 suppressed, 1 error); the scan is incomplete'."""
    counts: dict = {}
    for f in result.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    found = ", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True)) or "no findings"
    extra = []
    if result.suppressed:
        extra.append(f"{len(result.suppressed)} suppressed")
    if result.baselined:
        extra.append(f"{result.baselined} in baseline")
    if result.errors:
        extra.append(f"{len(result.errors)} error{'s' if len(result.errors) != 1 else ''}")
    return (f"premortem: {result.files} files, {result.resources} resources: {found}"
            + (f" ({', '.join(extra)})" if extra else "") + ("; the scan is incomplete" if result.errors else ""))


# ---- workflow commands ------------------------------------------------------------------------
def escape_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props) -> str:
    parts = ",".join(f"{k}={escape_property(v)}" for k, v in props.items() if v not in (None, "", 0))
    return f"::{name}{' ' + parts if parts else ''}::{escape_data(message)}"


def render(result, color: bool = False) -> str:
    _, prefix = workspace(result)
    # GitHub shows only the first few annotations of each kind per step: scan errors and the worst first
    out = [command("error", e.message, file=repo_path(prefix, e.file), line=e.line, col=e.column,
                   title="premortem scan error (the scan is incomplete)") for e in result.errors]
    for f in sorted(result.findings, key=lambda f: -f.severity):
        body = [f.message, f"Fix: {f.fix}"]
        if f.incidents:
            body.append(f"Incidents: {', '.join(f.incidents)} (premortem explain {f.rule_id})")
        body += [f"Also {repo_path(prefix, r.file)}:{r.line}: {r.message}" for r in f.related]
        out.append(command(COMMAND[f.severity], "\n".join(body), file=repo_path(prefix, f.file), line=f.line,
                           col=f.column, title=f"{f.rule_id} {f.rule} ({f.severity.label}): {f.title}"))
    out.append(summary(result))
    return "\n".join(out) + "\n"
