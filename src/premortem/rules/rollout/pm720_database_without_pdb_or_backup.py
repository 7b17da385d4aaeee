"""PM720: a production database workload with no PodDisruptionBudget and/or no backup evidence."""
import re

from ...k8s.workloads import pod_template_path, pod_labels, replicas
from ...model import Severity
from ..registry import Hit, rule
from ._stateful import autoscaler_for, claim_templates, data_store, holds_data, same_ns, show_selector

BACKUP_ANNOTATIONS = ["backup.velero.io/backup-volumes", "k8up.io/backup", "k8up.io/backupcommand",
                      "stash.appscode.com/*", "premortem.dev/backup"]
BACKUP_KINDS = ["Schedule", "Backup", "ScheduledBackup", "BackupConfiguration", "BackupSchedule",
                "PerconaXtraDBClusterBackup", "PerconaServerMongoDBBackup", "PerconaPGBackup", "MysqlBackup",
                "MySQLBackup", "SnapshotGroup", "RecurringJob"]
BACKUP_WORDS = re.compile(r"backup|dump|snapshot|velero|restic|kopia|wal-g|pgbackrest|barman|mydumper", re.I)
OFF = {"", "false", "no", "none", "off", "0"}


def _annotated(resource, patterns) -> str:
    places = [("metadata",)]
    tpl = pod_template_path(resource)
    if tpl:
        places.append(tpl + ("metadata",))
    places += [("spec", "volumeClaimTemplates", i, "metadata") for i in claim_templates(resource).values()]
    for place in places:
        ann = resource.get(place + ("annotations",))
        for key, value in (ann.items() if isinstance(ann, dict) else ()):
            if str(value).strip().lower() in OFF:
                continue
            if any(key == p or (p.endswith("*") and key.startswith(p[:-1])) for p in patterns):
                return f"annotation {key}"
    return ""


def backup_evidence(resource, ctx) -> str:
    """What shows this workload's data is backed up ('' when nothing does)."""
    found = _annotated(resource, ctx.options.get("backup_annotations", BACKUP_ANNOTATIONS))
    if found:
        return found
    kinds = ctx.options.get("backup_kinds", BACKUP_KINDS)
    for e in ctx.project.of_kind(*kinds):
        if same_ns(e.namespace, resource.namespace) or "velero" in (e.namespace or ""):
            return f"{e.kind}/{e.name}"
    for e in ctx.project.in_namespace("CronJob", resource.namespace):
        if BACKUP_WORDS.search(" ".join([e.name, *e.facts.get("images", [])])):
            return f"CronJob/{e.name}"
    return ""


@rule(id="PM720", name="database-without-pdb-or-backup", severity="high",
      severity_reason="Without a backup a bad rollout or a lost volume is permanent data loss; without a PDB a "
                      "drain can evict every replica at once (medium when only the PDB is missing).",
      incidents=["R10", "7.3"], title="Production database has no PodDisruptionBudget or no backup",
      kinds=["StatefulSet", "Deployment"], production_only=True,
      options={"backup_annotations": BACKUP_ANNOTATIONS, "backup_kinds": BACKUP_KINDS},
      fix="Add a PodDisruptionBudget with `maxUnavailable: 1` selecting the database pods, and back the data "
          "up: a Velero/K8up schedule, an operator backup CR, or a CronJob running pg_dump/mysqldump; mark "
          "the workload with `backup.velero.io/backup-volumes` or `premortem.dev/backup: <where>`.")
def check(resource, ctx):
    """## What it checks
    A production StatefulSet (or a Deployment with a PersistentVolumeClaim) whose container runs a
    data store (recognised by image or port; caches such as memcached do not count) must have:
    - a PodDisruptionBudget selecting its pods, when it runs more than one replica (a PDB on a
      single replica can only block drains, see PM723);
    - backup evidence: an annotation on the workload, its pod template or its volumeClaimTemplates
      (`backup.velero.io/backup-volumes`, `k8up.io/backup`, `stash.appscode.com/*`,
      `premortem.dev/backup`), a backup custom resource in the scan (Velero/K8up `Schedule`/`Backup`,
      CloudNativePG `ScheduledBackup`, Stash `BackupConfiguration`, Percona/MySQL operator backups,
      Gemini `SnapshotGroup`, Longhorn `RecurringJob`), or a CronJob in the namespace whose name or
      image says backup/dump/snapshot/velero/restic/wal-g/pgbackrest.
    The message says which of the two is missing.

    ## Why it breaks production
    In catalog 7.3 a Redis StatefulSet update dropped its volumeClaimTemplates and the rolling update
    replaced every pod with empty storage; with "no pod-level backup or rollback" carts, sessions and
    queue data were gone for good. In the on-call narrative (R10) a PVC detached during a node
    scale-down and three hours went into recovering it, because nothing held the replicas up or the data elsewhere.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: production}
    spec:
      replicas: 3
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          containers:
            - name: redis
              image: redis:7.2.4
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: redis
      namespace: production
      annotations: {premortem.dev/backup: "velero schedule redis-hourly"}
    spec:
      replicas: 3
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          containers:
            - name: redis
              image: redis:7.2.4
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: redis, namespace: production}
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app: redis}}
    ```

    ## Fix
    Add a PDB (`maxUnavailable: 1`) for every replicated database, schedule backups of its volumes
    (Velero, K8up, the operator's backup CR or a dump CronJob) and test a restore; annotate the
    workload so reviewers and this check can see where the backups are.
    """
    found = data_store(resource)
    if found is None or (resource.kind == "Deployment" and not holds_data(resource)):
        return
    container, guess = found
    labels = pod_labels(resource)
    count = replicas(resource)
    autoscaled = autoscaler_for(ctx.project, resource.kind, resource.name, resource.namespace)
    missing = []
    if (autoscaled or (count or 0) > 1) and not (labels and ctx.project.pdbs_selecting(labels, resource.namespace)):
        n = "autoscaled" if autoscaled else f"{count} replicas"
        missing.append(f"no PodDisruptionBudget selects its pods ({show_selector(labels)}, {n}), so a node "
                       f"drain or autoscaler scale-down can evict every replica at once")
    has_backup = backup_evidence(resource, ctx)
    if not has_backup:
        missing.append("no backup evidence (no backup annotation, backup CR or dump CronJob in the scan), "
                       "so a bad rollout or a lost volume is permanent data loss")
    if not missing:
        return
    path = container.at("image") if guess.evidence.startswith("image") else container.at("name")
    yield Hit(path=path, severity=None if not has_backup else Severity.MEDIUM,
              message=f"{resource.kind} '{resource.name}' runs {guess.engine} ({guess.evidence}): "
                      + "; ".join(missing))
