import pytest

from premortem.config import ConfigError, find_config, load_config
from premortem.model import Severity
from premortem.rules.registry import load_rules

RULES = load_rules()


def write(tmp_path, text):
    p = tmp_path / ".premortem.yaml"
    p.write_text(text)
    return str(p)


def test_unknown_top_level_key_names_file_line_and_choices(tmp_path):
    p = write(tmp_path, "fail_on: high\nrulez: {}\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, RULES)
    assert f"{p}:2: unknown key 'rulez'" in str(e.value) and "rules" in str(e.value)


def test_unknown_nested_key(tmp_path):
    p = write(tmp_path, "production:\n  namespace: [prod]\n")
    with pytest.raises(ConfigError, match=r":2: unknown key 'production.namespace'"):
        load_config(p, RULES)


def test_unknown_rule_id_and_name_hint(tmp_path):
    with pytest.raises(ConfigError, match=r":2: unknown rule ID 'PM999'"):
        load_config(write(tmp_path, "rules:\n  PM999: false\n"), RULES)
    with pytest.raises(ConfigError, match=r"did you mean PM501"):
        load_config(write(tmp_path, "rules:\n  mutable-image-tag: false\n"), RULES)


def test_rule_settings(tmp_path):
    cfg = load_config(write(tmp_path, """
rules:
  PM501: {severity: critical, options: {mutable_tags: [latest, edge]}}
  PM001: false
fail_on: medium
registries: {allowed: [our-priv-reg.io]}
"""), RULES)
    assert cfg.rule("PM501").severity == Severity.CRITICAL
    assert cfg.rule("PM501").options == {"mutable_tags": ["latest", "edge"]}
    assert cfg.rule("PM001").enabled is False
    assert cfg.fail_on == Severity.MEDIUM
    assert cfg.allowed_registries == ["our-priv-reg.io"]


def test_unknown_rule_option_and_bad_severity(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown option 'tags' for PM501"):
        load_config(write(tmp_path, "rules:\n  PM501: {options: {tags: []}}\n"), RULES)
    with pytest.raises(ConfigError, match=r"unknown severity 'urgent'"):
        load_config(write(tmp_path, "rules:\n  PM501: {severity: urgent}\n"), RULES)


def test_found_from_root_upward(tmp_path):
    write(tmp_path, "fail_on: low\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(str(deep)) == str(tmp_path / ".premortem.yaml")


def test_production_evidence(tmp_path):
    cfg = load_config(write(tmp_path, "production:\n  paths: ['clusters/eu-1/**']\n  non_production_namespaces: [prod-sandbox]\n"), RULES)
    assert cfg.production_evidence("production", []) == "namespace 'production'"
    assert cfg.production_evidence("payments-prod", []) == "namespace 'payments-prod'"
    assert cfg.production_evidence("prod-sandbox", []) == ""
    assert cfg.production_evidence("", ["overlays/prod/kustomization.yaml"]).startswith("path segment 'prod'")
    assert cfg.production_evidence("", ["charts/x/values-production.yaml"]) != ""
    assert "production.paths" in cfg.production_evidence("", ["clusters/eu-1/apps/x.yaml"])
    # near-misses: words that merely contain 'prod'
    assert cfg.production_evidence("", ["products/catalog.yaml", "reproduce/x.yaml"]) == ""
    assert cfg.production_evidence("staging", ["k8s/staging/app.yaml"]) == ""
