"""Access and exposure rules (catalog section 9: 9.1 service accounts, 9.2 exposed dashboards; R11)."""
