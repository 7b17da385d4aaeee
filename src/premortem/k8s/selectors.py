"""Kubernetes label selectors: `matchLabels`, `matchExpressions` and plain Service selectors."""
from __future__ import annotations


def selector_matches(selector, labels: dict) -> bool:
    """True when `labels` satisfy `selector`. An empty selector matches everything (as in a PDB);
    a missing one (None) matches nothing."""
    if selector is None or not isinstance(labels, dict):
        return False
    if not isinstance(selector, dict):
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        ml = selector.get("matchLabels") or {}
        if not isinstance(ml, dict):
            return False
        if any(str(labels.get(k)) != str(v) or k not in labels for k, v in ml.items()):
            return False
        for expr in selector.get("matchExpressions") or []:
            if not isinstance(expr, dict):
                return False
            key, op = expr.get("key"), str(expr.get("operator", ""))
            values = [str(v) for v in (expr.get("values") or [])]
            has = key in labels
            val = str(labels.get(key)) if has else None
            if op == "In" and not (has and val in values):
                return False
            if op == "NotIn" and has and val in values:
                return False
            if op == "Exists" and not has:
                return False
            if op == "DoesNotExist" and has:
                return False
        return True
    # Service-style selector: a flat map
    return all(k in labels and str(labels[k]) == str(v) for k, v in selector.items())
