"""RBAC and service-account rules (PM901–PM911, catalog 9.1 and R11): positions, messages, severities,
related locations through the project index, and the evidence each rule weighs."""
import json
import textwrap

import pytest

from premortem.config import Config, RuleConfig
from premortem.k8s import awsauth
from premortem.model import Severity
from premortem.parse.kubernetes import parse_manifest
from premortem.project import facts_of
from premortem.rules.access import _rbac

from .conftest import FIXTURES, run_scan


def _scan(path, rule_id, config=None):
    result = run_scan(path, select=[rule_id], config=config)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule_id]


def _write(tmp_path, text, name="all.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def _rel(f):
    return [(r.file, r.line, r.message) for r in f.related]


CRB = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {name}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{subjects}]
---
"""
RB = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {name}, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {kind}, name: {role}}}
subjects: [{subjects}]
---
"""


def _crb(name, role, subjects):
    return CRB.format(name=name, role=role, subjects=subjects)


def _rb(name, ns, role, subjects, kind="ClusterRole"):
    return RB.format(name=name, ns=ns, role=role, subjects=subjects, kind=kind)


# ---- PM901 ---------------------------------------------------------------------------------------
def test_pm901_names_identity_role_and_the_workloads_running_as_it():
    got = _scan(FIXTURES / "PM901" / "bad", "PM901")
    assert [(f.line, f.column, f.severity) for f in got] == [
        (13, 11, Severity.CRITICAL), (28, 11, Severity.HIGH), (40, 25, Severity.CRITICAL),
        (42, 25, Severity.CRITICAL), (53, 11, Severity.HIGH)]
    first = got[0]
    assert first.message == (
        "ClusterRoleBinding 'payment-api-admin' grants ServiceAccount production/payment-api (Deployment "
        "payment-api runs as it) the built-in 'cluster-admin' ClusterRole (every verb on every resource in every "
        "namespace): one compromised pod holding its token can list all Secrets and deploy crypto-miners "
        "cluster-wide, as in the 9.1 incident")
    assert _rel(first) == [("payment-api.yaml", 1, ("Deployment production/payment-api runs as ServiceAccount "
                                                   "production/payment-api"))]
    assert "User alice@example.com the built-in 'admin'" in got[1].message
    assert "one leaked or phished credential" in got[1].message
    assert "Group system:authenticated (every authenticated user and service account)" in got[2].message
    assert "(every service account in namespace staging)" in got[3].message
    assert "ServiceAccount reports/exporter the built-in 'edit'" in got[4].message


def test_pm901_leaves_ci_deployers_with_cluster_admin_to_pm910():
    result = run_scan(FIXTURES / "PM901" / "good", select=["PM901", "PM910"])
    assert [(f.rule_id, f.line, f.severity) for f in result.findings] == [("PM910", 78, Severity.CRITICAL)]


def test_pm901_deployer_with_edit_is_still_reported(tmp_path):
    _write(tmp_path, _crb("jenkins-edit", "edit", "{kind: ServiceAccount, name: jenkins, namespace: jenkins}"))
    got = _scan(tmp_path, "PM901")
    assert len(got) == 1 and got[0].severity == Severity.HIGH and "ServiceAccount jenkins/jenkins" in got[0].message
    assert _scan(tmp_path, "PM910") == []


# ---- PM902 ---------------------------------------------------------------------------------------
def test_pm902_grades_wildcards_and_names_who_is_bound():
    got = _scan(FIXTURES / "PM902" / "bad", "PM902")
    assert [(f.line, f.column, f.severity) for f in got] == [
        (9, 17, Severity.CRITICAL), (30, 9, Severity.HIGH), (42, 13, Severity.MEDIUM), (55, 17, Severity.HIGH),
        (69, 13, Severity.HIGH)]
    assert "cluster-admin under another name; bound to ServiceAccount production/payment-api by " \
           "ClusterRoleBinding 'payment-api' (cluster-wide)" in got[0].message
    assert "every resource of API group(s) '', Secrets included; bound by no RoleBinding" in got[1].message
    assert got[2].message.endswith("can also delete or rewrite every one of its configmaps")
    aggregated = got[4]
    assert "bound to Group developers by RoleBinding staging/devs-edit (namespace staging only) through the " \
           "aggregated ClusterRole 'edit'" in aggregated.message
    assert _rel(aggregated) == [("roles.yaml", 76, ("RoleBinding staging/devs-edit (namespace staging only) binds "
                                                   "'edit' (which aggregates 'extra-edit') to Group developers"))]


