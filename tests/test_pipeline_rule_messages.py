"""Messages and severities of pipeline rules whose fixtures only pin positions (PM814, PM912)."""
from .conftest import FIXTURES, run_scan


def _by_line(rule_id, file):
    result = run_scan(FIXTURES / rule_id / "bad", select=[rule_id])
    return {f.line: f for f in result.findings if f.file == file}


def test_pm814_names_the_files_and_lowers_tools():
    f = _by_line("PM814", ".github/workflows/test.yml")
    assert f[10].message.startswith("`python -m pip install -r requirements.txt -r requirements-dev.txt` in CI job "
                                    "'test' installs requirements.txt, requirements-dev.txt without --require-hashes")
    assert (f[10].severity.name, f[16].severity.name) == ("MEDIUM", "LOW")
    assert "installs the tool(s) pre-commit unpinned" in f[16].message


def test_pm912_names_the_identity_and_the_binding():
    f = _by_line("PM912", ".github/workflows/deploy.yml")
    assert f[21].severity.name == "CRITICAL" and "`az aks get-credentials --admin`" in f[21].message
    assert "IAM role arn:aws:iam::111122223333:role/gha-deployer, which aws-auth maps to the group system:masters" \
        in f[29].message
    assert [(r.file, r.line) for r in f[29].related] == [("k8s/rbac.yaml", 10)]
    assert "CLUSTER_ADMIN_TOKEN }}" in f[24].message  # a secret reference, not a secret: shown as written
