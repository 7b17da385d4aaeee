"""Rule families. Every rule module is listed here by name and imported by the registry; a rule's
file is named for its ID (`rules/images/pm501_mutable_image_tag.py`), so any ID is one step away."""

RULE_MODULES = [
    "meta.pm001_unused_suppression",
    "meta.pm002_malformed_suppression",
    "meta.pm003_expired_suppression",
    "images.pm501_mutable_image_tag",
]
