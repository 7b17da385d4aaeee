import json
import subprocess
import sys

from premortem.cli import main

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: production
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/api:latest
"""


def repo(tmp_path, text=DEPLOY, name="deploy.yaml"):
    (tmp_path / name).write_text(text)
    return tmp_path


def test_exit_1_on_findings_at_or_above_fail_on(tmp_path, capsys):
    assert main(["scan", str(repo(tmp_path)), "--select", "PM501"]) == 1
    out = capsys.readouterr().out
    # grouped by file, offending line, caret under the value, incident and fix
    assert "deploy.yaml\n  11:18  HIGH  PM501 mutable-image-tag  Deployment/production/api" in out
    assert "      11 |           image: registry.example.com/api:latest\n" in out
    assert "\n" + " " * 28 + "^\n" in out  # gutter (11) + column 18 - 1
    assert "incident: 5.1, R1" in out and "fix: Pin the image" in out


def test_fail_on_threshold(tmp_path):
    assert main(["scan", str(repo(tmp_path)), "--fail-on", "critical", "-f", "json"]) == 0
    assert main(["scan", str(repo(tmp_path)), "--fail-on", "never", "-f", "json"]) == 0


def test_exit_0_when_clean(tmp_path):
    assert main(["scan", str(repo(tmp_path, DEPLOY.replace("latest", "1.2.3"))), "-f", "json"]) == 0


def test_exit_2_beats_1(tmp_path, capsys):
    repo(tmp_path)
    (tmp_path / "broken.yaml").write_text("a: [\n")
    assert main(["scan", str(tmp_path), "-f", "json", "--select", "PM501"]) == 2
    data = json.loads(capsys.readouterr().out)
    # an unclosed flow list: reported on the file's last line, not one past it
    assert data["errors"][0]["file"] == "broken.yaml" and data["errors"][0]["line"] == 1
    assert data["errors"][0]["message"].endswith("(at end of file)")
    assert data["findings"][0]["rule_id"] == "PM501"


def test_json_contract(tmp_path, capsys):
    main(["scan", str(repo(tmp_path)), "-f", "json", "--select", "PM501"])
    data = json.loads(capsys.readouterr().out)
    assert data["tool"] == {"name": "premortem", "version": "0.1.0"}
    assert data["scanned"] == {"files": 1, "resources": 1}
    f = data["findings"][0]
    assert {k: f[k] for k in ("rule_id", "rule", "severity", "incidents", "file", "line", "column", "resource")} == {
        "rule_id": "PM501", "rule": "mutable-image-tag", "severity": "high", "incidents": ["5.1", "R1"],
        "file": "deploy.yaml", "line": 11, "column": 18, "resource": "Deployment/production/api"}
    assert f["title"] and f["message"] and f["fix"] and len(f["fingerprint"]) == 32


def test_bad_calls_exit_2(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "nope")]) == 2
    assert main(["scan", str(repo(tmp_path)), "--select", "PM999"]) == 2
    assert "unknown rule ID 'PM999'" in capsys.readouterr().err
    (tmp_path / ".premortem.yaml").write_text("colour: red\n")
    assert main(["scan", str(tmp_path)]) == 2
    assert "unknown key 'colour'" in capsys.readouterr().err
    assert main(["scan", "--format", "xml", str(tmp_path)]) == 2


def test_output_file_and_write_baseline(tmp_path):
    repo(tmp_path)
    out = tmp_path.parent / (tmp_path.name + "-out.json")
    base = tmp_path.parent / (tmp_path.name + "-base.json")
    assert main(["scan", str(tmp_path), "-f", "json", "-o", str(out), "--write-baseline", str(base)]) == 1
    assert json.loads(out.read_text())["findings"]
    assert main(["scan", str(tmp_path), "-f", "json", "--baseline", str(base)]) == 0


def test_rules_and_explain(capsys):
    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    ids = [r["id"] for r in rules]
    assert "PM501" in ids and ids == sorted(ids)
    assert main(["explain", "PM501"]) == 0
    doc = capsys.readouterr().out
    for section in ("## What it checks", "## Why it breaks production", "## Bad", "## Good", "## Fix"):
        assert section in doc
    assert "5.1 (DevOps Failures" in doc
    assert main(["explain", "mutable-image-tag"]) == 0
    capsys.readouterr()
    assert main(["explain", "PM999"]) == 2


def test_no_traceback_on_bad_input_subprocess(tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"\x00\x01\x02binary")
    p = subprocess.run([sys.executable, "-m", "premortem", "scan", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 2
    assert "Traceback" not in p.stdout + p.stderr
    assert "bin.yaml: binary file" in p.stdout


def test_color_only_when_asked_or_tty(tmp_path, capsys):
    main(["scan", str(repo(tmp_path))])
    assert "\033[" not in capsys.readouterr().out
    main(["scan", str(repo(tmp_path)), "--color", "always"])
    assert "\033[1;31mHIGH" in capsys.readouterr().out
