"""Observability rules (catalog section 2: 2.1 silent failures, 2.2 no log shipping, 2.3 no meta-monitoring; R7 averaged-away errors, R12 uncovered golden signals)."""
