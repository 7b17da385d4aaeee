"""The `premortem plan` summary: what a plan does, readable in ten seconds, dangerous changes first.

`summarize(plans)` takes the TerraformPlan resources of the plans given (parse/tfplan) and returns
the dict added to `--format json` as "plan"; `render_text(summary)` is the block printed above the
findings in text format."""
from __future__ import annotations

from ..rules.infrastructure._plan import category

ORDER = ("delete", "replace", "update", "create", "forget")  # most dangerous first
LABELS = {"delete": "DESTROY", "replace": "REPLACE", "update": "UPDATE", "create": "CREATE", "forget": "FORGET"}
_RANK = {"stateful": 0, "critical": 1, "in_use": 2, "": 3}


def _by_type(changes: list, action: str) -> dict:
    counts: dict = {}
    for c in changes:
        if c.get("action") == action:
            counts[str(c.get("type"))] = counts.get(str(c.get("type")), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (_RANK[category(kv[0])], -kv[1], kv[0])))


def summarize(plans: list) -> dict:
    out, totals = [], {a: 0 for a in ORDER}
    totals["drift"] = 0
    for r in plans:
        s = r.data.get("summary") or {}
        changes = s.get("changes") or []
        counts = {a: int((s.get("counts") or {}).get(a, 0)) for a in ORDER}
        env = r.data.get("environment") or ()
        entry = {
            "file": r.file, "terraform_version": s.get("terraform_version", ""),
            "environment": env[1] if len(env) == 2 else "",
            "counts": {**counts, "drift": len(s.get("drift") or [])},
            "to_add": counts["create"] + counts["replace"], "to_change": counts["update"],
            "to_destroy": counts["delete"] + counts["replace"],
            "by_action": {a: _by_type(changes, a) for a in ORDER if counts[a]},
            "destroy": [c["address"] for c in changes if c.get("action") in ("delete", "replace")],
            "drift": [d["address"] for d in s.get("drift") or []],
        }
        out.append(entry)
        for a in ORDER:
            totals[a] += counts[a]
        totals["drift"] += entry["counts"]["drift"]
    return {"plans": out, "totals": totals}


def render_text(summary: dict, color: bool = False) -> str:
    red, bold, reset = ("\033[1;31m", "\033[1m", "\033[0m") if color else ("", "", "")
    lines = []
    for p in summary["plans"]:
        about = ", ".join(x for x in (f"Terraform {p['terraform_version']}" if p["terraform_version"] else "",
                                      p["environment"]) if x)
        lines.append(f"{bold}{p['file']}{reset}" + (f" ({about})" if about else ""))
        lines.append(f"  Plan: {p['to_add']} to add, {p['to_change']} to change, {p['to_destroy']} to destroy.")
        if not p["by_action"] and not p["drift"]:
            lines.append("  No changes.")
        for action, types in p["by_action"].items():
            n = p["counts"][action]
            listed = ", ".join(f"{t} ×{k}" for t, k in types.items())
            label = f"{LABELS[action]} {n}"
            if action in ("delete", "replace"):
                label = f"{red}{label}{reset}"
            lines.append(f"  {label}: {listed}")
        if p["drift"]:
            shown = ", ".join(p["drift"][:5]) + (f" and {len(p['drift']) - 5} more" if len(p["drift"]) > 5 else "")
            lines.append(f"  DRIFT {len(p['drift'])} changed outside Terraform: {shown}")
        lines.append("")
    return "\n".join(lines) + "\n"
