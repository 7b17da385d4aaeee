"""Rule families, one package each. A rule lives in `rules/<family>/pm123_<name>.py` (its ID in the
file name, so any ID is one step away); the registry imports every such module of the families
named here. Families follow the catalog: delivery (1.x, R1, R2), observability (2.x, R7, R12), gitops
(3.x), secrets (4.x), images (5.x), infrastructure (6.x, R5, R6), rollout (7.x, R3, R9, R10),
dependencies (8.x, R8), access (9.x, R11), response (10.x); meta holds suppression hygiene."""

FAMILIES = ["meta", "images", "rollout", "dependencies", "secrets", "access", "gitops", "delivery", "infrastructure",
            "observability", "response"]
