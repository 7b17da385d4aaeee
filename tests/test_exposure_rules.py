"""Exposure rules (PM920, PM921 for 9.2; PM330 for 3.3): positions, messages, severities, and the
guards each dialect recognises."""
import textwrap

import pytest

from premortem.config import Config, RuleConfig
from premortem.model import Severity
from premortem.project import Entry, Project
from premortem.rules.access import _exposure as ex

from .conftest import FIXTURES, run_scan


def _scan(tmp_path, text, rule_id, config=None):
    (tmp_path / "all.yaml").write_text(text)
    result = run_scan(tmp_path, select=[rule_id], config=config)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule_id]


def _ingress(host="grafana.company.com", service="grafana", annotations="{}", cls="nginx", name="dash"):
    return textwrap.dedent(f"""\
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: {name}
      namespace: monitoring
      annotations: {annotations}
    spec:
      ingressClassName: {cls}
      rules:
        - host: {host}
          http:
            paths:
              - path: /
                pathType: Prefix
                backend: {{service: {{name: {service}, port: {{number: 80}}}}}}
    """)


# ---- recognising dashboards -------------------------------------------------------------------
@pytest.mark.parametrize("name,expected,companion", [
    ("kube-prometheus-stack-grafana", "Grafana", False),
    ("prometheus-alertmanager", "Alertmanager", False),
    ("prometheus-k8s", "Prometheus", False),
    ("argocd-server", "Argo CD", False),
    ("argocd-repo-server", "Argo CD", True),
    ("argocd-server-metrics", "Argo CD", True),
    ("prometheus-node-exporter", "Prometheus", True),
    ("grafana-agent", "Grafana", True),
    ("jenkins-agent", "Jenkins", True),
    ("redis-commander", "Redis Commander", False),
    ("argo-server", "Argo Workflows", False),
    ("frontend", None, False),
    ("prometheusfrontend", None, False),
])
def test_match_name_takes_the_rightmost_key_and_spots_companions(name, expected, companion):
    d, comp = ex.match_name(name, ex.DASHBOARDS)
    assert (d.name if d else None, comp) == (expected, companion)


@pytest.mark.parametrize("image,expected", [
    ("grafana/grafana:10.4.2", "Grafana"),
    ("grafana/loki:2.9.0", None),  # the org is grafana, the image is not
    ("quay.io/prometheus/alertmanager:v0.27.0", "Alertmanager"),
    ("prom/node-exporter:v1.7.0", None),
    ("kubernetesui/dashboard:v2.7.0", "Kubernetes Dashboard"),
    ("quay.io/argoproj/argocd:v2.10.4", "Argo CD"),
    ("dpage/pgadmin4:8.4", "pgAdmin"),
    ("registry.example.com/shop/frontend:2.3.1", None),
    ("{{ .Values.image }}", None),
])
def test_match_image(image, expected):
    d = ex.match_image(image, ex.DASHBOARDS)
    assert (d.name if d else None) == expected


# ---- PM920 --------------------------------------------------------------------------------------
def test_pm920_jenkins_from_the_incident_is_critical_and_says_tls_is_not_auth():
    result = run_scan(FIXTURES / "PM920" / "bad", select=["PM920"])
    jenkins = [f for f in result.findings if f.resource == "Ingress/ci/jenkins"]
    assert len(jenkins) == 1
    f = jenkins[0]
    assert (f.file, f.line, f.column, f.severity) == ("ingress-nginx.yaml", 14, 13, Severity.CRITICAL)
    assert f.message.startswith("Ingress rule for host 'jenkins.company.com' routes to Jenkins (image "
                                "'jenkins/jenkins:2.440.1-lts' of StatefulSet ci/ci-server, via Service 'ci-server') "
                                "with no auth layer and no IP allow-list")
    assert "TLS is configured, but it only encrypts the traffic: it authenticates nobody" in f.message
    assert [(r.line, r.message) for r in f.related] == [
        (20, "backend Service 'ci-server' (Jenkins)"),
        (22, "Service ci/ci-server (the route's backend)"),
        (29, "StatefulSet ci/ci-server serves Jenkins"),
    ]


def test_pm920_half_configured_guards_are_named_in_the_message():
    by_resource = {f.resource: f for f in run_scan(FIXTURES / "PM920" / "bad", select=["PM920"]).findings}
    assert "auth-signin is set without auth-url, so ingress-nginx checks nothing" in \
        by_resource["Ingress/monitoring/grafana"].message
    assert "whitelist-source-range includes 0.0.0.0/0, which admits every address" in \
        by_resource["Ingress/monitoring/prometheus"].message
    pgadmin = by_resource["Ingress/data/pgadmin"]
    assert "nginx.ingress.kubernetes.io/auth-url (oauth2-proxy) is ignored: this Ingress is served by the alb " \
           "controller" in pgadmin.message
    assert pgadmin.severity == Severity.HIGH
    assert "TLS" not in pgadmin.message


