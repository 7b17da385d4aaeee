"""GitOps and repository-governance rules (PM310–PM332): CODEOWNERS semantics, production evidence
of delivery targets, sync-window gates, and the repository-wide findings with their positions."""
import textwrap

import pytest

from premortem.config import Config
from premortem.engine import Context
from premortem.model import Severity
from premortem.parse.kubernetes import parse_manifest
from premortem.project import Project
from premortem.rules.gitops._gitops import codeowners_regex, ownership, production_of
from premortem.rules.gitops.pm313_flux_helmrelease_floating_chart import floating
from premortem.rules.registry import get_rule

from .conftest import FIXTURES, run_scan


def _write(root, files: dict):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


def _findings(path, rule_id, config=None):
    result = run_scan(path, select=[rule_id], config=config)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule_id]


def _judge(text, rule_id, facts=None, config=None):
    """Judge the first object of `text` directly, with index facts patched in by (kind, name): what the
    project index keeps for AppProjects (syncWindows) and Flux sources (ref)."""
    resources, errors = parse_manifest(textwrap.dedent(text), "apps.yaml")
    assert not errors
    project = Project()
    for r in resources:
        project.add(r)
    for (kind, name), f in (facts or {}).items():
        project.named(kind, name).facts.update(f)
    rule = get_rule(rule_id)
    ctx = Context(project, config or Config(), dict(rule.options), "")
    target = resources[0]
    # the engine appends the evidence a rule found to the message, as here
    return [(target.locate(h.path, key=h.key).line, h.severity,
             h.message + (f" [production: {h.production}]" if h.production else "")) for h in rule.check(target, ctx)]


# ---- CODEOWNERS semantics (GitHub's documented examples) ---------------------------------------------
@pytest.mark.parametrize("pattern,path,expected", [
    ("*", "k8s/prod/deploy.yaml", True),
    ("*.js", "src/app/main.js", True),
    ("*.js", "src/app/main.jsx", False),
    ("/build/logs/", "build/logs/2024/app.log", True),
    ("/build/logs/", "src/build/logs/app.log", False),
    ("docs/*", "docs/getting-started.md", True),
    ("docs/*", "docs/build-app/troubleshooting.md", False),  # direct children only
    ("apps/", "apps/web/deploy.yaml", True),
    ("apps/", "services/apps/web/deploy.yaml", True),  # no leading slash: any depth
    ("apps/", "apps", False),
    ("/docs/", "docs/a/b.md", True),
    ("/docs/", "x/docs/b.md", False),
    ("**/logs", "deploy/logs/app.log", True),
    ("**/logs", "logs", True),
    ("k8s/prod", "k8s/prod/deploy.yaml", True),  # a middle slash anchors at the root...
    ("k8s/prod", "infra/k8s/prod/deploy.yaml", False),
    ("prod", "infra/k8s/prod/deploy.yaml", True),  # ...a bare name matches at any depth
    ("/k8s/prod", "k8s/production/deploy.yaml", False),
    ("foo/**/bar", "foo/a/b/bar/x.yaml", True),
    ("foo/**/bar", "foo/bar", True),
    ("/*", "README.md", True),
    ("/*", "k8s/deploy.yaml", False),
    ("f\\*o", "f*o", True),
    ("f\\*o", "foo", False),
    ("/", "anything", False),
])
def test_codeowners_pattern_semantics(pattern, path, expected):
    assert bool(codeowners_regex(pattern).match(path)) is expected


def _entries(*rows):
    return [{"pattern": p, "owners": o, "line": n, "section": s, "optional": opt}
            for n, (p, o, s, opt) in enumerate(rows, start=1)]


def test_ownership_last_match_wins_and_no_owners_unowns():
    rules = _entries(("/k8s/", ["@org/platform"], "", False), ("/k8s/prod/legacy/", [], "", False),
                     ("/k8s/prod/legacy/keep.yaml", ["@org/sre"], "", False))
    assert ownership(rules, "k8s/prod/deploy.yaml") == (True, "owned by @org/platform (line 1)")
    assert ownership(rules, "k8s/prod/legacy/job.yaml") == (
        False, "the last matching pattern '/k8s/prod/legacy/' (line 2) lists no owners, which un-owns it")
    assert ownership(rules, "k8s/prod/legacy/keep.yaml")[0] is True
    assert ownership(rules, "apps/deploy.yaml") == (False, "no pattern matches it")


