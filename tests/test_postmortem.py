"""Catalog 10.2: the Markdown postmortem parser and PM070-PM072 beyond their fixtures."""
import pytest

from premortem.config import Config, RuleConfig
from premortem.parse.markdown import is_candidate, parse_postmortem
from premortem.rules.response._postmortem import blame

from .conftest import run_scan

PM = """# Postmortem: checkout outage

Authors: Sarah Lee, @kyle
Incident commander: Priya (EU)

**Root cause:** the gateway kept
stale connections. `Kyle` saw it first.

## Action items

| # | Action | Owner | Jira | Status |
|---|---|---|---|---|
| 1 | Add a gate | @sam | | open |
| 2 | Canary `flags` | TBD | | open |
| 3 | Page on errors | | OPS-77 | open |
| 4 | Drop the cache | | | Done |
| 5 | ... | | | |

- [ ] Add flag validation
  - owner: Ana
- Review defaults ([ticket](https://linear.app/acme/issue/ENG-9))
"""


def test_parser_sections_tables_items_people_and_positions():
    [r], errors = parse_postmortem(PM, "docs/postmortems/2024-05-20.md")
    assert errors == [] and (r.format, r.kind) == ("markdown", "Postmortem")
    d = r.data
    assert d["title"] == "Postmortem: checkout outage"
    assert [(s["title"], s["kind"], s["line"]) for s in d["sections"]] == [
        ("Postmortem: checkout outage", "other", 1), ("Root cause", "root_cause", 6), ("Action items", "actions", 9)]
    assert [(a["text"], a["owner"], a["tracking"], a["done"], a["placeholder"]) for a in d["actions"]] == [
        ("Add a gate", "@sam", "", False, False),
        ("Canary `flags`", "", "", False, False),
        ("Page on errors", "", "OPS-77", False, False),
        ("Drop the cache", "", "", True, False),
        ("...", "", "", False, True),
        ("Add flag validation\nowner: Ana", "Ana", "", False, False),
        ("Review defaults (ticket)", "", "https://linear.app/acme/issue/ENG-9", False, False)]
    assert [r.locate(("actions", i)).line for i in range(7)] == [13, 14, 15, 16, 17, 19, 21]
    assert r.locate(("actions", 0)).column == 7  # the action's own text, not the row number
    assert d["root_cause"] == [{"text": "the gateway kept\nstale connections. CODE saw it first.", "line": 6}]
    assert [r.locate(("root_cause", 0, "lines", k)) for k in (0, 1)] == [
        r.locate(("root_cause", 0)), type(r.locate(()))(r.file, 7, 1)]
    assert r.locate(("root_cause", 0)).column == 17
    assert {"Sarah Lee", "Sarah", "kyle", "Priya", "sam", "Ana"} <= set(d["people"])


@pytest.mark.parametrize("path, text, want", [
    ("docs/postmortems/2024.md", "# Checkout\n", "strong"),
    ("docs/2024-05-checkout.md", "# Post-incident review: checkout\n", "strong"),
    ("retros/q2.md", "x\n", "strong"),
    ("docs/incidents/2024.md", "# Checkout\n", "weak"),
    ("docs/runbooks/checkout.md", "# Checkout runbook\n", ""),
    ("docs/postmortems/README.md", "# Postmortems\n", ""),
    ("docs/postmortems/template.md", "# Postmortem\n", ""),
    ("docs/pm.md", "# Postmortem template\n", ""),
    ("docs/postmortems/2024.txt", "# Postmortem\n", ""),
    ("docs/spirometry.md", "# Results\n", ""),
])
def test_what_counts_as_a_postmortem_candidate(path, text, want):
    assert is_candidate(text, path) == want


