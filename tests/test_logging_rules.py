"""Catalog 2.2: PM245 (no log shipping in the repository) and PM246 (logs written inside the container)."""
import pytest

from premortem.config import Config, RuleConfig

from .conftest import run_scan

APP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: invoice-api, namespace: production}
spec:
  selector: {matchLabels: {app: invoice-api}}
  template:
    metadata: {labels: {app: invoice-api}}
    spec:
      containers:
        - name: app
          image: registry.example.com/invoice-api:4.1.0
"""


def workload(name, image, kind="DaemonSet", namespace="logging"):
    return f"""apiVersion: apps/v1
kind: {kind}
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: {name}
          image: {image}
"""


def scan(tmp_path, files, select=("PM245",), config=None):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    result = run_scan(tmp_path, select=list(select), config=config)
    assert not result.errors, result.errors
    return [(f.rule_id, f.file, f.line, f.message) for f in result.findings]


def test_pm245_reports_once_at_the_first_production_workload(tmp_path):
    got = scan(tmp_path, {"b/app.yaml": APP, "a/worker.yaml": workload("worker", "r.example.com/w:1", "Deployment",
                                                                        "production"),
                          "c/dev.yaml": workload("dev", "r.example.com/w:1", "Deployment", "dev")})
    assert [(r, f, line) for r, f, line, _ in got] == [("PM245", "a/worker.yaml", 1)]  # not b/app.yaml
    msg = got[0][3]
    assert msg.startswith("2 production workloads (Deployment/worker, Deployment/invoice-api) but the repository "
                          "deploys no log shipper")
    assert msg.endswith("[production: namespace 'production']")


@pytest.mark.parametrize("evidence", [
    {"logging/vector.yaml": workload("vector", "timberio/vector:0.39.0-distroless-libc")},
    {"logging/promtail.yaml": workload("promtail", "docker.io/grafana/promtail:3.0.0")},
    {"logging/alloy.yaml": workload("alloy", "grafana/alloy:v1.2.0")},
    {"logging/otel.yaml": workload("otel", "otel/opentelemetry-collector-contrib:0.104.0")},
    {"logging/dd.yaml": workload("datadog", "gcr.io/datadoghq/agent:7.55.0")},
    {"logging/loki.yaml": workload("loki", "grafana/loki:3.0.0", "StatefulSet")},
    {"logging/flow.yaml": "apiVersion: logging.banzaicloud.io/v1beta1\nkind: ClusterOutput\nmetadata: {name: es}\n"
                          "spec: {elasticsearch: {host: es.logging}}\n"},
    {"flux/loki.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: loki-stack, "
                       "namespace: flux-system}\nspec: {chart: {spec: {chart: loki-stack}}}\n"},
    {"logging/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fb, namespace: logging}\ndata:\n"
                        "  fluent-bit.conf: |\n    [OUTPUT]\n        Name cloudwatch_logs\n        Match *\n"},
    {"infra/main.tf": 'resource "helm_release" "logs" {\n  name  = "logging"\n  chart = "aws-for-fluent-bit"\n}\n'},
    {"infra/gke.tf": 'resource "google_container_cluster" "prod" {\n  name = "prod"\n}\n'},
])
def test_pm245_any_shipper_or_backend_silences_it(tmp_path, evidence):
    assert scan(tmp_path, {"k8s/app.yaml": APP, **evidence}) == []


def test_pm245_near_misses_do_not_silence_it(tmp_path):
    files = {"k8s/app.yaml": APP,
             # "vectorized" is Redpanda, not Vector; a config mentioning logs configures no output
             "k8s/redpanda.yaml": workload("redpanda", "docker.vectorized.io/vectorized/redpanda:v23.3.5",
                                           "StatefulSet", "production"),
             "k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: production}\ndata:\n"
                            "  app.yaml: |\n    logs:\n      level: info\n",
             "infra/gke.tf": 'resource "google_container_cluster" "prod" {\n  name = "prod"\n'
                             '  logging_service = "none"\n}\n'}
    got = scan(tmp_path, files)
    assert [(f, m.split(" (")[0]) for _, f, _, m in got] == [("k8s/app.yaml", "2 production workloads")]


def test_pm245_option_and_quiet_cases(tmp_path):
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "app.yaml").write_text(APP)
    # a single file scanned alone is judged as it is (the docs say: scan the whole repository)
    [f] = run_scan(tmp_path / "only" / "app.yaml", select=["PM245"]).findings
    assert (f.file, f.line, f.resource) == ("app.yaml", 1, "Deployment/production/invoice-api")
    cfg = Config(rules={"PM245": RuleConfig(options={"shipper_images": ["registry.example.com/log-agent"]})})
    files = {"k8s/app.yaml": APP, "k8s/agent.yaml": workload("agent", "registry.example.com/log-agent:2.0")}
    assert scan(tmp_path / "opt", files, config=cfg) == []
    assert scan(tmp_path / "nonprod", {"k8s/app.yaml": APP.replace("production", "staging")}) == []


POD = """apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: default}}
spec:
  containers:
    - name: app
      image: r.example.com/app:1
{body}
"""


@pytest.mark.parametrize("body, expect", [
    ("      args: [--logfile, logs/app.log]\n      workingDir: /srv\n"
     "      volumeMounts: [{name: v, mountPath: /srv/logs}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: c}}]",
     None),
    ("      args: [--logfile, logs/app.log]\n      volumeMounts: [{name: v, mountPath: /app/logs}]\n"
     "  volumes: [{name: v, hostPath: {path: /var/log/app}}]", None),
    ("      args: [--logfile, logs/app.log]", "logs to logs/app.log (args `--logfile logs/app.log`), inside the "
                                               "container's writable layer"),
    ("      args: [\"--log_dir=/var/log/app\", \"--alsologtostderr\"]", None),
    ("      args: [\"--log_dir=/var/log/app\"]", "logs to /var/log/app (args `--log_dir=/var/log/app`)"),
    ("      env: [{name: LOG_FILE, value: \"$(HOME)/app.log\"}, {name: LOG_PATH, value: /dev/stderr}]", None),
    ("      env: [{name: LOGGING_FILE_PATH, value: /var/log/spring}]", "(env LOGGING_FILE_PATH=/var/log/spring)"),
    ("      command: [sh, -c, \"exec java -jar app.jar > /var/log/app.out 2>&1\"]",
     "logs to /var/log/app.out (command redirects output to /var/log/app.out)"),
    ("      command: [sh, -c, \"exec java -jar app.jar 2>&1 | tee /var/log/app.log\"]", None),
])
def test_pm246_volumes_and_destinations(tmp_path, body, expect):
    got = scan(tmp_path, {"pod.yaml": POD.format(body=body)}, select=("PM246",))
    if expect is None:
        assert got == []
    else:
        assert len(got) == 1 and expect in got[0][3], got


def test_pm246_init_container_and_configmap_key_ref(tmp_path):
    files = {"app.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: prod}
data: {log: /var/log/app/app.log, password: hunter2-not-shown}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: prod}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      initContainers:
        - name: migrate
          image: r.example.com/migrate:1
          env:
            - name: LOG_FILE
              valueFrom: {configMapKeyRef: {name: cfg, key: log}}
            - name: JAVA_OPTS
              value: "-Dpassword=s3cret -Dlogging.file.name=/tmp/m.log"
      containers:
        - name: app
          image: r.example.com/app:1
"""}
    got = scan(tmp_path, files, select=("PM246",))
    assert [(line, m.split(", inside")[0]) for _, _, line, m in got] == [
        (18, "init container 'migrate' logs to /var/log/app/app.log (env LOG_FILE=/var/log/app/app.log (ConfigMap cfg))"),
        (21, "init container 'migrate' logs to /tmp/m.log (a flag in env JAVA_OPTS)")]
    assert not any("s3cret" in m for *_, m in got)
