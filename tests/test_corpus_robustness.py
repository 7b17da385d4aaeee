"""The real-world corpus (../shared/corpus: kube-prometheus, microservices-demo, argocd-example-apps)
goes through a scan with every rule: no internal error, no hang, valid JSON, positions inside the
files. Errors are allowed only for the documented reasons in ALLOWED; all others fail the test and
are printed.

Directories holding Helm charts or Kustomize directories need src/premortem/parse/{helm,kustomize}.py;
on a checkout without them such directories are skipped (the reason says which module is missing).
"""
import importlib.util
import json
import re
import threading

import pytest

from premortem.report import render

from .conftest import ROOT, SHARED, run_scan

CORPUS = SHARED / "corpus"
TOP_DIRS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
TIMEOUT_S = 120  # a hang guard, not a speed target (bench/ measures speed)

# (file regex, message regex, why this error is legitimate)
ALLOWED = [
    (r"^argocd-example-apps/(helm-dependency|plugins/kustomized-helm)(/|$)", r"(?i)dependenc|charts/|not vendored",
     "Chart.yaml lists dependencies and charts/ is not vendored: rendering needs `helm dependency build` "
     "(which fetches from the repository, or packages the file:// chart) first"),
    (r".", r"(?i)\bremote\b|git@|\?ref=",
     "remote Kustomize bases are not fetched (no network during a scan)"),
]


def _needs(directory):
    needs = []
    if any(directory.rglob("Chart.yaml")):
        needs.append("helm")
    if any(p.name in ("kustomization.yaml", "kustomization.yml", "Kustomization") for p in directory.rglob("*")):
        needs.append("kustomize")
    return [n for n in needs if importlib.util.find_spec(f"premortem.parse.{n}") is None]


def _allowed(top, err):
    where = f"{top}/{err.file}"
    return next((why for f, m, why in ALLOWED if re.search(f, where) and re.search(m, err.message)), None)


def _scan_with_timeout(path, **kw):
    box = {}
    t = threading.Thread(target=lambda: box.update(result=run_scan(path, **kw)), daemon=True)
    t.start()
    t.join(TIMEOUT_S)
    if t.is_alive():
        pytest.fail(f"scan of {path} did not finish in {TIMEOUT_S}s")
    if "result" not in box:
        pytest.fail(f"scan of {path} raised (see the thread's traceback above)")
    return box["result"]


@pytest.fixture(scope="module", params=TOP_DIRS or [None])
def corpus_scan(request):
    if request.param is None:
        pytest.skip(f"{CORPUS} not present (../shared is only in CI and developer checkouts)")
    directory = CORPUS / request.param
    missing = _needs(directory)
    if missing:
        pytest.skip(f"{request.param} needs premortem.parse.{', premortem.parse.'.join(missing)} (not merged yet)")
    return directory, _scan_with_timeout(directory)


def test_no_internal_error_and_only_documented_errors(corpus_scan):
    directory, result = corpus_scan
    lines = []
    for e in result.errors:
        why = _allowed(directory.name, e)
        lines.append(f"  {'ok  ' if why else 'BAD '} {e.file}:{e.line}: {e.message}" + (f"\n        ({why})" if why else ""))
    print(f"\n{directory.name}: {result.files} files, {result.resources} resources, "
          f"{len(result.findings)} findings, {len(result.errors)} errors")
    print("\n".join(lines))
    internal = [e for e in result.errors if "internal error" in e.message]
    assert not internal, "\n".join(f"{e.file}:{e.line}: {e.message}" for e in internal)
    unexpected = [e for e in result.errors if _allowed(directory.name, e) is None]
    assert not unexpected, "errors without a documented reason:\n" + "\n".join(
        f"{e.file}:{e.line}: {e.message}" for e in unexpected)
    assert result.resources > 0


def test_json_output_is_valid_and_complete(corpus_scan):
    directory, result = corpus_scan
    report = json.loads(render(result, "json"))
    assert report["tool"]["name"] == "premortem"
    assert report["scanned"] == {"files": result.files, "resources": result.resources}
    assert len(report["findings"]) == len(result.findings) and len(report["errors"]) == len(result.errors)
    for e in report["errors"]:
        assert isinstance(e["file"], str) and isinstance(e["line"], int) and e["message"], e
    fields = {"rule_id", "rule", "severity", "title", "message", "incidents", "file", "line", "column",
              "resource", "fix", "fingerprint"}
    for f in report["findings"]:
        assert fields <= set(f), sorted(fields - set(f))
        assert re.fullmatch(r"PM\d{3}", f["rule_id"]) and f["severity"] in ("critical", "high", "medium", "low", "info")
        assert not f["file"].startswith("/") and ".." not in f["file"].split("/"), f["file"]


def test_finding_positions_are_inside_the_files(corpus_scan):
    directory, result = corpus_scan
    line_counts = {}
    bad = []
    for f in result.findings:
        path = directory / f.file
        if f.file not in line_counts:
            line_counts[f.file] = len(path.read_text(errors="replace").splitlines()) if path.is_file() else -1
        n = line_counts[f.file]
        if n < 0 or not (1 <= f.line <= max(n, 1)) or f.column < 1:
            bad.append(f"{f.rule_id} {f.file}:{f.line}:{f.column} (file has {n} lines)")
    assert not bad, "\n".join(bad[:30])


def test_fingerprints_are_unique_and_stable(corpus_scan):
    directory, result = corpus_scan
    prints = [f.fingerprint for f in result.findings]
    dupes = {p for p in prints if prints.count(p) > 1}
    assert not dupes, [f"{f.rule_id} {f.file}:{f.line}" for f in result.findings if f.fingerprint in dupes][:20]
    again = run_scan(directory)
    assert sorted(prints) == sorted(f.fingerprint for f in again.findings)


def test_parallel_scan_gives_the_same_result(corpus_scan):
    directory, serial = corpus_scan
    parallel = _scan_with_timeout(directory, jobs=2)
    key = lambda f: (f.rule_id, f.file, f.line, f.column, f.message)  # noqa: E731
    assert sorted(map(key, parallel.findings)) == sorted(map(key, serial.findings))
    assert [(e.file, e.line, e.message) for e in parallel.errors] == [(e.file, e.line, e.message) for e in serial.errors]
    assert (parallel.files, parallel.resources) == (serial.files, serial.resources)


def test_sarif_output_validates_against_the_schema(corpus_scan):
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip("no SARIF schema in ../shared/schemas")
    directory, result = corpus_scan
    try:
        text = render(result, "sarif")
    except ModuleNotFoundError:
        pytest.skip("SARIF reporter not merged yet")
    jsonschema.validate(json.loads(text), json.loads(schema_path.read_text()))


def test_generated_benchmark_repository_scans_cleanly(tmp_path):
    """bench/generate.py writes what it says (objects counted by the scanner too), and all of it parses."""
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    meta = generate.generate(0.4, str(tmp_path / "repo"))
    assert (meta["namespaces"], meta["files"], meta["objects"]) == (2, 100, 400)
    result = _scan_with_timeout(tmp_path / "repo")
    assert result.errors == []
    # files read: the manifests plus README.md and GENERATED.txt (read for secrets only)
    assert (result.files, result.resources) == (meta["files"] + 2, meta["objects"])
    prod = [f for f in result.findings if f.production]
    assert prod and all(f.resource.split("/")[1].endswith(("-prod", "-production")) for f in prod)
