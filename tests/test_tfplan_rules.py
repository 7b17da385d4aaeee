"""PM610-PM617 on the narrative's plan (R6: 14 to destroy, node group 20 → 2) and on plans and states
carrying secrets: what fires, where, with which words; options and production evidence; and no
secret escaping whole in any output format."""
import json
import pathlib
import shutil

import pytest

from premortem.cli import main
from premortem.config import Config, RuleConfig
from premortem.model import Severity
from premortem.parse.tfplan import JsonText
from premortem.report import FORMATS, render

from .conftest import run_scan

HERE = pathlib.Path(__file__).parent
DATA = HERE / "data" / "tfplan"
FIX = HERE / "fixtures"
PLAN_RULES = ["PM610", "PM611", "PM612", "PM613", "PM614", "PM615"]


def narrative(tmp_path, environment="production", name="narrative.json", one_line=False):
    plan = json.loads((DATA / "narrative.json").read_text())
    plan["variables"]["environment"]["value"] = environment
    (tmp_path / name).write_text(json.dumps(plan, separators=(",", ":")) if one_line else json.dumps(plan, indent=2))
    return tmp_path / name


def findings(path, rules=PLAN_RULES, config=None):
    result = run_scan(path, select=rules, config=config)
    assert result.errors == []
    return result.findings


def test_narrative_plan_destroys_route_tables_nat_and_a_used_security_group(tmp_path):
    got = [f for f in findings(narrative(tmp_path), ["PM610"])]
    assert sorted(f.resource.split("/", 1)[1] for f in got) == sorted(
        [f"module.vpc.aws_route_table.{n}" for n in ("public", "private[1]", "private[2]")]
        + [f"module.vpc.aws_route.{n}" for n in ("public_internet_gateway", "private_nat_gateway[1]", "private_nat_gateway[2]")]
        + ["module.vpc.aws_nat_gateway.this[1]", "module.vpc.aws_nat_gateway.this[2]",
           "module.vpc.aws_security_group.payments_db"])  # not the unused legacy_bastion, not associations
    assert all(f.severity == Severity.CRITICAL for f in got)
    rt = next(f for f in got if f.resource.endswith("aws_route_table.public"))
    assert rt.message == ("plan destroys module.vpc.aws_route_table.public (aws_route_table) because its block is gone "
                          "from the configuration: every subnet associated with it loses its routes (no internet, no NAT) "
                          '[production: variable environment = "production"]')
    lines = (tmp_path / "narrative.json").read_text().splitlines()
    assert lines[rt.line - 1].strip() == '"actions": ['
    sg = next(f for f in got if "payments_db" in f.resource)
    assert "still used by module.rds.aws_db_instance.payments" in sg.message


def test_narrative_node_group_20_to_2(tmp_path):
    (f,) = findings(narrative(tmp_path), ["PM611"])
    assert f.message.startswith("scaling_config[0].desired_size 20 → 2 (−90%) on module.eks.aws_eks_node_group.primary: "
                                "18 of 20 nodes are removed at once")
    line = (tmp_path / "narrative.json").read_text().splitlines()[f.line - 1]
    assert line.strip() == '"desired_size": 2,' and line[f.column - 1] == "2"


def test_narrative_mass_deletes_and_blast_radius(tmp_path):
    got = findings(narrative(tmp_path), ["PM612", "PM613"])
    mass = sorted(f.message.split(":")[0] for f in got if f.rule_id == "PM612")
    assert mass == ["6 resources in module.vpc destroyed for one reason, delete_because_no_resource_config",
                    "8 resources in module.vpc destroyed for one reason, delete_because_count_index"]
    (blast,) = [f for f in got if f.rule_id == "PM613"]
    assert blast.severity == Severity.CRITICAL and blast.resource == "TerraformPlan/narrative.json"
    assert blast.message.startswith("14 to destroy, 0 to replace: 3 aws_route, 3 aws_route_table, 2 aws_nat_gateway, "
                                    "1 aws_security_group in use, 4 aws_route_table_association, 1 aws_security_group; "
                                    "blast radius 50 ≥ threshold 20")


def test_blast_radius_threshold_and_capacity_fraction_are_options(tmp_path):
    cfg = Config(rules={"PM613": RuleConfig(options={"threshold": 60}), "PM611": RuleConfig(options={"max_reduction": 0.95})})
    got = findings(narrative(tmp_path), ["PM611", "PM613"], cfg)
    assert [(f.rule_id, f.severity) for f in got] == [("PM613", Severity.MEDIUM)]
    assert "blast radius 50 < threshold 60" in got[0].message


