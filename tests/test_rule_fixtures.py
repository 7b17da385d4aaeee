"""One parametrized harness for every rule's fixtures (semgrep style).

tests/fixtures/<RULE-ID>/bad/  : every `# expect: PM123` comment says "a PM123 finding on the next
                                 line"; no PM123 finding may appear anywhere else.
tests/fixtures/<RULE-ID>/good/ : no finding of that rule at all; `# ok: PM123` marks the near-miss
                                 a naive check would flag (documentation for the reader, and
                                 checked: nothing fires on the next line).
Every rule must have both directories, each with at least one expectation/file.
"""
import re

import pytest

from premortem.rules.registry import load_rules

from .conftest import FIXTURES, run_scan

_MARK = re.compile(r"(?:#|//)\s*(expect|ok):\s*((?:PM\d{3}[ ,]*)+)")
RULES = [r for r in load_rules().values() if "suppression" not in r.applies_to["formats"]]


def _marks(directory):
    expect, ok = set(), set()
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(directory).as_posix()
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            m = _MARK.search(line)
            if m:
                for rid in re.findall(r"PM\d{3}", m.group(2)):
                    (expect if m.group(1) == "expect" else ok).add((rid, rel, n + 1))
    return expect, ok


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_has_fixtures(rule):
    for sub in ("bad", "good"):
        d = FIXTURES / rule.id / sub
        assert d.is_dir() and any(d.rglob("*")), f"{rule.id} needs fixtures in {d}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_bad_fixtures_fire_exactly_where_marked(rule):
    d = FIXTURES / rule.id / "bad"
    if not d.is_dir():
        pytest.skip("no fixtures")
    expect, _ = _marks(d)
    expect = {e for e in expect if e[0] == rule.id}
    assert expect, f"{d} has no '# expect: {rule.id}' marks"
    result = run_scan(d, select=[rule.id])
    assert not result.errors, result.errors
    got = {(f.rule_id, f.file, f.line) for f in result.findings if f.rule_id == rule.id}
    assert got == expect, f"missing: {sorted(expect - got)}; unexpected: {sorted(got - expect)}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_good_fixtures_stay_quiet(rule):
    d = FIXTURES / rule.id / "good"
    if not d.is_dir():
        pytest.skip("no fixtures")
    _, ok = _marks(d)
    result = run_scan(d, select=[rule.id])
    assert not result.errors, result.errors
    got = [(f.file, f.line, f.message) for f in result.findings if f.rule_id == rule.id]
    assert got == [], got
    assert ok, f"{d} should mark at least one near-miss with '# ok: {rule.id}'"
