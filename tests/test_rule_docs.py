"""The rule's doc is the documentation (ruff habit): every section present, the bad example
fires and the good one does not, and docs/rules/ is generated from it."""
import re

import pytest

from premortem.rules.registry import DOC_SECTIONS, load_rules

from .conftest import run_scan

RULES = list(load_rules().values())
SCANNABLE = [r for r in RULES if "suppression" not in r.applies_to["formats"]]
# ```lang [path]: an optional file name after the language (`.github/settings.yml`, `CODEOWNERS`)
_BLOCK = re.compile(r"```(\w+)?(?:[ \t]+([\w./-]+))?[ \t]*\n(.*?)```", re.S)


def _file(d, match, default):
    lang = (match.group(1) or "yaml").lower()
    path = d / (match.group(2) or ("Dockerfile" if lang == "dockerfile" else default))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(match.group(3))


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_metadata_complete(rule):
    for section in DOC_SECTIONS:
        assert rule.docs.get(section, "").strip(), f"{rule.id} docstring lacks '## {section}'"
    assert rule.title and rule.fix and rule.severity_reason
    if rule.id >= "PM100":
        assert rule.incidents, f"{rule.id} must name the catalog incidents it prevents"


def _example(rule, section, tmp_path):
    m = _BLOCK.search(rule.docs[section])
    assert m, f"{rule.id} '{section}' needs a fenced code example"
    d = tmp_path / section.lower()
    d.mkdir()
    _file(d, m, "example.yaml")
    # Further fenced blocks in the same section are extra files (e.g. a Dockerfile next to a manifest)
    for i, extra in enumerate(_BLOCK.finditer(rule.docs[section])):
        if i == 0:
            continue
        _file(d, extra, f"extra{i}.yaml")
    return d


@pytest.mark.parametrize("rule", SCANNABLE, ids=[r.id for r in SCANNABLE])
def test_doc_bad_example_fires_and_good_does_not(rule, tmp_path):
    bad = run_scan(_example(rule, "Bad", tmp_path), select=[rule.id])
    assert not bad.errors, bad.errors
    assert any(f.rule_id == rule.id for f in bad.findings), f"{rule.id}: its own bad example does not fire"
    good = run_scan(_example(rule, "Good", tmp_path), select=[rule.id])
    assert not good.errors, good.errors
    assert not [f for f in good.findings if f.rule_id == rule.id], f"{rule.id}: its good example fires"
