"""parse/tfstate: version 4 state into TerraformState + StateResource per instance; malformed state
as errors with file and line."""
import json
import pathlib

from premortem.parse.tfstate import parse_state, sensitive_tree

from .conftest import run_scan

STATE = pathlib.Path(__file__).parent / "fixtures" / "PM617" / "bad" / "terraform.tfstate"


def test_state_resources_per_instance_with_addresses():
    res, errors = parse_state(STATE.read_text(), "terraform.tfstate")
    assert errors == []
    assert [r.id for r in res] == ["TerraformState/terraform.tfstate", "StateResource/aws_db_instance.main",
                                   "StateResource/random_password.api", "StateResource/module.ci.tls_private_key.deploy"]
    db = res[1]
    assert db.data["type"] == "aws_db_instance" and db.data["attributes"]["username"] == "admin"
    assert db.data["sensitive"] == {"password": True}
    assert res[0].data["outputs"]["db_password"]["sensitive"] is True


def test_state_positions_of_attributes_and_resource_keys():
    text = STATE.read_text()
    db = parse_state(text, "terraform.tfstate")[0][1]
    lines = text.splitlines()
    pw = next(i for i, ln in enumerate(lines, 1) if '"password": "Pr0d#Vault-Unused-77"' in ln)
    src = db.locate(("attributes", "password"))
    assert (src.line, src.column) == (pw, lines[pw - 1].index('"Pr0d#Vault') + 1)
    first_type = next(i for i, ln in enumerate(lines, 1) if '"type": "aws_db_instance"' in ln)
    assert db.locate(("type",)).line == first_type


def test_index_keys_and_deposed_objects():
    state = {"version": 4, "serial": 1, "lineage": "x", "outputs": {}, "resources": [
        {"module": 'module.net["eu"]', "mode": "managed", "type": "aws_subnet", "name": "a", "provider": "p",
         "instances": [{"index_key": 0, "attributes": {"id": "s0"}}, {"index_key": "b", "attributes": {"id": "sb"}},
                       {"index_key": 1, "deposed": "00aa", "attributes": {"id": "s1"}}]},
        {"mode": "data", "type": "aws_ami", "name": "u", "provider": "p", "instances": [{"attributes": {"id": "ami"}}]}]}
    res, errors = parse_state(json.dumps(state), "s.tfstate")
    assert errors == []
    assert [r.name for r in res[1:]] == ['module.net["eu"].aws_subnet.a[0]', 'module.net["eu"].aws_subnet.a["b"]',
                                         'module.net["eu"].aws_subnet.a[1]', "data.aws_ami.u"]
    assert res[3].data["deposed"] == "00aa"


def test_sensitive_tree_from_state_paths():
    paths = [[{"type": "get_attr", "value": "password"}],
             [{"type": "get_attr", "value": "settings"}, {"type": "index", "value": {"value": 0, "type": "number"}},
              {"type": "get_attr", "value": "token"}],
             [{"type": "get_attr", "value": "tags"}, {"type": "index", "value": {"value": "Secret", "type": "string"}}]]
    assert sensitive_tree(paths) == {"password": True, "settings": {0: {"token": True}}, "tags": {"Secret": True}}
    assert sensitive_tree(None) == {} and sensitive_tree([["junk"]]) == {}


def test_empty_state_is_nothing_and_old_versions_are_an_error():
    assert parse_state("  \n", "terraform.tfstate") == ([], [])
    res, errors = parse_state('{\n  "version": 3,\n  "serial": 9\n}', "old.tfstate")
    assert [r.kind for r in res] == ["TerraformState"]  # still a state file in the repository (PM616)
    assert [(e.line, e.column, e.message) for e in errors] == [
        (2, 14, "Terraform state version 3: premortem reads version 4 (Terraform 0.12 and later); its resources were not read")]


def test_malformed_state_errors_name_the_line():
    res, errors = parse_state('{\n  "version": 4,\n  "resources": [\n    {"type": "aws_vpc",}\n  ]\n}', "t.tfstate")
    assert res == [] and (errors[0].line, errors[0].message.split(":")[0]) == (4, "not valid Terraform state JSON")
    res, errors = parse_state('{"version": 4, "resources": [{"type": "aws_vpc"}, 7]}', "t.tfstate")
    assert [e.message for e in errors] == ["state resources[0] has no type or instances: not read",
                                           "state resources[1] has no type or instances: not read"]
    res, errors = parse_state("[1, 2]", "t.tfstate")
    assert errors[0].message.startswith("not a Terraform state")


def test_scan_dispatches_tfstate_and_backup_files(tmp_path):
    (tmp_path / "terraform.tfstate.backup").write_text(STATE.read_text())
    (tmp_path / "bad.tfstate").write_text("{not json")
    result = run_scan(tmp_path)
    assert [(e.file, e.line) for e in result.errors] == [("bad.tfstate", 1)]
    assert {f.rule_id for f in result.findings if f.file == "terraform.tfstate.backup"} >= {"PM616", "PM617"}
