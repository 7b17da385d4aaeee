"""Helpers shared by the cross-object rules (PM730–PM739): what a Service selects and exposes, the
workload an autoscaler scales, the backends of an Ingress. They answer from the project index
(`ctx.project`) and reuse the PodDisruptionBudget helpers of `_stateful` for "selects nothing".
Not a rule module (no `pm123_` prefix)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from ...model import Source
from ._stateful import dangling

# Labels a controller adds to the pods it makes: never in a pod template, yet fine in a selector
# (a Service per StatefulSet pod, Argo Rollouts' canary/stable Services, Services for a Job's pods).
CONTROLLER_LABELS = {"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
                     "controller-revision-hash", "pod-template-hash", "rollouts-pod-template-hash",
                     "batch.kubernetes.io/job-name", "job-name", "batch.kubernetes.io/controller-uid",
                     "controller-uid"}


def source(entry) -> Source:
    """Where an index entry starts (for related locations)."""
    return Source(entry.file, entry.line)


def where(namespace: str) -> str:
    return f"namespace '{namespace}'" if namespace else "this scan"


def templated(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "${" in value)


def number(value) -> int | None:
    """A port or replica count as an int (`8080`, `"8080"`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def closest_named(entries, name: str):
    """The entry whose name is closest to `name` (a typo, a rename by a letter or two), or None."""
    pool = {e.name: e for e in entries}
    close = difflib.get_close_matches(name, list(pool), n=1, cutoff=0.6)
    return pool[close[0]] if close else None


def labels_text(labels: dict, keys=None) -> str:
    shown = [f"{k}={v}" for k, v in labels.items() if keys is None or k in keys]
    return ", ".join(shown) or "none"


# ---- Services and the pods they select -----------------------------------------------------------
def service_selector(resource) -> dict | None:
    """The Service's selector without controller-added labels; None for a Service without one
    (manual Endpoints, ExternalName), `{}` when only controller labels were left."""
    sel = resource.get(("spec", "selector"))
    if not isinstance(sel, dict) or not sel or resource.get(("spec", "type")) == "ExternalName":
        return None
    return {k: v for k, v in sel.items() if k not in CONTROLLER_LABELS}


class _Selecting:
    """The two things `_stateful.dangling` reads of a PodDisruptionBudget (its selector and namespace),
    so a Service selector is judged by the same logic: no workloads here → quiet, operator pods → quiet."""

    def __init__(self, selector: dict, namespace: str):
        self.namespace, self._selector = namespace, {"matchLabels": selector}

    def get(self, path, default=None):
        return self._selector if tuple(path) == ("spec", "selector") else default


def selects_nothing(project, selector: dict, namespace: str) -> bool:
    """True when the selector matches no pod template while the namespace's workloads are in the
    scan and no custom resource (an operator's pods) is named by a selector value."""
    return bool(selector) and bool(dangling(_Selecting(selector, namespace), project))


def _closeness(selector: dict, labels: dict) -> float:
    score = 0.0
    values = {str(v) for v in labels.values()}
    for k, v in selector.items():
        if k in labels:
            score += 1.0 if str(labels[k]) == str(v) else difflib.SequenceMatcher(None, str(v), str(labels[k])).ratio()
        elif str(v) in values:  # the same value under another key (app → app.kubernetes.io/name)
            score += 0.8
    return score / max(len(selector), 1)


def closest_workload(project, selector: dict, namespace: str):
    """(entry, the labels worth showing) of the workload whose pod labels come closest, or None."""
    best, best_score = None, 0.5
    for w in project.workloads(namespace):
        score = _closeness(selector, w.facts.get("pod_labels") or {})
        if score > best_score:
            best, best_score = w, score
    if best is None:
        return None
    labels = best.facts.get("pod_labels") or {}
    values = {str(v) for v in selector.values()}
    keys = {k for k, v in labels.items() if k in selector or str(v) in values}
    return best, labels_text(labels, keys or None)


def declared_ports(entry) -> list:
    """The (name, number) pairs a workload's containers declare."""
    return [(p.get("name"), number(p.get("port"))) for p in entry.facts.get("ports") or [] if isinstance(p, dict)]


def ports_text(pairs) -> str:
    out = [f"{n}={p}" if n else str(p) for n, p in pairs]
    return ", ".join(out) if out else "no ports"


def service_ports_text(ports) -> str:
    out = []
    for p in ports if isinstance(ports, list) else ():
        if isinstance(p, dict):
            out.append(f"{p.get('port')} ({p['name']})" if p.get("name") else str(p.get("port")))
    return ", ".join(out) if out else "no ports"


# ---- Ingress backends -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Backend:
    service: str
    name_path: tuple  # where the Service name is
    port: object  # int (a Service port number) or str (a Service port name) or None
    port_path: tuple
    route: str  # "shop.example.com/api" or "default backend"


def _backend(node, path: tuple, route: str) -> Backend | None:
    if not isinstance(node, dict):
        return None
    svc = node.get("service")
    if isinstance(svc, dict):  # networking.k8s.io/v1
        port = svc.get("port") if isinstance(svc.get("port"), dict) else {}
        key = "number" if "number" in port else "name"
        return Backend(svc.get("name"), path + ("service", "name"), port.get(key),
                       path + ("service", "port", key), route)
    if "serviceName" in node:  # extensions/v1beta1, networking.k8s.io/v1beta1
        return Backend(node.get("serviceName"), path + ("serviceName",), node.get("servicePort"),
                       path + ("servicePort",), route)
    return None  # a resource backend (spec.defaultBackend.resource) or nothing


def ingress_backends(resource) -> list:
    """Every Service backend of an Ingress: the default backend and each rule path."""
    out = []
    for key in ("defaultBackend", "backend"):
        b = _backend(resource.get(("spec", key)), ("spec", key), "default backend")
        if b:
            out.append(b)
    rules = resource.get(("spec", "rules"))
    for i, r in enumerate(rules if isinstance(rules, list) else ()):
        paths = r.get("http", {}).get("paths") if isinstance(r, dict) and isinstance(r.get("http"), dict) else None
        for j, p in enumerate(paths if isinstance(paths, list) else ()):
            if not isinstance(p, dict):
                continue
            host = r.get("host") or "*"
            b = _backend(p.get("backend"), ("spec", "rules", i, "http", "paths", j, "backend"),
                         f"{host}{p.get('path') or '/'}")
            if b:
                out.append(b)
    return [b for b in out if isinstance(b.service, str) and b.service and not templated(b.service)]
