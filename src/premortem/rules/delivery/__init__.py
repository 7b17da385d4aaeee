"""Delivery-pipeline rules (catalog section 1: 1.1 ungated prod deploys, 1.2 skippable tests, 1.3 wrong artifact; R1, R2)."""
