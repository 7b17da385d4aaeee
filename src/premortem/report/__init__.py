"""Reporters: one module per output format, each `render(result, color=False) -> str`.

Reporters never decide severity and never read files; what they print comes from the findings
(snippets are captured and redacted by the engine)."""
from __future__ import annotations

import importlib

FORMATS = ["text", "json", "sarif", "junit", "github", "markdown"]
_MODULES = {"text": "text", "json": "json_report", "sarif": "sarif", "junit": "junit",
            "github": "github", "markdown": "markdown"}


def write(result, fmt: str, fh, color: bool = False) -> None:
    """Write a report to `fh`. JSON formats are streamed (json.dump writes chunk by chunk), so a
    100k-object scan does not build its whole report, and every chunk of it, in memory."""
    module = _module(fmt)
    if hasattr(module, "to_dict"):
        import json

        json.dump(module.to_dict(result), fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    else:
        fh.write(module.render(result, color=color))


def _module(fmt: str):
    if fmt not in _MODULES:
        raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    return importlib.import_module(f"premortem.report.{_MODULES[fmt]}")


def render(result, fmt: str, color: bool = False) -> str:
    return _module(fmt).render(result, color=color)
