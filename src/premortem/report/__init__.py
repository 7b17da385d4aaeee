"""Reporters: one module per output format, each `render(result, color=False) -> str`.

Reporters never decide severity and never read files; what they print comes from the findings
(snippets are captured and redacted by the engine)."""
from __future__ import annotations

import importlib

FORMATS = ["text", "json", "sarif", "junit", "github", "markdown"]
_MODULES = {"text": "text", "json": "json_report", "sarif": "sarif", "junit": "junit",
            "github": "github", "markdown": "markdown"}


def render(result, fmt: str, color: bool = False) -> str:
    if fmt not in _MODULES:
        raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    module = importlib.import_module(f"premortem.report.{_MODULES[fmt]}")
    return module.render(result, color=color)
