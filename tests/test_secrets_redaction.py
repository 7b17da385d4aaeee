"""No secret escapes whole: every output format, the snippets in them, error messages, history findings.

The secrets are the ones in tests/fixtures/PM401/bad (and a history-only one); the tree also holds
files whose parse errors quote the line with the secret. A secret counts as escaped when it, or any
16-character piece of it, appears anywhere in the rendered report.
"""
import os
import shutil
import subprocess

import pytest

from premortem.report import FORMATS, render

from .conftest import FIXTURES, run_scan

SECRETS = [
    "80EXTw65OvUeRAGI7IPK4g9pKJpBgjZb63LKw/Ag", "ghp_FgB00rYKY8zE9ultY7QClh8TRPeWqRgHTa1Q", "Hunter2-prod-Pa55",
    "Zq7pL2mVx9Rt", "sk_live_HGt1e7aAakI9esJmBUFxY9Mv", "glpat-HWzqQxhhu4M5YaddicKz",
    "npm_DXcU26644RrIzVrF9S27dEbV8zU3ZQ7jOA6J", "xoxb-770528157107-3302061702075-eKl0xqJ9CapZThjLAr3ZAl1y",
    "Pr0d-Db-Pa55w0rd!", "Xr7#kQ2!mZp9Lw", "tK9-vQ2xLm7pW4zR8nB3", "QSKy/UvLRX77TobZ4tAvx9dqSN/eEjFwpK68bFS3n9tW",
    "H7olsvNtScRM5ZXyBFqORy4LRjIe0xO9X5sTLa5cuVo8fEAW3y11+TIUw/tr4Hozdwxrz6xD+J0Nr74kp/Ny2j==",
    "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",
]
ERRORED = "ghp_R7x2Lq9ZkT4mVw8NbP3sYc6HdJ1fGa0EeUuI"
HISTORY_ONLY = "sk_live_q8Jr2vXk9TfLw3ZbN6pYc1Hd"
BROKEN = {  # files whose parsers fail on the line that holds a secret
    "Jenkinsfile": f'pipeline {{ stage("x") {{ sh "curl -u {ERRORED}',
    "broken.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  token: {ERRORED}: : [\n",
    "main.tf": f'resource "x" "y" {{\n  token = "{ERRORED}\n',
    "a.js": f'const x = {{token: "{ERRORED}"',
    ".gitleaks.toml": f'[allowlist\nregexes = ["{ERRORED}"\n',
}


def _pieces(secret, n=16):
    return {secret[i:i + n] for i in range(max(1, len(secret) - n + 1))}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaky")
    shutil.copytree(FIXTURES / "PM401" / "bad", root, dirs_exist_ok=True)
    for rel, text in BROKEN.items():
        (root / rel).write_text(text)
    if shutil.which("git"):
        env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
        run = lambda *a: subprocess.run(["git", "-C", str(root), "-c", "user.name=d", "-c", "user.email=d@x.io", *a],
                                        check=True, capture_output=True, env=env)
        (root / "old.env").write_text(f"STRIPE_KEY={HISTORY_ONLY}\n")
        run("init", "-q")
        run("add", "-A")
        run("commit", "-q", "-m", "one")
        (root / "old.env").unlink()
        run("commit", "-q", "-am", "two")
    return run_scan(root, select=["PM401", "PM403", "PM404"], history=bool(shutil.which("git")))


def test_the_tree_really_has_findings_errors_and_history(result):
    assert len([f for f in result.findings if f.rule_id == "PM401"]) >= 24
    assert {e.file for e in result.errors} >= set(BROKEN) - {"main.tf"}
    if shutil.which("git"):
        assert [f.file for f in result.findings if "@" in f.resource] == ["old.env"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_escapes_in_any_format(result, fmt):
    out = render(result, fmt)
    assert "redacted sha256:" in out
    for secret in SECRETS + [ERRORED, HISTORY_ONLY]:
        leaked = [p for p in _pieces(secret) if p in out]
        assert not leaked, f"{secret[:4]}... leaked in {fmt}: {leaked[:2]}"


def test_error_messages_quote_the_failing_text_redacted(result):
    jenkins, = [e for e in result.errors if e.file == "Jenkinsfile"]
    assert "ghp_…[redacted sha256:" in jenkins.message
    for e in result.errors:
        assert not [p for p in _pieces(ERRORED, 8) if p in e.message], e