def test_a_staging_plan_is_reported_below_the_gate(tmp_path):
    got = findings(narrative(tmp_path, "staging"), ["PM610", "PM611", "PM613"])
    assert got and {f.severity for f in got} == {Severity.MEDIUM}
    assert not any("[production" in f.message for f in got)


def test_production_from_config_paths_when_the_plan_names_no_environment(tmp_path):
    plan = json.loads((DATA / "narrative.json").read_text())
    del plan["variables"]["environment"]
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "network.json").write_text(json.dumps(plan))
    got = findings(tmp_path, ["PM611"], Config(prod_paths=["plans/*"]))
    assert got[0].severity == Severity.CRITICAL
    assert got[0].production == "path 'plans/network.json' matches production.paths 'plans/*'"
    got = findings(tmp_path, ["PM611"])
    assert got[0].severity == Severity.HIGH and got[0].production == ""


def test_one_line_plan_gives_the_same_findings_at_columns(tmp_path):
    pretty = findings(narrative(tmp_path))
    (tmp_path / "one").mkdir()
    one = findings(narrative(tmp_path / "one", name="one.json", one_line=True))

    def key(f):
        return f.rule_id, f.resource.replace("one.json", "narrative.json"), f.message

    assert sorted(map(key, one)) == sorted(map(key, pretty)) and len(one) == 13
    text = (tmp_path / "one" / "one.json").read_text()
    ng = next(f for f in one if f.rule_id == "PM611")
    assert ng.line == 1 and text[ng.column - 1:].startswith("2,")


def test_tags_only_plan_is_clean(tmp_path):
    plan = {"format_version": "1.2", "terraform_version": "1.7.4", "variables": {"environment": {"value": "prod"}},
            "resource_changes": [{"address": f"aws_db_instance.{n}", "mode": "managed", "type": "aws_db_instance", "name": n,
                                  "change": {"actions": ["update"], "before": {"tags": {}}, "after": {"tags": {"Owner": "db"}}}}
                                 for n in ("a", "b", "c")]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    assert findings(tmp_path) == []


# ---- secrets: never whole, in any format, for plans and states ------------------------------------
SECRETS = ["Pr0d#Vault-Unused-77", "Orders-2024-Prod!x", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "tok_live_9f8e7d6c5b4a3f2e1d0c", "postgres://orders@db:5432/orders", "q8#Lx2!vR0pZ7@mN4&tW9yB1",
           "MIIEowIBAAKCAQEA7x1q"]
SECRET_INPUTS = [FIX / "PM615" / "bad" / "plan.json", FIX / "PM615" / "good" / "plan.json",
                 FIX / "PM617" / "bad" / "terraform.tfstate", FIX / "PM616" / "bad" / "terraform.tfstate"]


def _copy_pretty(tmp_path):
    for i, src in enumerate(SECRET_INPUTS):
        d = tmp_path / f"in{i}"
        d.mkdir()
        shutil.copy(src, d / src.name)
    return tmp_path


def _assert_no_secret(text):
    leaked = [s for s in SECRETS if s in text or json.dumps(s)[1:-1] in text]
    assert leaked == [], leaked


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_escapes_from_scan_in_any_format(tmp_path, fmt):
    result = run_scan(_copy_pretty(tmp_path))
    assert result.errors == []
    ids = {f.rule_id for f in result.findings}
    assert {"PM615", "PM616", "PM617"} <= ids
    _assert_no_secret(render(result, fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_escapes_from_plan_command_in_any_format(tmp_path, fmt, capsys, monkeypatch):
    plan = JsonText((FIX / "PM615" / "bad" / "plan.json").read_text()).load()
    (tmp_path / "pretty.json").write_text(json.dumps(plan, indent=2))
    (tmp_path / "oneline.json").write_text(json.dumps(plan))
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "pretty.json", "oneline.json", "-f", fmt, "--fail-on", "never"]) == 0
    out = capsys.readouterr().out
    assert "PM615" in out
    _assert_no_secret(out)


def test_no_secret_escapes_from_scan_of_one_line_plan(tmp_path):
    plan = JsonText((FIX / "PM615" / "bad" / "plan.json").read_text()).load()
    plan["resource_changes"].append({"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc", "name": "main",
                                     "change": {"actions": ["delete"], "before": {"id": "vpc-1"}, "after": None}})
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    _assert_no_secret(render(run_scan(tmp_path), "text"))