def test_ownership_gitlab_sections_and_optional_sections():
    rules = _entries(("/k8s/", [], "Platform", False), ("/k8s/", ["@org/docs"], "Docs", True))
    owned, why = ownership(rules, "k8s/prod/a.yaml")
    assert not owned and "lists no owners" in why
    only_optional = _entries(("/k8s/", ["@org/docs"], "Docs", True))
    assert ownership(only_optional, "k8s/a.yaml") == (
        False, "only the optional section 'Docs' matches it (line 1), which requires no approval")
    two_required = _entries(("/k8s/", [], "Platform", False), ("/k8s/", ["@org/sre"], "SRE", False))
    assert ownership(two_required, "k8s/a.yaml")[0] is True


def test_ownership_skips_lines_the_forge_rejects():
    rules = _entries(("/k8s/", ["@org/platform"], "", False), ("!/k8s/prod/", [], "", False))
    rules[1]["invalid"] = "negation (!) is not supported in CODEOWNERS"
    assert ownership(rules, "k8s/prod/a.yaml")[0] is True


# ---- production evidence of a delivery target -------------------------------------------------------------
def test_production_of_names_the_field_that_decided():
    ctx = Context(Project(), Config(), {}, "")
    assert production_of(ctx, "prod", [("source path", "k8s/prod")]) == "destination namespace 'prod'"
    assert production_of(ctx, "payments", [("source path", "envs/production/payments")]) == (
        "source path 'envs/production/payments' with path segment 'production'")
    assert production_of(ctx, "", [("destination cluster", "prod-eu")]) == "destination cluster 'prod-eu'"
    assert production_of(ctx, "payments", [("source path", "envs/staging/payments")]) == ""
    cfg = Config(prod_paths=["clusters/eu1/*"], nonprod_namespaces=["prod-sandbox"])
    ctx = Context(Project(), cfg, {}, "")
    assert production_of(ctx, "web", [("path", "clusters/eu1/apps")]) == (
        "path 'clusters/eu1/apps' matches production.paths 'clusters/eu1/*'")
    assert production_of(ctx, "prod-sandbox", [("path", "apps/prod")]) == ""  # non-production wins


# ---- PM310: Argo CD Application --------------------------------------------------------------------------
APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: payment-app, namespace: argocd}
spec:
  project: payments
  source: {repoURL: "https://github.com/org/repo", path: k8s/payment, targetRevision: HEAD}
  destination: {server: "https://kubernetes.default.svc", namespace: prod}
  syncPolicy:
    automated:
      prune: true
      selfHeal: {SELFHEAL}
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: payments, namespace: argocd}
spec: {sourceRepos: ["*"]}
"""


def test_pm310_message_position_and_severity():
    got = _judge(APP.replace("{SELFHEAL}", "true"), "PM310")
    assert got == [(10, None, (
        "Application 'payment-app' auto-syncs with prune and selfHeal into production: a bad commit "
        "(replicas 3→0, limits removed) reaches production within minutes, objects deleted or moved in "
        "Git are deleted live, and selfHeal reverts the on-call's manual fix; no sync window of project "
        "'payments' covers it [production: destination namespace 'prod']"))]
    (_, severity, message), = _judge(APP.replace("{SELFHEAL}", "false"), "PM310")
    assert severity == Severity.MEDIUM and "with prune into production" in message


@pytest.mark.parametrize("window,gated", [
    ({"kind": "deny", "schedule": "* * * * *", "duration": "24h", "namespaces": ["prod"]}, True),
    ({"kind": "allow", "schedule": "0 10 * * 1-4", "duration": "2h", "applications": ["payment-*"]}, True),
    ({"kind": "deny", "schedule": "* * * * *", "duration": "1h", "clusters": ["https://kubernetes.default.svc"]}, True),
    ({"kind": "deny", "schedule": "* * * * *", "duration": "1h", "applications": ["*-staging"]}, False),
    ({"kind": "maintenance", "applications": ["*"]}, False),  # not a window kind Argo CD knows
])
def test_pm310_sync_windows_gate_the_app(window, gated):
    got = _judge(APP.replace("{SELFHEAL}", "true"), "PM310", facts={("AppProject", "payments"): {"syncWindows": [window]}})
    assert (got == []) is gated


def test_pm310_production_from_the_destination_not_from_the_argocd_namespace():
    dev = APP.replace("{SELFHEAL}", "true").replace("namespace: prod}", "namespace: payment-dev}")
    assert _judge(dev, "PM310") == []
    by_values = dev.replace("path: k8s/payment,", "path: k8s/payment, helm: {valueFiles: [values-production.yaml]},")
    (_, _, message), = _judge(by_values, "PM310")
    assert message.endswith("[production: Helm values file 'values-production.yaml']")


# ---- PM311 / PM312 / PM313 -------------------------------------------------------------------------------
FLUX = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: payments, namespace: flux-system}
spec:
  interval: 5m
  path: ./deploy
  targetNamespace: prod
  prune: true
  sourceRef: {kind: GitRepository, name: payments}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: payments, namespace: flux-system}
spec: {url: "https://github.com/org/payments", interval: 1m}
"""


