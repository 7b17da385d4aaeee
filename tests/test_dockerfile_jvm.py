"""R3 across files: the JVM heap a Dockerfile sets (ENV, ENTRYPOINT, CMD, inherited from an earlier
stage) against the memory limit of the Kubernetes workload that runs the image (PM710)."""
import textwrap

import pytest

from premortem.config import Config
from premortem.model import Severity

from .conftest import FIXTURES, run_scan

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: pay, namespace: production}}
spec:
  template:
    spec:
      containers:
        - name: pay
          image: {image}
          resources: {{limits: {{memory: 1Gi}}}}
"""
HEAVY = "FROM eclipse-temurin:17.0.10_7-jre\nENV JAVA_OPTS=-Xmx2g\nENTRYPOINT java $JAVA_OPTS -jar /app.jar\n"
LIGHT = "FROM eclipse-temurin:17.0.10_7-jre\nENV JAVA_OPTS=-Xmx256m\nENTRYPOINT java $JAVA_OPTS -jar /app.jar\n"


def tree(tmp_path, files):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture(scope="module")
def bad():
    return {f.line: f for f in run_scan(FIXTURES / "PM710" / "bad", select=["PM710"]).findings if f.file == "apps.yaml"}


@pytest.mark.parametrize("line, heap, where, dockerfile, at", [
    (16, "2Gi from -Xmx2g (Dockerfile ENV JAVA_OPTS)", "shell-form ENTRYPOINT", "orders-api", 3),
    (22, "3Gi from -Xmx3g (Dockerfile ENV JAVA_TOOL_OPTIONS)", "JAVA_TOOL_OPTIONS", "ledger-svc", 3),
    (28, "3Gi from -Xmx3g (Dockerfile ENV JAVA_OPTS)", "inherited from stage runtime, ARG HEAP", "search-api", 7),
    (34, "1.5Gi from -Xmx1536m (Dockerfile ENTRYPOINT)", "exec-form ENTRYPOINT", "invoice-api", 4)])
def test_heap_from_the_dockerfile(bad, line, heap, where, dockerfile, at):
    f = bad[line]
    assert f.severity == Severity.CRITICAL and f"cannot hold even the JVM heap of {heap}" in f.message, where
    assert [(r.file, r.line) for r in f.related] == [(f"services/{dockerfile}/Dockerfile", at)]


@pytest.mark.parametrize("key, path", [
    ("registry.example.com/pay/payments", "apps/pay-svc/Dockerfile.release"),
    ("registry.example.com/pay/payments:3.0.0", "./apps/pay-svc/Dockerfile.release"),
    ("payments", "apps/pay-svc/"),
])
def test_config_images_maps_an_image_to_its_dockerfile(tmp_path, key, path):
    tree(tmp_path, {"deploy.yaml": DEPLOY.format(image="registry.example.com/pay/payments:3.0.0"),
                    "apps/pay-svc/Dockerfile.release": HEAVY})
    assert run_scan(tmp_path, select=["PM710"]).findings == []  # the directory is not named like the image
    f, = run_scan(tmp_path, select=["PM710"], config=Config(images={key: path})).findings
    assert (f.line, f.column) == (10, 40) and [(r.file, r.line) for r in f.related] == [("apps/pay-svc/Dockerfile.release", 2)]


def test_the_plain_dockerfile_wins_over_its_dev_variant(tmp_path):
    tree(tmp_path, {"deploy.yaml": DEPLOY.format(image="registry.example.com/pay/payments:3.0.0"),
                    "payments/Dockerfile": HEAVY, "payments/Dockerfile.dev": LIGHT, "payments/a.dockerfile": LIGHT})
    f, = run_scan(tmp_path, select=["PM710"]).findings
    assert [(r.file, r.line) for r in f.related] == [("payments/Dockerfile", 2)]


def test_a_builder_stages_heap_never_counts(tmp_path):
    tree(tmp_path, {"deploy.yaml": DEPLOY.format(image="registry.example.com/pay/payments:3.0.0"),
                    "payments/Dockerfile": """
                        FROM maven:3.9.6-eclipse-temurin-17 AS build
                        ENV JAVA_TOOL_OPTIONS=-Xmx4g
                        FROM eclipse-temurin:17.0.10_7-jre
                        ENTRYPOINT ["java", "-jar", "/app.jar"]
                        """})
    assert run_scan(tmp_path, select=["PM710"]).findings == []
