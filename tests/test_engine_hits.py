"""Judge.finding: where a Hit lands, and whose production evidence it carries."""
from premortem.config import Config
from premortem.engine import Judge
from premortem.model import Source
from premortem.parse.kubernetes import parse_manifest
from premortem.project import Project
from premortem.rules.registry import Hit, get_rule

TEXT = """apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: |
    - rolearn: arn:aws:iam::1:role/ci-deploy
      groups: [system:masters]
"""


def _judge():
    (r,), errors = parse_manifest(TEXT, "aws-auth.yaml")
    assert not errors
    return Judge([], Config(), Project(), "/nonexistent"), r


def test_hit_at_an_explicit_source_inside_a_block_string():
    judge, r = _judge()
    rule = get_rule("PM911")
    f = judge.finding(rule, r, Hit(path=("data", "mapRoles"), message="m", at=Source("aws-auth.yaml", 6, 7)), "")
    assert (f.file, f.line, f.column) == ("aws-auth.yaml", 6, 7)
    g = judge.finding(rule, r, Hit(path=("data", "mapRoles"), message="m"), "")
    assert (g.line, g.column) == (5, 13)  # without `at`, the node the path names
    assert f.fingerprint == g.fingerprint  # identity, not position


def test_hit_production_evidence_wins_and_is_shown():
    judge, r = _judge()
    rule = get_rule("PM911")
    f = judge.finding(rule, r, Hit(path=(), message="m", production="destination namespace 'prod'"), "")
    assert f.production == "destination namespace 'prod'" and f.message == "m [production: destination namespace 'prod']"
    g = judge.finding(rule, r, Hit(path=(), message="m"), "")
    assert g.production == "" and g.message == "m"
