"""What several reporters share: where paths are relative to, and the one-line summary."""
from __future__ import annotations

import os
import posixpath


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
            + (f" ({', '.join(extra)})" if extra else ""))


# ---- workflow commands ------------------------------------------------------------------------