def test_structure_must_agree_with_the_name():
    runbook = "# Incident response\n\n## Next steps\n- Page the IC\n"
    assert parse_postmortem(runbook, "docs/incident-response.md") == ([], [])  # weak: no root cause
    weak = "# Incident 42\n\n## Root cause\nA full disk.\n\n## Timeline\n- 10:00 paged\n"
    assert len(parse_postmortem(weak, "docs/incidents/42.md")[0]) == 1
    strong_without_sections = "# Postmortem: 42\n\nWe will write this up next week.\n"
    assert parse_postmortem(strong_without_sections, "postmortems/42.md") == ([], [])


@pytest.mark.parametrize("text, people, want", [
    ("John deployed the build without tests.", [], "names John as the one who acted ('John deployed')"),
    ("The outage began because Sarah forgot to renew the certificate.", [], "names Sarah as the one who acted"),
    ("Kyle's change removed the timeout.", [], "names Kyle as the one who acted ('Kyle's change')"),
    ("Root cause: human error.", [], "blames people ('human error')"),
    ("It was the fault of the release manager.", [], "blames people ('fault of')"),
    ("The change was pushed by @dev-1.", [], "names @dev-1"),
    ("Lee approved it late at night.", ["Lee"], "names Lee, whom the postmortem lists as a person"),
    # blameless or not a person: nothing
    ("The deploy pipeline lacked a gate.", [], None),
    ("This was not human error: the runbook was wrong.", [], None),
    ("Rather than blaming anyone, we fixed the alert.", [], None),
    ("We run blameless reviews; human error is never a root cause here.", [], None),
    ("An engineer ran the migration by hand.", [], None),
    ("Terraform applied the plan and Renovate merged the bump.", [], None),
    ("Elasticsearch ran out of disk.", [], None),
    ("Billing deployed at the same time as the billing migration.", [], None),
    ("The CODE namespace held the only copy.", [], None),
    ("Mail sent to ops@example.com bounced.", [], None),
    ("Checkout deployed v2.", [], None),  # the title names Checkout: a service
])
def test_what_counts_as_blame(text, people, want):
    got = blame(text, people, "Postmortem: Checkout outage\nRoot cause")
    assert (got[2] if got else None) == want or (want and got and got[2].startswith(want)), got


def test_pm070_require_option(tmp_path):
    d = tmp_path / "postmortems"
    d.mkdir()
    (d / "a.md").write_text("# Postmortem\n\n## Action items\n- Fix it (@ana)\n- Track it (OPS-1)\n")
    assert run_scan(tmp_path, select=["PM070"]).findings == []
    cfg = Config(rules={"PM070": RuleConfig(options={"require": "both"})})
    got = run_scan(tmp_path, select=["PM070"], config=cfg).findings
    assert [(f.line, f.message.split(" (an")[0]) for f in got] == [
        (4, 'action item "Fix it (@ana)" has no tracking link'), (5, 'action item "Track it (OPS-1)" has no owner')]


def test_pm071_reports_at_the_line_of_the_name(tmp_path):
    d = tmp_path / "postmortems"
    d.mkdir()
    (d / "b.md").write_text("# Postmortem: gateway\n\n## Root cause\nThe certificate expired on Sunday\n"
                            "because Sarah forgot to renew it.\n\n## Action items\n- Automate renewal (OPS-2)\n")
    [f] = run_scan(tmp_path, select=["PM071"]).findings
    assert (f.file, f.line, f.column) == ("postmortems/b.md", 5, 1)
    assert f.message.startswith("root cause names Sarah as the one who acted ('because Sarah forgot'): "
                                "\"The certificate expired on Sunday because Sarah forgot to renew it.\"")


def test_front_matter_title_and_positions_survive():
    text = ('---\ndate: 2024-03-01\ntitle: "Postmortem: cache stampede"\n---\n\n## Root cause\n'
            "Sarah forgot to warm the cache.\n")
    [r], _ = parse_postmortem(text, "postmortems/x.md")
    assert r.data["title"] == "Postmortem: cache stampede" and r.locate(("title",)).line == 3
    assert r.locate(("root_cause", 0)).line == 7
