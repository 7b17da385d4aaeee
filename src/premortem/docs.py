"""Rule documentation generated from rule metadata and docstrings (never written twice).

`python -m premortem.docs docs/rules` writes one page per rule and an index; `--check` fails when
the checked-in pages are stale (CI runs it through the tests)."""
from __future__ import annotations

import os
import sys

from .rules.registry import DOC_SECTIONS

CATALOG_SEEDS = {"R": "the on-call narrative (seeds/000_97148997e9f4d96a.txt)",
                 "N": "DevOps Failures: Real-World Postmortems (seeds/003_a397d1bf14dfabce.txt)"}


def _incident_line(incidents: list) -> str:
    if not incidents:
        return "none (suppression hygiene)"
    parts = []
    for i in incidents:
        src = CATALOG_SEEDS["R"] if i.startswith("R") else CATALOG_SEEDS["N"] + f" section {i}"
        parts.append(f"{i} ({src})")
    return "; ".join(parts)


def rule_markdown(rule) -> str:
    d = rule.docs
    kinds = ", ".join(rule.applies_to.get("kinds") or []) or "all"
    lines = [
        f"# {rule.id} {rule.name}",
        "",
        f"**{rule.title}**",
        "",
        f"- Severity: **{rule.severity.label}** ({rule.severity_reason})",
        f"- Incidents: {_incident_line(rule.incidents)}",
        f"- Applies to: {', '.join(rule.applies_to.get('formats') or ['any'])} (kinds: {kinds})",
        f"- Production only: {'yes' if rule.production_only else 'no'}",
    ]
    if rule.options:
        lines.append("- Options (`.premortem.yaml` → `rules: {" + rule.id + ": {options: ...}}`):")
        for k, v in rule.options.items():
            lines.append(f"  - `{k}`: default `{v}`")
    for section in DOC_SECTIONS:
        lines += ["", f"## {section}", "", d.get(section, "").strip()]
    lines += ["", f"Suppress one finding with `# premortem:ignore {rule.id} reason=... until=YYYY-MM-DD` "
                  "on the line or the line above.", ""]
    return "\n".join(lines)


def rules_markdown_index(rules: dict) -> str:
    lines = ["# premortem rules", "", "Generated from rule metadata by `make docs`; do not edit by hand.", "",
             "| ID | name | severity | incidents | production only | title |",
             "|---|---|---|---|---|---|"]
    for r in rules.values():
        lines.append(f"| [{r.id}]({r.id}.md) | {r.name} | {r.severity.label} | {', '.join(r.incidents) or '-'} | "
                     f"{'yes' if r.production_only else 'no'} | {r.title} |")
    return "\n".join(lines) + "\n"


def generate(rules: dict) -> dict:
    pages = {"README.md": rules_markdown_index(rules)}
    for r in rules.values():
        pages[f"{r.id}.md"] = rule_markdown(r)
    return pages


def main(argv: list | None = None) -> int:
    from .rules.registry import load_rules

    argv = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in argv
    argv = [a for a in argv if a != "--check"]
    out_dir = argv[0] if argv else "docs/rules"
    pages = generate(load_rules())
    stale = []
    for name, text in pages.items():
        path = os.path.join(out_dir, name)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(path)
            if not check:
                os.makedirs(out_dir, exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    extra = [f for f in (os.listdir(out_dir) if os.path.isdir(out_dir) else []) if f not in pages]
    if check:
        if stale or extra:
            print("stale rule docs (run `make docs`): " + ", ".join(stale + extra), file=sys.stderr)
            return 1
        return 0
    for f in extra:
        os.remove(os.path.join(out_dir, f))
    print(f"wrote {len(stale)} of {len(pages)} pages to {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