def test_pm902_full_wildcard_bound_only_in_a_namespace_is_not_critical(tmp_path):
    _write(tmp_path, _rb("ns-admin", "team-a", "everything", "{kind: Group, name: team-a}") + """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: everything}
        rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
        """)
    (f,) = _scan(tmp_path, "PM902")
    assert f.severity == Severity.HIGH and "of the namespaces it is bound in" in f.message


# ---- PM903 ---------------------------------------------------------------------------------------
def test_pm903_follows_aggregation_to_the_binding():
    got = _scan(FIXTURES / "PM903" / "bad", "PM903")
    assert [(f.line, f.column) for f in got] == [(10, 9), (31, 17), (62, 17)]
    assert got[0].message.startswith("ClusterRole 'config-reader' grants get, list, watch on Secrets in every "
                                     "namespace, bound to ServiceAccount production/payment-api by "
                                     "ClusterRoleBinding 'config-reader' (cluster-wide)")
    assert "through the aggregated ClusterRole 'monitoring'" in got[1].message
    assert _rel(got[1]) == [("secret-readers.yaml", 48, ("ClusterRoleBinding 'monitoring' (cluster-wide) binds "
                                                        "'monitoring' (which aggregates 'monitoring-secrets') to "
                                                        "ServiceAccount monitoring/prometheus"))]
    assert "aggregated into the built-in 'view' ClusterRole" in got[2].message


SECRET_READER = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["list"]}]
---
"""


@pytest.mark.parametrize("binding,fires", [
    ("", False),
    (_rb("r", "payments", "secret-reader", "{kind: ServiceAccount, name: api, namespace: payments}"), False),
    (_crb("c", "secret-reader", "{kind: ServiceAccount, name: api, namespace: payments}"), True)])
def test_pm903_only_cluster_wide_grants(tmp_path, binding, fires):
    _write(tmp_path, SECRET_READER + binding)
    assert bool(_scan(tmp_path, "PM903")) is fires


# ---- PM904 ---------------------------------------------------------------------------------------
CREATE_PODS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: runner}
rules:
  - apiGroups: [""]
    resources: ["pods", "pods/exec"]
    verbs: ["create"]
---
"""


@pytest.mark.parametrize("binding,fires", [
    ("", False),
    (_rb("r", "ci", "runner", "{kind: ServiceAccount, name: agent, namespace: ci}"), False),
    (_crb("c", "runner", "{kind: ServiceAccount, name: agent, namespace: ci}"), True)])
def test_pm904_exec_and_pod_creation_only_when_cluster_wide(tmp_path, binding, fires):
    _write(tmp_path, CREATE_PODS + binding)
    got = _scan(tmp_path, "PM904")
    assert bool(got) is fires
    if fires:
        assert (got[0].line, got[0].column) == (6, 17)
        assert "exec into every pod and read its mounted Secrets and tokens; start pods as any service account" \
               in got[0].message
        assert "bound to ServiceAccount ci/agent by ClusterRoleBinding 'c' (cluster-wide)" in got[0].message


def test_pm904_impersonation_at_any_scope_points_at_the_verb():
    got = _scan(FIXTURES / "PM904" / "bad", "PM904")
    assert [(f.line, f.column) for f in got] == [(11, 9), (26, 9), (38, 9), (44, 9)]
    assert "impersonate any user; impersonate any group, system:masters included" in got[0].message
    assert "escalate: write roles granting more than it holds; bind: bind any role" in got[1].message


# ---- PM905 / PM906 ---------------------------------------------------------------------------------
APP = """\
apiVersion: v1
kind: ServiceAccount
metadata: {{name: app, namespace: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: shop}}
spec:
  template:
    spec:
      serviceAccountName: app
      containers:
        - name: app
          image: {image}
          env: [{{name: {env}, value: "x"}}]
---
"""