@pytest.mark.parametrize("ref,fires", [({"branch": "main"}, True), ({"tag": "v1.4.0"}, False),
                                       ({"semver": ">=1.0.0"}, False), ({"commit": "3f9c2e1"}, False)])
def test_pm311_a_source_pinned_to_a_release_is_a_gate(ref, fires):
    got = _judge(FLUX, "PM311", facts={("GitRepository", "payments"): {"ref": ref}})
    assert bool(got) is fires
    if fires:
        assert got[0][0] == 8 and "every 5m with prune" in got[0][2] and got[0][2].endswith(
            "[production: targetNamespace 'prod']")


def test_pm312_template_alone_in_production_is_reported_once(tmp_path):
    _write(tmp_path, {"appset.yaml": """\
        apiVersion: argoproj.io/v1alpha1
        kind: ApplicationSet
        metadata: {name: regions, namespace: argocd}
        spec:
          generators:
            - list:
                elements: [{region: eu}, {region: us}]
          template:
            metadata: {name: "web-{{region}}"}
            spec:
              project: default
              source: {repoURL: "https://github.com/org/web", path: "deploy/{{region}}", targetRevision: HEAD}
              destination: {name: "{{region}}", namespace: web-prod}
              syncPolicy:
                automated: {prune: true, selfHeal: true}
        """})
    f, = _findings(tmp_path, "PM312")
    assert (f.line, f.column, f.severity) == (15, 28, Severity.HIGH)
    assert "'web-{{region}}' (destination namespace 'web-prod')" in f.message and f.related == []


def test_pm312_related_locations_point_at_the_production_elements():
    payment, platform = _findings(FIXTURES / "PM312" / "bad", "PM312")
    assert [(r.line, r.message) for r in payment.related] == [
        (14, "generates production Application 'payment-prod' (destination namespace 'payment-prod')")]
    assert platform.severity == Severity.MEDIUM and [r.line for r in platform.related] == [48]


@pytest.mark.parametrize("version,how", [
    ("1.4.2", ""), ("v1.4.2", ""), ("=1.4.2", ""), ("1.4.2-rc.1", ""),
    (None, "unbounded"), ("*", "unbounded"), (">=18.0.0", "unbounded"), ("", "unbounded"),
    ("~1.4.0", "bounded"), ("^1.4", "bounded"), ("1.4.x", "bounded"), ("18.*", "bounded"),
    (">=1.0.0 <2.0.0", "bounded"), ("1.0.0 - 1.9.9", "bounded"),
])
def test_pm313_floating_versions(version, how):
    assert floating(version) == how


# ---- repository-wide: PM331 without any CODEOWNERS, PM332 on the repository -------------------------------
PROD_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: production}\ndata: {A: b}\n"


