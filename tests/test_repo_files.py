"""Repository governance files (parse/repo.py): what each becomes, with positions and errors."""
import textwrap

from premortem.parse.repo import parse_repo_file

from .conftest import run_scan


def _one(text, rel):
    resources, errors = parse_repo_file(textwrap.dedent(text), rel)
    assert len(resources) == 1, (resources, errors)
    return resources[0], errors


def test_codeowners_entries_keep_line_owners_and_inline_comments_out():
    r, errors = _one("""\
        # owners of the repository
        *            @org/developers

        /k8s/prod/   @org/platform-team  lead@example.com # platform on call
        docs/My\\ Guide.md @org/docs
        /k8s/prod/legacy/
        """, ".github/CODEOWNERS")
    assert errors == []
    assert (r.format, r.kind, r.file) == ("repo", "CodeOwners", ".github/CODEOWNERS")
    got = [(e["pattern"], e["owners"], e["line"]) for e in r.data["entries"]]
    assert got == [("*", ["@org/developers"], 2),
                   ("/k8s/prod/", ["@org/platform-team", "lead@example.com"], 4),
                   ("docs/My Guide.md", ["@org/docs"], 5),  # `\ ` is a space inside the path
                   ("/k8s/prod/legacy/", [], 6)]
    assert r.locate(("entries", 1)).line == 4


def test_codeowners_unsupported_syntax_is_kept_but_marked_invalid():
    r, _ = _one("!/k8s/prod/secret.yaml @org/sec\n/k8s/[ab]*/ @org/platform\n", "CODEOWNERS")
    reasons = [e.get("invalid", "") for e in r.data["entries"]]
    assert "negation" in reasons[0] and "character ranges" in reasons[1]


def test_codeowners_gitlab_sections_give_default_owners_and_optional_flag():
    r, errors = _one("""\
        [Platform][2] @org/platform
        /k8s/prod/
        /k8s/prod/payments/ @org/payments
        ^[Docs] @org/docs
        *.md
        """, "CODEOWNERS")
    assert errors == []
    got = [(e["pattern"], e["owners"], e["section"], e["optional"]) for e in r.data["entries"]]
    assert got == [("/k8s/prod/", ["@org/platform"], "Platform", False),
                   ("/k8s/prod/payments/", ["@org/payments"], "Platform", False),
                   ("*.md", ["@org/docs"], "Docs", True)]


def test_codeowners_owner_that_is_not_a_handle_is_an_error_with_its_line():
    _, errors = _one("/k8s/ @org/platform\n/prod/ platform-team\n", "CODEOWNERS")
    assert [(e.line, e.message) for e in errors] == [
        (2, "CODEOWNERS: 'platform-team' is not an @user, @org/team or e-mail")]


def test_settings_yml_keeps_positions_of_branch_protection_keys():
    r, errors = _one("""\
        repository: {name: payments, default_branch: main}
        branches:
          - name: main
            protection:
              allow_force_pushes: true
        """, ".github/settings.yml")
    assert errors == [] and r.kind == "GitHubSettings"
    src = r.locate(("branches", 0, "protection", "allow_force_pushes"))
    assert (src.line, src.column) == (5, 27)


def test_secret_scanning_configs_name_their_tool():
    gl, _ = _one('[extend]\nuseDefault = true\n[allowlist]\npaths = ["tests/"]\n', ".gitleaks.toml")
    th, _ = _one("detectors: []\n", ".trufflehog.yml")
    ds, _ = _one('{"version": "1.5.0", "plugins_used": [{"name": "AWSKeyDetector"}], "results": {}}', ".secrets.baseline")
    assert [(x.kind, x.data["tool"]) for x in (gl, th, ds)] == [
        ("SecretScanConfig", "gitleaks"), ("SecretScanConfig", "trufflehog"), ("SecretScanConfig", "detect-secrets")]
    assert ds.data["plugins"] == ["AWSKeyDetector"]


def test_broken_governance_files_are_errors_with_lines():
    _, errors = parse_repo_file('[allowlist]\npaths = ["a"\n', ".gitleaks.toml")
    assert errors and errors[0].line == 2 and "invalid TOML" in errors[0].message
    _, errors = parse_repo_file("repos:\n  - repo: [unclosed\n", ".pre-commit-config.yaml")
    assert errors and errors[0].file == ".pre-commit-config.yaml" and "invalid YAML" in errors[0].message


def test_governance_files_are_discovered_only_where_the_forge_reads_them(tmp_path):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "settings.yml").write_text("branches: []\n")
    (tmp_path / "settings.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n")
    (tmp_path / "CODEOWNERS").write_text("* @org/devs\n")
    result = run_scan(tmp_path)
    kinds = sorted((e.format, e.kind, e.file) for e in result.project.entries)
    assert kinds == [("kubernetes", "ConfigMap", "settings.yml"), ("repo", "CodeOwners", "CODEOWNERS"),
                     ("repo", "GitHubSettings", ".github/settings.yml")]
