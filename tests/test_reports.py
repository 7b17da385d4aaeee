"""The CI-facing reporters (sarif, junit, github, markdown) on real scans of small fixture trees.

The tree sits in a fake checkout (`$GITHUB_WORKSPACE`) with the scanned root at `k8s/`, so paths
must come out relative to the checkout. It holds a production Deployment on `:latest` (PM501,
high), a suppressed one, an unused suppression (PM001, low), a suppression naming an unknown rule
(PM002, medium), a file whose name and container name need escaping everywhere, and a malformed
YAML file (a scan error). Only these rules run, so rules other helpers add cannot change it.
"""
import json
import pathlib
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from premortem import cli, report
from premortem.config import Config, RuleConfig
from premortem.model import Related
from premortem.report import github, junit, markdown, sarif
from premortem.rules.registry import load_rules

from .conftest import run_scan, shared_or_skip

KEEP = {"PM001", "PM002", "PM003", "PM501"}
ODD = "odd, name:1.yaml"

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payment-api
  namespace: production
spec:
  template:
    spec:
      containers:
        - name: app
          image: our-priv-reg.io/fintech/payment-api:latest
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: production
spec:
  template:
    spec:
      containers:
        - name: worker
          # premortem:ignore PM501 reason=pinned by Argo Image Updater
          image: our-priv-reg.io/fintech/worker:main
"""
ODD_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: "odd|pod", namespace: production}
spec:
  # premortem:ignore PM777 reason=typo
  containers:
    - name: "a|`b`<i>%0A,:\\nsecond\\a"
      image: nginx
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
# premortem:ignore PM501 reason=left over
data: {mode: fast}
"""
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  data: [\n"
ODD_NAME = "a|`b`<i>%0A,:\nsecond\a"
DEPLOY_MSG_START = ("container 'app' runs 'our-priv-reg.io/fintech/payment-api:latest' with tag 'latest'; "
                    "pull policy Always")
ERROR_MSG = "invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping)"


def only_our_rules() -> Config:
    return Config(rules={rid: RuleConfig(enabled=False) for rid in load_rules() if rid not in KEEP})


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """The checkout: tmp/ws with the manifests under k8s/."""
    root = tmp_path / "ws" / "k8s"
    root.mkdir(parents=True)
    for name, text in (("deploy.yaml", DEPLOY), (ODD, ODD_POD), ("config.yaml", CONFIGMAP), ("broken.yaml", BROKEN)):
        (root / name).write_text(text)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "ws"))
    return tmp_path / "ws"


@pytest.fixture
def result(ws):
    return run_scan(ws / "k8s", config=only_our_rules())


@pytest.fixture
def clean(tmp_path):
    root = tmp_path / "clean"  # outside the checkout of `ws`
    root.mkdir()
    (root / "deploy.yaml").write_text(DEPLOY.replace(":latest", ":1.42.0").replace("worker:main", "worker:2.0.1")
                                      .replace("          # premortem:ignore PM501 reason=pinned by Argo Image Updater\n", ""))
    return run_scan(root, config=only_our_rules())


def find(result, rule_id, file):
    return next(f for f in result.findings if f.rule_id == rule_id and f.file == file)


def test_fixture_scan_is_what_the_reporters_are_tested_on(result):
    got = [(f.rule_id, f.file, f.line, f.column, f.severity.label) for f in result.findings]
    assert got == [("PM001", "config.yaml", 4, 1, "low"), ("PM501", "deploy.yaml", 11, 18, "high"),
                   ("PM002", ODD, 5, 1, "medium"), ("PM501", ODD, 8, 14, "high")]
    assert [(e.file, e.line, e.column, e.message) for e in result.errors] == [("broken.yaml", 4, 7, ERROR_MSG)]
    assert [(f.file, f.line) for f in result.suppressed] == [("deploy.yaml", 24)]
    assert ODD_NAME in find(result, "PM501", ODD).message


