"""`premortem scan --history`: secrets in every commit of a real git repository."""
import json
import os
import shutil
import subprocess

import pytest

from premortem import history
from premortem.cli import main
from premortem.config import Config
from premortem.suppress import write_baseline

from .conftest import run_scan

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

TOKEN = "ghp_R7x2Lq9ZkT4mVw8NbP3sYc6HdJ1fGa0EeUuI"
AWS_ID, AWS_SECRET = "AKIAZ3MSJV4WWD7Q2TPK", "q8Jr2vXk9TfLw3ZbN6pYc1HdM0sGa5EoUiR7tKxW"
SLACK = "xoxb-770528157107-3302061702075-eKl0xqJ9CapZThjLAr3ZAl1y"


def git(repo, *args):
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=dev", "-c", "user.email=dev@example.com",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True, env=env).stdout


def commit(repo, files: dict, message: str, date: str):
    for rel, text in files.items():
        p = repo / rel
        if text is None:
            p.unlink()
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    git(repo, "add", "-A")
    env_date = f"{date}T10:00:00+00:00"
    os.environ["GIT_AUTHOR_DATE"] = os.environ["GIT_COMMITTER_DATE"] = env_date
    try:
        git(repo, "commit", "-q", "-m", message)
    finally:
        del os.environ["GIT_AUTHOR_DATE"], os.environ["GIT_COMMITTER_DATE"]
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    shas = [
        commit(r, {"config.js": f'const k = {{\n  id: "{AWS_ID}",\n  secret: "{AWS_SECRET}",\n}};\n',
                   "app.py": f'TOKEN = "{TOKEN}"\n'}, "keys for quick testing", "2024-01-02"),
        commit(r, {"config.js": "const k = {\n  id: process.env.AWS_ACCESS_KEY_ID,\n};\n",
                   "app.py": f'import os\nTOKEN = "{TOKEN}"\nPORT = 8080\n'}, "remove the AWS key", "2024-01-03"),
        commit(r, {"bot/.env": f"SLACK_BOT_TOKEN={SLACK}\n"}, "bot", "2024-02-01"),
        commit(r, {"bot/.env": None, "deploy/bot.env": f"SLACK_BOT_TOKEN={SLACK}\n"}, "move it", "2024-03-01"),
    ]
    return r, shas


def test_removed_secret_is_reported_at_its_commit_and_still_fails_the_gate(repo):
    r, shas = repo
    result = run_scan(r, select=["PM401"], history=True)
    assert not result.errors
    f, = [f for f in result.findings if f.file == "config.js"]
    assert (f.line, f.column) == (3, 12) and f.resource == f"TextFile/config.js@{shas[0][:12]}"
    assert f.message.startswith("an AWS secret access key (q8Jr…[redacted sha256:")
    assert f.message.endswith(f"[git history: commit {shas[0][:12]} (2024-01-02T10:00:00+00:00), config.js; no longer "
                              f"in HEAD, but every clone and fork has it: removing it did not revoke it, rotate it]")
    assert AWS_SECRET not in f.snippet and "q8Jr…[redacted" in f.snippet  # the snippet is the blob's line, redacted


def test_a_secret_still_in_the_working_tree_is_one_finding_that_knows_its_first_commit(repo):
    r, shas = repo
    fs = [f for f in run_scan(r, select=["PM401"], history=True).findings if f.file == "app.py"]
    assert len(fs) == 1 and fs[0].line == 2  # the working tree's finding, not a second one from history
    assert fs[0].message.endswith(f"[in git history since commit {shas[0][:12]} (2024-01-02T10:00:00+00:00)]")
    assert fs[0].fingerprint == run_scan(r, select=["PM401"]).findings[0].fingerprint  # baselines still match


