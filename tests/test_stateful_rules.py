"""Stateful-workload rules (PM720–PM725): exact messages and positions, and the evidence they weigh."""
import textwrap

import pytest

from premortem.model import Severity
from premortem.rules.rollout._stateful import covers, scaled

from .conftest import FIXTURES, run_scan

DRAIN = ("`kubectl drain` waits forever, node upgrades stall and the cluster autoscaler cannot remove the node; "
         "people then force the drain and evict everything at once")


def _findings(path, rule_id):
    result = run_scan(path, select=[rule_id])
    assert not result.errors, result.errors
    return [(f.line, f.column, f.severity, f.message) for f in result.findings if f.rule_id == rule_id]


def _write(tmp_path, text, name="all.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


STS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: redis
  namespace: production
  annotations: {ANNOTATIONS}
spec:
  replicas: {REPLICAS}
  serviceName: redis
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
        - name: redis
          image: redis:7.2.4
"""
PDB = """\
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: redis, namespace: production}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: redis}}
"""


def _sts(annotations="{}", replicas=3, extra=""):
    return STS.replace("{ANNOTATIONS}", annotations).replace("{REPLICAS}", str(replicas)) + extra


def test_pm723_messages_carry_the_numbers():
    got = _findings(FIXTURES / "PM723" / "bad", "PM723")
    assert got == [
        (19, 19, Severity.HIGH, "maxUnavailable 0 allows no voluntary eviction of the pods it selects "
                                f"(Deployment/payment-api: 4 replicas): {DRAIN}"),
        (28, 19, Severity.HIGH, "maxUnavailable 0% allows no voluntary eviction of the pods it selects "
                                f"(Deployment/payment-api: 4 replicas): {DRAIN}"),
        (51, 17, Severity.HIGH, "minAvailable 1 with 1 pod selected (StatefulSet/redis: 1 replica): "
                                f"0 disruptions allowed, so {DRAIN}"),
        (75, 17, Severity.HIGH, "minAvailable 75% (= 3 pods) with 3 pods selected (StatefulSet/zookeeper: "
                                f"3 replicas): 0 disruptions allowed, so {DRAIN}"),
        (105, 17, Severity.HIGH, "minAvailable 2 with 2 pods selected (Deployment/checkout: "
                                 f"HorizontalPodAutoscaler minimum 2): 0 disruptions allowed, so {DRAIN}"),
        (141, 17, Severity.HIGH, "minAvailable 4 with 4 pods selected (Deployment/cart-read: 2 replicas; "
                                 f"Deployment/cart-write: 2 replicas): 0 disruptions allowed, so {DRAIN}"),
        (151, 17, Severity.HIGH, f"minAvailable 100% allows no voluntary eviction of the pods it selects: {DRAIN}"),
    ]


@pytest.mark.parametrize("min_available,replicas,fires", [
    (3, 3, True), (2, 3, False), ("100%", 5, True), ("67%", 3, True), ("66%", 3, False), (1, 0, False)])
def test_pm723_min_available_against_replicas(tmp_path, min_available, replicas, fires):
    pdb = PDB.replace("maxUnavailable: 1", f"minAvailable: {min_available!r}".replace("'", '"'))
    got = _findings(_write(tmp_path, _sts(replicas=replicas, extra=pdb)), "PM723")
    assert bool(got) == fires, got


def test_pm720_says_which_evidence_is_missing():
    got = {line: (sev, msg) for line, _, sev, msg in _findings(FIXTURES / "PM720" / "bad", "PM720")}
    assert set(got) == {19, 45, 79, 103}
    sev, msg = got[19]
    assert sev == Severity.HIGH
    assert msg.startswith("StatefulSet 'redis' runs redis (image 'redis:7.2.4'): no PodDisruptionBudget selects "
                          "its pods (app=redis, 3 replicas)")
    assert "; no backup evidence (no backup annotation, backup CR or dump CronJob in the scan)" in msg
    assert msg.endswith("[production: namespace 'production']")
    sev, msg = got[45]  # has a PDB: only the backup is missing; the exporter sidecar is not the database
    assert sev == Severity.HIGH and "PodDisruptionBudget" not in msg
    assert msg.startswith("StatefulSet 'orders-db' runs postgresql (image 'postgres:16.2'): no backup evidence")
    sev, msg = got[79]  # Velero annotation: only the PDB is missing, which is an availability risk
    assert sev == Severity.MEDIUM and "backup" not in msg
    assert "no PodDisruptionBudget selects its pods (app=catalog-db, 2 replicas)" in msg
    sev, msg = got[103]  # k8up.io/backup: "false" is not evidence; one replica needs no PDB
    assert msg.startswith("Deployment 'ledger-store' runs postgresql (port 5432): no backup evidence")
    assert "PodDisruptionBudget" not in msg


@pytest.mark.parametrize("evidence,fires", [
    ("", True),
    ('{premortem.dev/backup: "nightly snapshot to s3://backups/redis"}', False),
    ('{premortem.dev/backup: "none"}', True),
    ('{stash.appscode.com/backup-blueprint: redis}', False),
    ("\n---\napiVersion: velero.io/v1\nkind: Schedule\nmetadata: {name: hourly, namespace: velero}\n", False),
    ("\n---\napiVersion: k8up.io/v1\nkind: Schedule\nmetadata: {name: hourly, namespace: other}\n", True),
    ("\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: redis-rdb-dump, namespace: production}\n"
     "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
     "          containers: [{name: dump, image: 'redis:7.2.4'}]\n", False),
])
def test_pm720_backup_evidence(tmp_path, evidence, fires):
    annotations = evidence if evidence.startswith("{") else "{}"
    extra = PDB + (evidence if evidence.startswith("\n") else "")
    got = _findings(_write(tmp_path, _sts(annotations=annotations, extra=extra)), "PM720")
    assert bool(got) == fires, got
    if fires:
        assert "no backup evidence" in got[0][3] and "PodDisruptionBudget" not in got[0][3]


def test_pm724_names_the_workload_it_was_meant_for():
    got = _findings(FIXTURES / "PM724" / "bad", "PM724")
    assert got[0][:2] == (22, 3)
    assert got[0][3] == ("PodDisruptionBudget 'redis' selector app=redis matches none of the 1 workload in "
                         "namespace 'production' (the pods of StatefulSet/redis have app.kubernetes.io/name=redis): "
                         "it protects nothing, so a drain can evict every replica of the workload it was meant for at once")
    assert got[2][:2] == (40, 1) and "has no selector, so it selects no pods" in got[2][3]


def test_pm721_points_at_the_mount_and_its_volume():
    result = run_scan(FIXTURES / "PM721" / "bad", select=["PM721"])
    f = next(f for f in result.findings if f.file == "redis-7.3.yaml")
    assert (f.line, f.column) == (22, 26)
    assert f.message.startswith("container 'redis' keeps its redis data directory /data on volume 'data', an "
                                "emptyDir, deleted with the pod (the StatefulSet has no volumeClaimTemplates)")
    assert [(r.line, r.message) for r in f.related] == [(27, "volume 'data' is emptyDir")]


def test_helpers():
    assert scaled("75%", 3) == 3 and scaled("50%", 3) == 2 and scaled(2, 3) == 2 and scaled("x", 3) is None
    assert scaled(True, 3) is None
    assert covers("/data", "/data") and covers("/var/lib/postgresql", "/var/lib/postgresql/data")
    assert covers("/var/lib/postgresql/data/pgdata", "/var/lib/postgresql/data")
    assert not covers("/data2", "/data") and not covers("/var/lib/mysql-files", "/var/lib/mysql")
