"""Infrastructure-as-code rules (catalog section 6; R5, R6)."""
