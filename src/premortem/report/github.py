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


from ..model import Severity
from .common import repo_path, summary, workspace  # noqa: F401 (re-exported for tests)

COMMAND = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
           Severity.LOW: "notice", Severity.INFO: "notice"}


# ---- shared by the CI-facing reporters --------------------------------------------------------
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
    out.append(summary(result) + ("; the scan is incomplete" if result.errors else ""))
    return "\n".join(out) + "\n"
