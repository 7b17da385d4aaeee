"""Probe rules PM701-PM707: exact messages and positions for the narrative's cases, the
annotation and option overrides, and the helpers' Kubernetes defaults."""
import json
import textwrap

from premortem.config import Config, RuleConfig
from premortem.k8s.workloads import containers
from premortem.model import Severity
from premortem.parse.kubernetes import parse_manifest
from premortem.rules.rollout._probes import port_of, probes

from .conftest import run_scan

JVM_APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payment-api
  namespace: production{annotations}
spec:
  template:
    spec:
      containers:
        - name: app
          image: our-priv-reg.io/fintech/payment-api:2.7.0
          env: [{{name: JAVA_OPTS, value: "-Xmx1g"}}]
          {kind}:
            httpGet: {{path: /health, port: 8080}}
            initialDelaySeconds: 0
            periodSeconds: 1
            failureThreshold: 1
"""


def _scan(tmp_path, text, rule, config=None, name="deploy.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    result = run_scan(tmp_path, select=[rule], config=config)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule]


def _pos(text, needle, nth=1):
    """(line, column) of the nth occurrence of `needle` in the dedented text: where a caret must point."""
    lines = textwrap.dedent(text).splitlines()
    hits = [(n, line.index(needle) + 1) for n, line in enumerate(lines, start=1) if needle in line]
    return hits[nth - 1]


def _value(text, key, nth=1):
    """(line, column) of the value written after the nth `key: ` in the text."""
    line, col = _pos(text, f"{key}: ", nth)
    return line, col + len(key) + 2


def _app(kind="livenessProbe", annotations=""):
    return JVM_APP.format(kind=kind, annotations=annotations)


def test_narrative_probe_as_liveness_kills_the_45s_jvm(tmp_path):
    [f] = _scan(tmp_path, _app(), "PM705")
    assert (f.line, f.column, f.severity) == (*_pos(_app(), "livenessProbe:"), Severity.HIGH)
    assert f.message == (
        "livenessProbe of container 'app' kills it after initialDelaySeconds 0 + periodSeconds 1 × "
        "failureThreshold 1 = 1s and there is no startupProbe, but the app needs about 45s to start (a JVM, from "
        "env JAVA_OPTS; option jvm_startup_seconds): budget 1s < 45s, so the kubelet restarts it before it is up, "
        "every restart starts over and the pod never leaves CrashLoopBackOff")


def test_narrative_probe_as_readiness_is_a_hair_trigger_not_a_killer(tmp_path):
    assert _scan(tmp_path, _app("readinessProbe"), "PM705") == []
    [f] = _scan(tmp_path, _app("readinessProbe"), "PM706")
    assert (f.line, f.column, f.severity) == (*_value(_app(), "failureThreshold"), Severity.MEDIUM)
    assert f.message.startswith("readinessProbe of container 'app' has failureThreshold 1 every 1s: one response "
                                "slower than timeoutSeconds 1s")
    assert f.message.endswith("all of them leave rotation together and flap in and out every 1s")


def test_startup_annotation_overrides_the_runtime_estimate(tmp_path):
    quick = "\n  annotations: {premortem.dev/startup-seconds: \"1\"}"
    assert _scan(tmp_path, _app(annotations=quick), "PM705") == []
    slow = "\n  annotations: {premortem.dev/startup-seconds: \"300s\"}"
    [f] = _scan(tmp_path, _app(annotations=slow), "PM705")
    assert "needs about 300s to start (annotation premortem.dev/startup-seconds: 300 on the Deployment): " \
           "budget 1s < 300s" in f.message


def test_default_probe_on_jvm_is_medium_and_option_can_silence_it(tmp_path):
    text = _app().replace("            initialDelaySeconds: 0\n            periodSeconds: 1\n"
                          "            failureThreshold: 1\n", "")
    [f] = _scan(tmp_path, text, "PM705")
    assert f.severity == Severity.MEDIUM and "= 30s" in f.message and "budget 30s < 45s" in f.message
    cfg = Config(rules={"PM705": RuleConfig(options={"jvm_startup_seconds": 30})})
    assert _scan(tmp_path, text, "PM705", config=cfg) == []


def test_startup_probe_covering_the_start_is_fine_and_short_one_is_reported(tmp_path):
    text = _app().replace("          livenessProbe:", "          startupProbe: {httpGet: {path: /health, port: 8080}, "
                          "periodSeconds: 5, failureThreshold: {n}}\n          livenessProbe:")
    assert _scan(tmp_path, text.replace("{n}", "24"), "PM705") == []
    [f] = _scan(tmp_path, text.replace("{n}", "4"), "PM705")
    assert (f.line, f.column) == _pos(text, "startupProbe:")
    assert f.message.startswith("startupProbe of container 'app' gives up after initialDelaySeconds 0 (default) "
                                "+ periodSeconds 5 × failureThreshold 4 = 20s")


SERVED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders-api, namespace: NS}
spec:
  template:
    metadata: {labels: {app: orders-api}}
    spec:
      containers:
        - name: api
          image: registry.example.com/orders-api:2.4.1
          ports: [{name: http, containerPort: 8080}]
        - name: shipper
          image: fluent/fluent-bit:3.0.4
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: NS}
spec:
  selector: {app: orders-api}
  ports: [{port: 80, targetPort: http}]
"""