def test_pm920_every_route_kind_reports_at_its_own_node():
    got = {(f.resource, f.line, f.column) for f in run_scan(FIXTURES / "PM920" / "bad", select=["PM920"]).findings
           if f.file == "routes.yaml"}
    assert got == {("Ingress/kubernetes-dashboard/dashboard", 13, 13), ("IngressRoute/ci/jenkins", 28, 14),
                   ("HTTPRoute/argocd/argocd", 44, 17), ("Route/logging/kibana", 52, 9)}


def test_pm920_frontend_host_is_not_a_dashboard(tmp_path):
    assert _scan(tmp_path, _ingress(host="www.shop.example", service="frontend"), "PM920") == []


def test_pm920_auth_proxy_as_backend_is_a_guard(tmp_path):
    assert _scan(tmp_path, _ingress(service="oauth2-proxy"), "PM920") == []
    assert len(_scan(tmp_path, _ingress(service="grafana"), "PM920")) == 1


def test_pm920_global_auth_url_guards_every_nginx_ingress_unless_disabled(tmp_path):
    cm = """\
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
    data:
      global-auth-url: "https://oauth.company.com/oauth2/auth"
    """
    cm = textwrap.dedent(cm)
    assert _scan(tmp_path, _ingress() + cm, "PM920") == []
    off = '{nginx.ingress.kubernetes.io/enable-global-auth: "false"}'
    assert len(_scan(tmp_path, _ingress(annotations=off) + cm, "PM920")) == 1


def test_pm920_dashboards_option_adds_names_and_private_domains_are_configurable(tmp_path):
    text = _ingress(host="bi.company.com", service="metabase")
    assert _scan(tmp_path, text, "PM920") == []
    cfg = Config(rules={"PM920": RuleConfig(options={"dashboards": [{"name": "metabase", "critical": True}]})})
    [f] = _scan(tmp_path, text, "PM920", cfg)
    assert f.severity == Severity.CRITICAL and "routes to metabase (Service name 'metabase')" in f.message
    cfg = Config(rules={"PM920": RuleConfig(options={"private_domains": ["*.company.com"]})})
    assert _scan(tmp_path, _ingress(), "PM920", cfg) == []


def test_pm920_alb_without_scheme_is_internal_but_internet_facing_is_not(tmp_path):
    alb = '{alb.ingress.kubernetes.io/target-type: ip}'
    assert _scan(tmp_path, _ingress(annotations=alb, cls="alb"), "PM920") == []
    public = '{alb.ingress.kubernetes.io/scheme: internet-facing, alb.ingress.kubernetes.io/inbound-cidrs: "10.0.0.0/8"}'
    assert _scan(tmp_path, _ingress(annotations=public, cls="alb"), "PM920") == []
    public = '{alb.ingress.kubernetes.io/scheme: internet-facing}'
    assert len(_scan(tmp_path, _ingress(annotations=public, cls="alb"), "PM920")) == 1


def test_pm920_httproute_guards(tmp_path):
    route = """\
    apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: grafana, namespace: monitoring}
    spec:
      parentRefs: [{name: public}]
      hostnames: [grafana.company.com]
      rules:
        - filters: FILTERS
          backendRefs: [{name: grafana, port: 3000}]
    """
    route = textwrap.dedent(route)
    assert len(_scan(tmp_path, route.replace("FILTERS", "[]"), "PM920")) == 1
    mw = '[{type: ExtensionRef, extensionRef: {group: traefik.io, kind: Middleware, name: oidc-login}}]'
    assert _scan(tmp_path, route.replace("FILTERS", mw), "PM920") == []
    policy = """\
    ---
    apiVersion: gateway.envoyproxy.io/v1alpha1
    kind: SecurityPolicy
    metadata: {name: grafana, namespace: monitoring}
    spec:
      targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: grafana}]
      oidc: {provider: {issuer: "https://login.company.com"}, clientID: grafana, clientSecret: {name: oidc}}
    """
    assert _scan(tmp_path, route.replace("FILTERS", "[]") + textwrap.dedent(policy), "PM920") == []


# ---- Traefik Middlewares: the index's facts decide when present, the name otherwise ------------
def _project(*entries):
    p = Project()
    for e in entries:
        p._insert(e)
    return p


def _mw(name, ns="auth", **facts):
    return Entry("kubernetes", "Middleware", name, ns, "mw.yaml", 1, {}, facts)


def test_middleware_facts_beat_names_and_chains_are_followed():
    g = ex.Guards()
    ex.traefik_ref(_project(_mw("auth-headers", types=["headers"])), "auth-auth-headers@kubernetescrd", "x", g)
    assert g.found == []
    g = ex.Guards()
    project = _project(_mw("secure", types=["chain"], chain=[{"name": "gate"}]), _mw("gate", types=["forwardAuth"]))
    ex.traefik_ref(project, "auth-secure@kubernetescrd", "x", g)
    assert g.found == ["Traefik middleware 'auth-secure@kubernetescrd' → gate (forwardAuth)"]
    g = ex.Guards()
    ex.traefik_ref(_project(_mw("office", types=["ipAllowList"], source_range=["0.0.0.0/0"])),
                   "auth-office@kubernetescrd", "x", g)
    assert g.found == [] and "admits every address" in g.notes[0]
    g = ex.Guards()
    ex.traefik_ref(_project(), "oauth@file", "x", g)
    assert g.found == ["Traefik middleware 'oauth@file' (by its name)"]