def test_pm331_without_codeowners_is_one_finding_on_the_repository(tmp_path):
    _write(tmp_path, {"README.md": "# payments\n", "k8s/prod/web.yaml": PROD_CM, "k8s/prod/db.yaml": PROD_CM,
                      "deploy/production/api.yaml": PROD_CM.replace("production}", "api}"),
                      "k8s/dev/web.yaml": PROD_CM.replace("production}", "dev}")})
    f, = _findings(tmp_path, "PM331")
    assert (f.file, f.line, f.resource) == ("README.md", 1, f"Repository/{tmp_path.name}")
    assert f.message.startswith("no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS) in the scan: "
                                "production manifests in 'deploy/production/', 'k8s/prod/' have no owner")
    assert [(r.file, r.line) for r in f.related] == [("deploy/production/api.yaml", 1), ("k8s/prod/db.yaml", 1)]
    assert "[production: path segment 'production' in 'deploy/production/api.yaml']" in f.related[0].message


def test_pm331_is_quiet_without_production_manifests_and_names_optional_sections(tmp_path):
    _write(tmp_path, {"k8s/dev/web.yaml": PROD_CM.replace("production}", "dev}")})
    assert _findings(tmp_path, "PM331") == []
    _write(tmp_path, {".gitlab/CODEOWNERS": "^[Platform] @org/platform\n/k8s/\n", "k8s/prod/web.yaml": PROD_CM})
    f, = _findings(tmp_path, "PM331")
    assert (f.file, f.line) == ("k8s/prod/web.yaml", 1)
    assert f.message == ("production manifest 'k8s/prod/web.yaml' has no code owner in .gitlab/CODEOWNERS: only the "
                         "optional section 'Platform' matches it (line 2), which requires no approval; anyone with "
                         "write access can merge a production change without the owning team's review "
                         "[production: namespace 'production']")


def test_pm332_on_the_repository_anchor_when_there_is_no_pre_commit(tmp_path):
    _write(tmp_path, {"CODEOWNERS": "* @org/devs\n", "deploy.yaml": PROD_CM})
    f, = _findings(tmp_path, "PM332")
    assert (f.file, f.line, f.column, f.severity) == ("CODEOWNERS", 1, 1, Severity.MEDIUM)
    assert f.message.startswith("no secret scanning anywhere in the repository: no .gitleaks.toml")


@pytest.mark.parametrize("files", [
    {".gitleaks.toml": "[extend]\nuseDefault = true\n"},
    {".secrets.baseline": '{"version": "1.5.0", "plugins_used": [], "results": {}}'},
    {".trufflehog.yml": "detectors: []\n"},
    {".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: scan\n        name: scan\n"
                                "        entry: gitleaks protect --staged\n        language: system\n"},
    {".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/Yelp/detect-secrets\n    rev: v1.5.0\n"
                                "    hooks: [{id: detect-secrets, args: [--baseline, .secrets.baseline]}]\n"},
])
def test_pm332_evidence_of_secret_scanning_silences_it(tmp_path, files):
    _write(tmp_path, {"README.md": "# payments\n", "deploy.yaml": PROD_CM})
    assert [f.file for f in _findings(tmp_path, "PM332")] == ["README.md"]
    _write(tmp_path, files)
    assert _findings(tmp_path, "PM332") == []


def test_repository_rules_need_a_repository_root(tmp_path):
    # no README or CODEOWNERS at the root: a sub-directory or loose files, whose repository is not seen
    _write(tmp_path, {"k8s/prod/web.yaml": PROD_CM, ".premortem.yaml": "fail_on: high\n"})
    assert _findings(tmp_path, "PM331") == [] and _findings(tmp_path, "PM332") == []
    _write(tmp_path, {"README": "payments\n"})
    assert [(f.rule_id, f.file, f.line) for f in _findings(tmp_path, "PM331") + _findings(tmp_path, "PM332")] == [
        ("PM331", "README", 1), ("PM332", "README", 1)]


def test_pm332_tools_option_adds_a_scanner(tmp_path):
    from premortem.config import RuleConfig

    _write(tmp_path, {".pre-commit-config.yaml": "repos:\n  - repo: https://example.com/acme/keyhound\n"
                                                 "    rev: v1\n    hooks: [{id: keyhound}]\n"})
    f, = _findings(tmp_path, "PM332")
    assert (f.file, f.line) == (".pre-commit-config.yaml", 1)
    assert "pre-commit runs 1 hook (keyhound) but none scans for secrets" in f.message
    cfg = Config(rules={"PM332": RuleConfig(options={"tools": ["keyhound"]})})
    assert _findings(tmp_path, "PM332", config=cfg) == []