# ---- shared path helper ---------------------------------------------------------------------------
def test_paths_are_relative_to_the_checkout_when_the_root_is_inside_it(result, ws, tmp_path, monkeypatch):
    assert github.workspace(result) == (str(ws), "k8s/")
    assert github.repo_path("k8s/", "../other/x.yaml") == "other/x.yaml"
    assert github.repo_path("k8s/", "/abs/missing.yaml") == "/abs/missing.yaml"
    monkeypatch.setenv("GITHUB_WORKSPACE", str(ws / "k8s"))
    assert github.workspace(result) == (str(ws / "k8s"), "")
    monkeypatch.delenv("GITHUB_WORKSPACE")
    monkeypatch.chdir(tmp_path)  # outside: paths stay relative to the scanned root
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert github.workspace(result) == (str(ws / "k8s"), "")


# ---- SARIF ----------------------------------------------------------------------------------------
def _validate(doc):
    schema = json.loads(shared_or_skip("schemas", "sarif-schema-2.1.0.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_sarif_is_valid_against_the_2_1_0_schema(result, clean):
    for r in (result, clean):
        _validate(json.loads(sarif.render(r)))


def test_sarif_driver_describes_every_registered_rule(result):
    run = json.loads(sarif.render(result))["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("premortem", "0.1.0")
    assert "informationUri" not in driver  # no public project page yet: none rather than a made-up one
    rules = {r["id"]: r for r in driver["rules"]}
    assert list(rules) == list(load_rules())
    pm501, rule = rules["PM501"], load_rules()["PM501"]
    assert pm501["name"] == "mutable-image-tag"
    assert pm501["shortDescription"] == {"text": "Production image uses a mutable tag"}
    assert pm501["fullDescription"]["text"].startswith("Every container and init container of a production workload:")
    assert pm501["defaultConfiguration"] == {"level": "error"}
    md = pm501["help"]["markdown"]
    assert md.startswith("## What it checks\n\nEvery container")
    assert f"## Why it breaks production\n\n{rule.docs['Why it breaks production']}" in md
    assert md.endswith(f"## Fix\n\n{rule.docs['Fix']}")
    assert "## Bad" not in md
    assert pm501["help"]["text"].startswith("What it checks:\nEvery container")
    props = pm501["properties"]
    assert props["tags"] == ["reliability", "images", "incident:5.1", "incident:R1"]
    assert (props["precision"], props["security-severity"]) == ("high", "8.0")
    levels = {rid: (rules[rid]["defaultConfiguration"]["level"], rules[rid]["properties"]["security-severity"])
              for rid in ("PM001", "PM002")}
    assert levels == {"PM001": ("note", "3.0"), "PM002": ("warning", "5.5")}


def test_sarif_results_locate_each_finding(result, ws):
    run = json.loads(sarif.render(result))["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ws.as_uri() + "/"
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("PM001", "note"), ("PM501", "error"), ("PM002", "warning"), ("PM501", "error")]
    for r in results:
        assert ids[r["ruleIndex"]] == r["ruleId"]
    deploy = results[1]
    f = find(result, "PM501", "deploy.yaml")
    assert deploy["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "k8s/deploy.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 11, "startColumn": 18,
                   "snippet": {"text": "          image: our-priv-reg.io/fintech/payment-api:latest"}}}}]
    assert deploy["message"]["text"].startswith(DEPLOY_MSG_START)
    assert deploy["partialFingerprints"] == {"premortem/v1": f.fingerprint}
    assert re.fullmatch(r"[0-9a-f]{32}", f.fingerprint)
    assert deploy["properties"] == {"severity": "high", "incidents": ["5.1", "R1"],
                                    "resource": "Deployment/production/payment-api",
                                    "production": "namespace 'production'"}
    odd = results[3]["locations"][0]["physicalLocation"]
    assert odd["artifactLocation"]["uri"] == "k8s/odd%2C%20name%3A1.yaml"
    assert odd["region"]["startLine"] == 8 and odd["region"]["startColumn"] == 14
    assert ODD_NAME in results[3]["message"]["text"]
    # the suppressed worker finding is not a result (code scanning would open an alert for it)
    assert all(r["locations"][0]["physicalLocation"].get("region", {}).get("startLine") != 24 for r in results)
    assert run["properties"] == {"files": 4, "resources": 4, "suppressed": 1, "baselined": 0}


