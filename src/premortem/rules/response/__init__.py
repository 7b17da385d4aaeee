"""Incident-response rules (catalog section 10: 10.1 alerts without runbooks, 10.2 postmortems without owners or with blame, 10.3 alerts that route nowhere)."""