@pytest.mark.parametrize("image,env,extra,fires", [
    ("registry.example.com/shop/app:1.0.0", "LOG_LEVEL", "", True),
    ("registry.example.com/shop/app:1.0.0", "KUBERNETES_SERVICE_HOST", "", False),
    ("quay.io/prometheus-operator/prometheus-operator:v0.75.0", "LOG_LEVEL", "", False),
    ("registry.example.com/hotel-booking:1.0.0", "LOG_LEVEL", "", True),  # 'otel' inside a word is no client
    ("registry.example.com/shop/app:1.0.0", "LOG_LEVEL",
     _crb("all-sa", "view", "{kind: Group, name: 'system:serviceaccounts:shop'}"), False),
])
def test_pm905_api_use_evidence(tmp_path, image, env, extra, fires):
    _write(tmp_path, APP.format(image=image, env=env) + extra)
    got = _scan(tmp_path, "PM905")
    assert bool(got) is fires
    if fires:
        assert (got[0].line, got[0].column) == (11, 27)
        assert _rel(got[0]) == [("all.yaml", 1, "ServiceAccount app: add automountServiceAccountToken: false")]


def test_pm905_api_client_images_option(tmp_path):
    _write(tmp_path, APP.format(image="registry.example.com/shop/app:1.0.0", env="LOG_LEVEL"))
    cfg = Config(rules={"PM905": RuleConfig(options={"api_client_images": ["shop/app"]})})
    assert _scan(tmp_path, "PM905", config=cfg) == []


def test_pm906_severity_follows_what_default_is_bound_to():
    got = _scan(FIXTURES / "PM906" / "bad", "PM906")
    assert [(f.line, f.column, f.severity, f.production) for f in got] == [
        (11, 5, Severity.MEDIUM, "namespace 'production'"), (28, 27, Severity.CRITICAL, "namespace 'payments-prod'")]
    assert got[0].message.endswith("Nothing in it calls the API: set automountServiceAccountToken: false. "
                                   "[production: namespace 'production']")
    assert "The scan already binds it: ClusterRoleBinding 'payments-prod-default-admin' (cluster-wide) → " \
           "ClusterRole cluster-admin" in got[1].message
    assert _rel(got[1]) == [("workloads.yaml", 38, ("ClusterRoleBinding 'payments-prod-default-admin' (cluster-wide) "
                                                   "grants ClusterRole cluster-admin to default"))]


def test_pm906_production_from_path_and_api_client_advice(tmp_path):
    d = tmp_path / "overlays" / "prod"
    d.mkdir(parents=True)
    _write(d, """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: sync}
        spec:
          template:
            spec:
              containers: [{name: sync, image: "bitnami/kubectl:1.30.2"}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: default-view}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
        subjects: [{kind: ServiceAccount, name: default}]
        """)
    (f,) = [f for f in run_scan(tmp_path, select=["PM906"]).findings]
    assert f.severity == Severity.HIGH
    assert "It looks like an API client (container 'sync' runs 'bitnami/kubectl:1.30.2'" in f.message
    assert f.message.endswith("[production: path segment 'prod' in 'overlays/prod/all.yaml']")


# ---- PM910 / PM911 ---------------------------------------------------------------------------------
def test_pm910_evidence_for_each_deployer():
    got = _scan(FIXTURES / "PM910" / "bad", "PM910")
    assert [(f.line, f.severity) for f in got] == [(13, Severity.CRITICAL), (17, Severity.CRITICAL),
                                                   (29, Severity.CRITICAL), (48, Severity.CRITICAL),
                                                   (78, Severity.CRITICAL)]
    assert "ServiceAccount jenkins/jenkins is a CI/CD deployer identity (its name 'jenkins')" \
           in got[0].message
    assert "rogue Jenkins runner with cluster-admin privileges" in got[0].message
    assert "the pods of StatefulSet tools/build-agent run the CI runner image " \
           "'jenkins/inbound-agent:3256.v88a_f6e922152-1' as it" in got[2].message
    assert _rel(got[2]) == [("agent.yaml", 1, ("CI runner StatefulSet build-agent runs as ServiceAccount "
                                              "tools/build-agent"))]
    assert "(it lives in the CI namespace 'actions-runner-system')" in got[3].message
    assert "ClusterRole 'god-mode', which grants * on * in every API group (cluster-admin under another name)" \
           in got[3].message
    assert "through aggregation" in got[4].message


def test_pm910_options_extend_ci_namespaces(tmp_path):
    _write(tmp_path, _crb("builds", "cluster-admin", "{kind: ServiceAccount, name: worker, namespace: builds}"))
    assert _scan(tmp_path, "PM910") == []
    cfg = Config(rules={"PM910": RuleConfig(options={"ci_namespaces": ["builds"]})})
    (f,) = _scan(tmp_path, "PM910", config=cfg)
    assert "(it lives in the CI namespace 'builds')" in f.message