def test_rule_found_evidence_fills_the_production_field(tmp_path):
    # The Application lives in namespace argocd; production is its destination, which the rule found.
    (tmp_path / "app.yaml").write_text(textwrap.dedent(APP.replace("{SELFHEAL}", "true")))
    from .conftest import run_scan

    f, = [f for f in run_scan(tmp_path, select=["PM310"]).findings]
    assert f.production == "destination namespace 'prod'"
    assert f.message.endswith("[production: destination namespace 'prod']")
    assert f.to_dict()["production"] == "destination namespace 'prod'"


GHA_DEPLOY = "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make deploy\n"


@pytest.mark.parametrize("files", [
    {".github/workflows/secrets.yml": "on: pull_request\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n"
                                      "      - uses: actions/checkout@v4\n      - uses: gitleaks/gitleaks-action@v2\n"},
    {".github/workflows/secrets.yml": "on: push\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n"
                                      "      - run: docker run -v $PWD:/src zricethezav/gitleaks:v8.18.4 detect -s /src\n"},
    {".gitlab-ci.yml": "include:\n  - template: Jobs/Secret-Detection.gitlab-ci.yml\nbuild:\n  script: [make]\n"},
    {"Jenkinsfile": "pipeline { agent any\n stages { stage('scan') { steps { sh 'trufflehog git file://. --fail' } } } }\n"},
    {".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/gitleaks/gitleaks\n    rev: v8.18.4\n"
                                "    hooks: [{id: gitleaks}]\n",
     ".github/workflows/lint.yml": "on: pull_request\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
                                   "      - uses: pre-commit/action@v3.0.1\n"},
])
def test_pm332_a_ci_scanner_silences_it(tmp_path, files):
    _write(tmp_path, {"README.md": "# payments\n", ".github/workflows/deploy.yml": GHA_DEPLOY})
    f, = _findings(tmp_path, "PM332")
    assert f.file == "README.md" and "no pre-commit config and no CI job runs a scanner" in f.message
    _write(tmp_path, files)
    assert _findings(tmp_path, "PM332") == []


def test_pm332_scanner_only_in_pre_commit_while_ci_exists(tmp_path):
    _write(tmp_path, {"README.md": "# payments\n", ".github/workflows/deploy.yml": GHA_DEPLOY,
                      ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n"
                                                 "    rev: v4.6.0\n    hooks:\n      - id: trailing-whitespace\n"
                                                 "  - repo: https://github.com/gitleaks/gitleaks\n    rev: v8.18.4\n"
                                                 "    hooks:\n      - id: gitleaks\n"})
    f, = _findings(tmp_path, "PM332")
    assert (f.file, f.line) == (".pre-commit-config.yaml", 9)  # the gitleaks hook
    assert f.message.startswith("secret scanning runs only outside CI (gitleaks pre-commit hook in "
                                ".pre-commit-config.yaml): no CI job runs a scanner")
    # a pre-commit `run` step in CI now runs that hook on every push
    _write(tmp_path, {".github/workflows/lint.yml": "on: push\njobs:\n  l:\n    runs-on: ubuntu-latest\n    steps:\n"
                                                    "      - run: pip install pre-commit==3.8.0 && pre-commit run --all-files\n"})
    assert _findings(tmp_path, "PM332") == []


def test_pm332_scanner_config_without_ci_runner_is_reported_on_the_repository(tmp_path):
    _write(tmp_path, {"README.md": "# payments\n", ".gitleaks.toml": "[extend]\nuseDefault = true\n"})
    assert _findings(tmp_path, "PM332") == []  # no CI in the scan: the config is the evidence we can see
    _write(tmp_path, {".gitlab-ci.yml": "build:\n  script: [make]\n"})
    f, = _findings(tmp_path, "PM332")
    assert (f.file, f.line) == ("README.md", 1) and "(gitleaks config .gitleaks.toml)" in f.message
