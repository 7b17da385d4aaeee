import datetime as dt
import json
import textwrap

from premortem.suppress import parse_spec

from .conftest import run_scan

TODAY = dt.date(2026, 11, 21)


def _deploy(image_block, annotations=""):
    return textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          namespace: production
        {ann}spec:
          template:
            spec:
              containers:
        {img}""").format(ann=annotations, img=image_block)


RULES = ["PM501", "PM001", "PM002", "PM003"]  # the rule under suppression and suppression hygiene


def scan(tmp_path, text, **kw):
    (tmp_path / "d.yaml").write_text(text)
    kw.setdefault("select", RULES)
    return run_scan(tmp_path, today=TODAY, **kw)


def ids(result):
    return [(f.rule_id, f.line) for f in result.findings]


def test_inline_on_line_above_and_same_line(tmp_path):
    text = _deploy("        - name: a\n"
                   "          # premortem:ignore PM501 reason=pinned by image updater\n"
                   "          image: x/a:latest\n"
                   "        - name: b\n"
                   "          image: x/b:latest  # premortem:ignore PM501 reason=same line\n"
                   "        - name: c\n"
                   "          image: x/c:latest\n")
    r = scan(tmp_path, text)
    assert ids(r) == [("PM501", 16)]
    assert sorted(f.suppressed for f in r.suppressed) == ["pinned by image updater", "same line"]


def test_expired_suppression_stops_working_and_is_reported(tmp_path):
    text = _deploy("        - name: a\n"
                   "          # premortem:ignore PM501 reason=migration until=2026-01-31\n"
                   "          image: x/a:latest\n")
    r = scan(tmp_path, text)
    assert ids(r) == [("PM003", 11), ("PM501", 12)]
    assert "expired on 2026-01-31" in r.findings[0].message


def test_future_until_still_suppresses(tmp_path):
    text = _deploy("        - name: a\n"
                   "          # premortem:ignore PM501 reason=migration until=2027-01-31\n"
                   "          image: x/a:latest\n")
    assert ids(scan(tmp_path, text)) == []


def test_unused_and_malformed_are_reported(tmp_path):
    text = _deploy("        - name: a\n"
                   "          # premortem:ignore PM501 reason=nothing here\n"
                   "          image: x/a:1.2.3\n"
                   "        - name: b\n"
                   "          # premortem:ignore PM501\n"
                   "          image: x/b:latest\n"
                   "        - name: c\n"
                   "          # premortem:ignore PM5O1 reason=typo\n"
                   "          image: x/c:2.0.0\n")
    r = scan(tmp_path, text)
    got = {(f.rule_id, f.line): f.message for f in r.findings}
    assert "matches no finding" in got[("PM001", 11)]
    assert "no reason" in got[("PM002", 14)]
    assert ("PM501", 15) in got  # the malformed one silenced nothing
    assert "PM5O1" in got[("PM002", 17)]


def test_whole_file_form(tmp_path):
    text = "# premortem:ignore-file PM501 reason=dev sandbox copied from prod\n" + _deploy(
        "        - name: a\n          image: x/a:latest\n        - name: b\n          image: x/b\n")
    r = scan(tmp_path, text)
    assert ids(r) == [] and len(r.suppressed) == 2


def test_annotation_form(tmp_path):
    ann = "  annotations:\n    premortem.dev/ignore: \"PM501 reason=canary track, tag moved by Flagger\"\n"
    r = scan(tmp_path, _deploy("        - name: a\n          image: x/a:canary\n", annotations=ann))
    assert ids(r) == [] and r.suppressed[0].suppressed == "canary track, tag moved by Flagger"


def test_select_does_not_report_other_rules_suppressions_as_unused(tmp_path):
    text = _deploy("        - name: a\n"
                   "          # premortem:ignore PM701 reason=worker\n"
                   "          image: x/a:latest\n")
    r = scan(tmp_path, text, select=["PM501"])
    assert ids(r) == [("PM501", 12)]


def test_parse_spec_forms():
    assert parse_spec("PM501,PM502 reason=a b c until=2026-12-31")[:3] == (
        ["PM501", "PM502"], "a b c", dt.date(2026, 12, 31))
    assert parse_spec("PM501 reason=x until=31/12/2026")[3].startswith("until=31/12/2026 is not a date")


def test_baseline_survives_line_moves(tmp_path):
    from premortem.suppress import write_baseline

    text = _deploy("        - name: a\n          image: x/a:latest\n")
    r1 = scan(tmp_path, text)
    base = tmp_path.parent / f"{tmp_path.name}-baseline.json"
    write_baseline(str(base), r1.findings)
    assert "line" not in json.loads(base.read_text())["findings"][0]
    # shift everything down two lines and add a new problem
    moved = "# a comment\n# another\n" + _deploy("        - name: a\n          image: x/a:latest\n"
                                                   "        - name: b\n          image: x/b:latest\n")
    r2 = scan(tmp_path, moved, baseline=str(base))
    assert ids(r2) == [("PM501", 15)] and r2.baselined == 1
