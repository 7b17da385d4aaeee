"""parse/tfplan: plan JSON into ResourceChange/ResourceDrift/TerraformPlan resources, positions on
demand (pretty-printed and one-line plans alike), malformed plans as errors with file and line."""
import json
import pathlib

import pytest

from premortem.parse.tfplan import JsonText, parse_json, parse_plan

from .conftest import run_scan

DATA = pathlib.Path(__file__).parent / "data" / "tfplan"
NARRATIVE = DATA / "narrative.json"
ONELINE = DATA / "narrative.oneline.json"


def by_name(resources):
    return {r.name: r for r in resources}


def load(path):
    resources, errors = parse_plan(path.read_text(), path.name)
    assert errors == []
    return resources


def test_narrative_plan_resources_and_summary():
    res = load(NARRATIVE)
    kinds = [r.kind for r in res]
    assert kinds[0] == "TerraformPlan" and kinds.count("ResourceChange") == 20 and "ResourceDrift" not in kinds
    plan = res[0]
    assert plan.id == "TerraformPlan/narrative.json"
    summary = plan.data["summary"]
    assert summary["terraform_version"] == "1.7.4"
    assert summary["counts"] == {"delete": 14, "update": 1}  # no-ops are not counted
    assert summary["by_type"]["aws_route_table"] == {"delete": 3}
    assert summary["by_type"]["aws_eks_node_group"] == {"update": 1}
    assert plan.data["environment"] == ("production", 'variable environment = "production"')
    assert plan.origin.environment == plan.data["environment"]  # the engine's production evidence


def test_resource_change_data_folds_the_change_in():
    ng = by_name(load(NARRATIVE))["module.eks.aws_eks_node_group.primary"]
    assert ng.id == "ResourceChange/module.eks.aws_eks_node_group.primary"
    d = ng.data
    assert (d["type"], d["mode"], d["module_address"], d["actions"]) == (
        "aws_eks_node_group", "managed", "module.eks", ["update"])
    assert d["provider"] == "registry.terraform.io/hashicorp/aws"
    assert d["before"]["scaling_config"][0]["desired_size"] == 20
    assert d["after"]["scaling_config"][0]["desired_size"] == 2
    assert d["after_unknown"] == {} and d["after_sensitive"] == {}


def test_security_group_in_use_found_through_prior_state_values():
    res = by_name(load(NARRATIVE))
    assert res["module.vpc.aws_security_group.payments_db"].data["referenced_by"] == ["module.rds.aws_db_instance.payments"]
    assert res["module.vpc.aws_security_group.legacy_bastion"].data["referenced_by"] == []


def test_reference_through_configuration_expressions():
    path = pathlib.Path(__file__).parent / "fixtures" / "PM610" / "bad" / "plan.json"
    res = by_name(parse_json(path.read_text(), "plan.json")[0])
    assert res["aws_security_group.app"].data["referenced_by"] == ["aws_instance.api"]


def _line_of(text, needle, start=0):
    i = text.index(needle, start)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def test_positions_pretty_printed():
    text = NARRATIVE.read_text()
    ng = by_name(load(NARRATIVE))["module.eks.aws_eks_node_group.primary"]
    entry = text.index('"address": "module.eks.aws_eks_node_group.primary"')
    after = text.index('"after": {', entry)
    line, col = _line_of(text, '"desired_size": 2', after)
    src = ng.locate(("after", "scaling_config", 0, "desired_size"))
    assert (src.line, src.column) == (line, col + len('"desired_size": '))
    key = ng.locate(("after", "scaling_config", 0, "desired_size"), key=True)
    assert (key.line, key.column) == (line, col)
    # entry keys stay on the entry, change keys are found under "change"
    assert ng.locate(("address",)).line == text.count("\n", 0, entry) + 1
    actions = ng.locate(("actions",))
    assert actions.line == _line_of(text, '"actions": [', entry)[0]
    # a path that does not exist falls back to its nearest ancestor
    assert ng.locate(("after", "no_such_attribute")).line == text.count("\n", 0, after) + 1


def test_positions_one_line_plan_are_columns_on_line_1():
    text = ONELINE.read_text()
    assert "\n" not in text.strip()
    ng = by_name(load(ONELINE))["module.eks.aws_eks_node_group.primary"]
    entry = text.index('"address":"module.eks.aws_eks_node_group.primary"')
    after = text.index('"after":{', entry)
    i = text.index('"desired_size":2', after) + len('"desired_size":')
    src = ng.locate(("after", "scaling_config", 0, "desired_size"))
    assert (src.line, src.column) == (1, i + 1)


def test_pretty_and_one_line_plans_parse_to_the_same_data():
    a, b = load(NARRATIVE), load(ONELINE)
    assert [(r.kind, r.name) for r in a[1:]] == [(r.kind, r.name) for r in b[1:]]
    assert [r.data for r in a[1:]] == [r.data for r in b[1:]]
    assert a[0].data == b[0].data


def test_whole_line_comments_are_blanked_and_columns_kept():
    text = '{\n  # a note\n  "a": {"b": "x # not a comment", "c": "// nor this"}\n}\n'
    doc = JsonText(text)
    assert doc.load() == {"a": {"b": "x # not a comment", "c": "// nor this"}}
    assert doc.position(("a", "c")) == (3, text.splitlines()[2].index('"// nor') + 1)


