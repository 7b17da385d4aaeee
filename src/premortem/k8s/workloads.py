"""The pod-spec model: where the pod template lives in every workload kind, and its containers.

One rule, many formats: every workload kind (and later Terraform/Argo adapters) goes through
`pod_spec()` so a container rule is written once.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model import Resource

# kind -> path to the pod spec inside the object
POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),  # Argo Rollouts
    "DeploymentConfig": ("spec", "template", "spec"),  # OpenShift
}
SERVED_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout", "DeploymentConfig",
                "ReplicationController", "Pod"}
BATCH_KINDS = {"Job", "CronJob"}


@dataclass(frozen=True)
class Container:
    path: tuple  # path of the container object inside the resource
    data: dict
    init: bool  # an init container (runs to completion before the app starts)
    index: int

    @property
    def name(self) -> str:
        return str(self.data.get("name", f"#{self.index}"))

    @property
    def image(self) -> str:
        img = self.data.get("image")
        return img if isinstance(img, str) else ""

    def at(self, *steps) -> tuple:
        return self.path + tuple(steps)

    @property
    def env(self) -> list:
        env = self.data.get("env")
        return [e for e in env if isinstance(e, dict)] if isinstance(env, list) else []

    @property
    def ports(self) -> list:
        ports = self.data.get("ports")
        return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def pod_spec_path(resource: Resource) -> tuple | None:
    if resource.format != "kubernetes":
        return None
    path = POD_SPEC_PATHS.get(resource.kind)
    if path is None:
        return None
    spec = resource.get(path)
    return path if isinstance(spec, dict) else None


def pod_spec(resource: Resource) -> dict | None:
    path = pod_spec_path(resource)
    return resource.get(path) if path else None


def pod_template_path(resource: Resource) -> tuple | None:
    path = pod_spec_path(resource)
    return path[:-1] if path and resource.kind != "Pod" else (() if path is not None else None)


def pod_labels(resource: Resource) -> dict:
    tpl = pod_template_path(resource)
    if tpl is None:
        return {}
    labels = resource.get(tpl + ("metadata", "labels"))
    return labels if isinstance(labels, dict) else {}


def containers(resource: Resource, include_init: bool = True) -> list:
    path = pod_spec_path(resource)
    if path is None:
        return []
    spec = resource.get(path)
    out = []
    groups = [("containers", False)] + ([("initContainers", True)] if include_init else [])
    for key, init in groups:
        items = spec.get(key)
        if not isinstance(items, list):
            continue
        for i, c in enumerate(items):
            if isinstance(c, dict):
                out.append(Container(path=path + (key, i), data=c, init=init, index=i))
    return out


def replicas(resource: Resource) -> int | None:
    """Declared replicas (None when the kind has none, 1 when the field is omitted)."""
    if resource.kind not in ("Deployment", "StatefulSet", "ReplicaSet", "Rollout", "DeploymentConfig"):
        return None
    r = resource.get(("spec", "replicas"), 1)
    return r if isinstance(r, int) else None


def env_value(container: Container, name: str) -> tuple[str | None, int | None]:
    """A literal env value by name and its index in `env` (valueFrom counts as unknown)."""
    for i, e in enumerate(container.env):
        if e.get("name") == name:
            v = e.get("value")
            return (str(v) if v is not None else None), i
    return None, None
