"""Cross-object rules PM730–PM734: exact messages, positions and related locations, and the evidence
that keeps them quiet (the other side not in the scan, operators, controller labels, defaults)."""
import textwrap

import pytest

from premortem.model import Severity
from premortem.parse.kubernetes import parse_manifest
from premortem.rules.rollout._xref import ingress_backends, service_selector

from .conftest import FIXTURES, run_scan

NO_ENDPOINTS = ("the Service has no endpoints, so every request to it is refused (a 503 at the ingress) while its "
                "pods run Ready")


def _findings(path, rule_id):
    result = run_scan(path, select=[rule_id])
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule_id]


def _write(tmp_path, text, name="all.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def _related(f):
    return [(r.file, r.line, r.message) for r in f.related]


DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/{name}:1.0.0
          ports: [{{name: http, containerPort: 8080}}]
"""


def deploy(name, ns="production", replicas=2):
    return DEPLOY.format(name=name, ns=ns, replicas=replicas)


# ---- PM730 service-selects-nothing ---------------------------------------------------------------
def test_pm730_names_the_closest_workload_and_points_at_it():
    got = _findings(FIXTURES / "PM730" / "bad", "PM730")
    assert [(f.file, f.line, f.column, f.severity) for f in got] == [
        ("headless.yaml", 8, 3, Severity.HIGH), ("services.yaml", 54, 3, Severity.HIGH),
        ("services.yaml", 64, 3, Severity.HIGH), ("services.yaml", 74, 3, Severity.HIGH)]
    by_line = {(f.file, f.line): f for f in got}
    relabel = by_line[("services.yaml", 54)]
    assert relabel.message == (
        "Service 'payment-api' selects app=payment-api, which matches none of the 3 pod templates in namespace "
        "'production' (closest: the pods of Deployment/payment-api have app.kubernetes.io/name=payment-api): "
        + NO_ENDPOINTS)
    assert _related(relabel) == [("services.yaml", 1, "Deployment/payment-api, whose pod labels come closest: "
                                                      "app.kubernetes.io/name=payment-api")]
    stale = by_line[("services.yaml", 64)]
    assert "selects app=checkout, version=v2" in stale.message
    assert "(closest: the pods of Deployment/checkout have app=checkout, version=v1)" in stale.message
    assert _related(stale)[0][:2] == ("services.yaml", 17)
    # the controller label is left out of the comparison and of the message; the typo is named
    typo = by_line[("services.yaml", 74)]
    assert "selects app=rediss," in typo.message and "pod-name" not in typo.message
    assert "StatefulSet/redis have app=redis" in typo.message
    # the workload sits in another file of the same scan
    assert _related(by_line[("headless.yaml", 8)])[0][:2] == ("services.yaml", 32)


def test_pm730_needs_a_workload_of_its_own_namespace(tmp_path):
    svc = """\
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: edge}
    spec:
      selector: {app: web}
      ports: [{port: 80}]
    """
    _write(tmp_path, deploy("web", ns="production") + textwrap.dedent(svc))
    assert _findings(tmp_path, "PM730") == []  # namespace 'edge' has no workload in the scan
    _write(tmp_path, deploy("api", ns="edge"), name="edge.yaml")
    [f] = _findings(tmp_path, "PM730")  # now it has one, and it is not selected
    assert f.message.startswith("Service 'web' selects app=web, which matches none of the 1 pod template in "
                                "namespace 'edge': ")  # api shares no label value: no suggestion


def test_pm730_custom_resource_named_in_selector_means_operator_pods(tmp_path):
    svc = """\
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: alertmanager-main, namespace: production}
    spec:
      selector: {alertmanager: main}
      ports: [{port: 9093}]
    """
    _write(tmp_path, deploy("web") + textwrap.dedent(svc))
    assert len(_findings(tmp_path, "PM730")) == 1
    _write(tmp_path, "apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\n"
                     "metadata: {name: main, namespace: production}\nspec: {replicas: 3}\n", name="am.yaml")
    assert _findings(tmp_path, "PM730") == []


@pytest.mark.parametrize("spec,selector", [
    ({"selector": {"app": "web"}}, {"app": "web"}),
    ({"selector": {"app": "web", "pod-template-hash": "abc"}}, {"app": "web"}),
    ({"selector": {"statefulset.kubernetes.io/pod-name": "db-0"}}, {}),
    ({"selector": {}}, None),
    ({"type": "ExternalName", "externalName": "x.example.com", "selector": {"app": "web"}}, None),
    ({"ports": [{"port": 80}]}, None),
])
def test_service_selector_drops_controller_labels(spec, selector):
    import json

    [r], _ = parse_manifest(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                                        "spec": spec}), "s.yaml")
    assert service_selector(r) == selector


# ---- PM731 service-target-port-not-declared --------------------------------------------------------
def test_pm731_named_is_high_numbers_are_medium():
    got = _findings(FIXTURES / "PM731" / "bad", "PM731")
    assert [(f.line, f.column, f.severity) for f in got] == [
        (34, 19, Severity.HIGH), (48, 13, Severity.MEDIUM), (60, 19, Severity.MEDIUM)]
    assert got[0].message == (
        "Service 'checkout' port 'http' (80) targets port 'web', which no selected container declares "
        "(Deployment/checkout declares http=3000, metrics=9090): the endpoints controller leaves every pod out, "
        "so the Service has no endpoints and every request to it fails")
    assert got[1].message.startswith("Service 'checkout-public' port 80 has no targetPort, so it targets port 80, "
                                     "which no selected container declares")
    assert _related(got[2]) == [("ports.yaml", 1, "Deployment/checkout declares http=3000, metrics=9090")]


def test_pm731_a_name_declared_by_any_selected_workload_is_enough(tmp_path):
    canary = deploy("web-canary").replace("{app: web-canary}", "{app: web}").replace("name: http", "name: web")
    svc = """\
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: production}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: web}]
    """
    _write(tmp_path, deploy("web") + "---\n" + canary + textwrap.dedent(svc))
    assert _findings(tmp_path, "PM731") == []  # the canary declares 'web'
    _write(tmp_path, deploy("web") + textwrap.dedent(svc))
    [f] = _findings(tmp_path, "PM731")
    assert "targets port 'web'" in f.message and "Deployment/web declares http=8080" in f.message


def test_pm731_numeric_needs_every_selected_workload_to_declare_ports(tmp_path):
    bare = deploy("web-legacy").replace("{app: web-legacy}", "{app: web}").replace(
        "          ports: [{name: http, containerPort: 8080}]\n", "")
    svc = """\
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: production}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: "9000"}]
    """
    _write(tmp_path, deploy("web") + "---\n" + bare + textwrap.dedent(svc))
    assert _findings(tmp_path, "PM731") == []  # web-legacy declares nothing: 9000 may be its port
    _write(tmp_path, deploy("web") + textwrap.dedent(svc))
    [f] = _findings(tmp_path, "PM731")
    assert f.severity == Severity.MEDIUM and "targets port 9000" in f.message


# ---- PM732 autoscaler-target-missing ---------------------------------------------------------------
def test_pm732_positions_and_suggestions():
    got = _findings(FIXTURES / "PM732" / "bad", "PM732")
    assert [(f.line, f.column) for f in got] == [(36, 11), (51, 11), (64, 11)]
    assert got[0].message == (
        "HorizontalPodAutoscaler 'payment-api' scales Deployment/payment-api, which is not in namespace 'production' "
        "(the scan has Deployment/payments-api): the autoscaler finds no target (FailedGetScale) and never scales "
        "anything, so Deployment/payments-api stays at its 1 replica and saturates when load rises")
    assert _related(got[0]) == [("hpa.yaml", 1, "Deployment/payments-api: the closest name")]
    assert "but 'redis' in namespace 'production' is a StatefulSet" in got[1].message  # reported at `kind`
    assert _related(got[1]) == [("hpa.yaml", 13, "StatefulSet/redis: the workload it probably means")]
    assert got[2].resource == "ScaledObject/production/order-worker" and got[2].related == []


def test_pm732_target_in_another_file_counts(tmp_path):
    _write(tmp_path, """\
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: api, namespace: production}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
      maxReplicas: 5
    """, name="hpa.yaml")
    _write(tmp_path, deploy("worker"), name="worker.yaml")
    assert len(_findings(tmp_path, "PM732")) == 1
    _write(tmp_path, deploy("api"), name="api.yaml")
    assert _findings(tmp_path, "PM732") == []


# ---- PM733 autoscaler-bounds-conflict ----------------------------------------------------------------
def test_pm733_messages():
    got = _findings(FIXTURES / "PM733" / "bad", "PM733")
    assert [(f.line, f.column, f.severity) for f in got] == [
        (21, 16, Severity.HIGH), (32, 16, Severity.MEDIUM), (40, 20, Severity.HIGH)]
    assert got[0].message.startswith("HorizontalPodAutoscaler 'payment-api' (Deployment/payment-api) has minReplicas 8 "
                                     "above maxReplicas 4: the API server rejects the HorizontalPodAutoscaler")
    assert got[1].message.startswith("HorizontalPodAutoscaler 'checkout' caps Deployment/checkout at maxReplicas 4, "
                                     "below the 6 replicas it declares: every deploy sets 6 pods and the autoscaler "
                                     "kills 2 of them")
    assert _related(got[1]) == [("bounds.yaml", 1, "Deployment/checkout declares replicas: 6")]
    assert "minReplicaCount 10 above maxReplicaCount 5: KEDA refuses" in got[2].message


@pytest.mark.parametrize("spec,expected", [
    ("minReplicaCount: 150", "minReplicaCount 150 above maxReplicaCount 100 (the default)"),
    ("minReplicaCount: 0", None),
    ("maxReplicaCount: 3", None),  # minReplicaCount defaults to 0
])
def test_pm733_keda_defaults(tmp_path, spec, expected):
    _write(tmp_path, f"""\
    apiVersion: keda.sh/v1alpha1
    kind: ScaledObject
    metadata: {{name: worker, namespace: production}}
    spec:
      scaleTargetRef: {{name: worker}}
      {spec}
    """)
    got = [f.message for f in _findings(tmp_path, "PM733")]
    assert (got == []) if expected is None else (len(got) == 1 and expected in got[0])


def test_pm733_hpa_v1_default_minimum_and_replicas_within_bounds(tmp_path):
    hpa = """\
    ---
    apiVersion: autoscaling/v1
    kind: HorizontalPodAutoscaler
    metadata: {name: web, namespace: production}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      maxReplicas: 4
    """
    _write(tmp_path, deploy("web", replicas=4) + textwrap.dedent(hpa))
    assert _findings(tmp_path, "PM733") == []
    _write(tmp_path, deploy("web", replicas=5) + textwrap.dedent(hpa))
    [f] = _findings(tmp_path, "PM733")
    assert f.severity == Severity.MEDIUM and "kills 1 of them" in f.message


# ---- PM734 ingress-backend-not-found ---------------------------------------------------------------
def test_pm734_messages_and_related():
    got = _findings(FIXTURES / "PM734" / "bad", "PM734")
    assert [(f.file, f.line, f.column) for f in got] == [
        ("ingress.yaml", 26, 13), ("ingress.yaml", 39, 32), ("ingress.yaml", 46, 23), ("ingress.yaml", 55, 30),
        ("legacy.yaml", 16, 28), ("legacy.yaml", 22, 28), ("legacy.yaml", 44, 31)]
    msg = {(f.file, f.line): f for f in got}
    assert msg[("ingress.yaml", 26)].message == (
        "the default backend names Service 'default-http-backend', which is not in namespace 'production': the "
        "ingress controller answers 503 for every request no rule matches")
    assert msg[("ingress.yaml", 39)].message == (
        "the backend of shop.example.com/ uses port 8080 of Service 'storefront', which exposes only 80 (http) "
        "(8080 is the targetPort behind Service port 80; an Ingress names the Service port, not the container's): "
        "the ingress controller answers 503 for every request to shop.example.com/")
    assert _related(msg[("ingress.yaml", 39)]) == [("ingress.yaml", 1, "Service 'storefront' exposes 80 (http)")]
    assert "(the scan has Service 'storefront')" in msg[("legacy.yaml", 16)].message
    cross = msg[("legacy.yaml", 44)]
    assert "a Service 'billing' exists in namespace 'payments', but an Ingress routes only to Services of its own" \
        in cross.message
    assert _related(cross) == [("legacy.yaml", 25, "Service 'billing' in namespace 'payments'")]


def test_pm734_quiet_until_the_namespace_has_services_in_the_scan(tmp_path):
    _write(tmp_path, """\
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: web, namespace: web}
    spec:
      rules:
        - http:
            paths:
              - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    """, name="ingress.yaml")
    assert _findings(tmp_path, "PM734") == []
    _write(tmp_path, """\
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: web}
    spec:
      selector: {app: web}
      ports: [{name: http, port: 8080}]
    """, name="svc.yaml")
    [f] = _findings(tmp_path, "PM734")
    assert (f.line, f.message.split(":")[0]) == (
        8, "the backend of */ uses port 80 of Service 'web', which exposes only 8080 (http)")


def test_ingress_backends_reads_both_api_versions():
    text = textwrap.dedent("""\
    apiVersion: extensions/v1beta1
    kind: Ingress
    metadata: {name: a}
    spec:
      backend: {serviceName: fallback, servicePort: 80}
      rules:
        - host: a.example.com
          http:
            paths:
              - {path: /x, backend: {serviceName: x, servicePort: http}}
              - {path: /t, backend: {serviceName: "{{ .Values.svc }}", servicePort: 80}}
    ---
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: b}
    spec:
      defaultBackend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: static}}
      rules:
        - http:
            paths:
              - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
    """)
    (a, b), _ = parse_manifest(text, "i.yaml")
    assert [(x.service, x.port, x.route, x.port_path) for x in ingress_backends(a)] == [
        ("fallback", 80, "default backend", ("spec", "backend", "servicePort")),
        ("x", "http", "a.example.com/x", ("spec", "rules", 0, "http", "paths", 0, "backend", "servicePort"))]
    assert [(x.service, x.port, x.name_path) for x in ingress_backends(b)] == [
        ("web", "http", ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "name"))]