def test_escaped_keys_and_unicode_columns():
    text = '{"k\\"ey": {"é": [1, {"x": "\\u00e9"}]}}'
    doc = JsonText(text)
    assert doc.load() == {'k"ey': {"é": [1, {"x": "é"}]}}
    assert doc.position(('k"ey', "é", 1, "x")) == (1, text.index('"\\u00e9"') + 1)
    assert doc.position(('k"ey', "é", 1, "x"), key=True) == (1, text.index('"x"') + 1)


def test_resource_drift_entries_know_what_the_plan_does():
    plan = {"format_version": "1.2", "terraform_version": "1.7.4",
            "resource_drift": [{"address": "aws_s3_bucket.a", "mode": "managed", "type": "aws_s3_bucket", "name": "a",
                                "change": {"actions": ["update"], "before": {"x": 1}, "after": {"x": 2}}}],
            "resource_changes": [{"address": "aws_s3_bucket.a", "mode": "managed", "type": "aws_s3_bucket", "name": "a",
                                  "change": {"actions": ["update"], "before": {"x": 2}, "after": {"x": 1}}}]}
    res, errors = parse_json(json.dumps(plan), "p.json")
    assert errors == []
    drift = [r for r in res if r.kind == "ResourceDrift"]
    assert [d.name for d in drift] == ["aws_s3_bucket.a"] and drift[0].data["planned_actions"] == ["update"]
    assert res[0].data["summary"]["drift"] == [{"address": "aws_s3_bucket.a", "type": "aws_s3_bucket", "action": "update"}]


# ---- malformed input: errors with file and line, never a traceback -------------------------------
def test_invalid_json_plan_is_an_error_with_line_and_column():
    text = '{\n  "format_version": "1.2",\n  "resource_changes": [\n    {"address": "a" "b"}\n  ]\n}\n'
    res, errors = parse_json(text, "plan.json")
    assert res == [] and len(errors) == 1
    e = errors[0]
    assert (e.file, e.line, e.column) == ("plan.json", 4, 21)
    assert e.message.startswith("not valid plan JSON: Expecting ',' delimiter")


def test_malformed_entries_are_errors_and_the_rest_is_read():
    plan = {"format_version": "1.1", "resource_changes": [
        {"address": "aws_vpc.a", "type": "aws_vpc", "change": {"actions": ["delete"], "before": {}, "after": None}},
        {"address": "aws_vpc.b", "type": "aws_vpc"},
        {"address": "aws_vpc.c", "type": "aws_vpc", "change": {"actions": "delete"}},
        "garbage"]}
    text = json.dumps(plan, indent=2)
    res, errors = parse_json(text, "plan.json")
    assert [r.name for r in res if r.kind == "ResourceChange"] == ["aws_vpc.a"]
    lines = text.splitlines()
    assert [(e.line, e.message) for e in errors] == [
        (next(i for i, ln in enumerate(lines, 1) if '"aws_vpc.b"' in ln) - 1,
         "plan resource_changes[1] has no address or change: not read"),
        (next(i for i, ln in enumerate(lines, 1) if '"actions": "delete"' in ln) - 1,
         "plan resource_changes[2] (aws_vpc.c) has no list of actions: not read"),
        (next(i for i, ln in enumerate(lines, 1) if '"garbage"' in ln),
         "plan resource_changes[3] has no address or change: not read"),
    ]


def test_unsupported_format_version_and_non_list_changes():
    res, errors = parse_json('{"format_version": "2.0", "resource_changes": []}', "p.json")
    assert res == [] and errors[0].message == "plan format_version '2.0' is not 1.x: premortem reads 1.x plans"
    res, errors = parse_json('{"format_version": "1.2",\n "resource_changes": {"a": 1}}', "p.json")
    assert [r.kind for r in res] == ["TerraformPlan"]
    assert [(e.line, e.column, e.message) for e in errors] == [(2, 22, "plan resource_changes is not a list")]


def test_json_that_is_not_a_plan_goes_to_the_kubernetes_parser():
    res, errors = parse_json('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}', "cm.json")
    assert errors == [] and [r.id for r in res] == ["ConfigMap/-/c"]
    # plan-like words inside a non-plan document do not make it a plan
    res, errors = parse_json('{"kind": "Note", "apiVersion": "v1", "text": "\\"format_version\\" \\"resource_changes\\""}', "n.json")
    assert errors == [] and [r.kind for r in res] == ["Note"]


@pytest.mark.parametrize("text, message", [
    ("PK\x03\x04binary", "a binary plan file: convert it first with `terraform show -json plan.out > plan.json`"),
    ('{"apiVersion": "v1", "kind": "ConfigMap"}', ("not a Terraform plan (expected the output of `terraform show "
                                                   "-json plan.out`, an object with format_version and resource_changes)")),
    ("[1, 2", "not valid plan JSON: Expecting ',' delimiter"),
])
def test_parse_plan_says_why_a_file_is_not_a_plan(text, message):
    res, errors = parse_plan(text, "x.json")
    assert res == [] and errors[0].message.startswith(message)


def test_scan_reports_a_broken_plan_as_an_error_not_a_traceback(tmp_path):
    (tmp_path / "plan.json").write_text('{"format_version": "1.2", "resource_changes": [{"address": 1}]}')
    result = run_scan(tmp_path)
    assert [(e.file, e.line, e.message) for e in result.errors] == [
        ("plan.json", 1, "plan resource_changes[0] has no address or change: not read")]