# ---- Services -----------------------------------------------------------------------------------
def _svc(kind="LoadBalancer", annotations="{}", extra="", ns="production", name="orders-db", port=5432):
    return textwrap.dedent(f"""\
    apiVersion: v1
    kind: Service
    metadata:
      name: {name}
      namespace: {ns}
      annotations: {annotations}
    spec:
      type: {kind}
      selector: {{app: {name}}}
      ports: [{{port: {port}, nodePort: 31000}}]
    {extra}
    """)


def _sts(image="postgres:15.6", ns="production", name="orders-db"):
    return textwrap.dedent(f"""\
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: {name}, namespace: {ns}}}
    spec:
      selector: {{matchLabels: {{app: {name}}}}}
      template:
        metadata: {{labels: {{app: {name}}}}}
        spec:
          containers: [{{name: db, image: "{image}"}}]
    """)


@pytest.mark.parametrize("kind,ns,severity", [
    ("LoadBalancer", "production", Severity.CRITICAL),
    ("LoadBalancer", "dev", Severity.HIGH),
    ("NodePort", "production", Severity.HIGH),
    ("NodePort", "dev", Severity.MEDIUM),
])
def test_pm330_severity_follows_production_and_exposure(tmp_path, kind, ns, severity):
    [f] = _scan(tmp_path, _svc(kind, ns=ns) + _sts(ns=ns), "PM330")
    assert (f.line, f.column, f.severity) == (8, 9, severity)
    assert f"PostgreSQL (image 'postgres:15.6' of StatefulSet {ns}/orders-db)" in f.message
    assert ("[production: namespace 'production']" in f.message) == (ns == "production")
    assert ("node port 31000 of every node" in f.message) == (kind == "NodePort")
    assert [(r.line, r.message) for r in f.related] == [(13, f"StatefulSet {ns}/orders-db runs PostgreSQL behind this Service")]


def test_pm330_weak_ports_need_the_image(tmp_path):
    assert _scan(tmp_path, _svc(name="olap", port=9000), "PM330") == []
    [f] = _scan(tmp_path, _svc(name="olap", port=9000) + _sts("clickhouse/clickhouse-server:24.3", name="olap"), "PM330")
    assert "ClickHouse (image 'clickhouse/clickhouse-server:24.3'" in f.message


def test_pm330_ignores_exporters_and_object_stores(tmp_path):
    assert _scan(tmp_path, _svc(name="pgexp", port=9187) + _sts("prometheuscommunity/postgres-exporter:v0.15.0",
                                                                 name="pgexp"), "PM330") == []
    assert _scan(tmp_path, _svc(name="s3", port=443) + _sts("minio/minio:RELEASE.2024-03-15T01-07-19Z",
                                                             name="s3"), "PM330") == []


@pytest.mark.parametrize("annotations,extra,quiet", [
    ('{service.beta.kubernetes.io/aws-load-balancer-internal: "true"}', "", True),
    ('{service.beta.kubernetes.io/aws-load-balancer-internal: "false"}', "", False),
    ('{cloud.google.com/load-balancer-type: internal}', "", True),
    ('{service.beta.kubernetes.io/aws-load-balancer-type: nlb-ip}', "", True),
    ('{service.beta.kubernetes.io/aws-load-balancer-type: nlb-ip, '
     'service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing}', "", False),
    ('{service.beta.kubernetes.io/load-balancer-source-ranges: "10.0.0.0/8"}', "", True),
    ("{}", "  loadBalancerSourceRanges: [10.1.0.0/16, \"::/0\"]", False),
    ("{}", "  loadBalancerClass: service.k8s.aws/nlb", True),
])
def test_pm330_internal_load_balancers_and_source_ranges(tmp_path, annotations, extra, quiet):
    found = _scan(tmp_path, _svc(annotations=annotations, extra=extra), "PM330")
    assert (found == []) == quiet, [f.message for f in found]


def test_pm921_dashboard_behind_a_sidecar_proxy_is_quiet_and_nodeport_is_one_level_lower(tmp_path):
    sidecar = _sts("grafana/grafana:10.4.2", ns="monitoring", name="grafana").replace(
        'containers: [{name: db, image: "grafana/grafana:10.4.2"}]',
        'containers: [{name: ui, image: "grafana/grafana:10.4.2"}, '
        '{name: proxy, image: "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0"}]')
    assert _scan(tmp_path, _svc(ns="monitoring", name="grafana", port=80) + sidecar, "PM921") == []
    plain = _sts("grafana/grafana:10.4.2", ns="monitoring", name="grafana")
    [f] = _scan(tmp_path, _svc("NodePort", ns="monitoring", name="grafana", port=80) + plain, "PM921")
    assert f.severity == Severity.MEDIUM
    assert f.message.startswith("Service 'grafana' is type NodePort: Grafana (image 'grafana/grafana:10.4.2' of "
                                "StatefulSet monitoring/grafana) listens on a port of every node")