def test_missing_readiness_names_the_service_and_only_the_serving_container(tmp_path):
    [f] = _scan(tmp_path, SERVED.replace("NS", "production"), "PM701")
    assert (f.line, f.column, f.severity) == (*_value(SERVED, "- name"), Severity.HIGH)
    assert f.message.startswith("container 'api' has no readinessProbe but Service 'orders' sends it traffic "
                                "(port 80 → http): a new pod is Ready the moment its process starts")
    [f] = _scan(tmp_path, SERVED.replace("NS", "dev"), "PM701")
    assert f.severity == Severity.MEDIUM
    worker = SERVED.replace("NS", "production").split("---")[0]
    assert _scan(tmp_path, worker, "PM701") == []


def test_dependency_host_comes_from_env_and_own_database_is_local(tmp_path):
    text = """\
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: IMAGE_NAME
              image: IMAGE
              env: [{name: DB_HOST, valueFrom: {secretKeyRef: {name: db, key: host}}}]
              livenessProbe:
                exec: {command: ["sh", "-c", "pg_isready -h $DB_HOST"]}
    """
    app = text.replace("IMAGE_NAME", "api").replace("IMAGE", "registry.example.com/api:1.0.0")
    [f] = _scan(tmp_path, app, "PM703")
    assert (f.line, f.column) == _pos(app, '"pg_isready')
    assert f.message.startswith("livenessProbe of container 'api' runs pg_isready against the postgresql database "
                                "at '$DB_HOST', outside the container")
    db = text.replace("IMAGE_NAME", "postgres").replace("IMAGE", "postgres:16.3")
    assert _scan(tmp_path, db, "PM703") == []


def test_unresolved_port_name_severity_depends_on_the_probe(tmp_path):
    text = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: production}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
          ports: [{name: http, containerPort: 3000}]
          livenessProbe: {httpGet: {path: /livez, port: web}}
          readinessProbe: {httpGet: {path: /ready, port: web}}
    """
    got = [(f.line, f.column, f.severity, f.message.split(":")[0]) for f in _scan(tmp_path, text, "PM704")]
    assert got == [(*_pos(text, "web}}"), Severity.MEDIUM, "livenessProbe of container 'web' uses port 'web', which the container "
                                            "does not declare (its ports"),
                   (*_pos(text, "web}}", 2), Severity.HIGH, "readinessProbe of container 'web' uses port 'web', which the container "
                                           "does not declare (its ports")]


def test_probe_credentials_never_printed_whole(tmp_path):
    token = "Bearer probe-7f3c9a1e5b2d48c6"
    text = f"""\
    apiVersion: v1
    kind: Pod
    metadata: {{name: web}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
          livenessProbe:
            httpGet:
              path: /health
              port: 3000
              httpHeaders: [{{name: Authorization, value: "{token}"}}]
    """
    [f] = _scan(tmp_path, text, "PM707")
    assert (f.line, f.column) == _pos(text, '"Bearer')
    dumped = json.dumps(f.to_dict()) + f.snippet
    assert token not in dumped and "probe-7f3c9a1e5b2d48c6" not in dumped
    assert f.message.startswith("livenessProbe of container 'web' sends the 'Authorization' header")


def test_liveness_on_spring_aggregate_health_points_to_liveness_group(tmp_path):
    text = _app().replace("path: /health", "path: /actuator/health")
    [f] = _scan(tmp_path, text, "PM702")
    assert (f.line, f.column, f.severity) == (*_value(text, "path"), Severity.HIGH)
    assert f.message.endswith("; point liveness at /actuator/health/liveness")


def test_probe_helpers_apply_kubernetes_defaults():
    [r], errs = parse_manifest(textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - name: c
              image: x:1
              livenessProbe: {tcpSocket: {port: "8080"}}
              readinessProbe: {httpGet: {path: /, port: http}, initialDelaySeconds: 7, failureThreshold: 2}
        """), "p.yaml")
    assert not errs
    ps = probes(containers(r)[0])
    assert ps["livenessProbe"].budget == 30 and port_of(ps["livenessProbe"]) == 8080
    assert ps["readinessProbe"].budget == 27 and port_of(ps["readinessProbe"]) == "http"
    assert ps["readinessProbe"].arithmetic() == ("initialDelaySeconds 7 + periodSeconds 10 (default) × "
                                                  "failureThreshold 2 = 27s")
