"""`premortem plan PLAN.json`: the ten-second summary first, then findings; scan's formats, options
and exit codes; clear exit-2 errors for files that are missing or not plans."""
import json
import pathlib
import shutil

import pytest

from premortem.cli import main

DATA = pathlib.Path(__file__).parent / "data" / "tfplan"
TAGS_ONLY = {"format_version": "1.2", "terraform_version": "1.7.4", "resource_changes": [
    {"address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs",
     "provider_name": "registry.terraform.io/hashicorp/aws",
     "change": {"actions": ["update"], "before": {"tags": {}}, "after": {"tags": {"Owner": "platform"}}}}]}


@pytest.fixture
def here(tmp_path, monkeypatch):
    shutil.copy(DATA / "narrative.json", tmp_path / "plan.json")
    (tmp_path / "clean.json").write_text(json.dumps(TAGS_ONLY))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = main(["plan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_summary_comes_first_dangerous_changes_first(here, capsys):
    code, out, _ = run(capsys, "plan.json")
    assert code == 1
    head = out.split("\n\n")[0].splitlines()
    assert head == [
        'plan.json (Terraform 1.7.4, variable environment = "production")',
        "  Plan: 0 to add, 1 to change, 14 to destroy.",
        ("  DESTROY 14: aws_route ×3, aws_route_table ×3, aws_nat_gateway ×2, aws_security_group ×2, "
         "aws_route_table_association ×4"),
        "  UPDATE 1: aws_eks_node_group ×1",
    ]
    # then the findings, with positions and carets, and scan's one-line summary at the end
    assert "  614:31  CRITICAL  PM611 plan-shrinks-capacity  ResourceChange/module.eks.aws_eks_node_group.primary" in out
    assert "     614 |               \"desired_size\": 2,\n" + " " * 41 + "^" in out
    assert out.rstrip().endswith("premortem: 1 files, 21 resources: 11 critical, 2 high")


def test_json_adds_a_plan_summary_and_keeps_the_contract(here, capsys):
    code, out, _ = run(capsys, "plan.json", "-f", "json")
    assert code == 1
    doc = json.loads(out)
    assert set(doc) >= {"tool", "scanned", "errors", "findings", "plan"}
    assert doc["plan"]["totals"] == {"delete": 14, "replace": 0, "update": 1, "create": 0, "forget": 0, "drift": 0}
    (p,) = doc["plan"]["plans"]
    assert (p["file"], p["to_destroy"], p["to_change"], p["to_add"]) == ("plan.json", 14, 1, 0)
    assert list(p["by_action"]["delete"].items())[:2] == [("aws_route", 3), ("aws_route_table", 3)]
    assert "module.vpc.aws_route_table.public" in p["destroy"]
    f = next(f for f in doc["findings"] if f["rule_id"] == "PM611")
    assert (f["file"], f["line"], f["column"], f["severity"]) == ("plan.json", 614, 31, "critical")


def test_fail_on_select_ignore_and_output_file(here, capsys):
    assert run(capsys, "plan.json", "--fail-on", "never")[0] == 0
    code, out, _ = run(capsys, "plan.json", "-f", "json", "--select", "PM611")
    assert code == 1 and {f["rule_id"] for f in json.loads(out)["findings"]} == {"PM611"}
    code, out, _ = run(capsys, "plan.json", "-f", "json", "--ignore", "PM610", "--ignore", "PM611",
                       "--ignore", "PM613", "--ignore", "PM612")
    assert code == 0 and json.loads(out)["findings"] == []
    code, out, _ = run(capsys, "plan.json", "-f", "sarif", "-o", "out.sarif")
    assert code == 1 and out == ""
    sarif = json.loads((here / "out.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"PM610", "PM611", "PM612", "PM613"}


def test_clean_plan_exits_0_with_its_summary(here, capsys):
    code, out, _ = run(capsys, "clean.json")
    assert code == 0
    assert out.startswith("clean.json (Terraform 1.7.4)\n  Plan: 0 to add, 1 to change, 0 to destroy.\n"
                          "  UPDATE 1: aws_s3_bucket ×1\n")


def test_several_plans_and_config_options(here, capsys):
    (here / "cfg.yaml").write_text("rules:\n  PM613:\n    options:\n      threshold: 100\n")
    code, out, _ = run(capsys, "plan.json", "clean.json", "-f", "json", "--config", "cfg.yaml")
    assert code == 1  # the node group still shrinks 20 -> 2
    doc = json.loads(out)
    assert [p["file"] for p in doc["plan"]["plans"]] == ["plan.json", "clean.json"]
    blast = next(f for f in doc["findings"] if f["rule_id"] == "PM613")
    assert blast["severity"] == "medium" and "threshold 100" in blast["message"]


@pytest.mark.parametrize("name, content, message", [
    ("missing.json", None, "premortem: error: plan file missing.json not found"),
    ("cm.json", '{"apiVersion": "v1", "kind": "ConfigMap"}', "premortem: error: cm.json:1: not a Terraform plan"),
    ("broken.json", '{"format_version": "1.2",\n "resource_changes": [}',
     "premortem: error: broken.json:2: not valid plan JSON: Expecting value"),
    ("tfplan", "PK\x03\x04\x14\x00\x00\x00\x08\x00",
     "premortem: error: tfplan:1: a binary plan file: convert it first with `terraform show -json plan.out > plan.json`"),
])
def test_wrong_input_exits_2_with_a_clear_message(here, capsys, name, content, message):
    if content is not None:
        (here / name).write_text(content)
    code, out, err = run(capsys, name)
    assert code == 2 and out == ""
    assert err.startswith(message)


def test_a_plan_file_not_named_json_is_read_by_content(here, capsys):
    (here / "tfplan.out").write_text((here / "plan.json").read_text())
    code, out, _ = run(capsys, "tfplan.out")
    assert code == 1 and "14 to destroy" in out and "PM613" in out


def test_unknown_rule_and_missing_config_exit_2(here, capsys):
    assert run(capsys, "plan.json", "--select", "PM999")[2].startswith("premortem: error: unknown rule ID 'PM999'")
    assert run(capsys, "plan.json", "--config", "nope.yaml")[2] == "premortem: error: config file nope.yaml not found\n"
