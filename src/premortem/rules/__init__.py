"""Rule families, one package each. A rule lives in `rules/<family>/pm123_<name>.py` (its ID in the
file name, so any ID is one step away); the registry imports every such module of the families
named here. Families follow the catalog: images (5.x), rollout (7.x, R3, R9, R10), dependencies
(8.x, R8), secrets (4.x); meta holds suppression hygiene."""

FAMILIES = ["meta", "images", "rollout", "dependencies", "secrets", "access", "gitops", "delivery", "infrastructure"]
