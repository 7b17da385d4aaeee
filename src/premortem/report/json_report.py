"""`--format json`: the JSON contract from DESIGN.md (stable; users and CI parse it)."""
from __future__ import annotations

import json

from .. import __version__


def to_dict(result) -> dict:
    return {
        "tool": {"name": "premortem", "version": __version__},
        "scanned": {"files": result.files, "resources": result.resources},
        "errors": [e.to_dict() for e in result.errors],
        "findings": [f.to_dict() for f in result.findings],
        "suppressed": len(result.suppressed),
        "baselined": result.baselined,
    }


def render(result, color: bool = False) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