def test_pm911_reports_each_ci_entry_at_its_own_line():
    got = _scan(FIXTURES / "PM911" / "bad", "PM911")
    # one finding per CI entry, at the entry's line inside the literal block, caret at its first character
    assert [(f.file, f.line, f.column) for f in got] == [
        ("cluster-a/aws-auth.yaml", 14, 5), ("cluster-a/aws-auth.yaml", 19, 5),
        ("cluster-a/aws-auth.yaml", 27, 5), ("cluster-b/aws-auth.yaml", 10, 5)]
    assert "role/jenkins-eks-deployer, a CI/CD identity ('jenkins'), to system:masters" in got[0].message
    assert "role/GitHubActionsOIDCRole, a CI/CD identity ('github')" in got[1].message
    assert all("AdministratorAccess" not in f.message and "NodeInstanceRole" not in f.message for f in got)
    assert "system:masters skips RBAC" in got[0].message
    assert "IAM user arn:aws:iam::111122223333:user/ci/deploy-bot, a CI/CD identity ('ci')" in got[2].message
    assert "to platform-admins (bound to cluster-admin by ClusterRoleBinding 'platform-admins' (cluster-wide))" \
           in got[3].message
    assert [(r.line, r.message) for r in got[3].related] == [
        (19, "ClusterRoleBinding 'platform-admins' (cluster-wide) binds group platform-admins to cluster-admin")]  # its roleRef
    assert len({f.fingerprint for f in got}) == 4