def test_sarif_scan_errors_are_notifications_and_fail_the_invocation(result, clean):
    inv = json.loads(sarif.render(result))["runs"][0]["invocations"]
    assert inv == [{"executionSuccessful": False, "toolExecutionNotifications": [{
        "level": "error", "message": {"text": ERROR_MSG},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "k8s/broken.yaml", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 4, "startColumn": 7}}}]}]}]
    run = json.loads(sarif.render(clean))["runs"][0]
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    assert run["results"] == []


def test_sarif_related_locations(result):
    f = find(result, "PM501", "deploy.yaml")
    f.related.append(Related("values.yaml", 3, 7, "image.tag is set here"))
    res = json.loads(sarif.render(result))["runs"][0]["results"][1]
    assert res["relatedLocations"] == [{"id": 1, "message": {"text": "image.tag is set here"}, "physicalLocation": {
        "artifactLocation": {"uri": "k8s/values.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3, "startColumn": 7}}}]
    _validate(json.loads(sarif.render(result)))


# ---- JUnit ----------------------------------------------------------------------------------------
def test_junit_one_failing_testcase_per_finding(result):
    xml = junit.render(result)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(xml.encode("utf-8"))  # well-formed, despite '<', '&', a BEL and a newline in the input
    suite = root.find("testsuite")
    counts = {"tests": "5", "failures": "4", "errors": "1", "skipped": "0"}
    for el in (root, suite):
        assert {k: el.get(k) for k in counts} == counts
    assert suite.get("name") == "premortem"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("k8s/config.yaml", "PM001 unused-suppression at 4:1"),
        ("k8s/deploy.yaml", "PM501 mutable-image-tag Deployment/production/payment-api at 11:18"),
        (f"k8s/{ODD}", "PM002 malformed-suppression at 5:1"),
        (f"k8s/{ODD}", "PM501 mutable-image-tag Pod/production/odd|pod at 8:14"),
        ("k8s/broken.yaml", "scan error in k8s/broken.yaml:4"),
    ]
    fail = cases[1].find("failure")
    f = find(result, "PM501", "deploy.yaml")
    assert (fail.get("type"), fail.get("message")) == ("high", f.message)
    assert fail.text.startswith("PM501 mutable-image-tag (high): Production image uses a mutable tag\n"
                                "k8s/deploy.yaml:11:18  Deployment/production/payment-api\n\n" + DEPLOY_MSG_START)
    assert f"\nfix: {f.fix}\nincident: 5.1, R1  (premortem explain PM501)\nfingerprint: {f.fingerprint}" in fail.text
    assert cases[1].get("file") == "k8s/deploy.yaml" and cases[1].get("line") == "11"
    assert [c.find("failure").get("type") for c in cases[:4]] == ["low", "high", "medium", "high"]
    odd = cases[3].find("failure").get("message")
    assert "a|`b`<i>%0A,:\nsecond\ufffd'" in odd  # BEL cannot be carried by XML 1.0: replaced
    assert "&lt;i&gt;" in xml and "<i>" not in xml
    err = cases[4].find("error")
    assert (err.get("type"), err.get("message")) == ("ScanError", ERROR_MSG)
    assert cases[4].find("failure") is None


def test_junit_clean_scan_is_one_green_testcase(clean):
    root = ET.fromstring(junit.render(clean))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")
    (case,) = suite.findall("testcase")
    assert (case.get("classname"), case.get("name"), list(case)) == ("premortem", "premortem scan", [])


# ---- GitHub workflow commands ---------------------------------------------------------------------
def test_github_escaping_follows_the_toolkit():
    assert github.escape_data("50% a:b,c\r\nd") == "50%25 a:b,c%0D%0Ad"
    assert github.escape_property("50% a:b,c\r\nd") == "50%25 a%3Ab%2Cc%0D%0Ad"


def test_github_annotations_errors_first_then_worst_first(result):
    lines = github.render(result).splitlines()
    assert len(lines) == 6 and all(ln.startswith("::") for ln in lines[:5])
    assert lines[0] == ("::error file=k8s/broken.yaml,line=4,col=7,title=premortem scan error (the scan is "
                        "incomplete)::" + ERROR_MSG)
    assert lines[1].startswith("::error file=k8s/deploy.yaml,line=11,col=18,title=PM501 mutable-image-tag (high)%3A "
                               "Production image uses a mutable tag::" + DEPLOY_MSG_START)
    assert lines[1].endswith("%0AIncidents: 5.1, R1 (premortem explain PM501)")
    assert lines[2].startswith("::error file=k8s/odd%2C name%3A1.yaml,line=8,col=14,")
    assert "::container 'a|`b`<i>%250A,:%0Asecond\a' runs 'nginx'" in lines[2]
    assert lines[3].startswith("::warning file=k8s/odd%2C name%3A1.yaml,line=5,col=1,title=PM002 "
                               "malformed-suppression (medium)%3A Suppression is malformed::"
                               "suppression names unknown rule PM777%0AFix: ")
    f = find(result, "PM001", "config.yaml")
    assert lines[4] == ("::notice file=k8s/config.yaml,line=4,col=1,title=PM001 unused-suppression (low)%3A "
                        "Suppression matches no finding::suppression of PM501 matches no finding: remove it"
                        f"%0AFix: {f.fix}")
    assert lines[5] == ("premortem: 4 files, 4 resources: 2 high, 1 medium, 1 low (1 suppressed, 1 error); "
                        "the scan is incomplete")


def test_github_clean_scan_is_just_the_summary(clean):
    assert github.render(clean) == "premortem: 1 files, 2 resources: no findings\n"


# ---- Markdown -------------------------------------------------------------------------------------
def test_markdown_escaping_helpers():
    assert markdown.code("a|b") == "`a\\|b`"
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x") == "`` `x ``"
    assert markdown.code("a|b", table=False) == "`a|b`"
    assert markdown.code("") == ""
    assert markdown.text("a|b `c` <d> & *e*_\n") == "a\\|b \\`c\\` &lt;d&gt; &amp; \\*e\\*\\_"


def test_markdown_pr_comment(result):
    md = markdown.render(result)
    lines = md.splitlines()
    assert lines[0] == "## premortem: 4 findings (🔴 2 high, 🟠 1 medium, 🔵 1 low), 1 error"
    assert "⚠️ **The scan is incomplete**" in lines[2]
    table = [ln for ln in lines if ln.startswith("| ")]
    assert table[0] == "| Severity | Rule | File | Resource | Message |"
    assert len(table) == 5
    for row in table:  # every row keeps its 5 cells: no unescaped '|' from the data
        assert len(re.findall(r"(?<!\\)\|", row)) == 6, row
    assert [row.split(" | ")[1] for row in table[1:]] == [  # worst first
        "PM501 mutable-image-tag", "PM501 mutable-image-tag", "PM002 malformed-suppression", "PM001 unused-suppression"]
    assert table[1].startswith("| 🔴 high | PM501 mutable-image-tag | `k8s/deploy.yaml:11` | "
                               "`Deployment/production/payment-api` | " + DEPLOY_MSG_START)
    assert table[2].startswith("| 🔴 high | PM501 mutable-image-tag | `k8s/odd, name:1.yaml:8` | "
                               "`Pod/production/odd\\|pod` | container 'a\\|\\`b\\`&lt;i&gt;%0A,: second\ufffd' runs")
    assert table[4] == ("| 🔵 low | PM001 unused-suppression | `k8s/config.yaml:4` |  | "
                        "suppression of PM501 matches no finding: remove it |")
    f = find(result, "PM501", "deploy.yaml")
    block = md[md.index("<summary>high · PM501 mutable-image-tag · k8s/deploy.yaml:11</summary>"):]
    block = block[:block.index("</details>")]
    assert "**Production image uses a mutable tag** in `Deployment/production/payment-api`" in block
    assert f"**Fix:** {f.fix}" in block
    assert "**Incidents:** 5.1, R1 (`premortem explain PM501`)" in block
    assert "```\n          image: our-priv-reg.io/fintech/payment-api:latest\n```" in block
    assert md.count("<details>") == md.count("</details>") == 4
    assert f"### Errors\n\n- `k8s/broken.yaml:4`: {ERROR_MSG}\n" in md
    assert md.endswith("\n_1 suppressed not shown._\n")


def test_markdown_clean_scan(clean):
    md = markdown.render(clean)
    assert md.startswith("## premortem: no findings ✅\n\nScanned 1 file and 2 resources.\n")
    assert "|" not in md and "<details>" not in md


@pytest.mark.parametrize("n, rows_cut", [(60, False), (400, True)])
def test_markdown_stays_under_the_comment_limit(tmp_path, monkeypatch, n, rows_cut):
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    docs = [DEPLOY.split("---")[0].replace("payment-api", f"payment-api-{i:03d}-" + "x" * 40) for i in range(n)]
    (tmp_path / "many.yaml").write_text("---\n".join(docs))
    res = run_scan(tmp_path, config=only_our_rules())
    assert len(res.findings) == n
    md = markdown.render(res)
    assert markdown.MAX_CHARS - 1500 < len(md) <= markdown.MAX_CHARS  # as much as fits, no more
    rows = [ln for ln in md.splitlines() if ln.startswith("| 🔴 high |")]
    details = md.count("<details>")
    if rows_cut:
        assert 0 < len(rows) < n and details == 0
        assert f"**{n - len(rows)} more findings are not shown** (comment size limit)" in md
    else:
        assert len(rows) == n and 0 < details < n
        assert f"_Details of {n - details} more findings are left out (comment size limit)._" in md
    assert "payment-api-000-" in md  # the first findings are the ones kept


def test_markdown_cuts_even_a_huge_error_list(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    for i in range(700):
        (tmp_path / f"broken-{i:03d}-{'y' * 40}.yaml").write_text(BROKEN)
    res = run_scan(tmp_path, config=only_our_rules())
    assert len(res.errors) == 700
    md = markdown.render(res)
    assert len(md) <= markdown.MAX_CHARS and md.endswith("\n\n_…cut at the comment size limit._\n")
    assert md.startswith("## premortem: no findings, 700 errors\n")


# ---- CLI ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", report.FORMATS)
def test_cli_writes_every_format_to_the_output_file(ws, tmp_path, capsys, fmt):
    out = tmp_path / f"report.{fmt}"
    code = cli.main(["scan", str(ws / "k8s"), "--select", "PM501", "--format", fmt, "--output", str(out)])
    assert code == 2  # broken.yaml: the scan is incomplete, which wins over the high findings
    assert capsys.readouterr().out == ""
    text = out.read_text(encoding="utf-8")
    assert text == report.render(run_scan(ws / "k8s", select=["PM501"]), fmt)
    assert "deploy.yaml" in text and "broken.yaml" in text
    if fmt in ("json", "sarif"):
        json.loads(text)
    if fmt == "junit":
        ET.fromstring(text.encode("utf-8"))


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "markdown"])
def test_cli_exit_codes(ws, tmp_path, fmt):
    root = ws / "k8s"
    (root / "broken.yaml").unlink()
    out = str(tmp_path / "out")
    assert cli.main(["scan", str(root), "--select", "PM501", "-f", fmt, "-o", out]) == 1
    assert cli.main(["scan", str(root), "--select", "PM501", "-f", fmt, "-o", out, "--fail-on", "critical"]) == 0
    (root / "broken.yaml").write_text(BROKEN)
    assert cli.main(["scan", str(root), "--select", "PM501", "-f", fmt, "-o", out, "--fail-on", "never"]) == 2
    assert pathlib.Path(out).stat().st_size > 0
