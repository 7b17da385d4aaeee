"""Which deployment environment a name, path or value talks about ("which environment is this"),
shared by the Terraform parser (a module's environment), Terraform rules, CI rules and config.

`find("envs/prod/backend.hcl")` -> ("production", "prod"); `environment_of("deploy-staging")` ->
"staging"; '' when nothing (or more than one environment) is named. Text is cut into segments at
`/ \\ = : , @`, blanks, quotes and `${}` (so variable names count: `$PROD_BUCKET` names production),
and each segment into words at `- _ .` and camelCase; trailing digits are dropped (`prod2`, `dev01`).
Only whole words count: `product-catalog`, `products`, `reproduce` do not name production.
`pre-prod`/`preprod` is staging, `non-prod`/`nonprod` names no single environment.

Weak words (`live`, `test`, `testing`) also name activities or repository layouts
(`infrastructure-live/`, a `test` job), so they count only as a whole segment (`live/`,
`test.tfvars`, `environment: test`) and only when no strong word is present.
"""
from __future__ import annotations

import re

PRODUCTION = "production"
ENVIRONMENTS = {
    PRODUCTION: ("prod", "production", "prd"),
    "staging": ("staging", "stage", "stg", "preprod", "preproduction"),
    "development": ("dev", "development", "develop"),
    "test": ("tst",),
    "qa": ("qa",),
    "uat": ("uat",),
    "sandbox": ("sandbox", "sbx"),
}
WEAK = {"live": PRODUCTION, "test": "test", "testing": "test"}
# words that say nothing about the environment when they stand beside a weak word in one segment
NEUTRAL = {"tfvars", "tfbackend", "hcl", "tfstate", "json", "yaml", "yml", "auto", "backend", "vars", "env", "envs"}
_SEGMENTS = re.compile(r"[/\\=:,;@\s'\"${}()\[\]]+")
_WORDS = re.compile(r"[-_.]+")
_COMBINED = {("pre", "prod"): "preprod", ("pre", "production"): "preprod", ("non", "prod"): "nonprod",
             ("non", "production"): "nonprod", ("not", "prod"): "nonprod"}


def segments(text: str) -> list:
    """'envs/prod-eu/backend.hcl' -> [['envs'], ['prod', 'eu'], ['backend', 'hcl']] (lower case)."""
    out = []
    for seg in _SEGMENTS.split(str(text or "")):
        seg = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", seg))
        ws = [re.sub(r"(?<=[a-z])\d+$", "", w) for w in _WORDS.split(seg.lower()) if w]
        merged = []
        for w in ws:
            if merged and (merged[-1], w) in _COMBINED:
                merged[-1] = _COMBINED[(merged[-1], w)]
            else:
                merged.append(w)
        if merged:
            out.append(merged)
    return out


def find(text: str, environments: dict | None = None, weak: dict | None = None) -> tuple:
    """(environment, word that names it) for the one environment `text` names, else ('', '')."""
    table = {w: env for env, ws in (environments or ENVIRONMENTS).items() for w in ws}
    weak = WEAK if weak is None else weak
    strong, soft = {}, {}
    for seg in segments(text):
        for w in seg:
            if w in table:
                strong.setdefault(table[w], w)
        rest = [w for w in seg if w not in NEUTRAL]
        if len(rest) == 1 and rest[0] in weak:
            soft.setdefault(weak[rest[0]], rest[0])
    found = strong or soft
    if len(found) != 1:
        return "", ""
    return next(iter(found.items()))


def environment_of(text: str, environments: dict | None = None, weak: dict | None = None) -> str:
    """The one environment `text` names ('' when none, or when it names several)."""
    return find(text, environments, weak)[0]


def is_production(text: str) -> bool:
    return environment_of(text) == PRODUCTION


# every word that names an environment other than production (CI rules add words of their own)
NON_PRODUCTION_WORDS = frozenset(w for env, ws in ENVIRONMENTS.items() if env != PRODUCTION for w in ws) | \
    frozenset(w for w, env in WEAK.items() if env != PRODUCTION)
PRODUCTION_WORDS = frozenset(ENVIRONMENTS[PRODUCTION]) | frozenset(w for w, env in WEAK.items() if env == PRODUCTION)