def test_a_moved_secret_says_where_head_has_it(repo):
    r, shas = repo
    fs = {f.file: f for f in run_scan(r, select=["PM401"], history=True).findings}
    assert fs["bot/.env"].message.endswith(f"[git history: commit {shas[2][:12]} (2024-02-01T10:00:00+00:00), "
                                           f"bot/.env; still in HEAD at deploy/bot.env]")
    assert "[in git history since commit" in fs["deploy/bot.env"].message
    assert fs["bot/.env"].fingerprint != fs["deploy/bot.env"].fingerprint


def test_each_blob_is_read_once_under_its_oldest_commit(repo):
    r, shas = repo
    blobs = history.blobs(str(r))
    assert len(blobs) == len(set(blobs))
    by_path = {}
    for o in blobs.values():
        by_path.setdefault(o.path, []).append(o.commit)
    assert by_path["config.js"] == [shas[0], shas[1]] and by_path["bot/.env"] == [shas[2]]
    slack_blob = [o for o in blobs.values() if o.path in ("bot/.env", "deploy/bot.env")]
    assert [o.path for o in slack_blob] == ["bot/.env"]  # same content moved: one blob, scanned once


def test_a_secret_edited_in_several_commits_is_one_finding(tmp_path):
    r = tmp_path / "r"
    r.mkdir()
    git(r, "init", "-q")
    first = commit(r, {"a.sh": f"export GH={TOKEN}\n"}, "one", "2023-05-01")
    commit(r, {"a.sh": f"# build\nexport GH={TOKEN}\n"}, "two", "2023-05-02")
    commit(r, {"a.sh": "export GH=$GH_TOKEN\n"}, "three", "2023-05-03")
    f, = run_scan(r, select=["PM401"], history=True).findings
    assert f.line == 1 and f"commit {first[:12]}" in f.message


def test_scan_root_below_the_top_level_reads_only_its_part(repo):
    r, _ = repo
    fs = run_scan(r / "bot", select=["PM401"], history=True).findings
    assert [(f.file, f.line) for f in fs] == [(".env", 1)]


def test_inline_suppression_in_that_version_and_baselines_apply(repo, tmp_path):
    r, _ = repo
    commit(r, {"old.txt": f"# premortem:ignore PM401 reason=revoked on 2024-04-01\nkey {AWS_ID}\n"}, "x", "2024-04-01")
    commit(r, {"old.txt": None}, "y", "2024-04-02")
    result = run_scan(r, select=["PM401"], history=True)
    assert not [f for f in result.findings if f.file == "old.txt"]
    base = tmp_path / "baseline.json"
    write_baseline(str(base), result.findings)
    again = run_scan(r, select=["PM401"], history=True, baseline=str(base))
    assert again.findings == [] and again.baselined == len(result.findings)


def test_ignored_rule_and_no_flag_mean_no_history(repo):
    r, _ = repo
    assert not [f for f in run_scan(r, select=["PM401"]).findings if "@" in f.resource]
    assert run_scan(r, select=["PM404"], history=True).findings == []


def test_cli_exit_codes(repo, tmp_path, capsys):
    r, _ = repo
    assert main(["scan", str(r), "--history", "--select", "PM401", "-f", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {f["file"] for f in data["findings"]} == {"config.js", "app.py", "bot/.env", "deploy/bot.env"}
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.txt").write_text("nothing\n")
    assert main(["scan", str(plain), "--history"]) == 2
    err = capsys.readouterr().err
    assert "--history reads git history, but" in err and "is not inside a git repository" in err


def test_shallow_clone_is_an_incomplete_scan(repo, tmp_path):
    r, _ = repo
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{r}", str(clone))
    result = run_scan(clone, select=["PM401"], history=True)
    assert len(result.errors) == 1 and "shallow clone" in result.errors[0].message
    with pytest.raises(history.HistoryError):
        history.repository(str(clone))


def test_empty_repository_has_no_history(tmp_path):
    git(tmp_path, "init", "-q")
    assert history.scan_history(str(tmp_path), Config(), [_pm401()], []) == ([], [])


def _pm401():
    from premortem.rules.registry import load_rules

    return load_rules()["PM401"]