def test_pm911_json_and_quoted_values_report_without_guessing_lines(tmp_path):
    roles = "- rolearn: arn:aws:iam::1:role/ci-deploy\n  groups: [system:masters]\n"
    (tmp_path / "aws-auth.json").write_text(json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": roles, "mapUsers": "not: [valid"}}, indent=2))
    (f,) = _scan(tmp_path, "PM911")
    assert f.line == 9 and f.related == [] and "(line" not in f.message
    (tmp_path / "aws-auth.json").unlink()
    _write(tmp_path, f"""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: aws-auth, namespace: kube-system}}
        data:
          mapRoles: {json.dumps(roles)}
          mapUsers: ""
        """, name="aws-auth.yaml")
    (f,) = _scan(tmp_path, "PM911")
    assert f.line == 5 and f.related == []


# ---- helpers -------------------------------------------------------------------------------------
def test_awsauth_mappings():
    text = "- rolearn: arn:aws:iam::1:role/path/ci/Deployer\n  username: d\n  groups:\n    - system:masters\n" \
           "- rolearn: arn:aws:iam::1:role/nodes\n  groups: [system:nodes]\n"
    ms, problem = awsauth.mappings(text, "mapRoles")
    assert problem == ""
    assert [(m.arn, m.iam_name, m.groups, m.line, m.kind) for m in ms] == [
        ("arn:aws:iam::1:role/path/ci/Deployer", "path/ci/Deployer", ("system:masters",), 1, "IAM role"),
        ("arn:aws:iam::1:role/nodes", "nodes", ("system:nodes",), 5, "IAM role")]
    assert awsauth.mappings("rolearn: x", "mapRoles") == ([], "mapRoles is not a YAML list")
    assert awsauth.mappings("- [", "mapRoles")[1].startswith("invalid YAML")


@pytest.mark.parametrize("name,word", [
    ("GitHubActionsOIDCRole", "github"), ("eks-cd-role", "cd"), ("CICDDeployRole", "cicd"), ("deploy-bot", "deploy"),
    ("argo-workflows-server", "argo-workflow"), ("decider", ""), ("oci-registry", ""), ("payment-api", ""),
    ("argocd-application-controller", "")])
def test_deployer_words(name, word):
    assert _rbac.deployer_word(name, {}) == word


def test_subjects():
    sa, user_sa, system, broad = _rbac.subjects_of([
        {"kind": "ServiceAccount", "name": "api"}, {"kind": "User", "name": "system:serviceaccount:ci:agent"},
        {"kind": "User", "name": "system:kube-scheduler"}, {"kind": "Group", "name": "system:unauthenticated"}], "prod")
    assert (sa.sa, sa.identity, sa.system) == (("prod", "api"), "ServiceAccount prod/api", False)
    assert (user_sa.sa, user_sa.system) == (("ci", "agent"), False)
    assert (system.system, system.broad) == (True, "")
    assert (broad.system, broad.broad) == (False, "every anonymous request")


def test_facts_are_compact_and_keep_positions():
    text = textwrap.dedent("""\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: b}
        roleRef: {kind: ClusterRole, name: view}
        subjects:
          - {kind: ServiceAccount, name: api, namespace: prod}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: r, annotations: {big: "x"}}
        aggregationRule: {clusterRoleSelectors: [{matchLabels: {a: "true"}}]}
        rules: [{apiGroups: [""], resources: [pods], verbs: [get], extra: ignored}]
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: api}
        automountServiceAccountToken: false
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec: {serviceAccount: api, containers: [{name: c, image: x}]}
        """)
    binding, role, sa, pod = (facts_of(r) for r in parse_manifest(text, "f.yaml")[0])
    assert binding["role_ref"]["name"] == "view" and binding["role_ref"]["at"].line == 4
    assert [(s["name"], s["namespace"], s["at"].line) for s in binding["subjects"]] == [("api", "prod", 6)]
    assert role == {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
                    "aggregation": [{"matchLabels": {"a": "true"}}]}
    assert sa == {"automount": False}
    assert pod["service_account"] == "api" and "automount" not in pod


# ---- robustness: every node of realistic RBAC objects replaced by values of the wrong type ----------
RBAC_SEEDS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agg, labels: {a: "true", rbac.authorization.k8s.io/aggregate-to-view: "true"}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {b: "true"}}, {matchExpressions: [{key: c, operator: In, values: [x]}]}]}
rules: [{apiGroups: ["", "*"], resources: ["secrets", "pods/exec", "*"], verbs: ["get", "*", "impersonate"], resourceNames: []}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: ci, labels: {b: "true"}}
rules: [{apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["create", "bind"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secrets, labels: {b: "true"}}
rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["list"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: alice}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: production}
spec: {containers: [{name: web, image: "nginx:1.27.0"}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb, labels: {x: y}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agg}
subjects: [{kind: ServiceAccount, name: jenkins, namespace: ci}, {kind: Group, name: "system:serviceaccounts:ci"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: User, name: "system:serviceaccount:ci:default"}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: jenkins, namespace: ci}
automountServiceAccountToken: true
---
apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: "- rolearn: arn:aws:iam::1:role/ci\\n  groups: [system:masters]\\n"
  mapUsers: "- userarn: arn:aws:iam::1:user/deployer\\n  username: d\\n  groups: [system:masters]\\n"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: agent, namespace: ci}
spec:
  template:
    spec:
      serviceAccountName: jenkins
      automountServiceAccountToken: true
      containers: [{name: a, image: "jenkins/inbound-agent:1", env: [{name: X, value: "1"}], command: [sh], args: [kubectl]}]
"""


def test_type_mutations_of_rbac_objects_do_not_crash(tmp_path):
    import yaml

    from .test_bad_input import _mutants

    seeds = list(yaml.safe_load_all(RBAC_SEEDS))
    mutants = [m for s in seeds for m in _mutants(s)]
    text = "".join(f"---\n# mutant: {d}\n{yaml.safe_dump(doc, sort_keys=False)}" for d, doc in mutants)
    (tmp_path / "seeds.yaml").write_text(RBAC_SEEDS)
    (tmp_path / "mutants.yaml").write_text(text)
    rules = ["PM901", "PM902", "PM903", "PM904", "PM905", "PM906", "PM910", "PM911"]
    result = run_scan(tmp_path, select=rules)
    assert result.errors == []
    assert {f.rule_id for f in result.findings} >= set(rules) - {"PM905"}  # the seeds exercise the rules


def test_parallel_scan_carries_binding_locations_across_workers():
    """Facts hold Sources (binding and subject lines): they must survive the trip through worker processes."""
    def key(result):
        return [(f.rule_id, f.file, f.line, f.message, [r.to_dict() for r in f.related]) for f in result.findings]

    rules = ["PM901", "PM910"]
    serial = run_scan(FIXTURES / "PM910" / "bad", select=rules)
    parallel = run_scan(FIXTURES / "PM910" / "bad", select=rules, jobs=2)
    assert parallel.errors == [] and key(parallel) == key(serial)
    assert any(f.related for f in parallel.findings)
