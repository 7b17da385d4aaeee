"""Helpers shared by the stateful-workload rules (PM720–PM729): which data store a workload runs,
where its data lives (claim-backed or not), and what a PodDisruptionBudget covers. Not a rule."""
from __future__ import annotations

import math

from ...k8s.databases import CACHES, database_of_container
from ...k8s.workloads import containers, pod_spec_path
from ...project import same_ns  # noqa: F401 (also used by sibling rule modules)

DATA_VOLUME_NAMES = {"data", "storage", "datadir", "data-dir", "pgdata"}
# sidecars named after the engine they serve (postgres-exporter, redis-sentinel) hold no data
def data_store(resource):
    """(container, DatabaseGuess) of the container that keeps records, or None (caches do not count)."""
    for c in containers(resource, include_init=False):
        guess = database_of_container(c)
        if guess and guess.engine not in CACHES:
            return c, guess
    return None


def claim_templates(resource) -> dict:
    """volumeClaimTemplates by name -> index."""
    vcts = resource.get(("spec", "volumeClaimTemplates"))
    if resource.kind != "StatefulSet" or not isinstance(vcts, list):
        return {}
    return {str((t.get("metadata") or {}).get("name")): i for i, t in enumerate(vcts)
            if isinstance(t, dict) and isinstance(t.get("metadata"), dict)}


def pod_volumes(resource) -> dict:
    """Pod volumes by name -> (path of the volume, volume dict)."""
    spec = pod_spec_path(resource)
    vols = resource.get(spec + ("volumes",)) if spec else None
    if not isinstance(vols, list):
        return {}
    return {str(v.get("name")): (spec + ("volumes", i), v) for i, v in enumerate(vols) if isinstance(v, dict)}


def backing(resource, volume: str) -> tuple[str, tuple | None]:
    """What backs a mounted volume: ('claim', path) for a volumeClaimTemplate or a PVC,
    ('emptyDir' | 'ephemeral' | 'hostPath' | 'other', path) for the rest, ('missing', None)."""
    vcts = claim_templates(resource)
    if volume in vcts:
        return "claim", ("spec", "volumeClaimTemplates", vcts[volume])
    path, vol = pod_volumes(resource).get(volume, (None, None))
    if vol is None:
        return "missing", None
    for kind in ("persistentVolumeClaim", "emptyDir", "ephemeral", "hostPath"):
        if kind in vol:
            return ("claim" if kind == "persistentVolumeClaim" else kind), path + (kind,)
    return "other", path


def holds_data(resource) -> bool:
    """True when the workload keeps anything on a claim (a volumeClaimTemplate or a PVC volume)."""
    return bool(claim_templates(resource)) or any(
        "persistentVolumeClaim" in v for _, v in pod_volumes(resource).values())


def covers(mount_path: str, data_path: str) -> bool:
    """A mount at `mount_path` holds `data_path` (the same dir, a parent of it, or a dir inside it)."""
    m, d = mount_path.rstrip("/") or "/", data_path.rstrip("/")
    return m == d or d.startswith(m + "/") or m.startswith(d + "/")


def autoscaler_for(project, kind: str, name: str, namespace: str):
    """The HPA or KEDA ScaledObject scaling a workload, or None."""
    found = project.autoscalers_for(kind, name, namespace)
    return found[0] if found else None


# ---- PodDisruptionBudgets ---------------------------------------------------------------------
def selected_workloads(project, selector, namespace: str) -> list:
    """Index entries of the workloads whose pods a PDB selector matches (`{}` matches every pod)."""
    return project.workloads_selected_by(selector, namespace)


def scaled(value, total: int) -> int | None:
    """An int-or-percent PDB field against `total` pods, rounded up as the disruption controller does."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].strip().isdigit():
        return math.ceil(int(value[:-1]) * total / 100)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def show_selector(selector) -> str:
    if not isinstance(selector, dict):
        return "none"
    labels = selector.get("matchLabels") if ("matchLabels" in selector or "matchExpressions" in selector) else selector
    parts = [f"{k}={v}" for k, v in labels.items()] if isinstance(labels, dict) else []
    exprs = selector.get("matchExpressions")
    for e in exprs if isinstance(exprs, list) else ():
        if isinstance(e, dict):
            parts.append(f"{e.get('key')} {e.get('operator')} {e.get('values') or ''}".strip())
    return ", ".join(parts) or "{} (every pod)"


BUILTIN_KINDS = {
    "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
    "Service", "Endpoints", "EndpointSlice", "Ingress", "IngressClass", "NetworkPolicy", "ConfigMap", "Secret",
    "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "ServiceAccount", "Role", "RoleBinding",
    "ClusterRole", "ClusterRoleBinding", "Namespace", "PodDisruptionBudget", "HorizontalPodAutoscaler",
    "LimitRange", "ResourceQuota", "PriorityClass", "CustomResourceDefinition", "List",
}


def dangling(resource, project) -> str:
    """Why a PDB protects nothing ('' when it selects something, or when the scan cannot tell)."""
    selector = resource.get(("spec", "selector"))
    if not isinstance(selector, dict):
        return "has no selector, so it selects no pods"
    if selected_workloads(project, selector, resource.namespace):
        return ""
    visible = [w for w in project.workloads(resource.namespace) if w.kind not in ("Job", "CronJob")]
    if not visible:
        return ""  # the workloads live outside this scan
    wanted = selector.get("matchLabels") if isinstance(selector.get("matchLabels"), dict) else {}
    values = {str(v) for v in wanted.values()}
    if any(project.get(kind, v, resource.namespace) for v in values for kind in project.kinds()
           if kind not in BUILTIN_KINDS):
        return ""  # pods made by an operator for a custom resource named in the selector
    hint = ""
    for w in visible:  # the workload it was probably meant for: shares a label key or value
        labels = w.facts.get("pod_labels") or {}
        shared = sorted(k for k, v in labels.items() if k in wanted or str(v) in values)
        if shared:
            hint = f" (the pods of {w.kind}/{w.name} have " + ", ".join(f"{k}={labels[k]}" for k in shared) + ")"
            break
    where = f"namespace '{resource.namespace}'" if resource.namespace else "this scan"
    n = len(visible)
    return f"selector {show_selector(selector)} matches none of the {n} workload{'s' if n != 1 else ''} in {where}{hint}"
