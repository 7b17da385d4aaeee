"""Kustomize's built-in transformers on source-tracking objects, in kustomize's own order:
namespace, name prefix/suffix, labels, annotations, replicas, images; then, once for the whole
build, the name-suffix hash of generated ConfigMaps/Secrets and the rewriting of references to
renamed objects. A value a transformer sets points at the kustomization line that asked for it.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ..k8s.workloads import POD_SPEC_PATHS
from ..model import Source
from .kustomize_tree import N, child, ensure_map, plain, value


@dataclass
class Obj:
    """One object of a build: its node tree, where it was declared and the names it had."""

    root: N
    file: str
    line: int
    doc_index: int = 0
    names: list = field(default_factory=list)  # every name it had, first as written
    namespaces: list = field(default_factory=list)
    hash: bool = False  # a generated object that gets kustomize's name-suffix hash

    @property
    def kind(self) -> str:
        return str(value(self.root, "kind", default=""))

    @property
    def api(self) -> str:
        return str(value(self.root, "apiVersion", default=""))

    @property
    def name(self) -> str:
        return str(value(self.root, "metadata", "name", default=""))

    @property
    def namespace(self) -> str:
        return str(value(self.root, "metadata", "namespace", default="") or "")

    def rename(self, new: str) -> None:
        md = child(self.root, "metadata")
        node = child(md, "name")
        md.v["name"] = N(new, node.src if node else md.src, node.ksrc if node else md.src)
        self.names.append(new)


CLUSTER_KINDS = {"Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
                 "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass", "APIService",
                 "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "CSIDriver", "CSINode",
                 "VolumeSnapshotClass", "PodSecurityPolicy", "CertificateSigningRequest", "ClusterIssuer",
                 "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "VolumeAttachment"}
NO_PREFIX_KINDS = {"CustomResourceDefinition", "APIService", "Namespace"}
WORKLOADS = ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet")


def set_namespace(objs: list, ns: N) -> None:
    for o in objs:
        if o.kind == "Namespace":
            o.rename(str(ns.v))
            continue
        if o.kind in CLUSTER_KINDS:
            continue
        md = ensure_map(o.root, "metadata", ns.src)
        md.v["namespace"] = N(ns.v, ns.src, ns.src)
        o.namespaces.append(str(ns.v))
        if o.kind in ("RoleBinding", "ClusterRoleBinding"):
            subjects = child(o.root, "subjects")
            for s in subjects.v if subjects is not None and isinstance(subjects.v, list) else []:
                if value(s, "kind") == "ServiceAccount" and value(s, "name") == "default":
                    s.v["namespace"] = N(ns.v, ns.src, ns.src)


def add_prefix_suffix(objs: list, prefix: str, suffix: str) -> None:
    for o in objs:
        if o.kind not in NO_PREFIX_KINDS and child(o.root, "metadata", "name") is not None:
            o.rename(f"{prefix}{o.name}{suffix}")


# (kinds or None for all, path with "*" for every list item, create when missing, category)
LABEL_SPECS = [
    (None, ("metadata", "labels"), True, "meta"),
    (("Service",), ("spec", "selector"), True, "selector"),
    (("ReplicationController",), ("spec", "selector"), True, "selector"),
    (("ReplicationController",) + WORKLOADS + ("Job",), ("spec", "template", "metadata", "labels"), True, "template"),
    (WORKLOADS, ("spec", "selector", "matchLabels"), True, "selector"),
    (("StatefulSet",), ("spec", "volumeClaimTemplates", "*", "metadata", "labels"), True, "template"),
    (("Job",), ("spec", "selector", "matchLabels"), False, "selector"),
    (("CronJob",), ("spec", "jobTemplate", "spec", "selector", "matchLabels"), False, "selector"),
    (("CronJob",), ("spec", "jobTemplate", "metadata", "labels"), True, "template"),
    (("CronJob",), ("spec", "jobTemplate", "spec", "template", "metadata", "labels"), True, "template"),
    (("PodDisruptionBudget",), ("spec", "selector", "matchLabels"), False, "selector"),
    (("NetworkPolicy",), ("spec", "podSelector", "matchLabels"), False, "selector"),
    (("NetworkPolicy",), ("spec", "ingress", "*", "from", "*", "podSelector", "matchLabels"), False, "selector"),
    (("NetworkPolicy",), ("spec", "egress", "*", "to", "*", "podSelector", "matchLabels"), False, "selector"),
]
ANNOTATION_SPECS = [
    (None, ("metadata", "annotations"), True, "meta"),
    (("ReplicationController",) + WORKLOADS + ("Job",), ("spec", "template", "metadata", "annotations"), True, "template"),
    (("CronJob",), ("spec", "jobTemplate", "metadata", "annotations"), True, "template"),
    (("CronJob",), ("spec", "jobTemplate", "spec", "template", "metadata", "annotations"), True, "template"),
]


def _maps_at(node: N, path: tuple, create: bool, src: Source):
    """Every mapping at `path` (a '*' step visits each list item), created when allowed."""
    if not path:
        yield node
        return
    step, rest = path[0], path[1:]
    if step == "*":
        for item in node.v if isinstance(node.v, list) else []:
            yield from _maps_at(item, rest, create, src)
        return
    if not isinstance(node.v, dict):
        return
    nxt = node.v.get(step)
    if nxt is None or nxt.v is None:
        if not create or "*" in rest:
            return
        nxt = N({}, src, src)
        node.v[step] = nxt
    if isinstance(nxt.v, (dict, list)):
        yield from _maps_at(nxt, rest, create, src)


def add_pairs(objs: list, pairs: N, specs: list, categories=("meta", "selector", "template")) -> None:
    """Set every key of `pairs` (a mapping node from the kustomization) on the spec'd paths."""
    for o in objs:
        for kinds, path, create, category in specs:
            if category not in categories or (kinds is not None and o.kind not in kinds):
                continue
            for target in _maps_at(o.root, path, create, pairs.src):
                if isinstance(target.v, dict):
                    for k, v in pairs.v.items():
                        target.v[k] = N(v.v, v.src, v.ksrc)


def set_replicas(objs: list, entry: N) -> None:
    name, count = value(entry, "name"), child(entry, "count")
    for o in objs:
        if o.kind in WORKLOADS + ("ReplicationController",) and name in o.names and count is not None:
            spec = ensure_map(o.root, "spec", count.src)
            spec.v["replicas"] = N(count.v, count.src, count.src)


def split_image(image: str) -> tuple[str, str, str]:
    name, digest = (image.split("@", 1) + [""])[:2] if "@" in image else (image, "")
    tag = ""
    if name.rfind(":") > name.rfind("/"):
        name, tag = name.rsplit(":", 1)
    return name, tag, digest


def _containers(node: N):
    if isinstance(node.v, dict):
        for k, c in node.v.items():
            if k in ("containers", "initContainers", "ephemeralContainers") and isinstance(c.v, list):
                yield from (x for x in c.v if isinstance(x.v, dict))
            else:
                yield from _containers(c)
    elif isinstance(node.v, list):
        for c in node.v:
            yield from _containers(c)


def set_images(objs: list, entry: N) -> None:
    """One `images:` entry: newName/newTag/digest/tagSuffix on every container using that image."""
    want = value(entry, "name")
    new_name, new_tag, digest, suffix = (value(entry, k) for k in ("newName", "newTag", "digest", "tagSuffix"))
    setter = next((child(entry, k) for k in ("digest", "newTag", "newName", "tagSuffix") if child(entry, k)), entry)
    for o in objs:
        for c in _containers(o.root):
            img = c.v.get("image")
            if img is None or not isinstance(img.v, str):
                continue
            name, tag, dig = split_image(img.v)
            if name != want:
                continue
            name = new_name or name
            if new_tag and digest:
                tag, dig = new_tag, digest
            elif new_tag:
                tag, dig = new_tag, ""
            elif digest:
                tag, dig = "", digest
            if suffix:
                tag += suffix
            c.v["image"] = N(name + (f":{tag}" if tag else "") + (f"@{dig}" if dig else ""), setter.src, img.ksrc)


# ---- whole-build steps -------------------------------------------------------------------------
def _hash(o: Obj) -> str:
    """kustomize's name-suffix hash (api/hasher): sha256 over a JSON summary, 10 hex chars re-lettered."""
    data = plain(o.root)
    summary = {"kind": o.kind, "name": "", "data": data.get("data") or ""}
    if o.kind == "Secret":
        summary["type"] = data.get("type") or ""
        if isinstance(data.get("stringData"), dict):
            summary["stringData"] = data["stringData"]
    elif isinstance(data.get("binaryData"), dict) and data["binaryData"]:
        summary["binaryData"] = data["binaryData"]
    text = json.dumps(summary, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10].translate(str.maketrans("013ae", "ghkmt"))


def add_hashes(objs: list) -> None:
    for o in objs:
        if o.hash:
            o.rename(f"{o.name}-{_hash(o)}")


_C = ("containers", "initContainers", "ephemeralContainers")
POD_REFS = ([("ConfigMap", ("volumes", "*", "configMap", "name")),
             ("ConfigMap", ("volumes", "*", "projected", "sources", "*", "configMap", "name")),
             ("Secret", ("volumes", "*", "secret", "secretName")),
             ("Secret", ("volumes", "*", "projected", "sources", "*", "secret", "name")),
             ("Secret", ("imagePullSecrets", "*", "name")),
             ("ServiceAccount", ("serviceAccountName",)), ("ServiceAccount", ("serviceAccount",)),
             ("PersistentVolumeClaim", ("volumes", "*", "persistentVolumeClaim", "claimName")),
             ("PriorityClass", ("priorityClassName",))]
            + [(k, (c, "*") + p) for c in _C for k, p in (
                ("ConfigMap", ("env", "*", "valueFrom", "configMapKeyRef", "name")),
                ("ConfigMap", ("envFrom", "*", "configMapRef", "name")),
                ("Secret", ("env", "*", "valueFrom", "secretKeyRef", "name")),
                ("Secret", ("envFrom", "*", "secretRef", "name")))])
KIND_REFS = {
    "Ingress": [("Service", ("spec", "rules", "*", "http", "paths", "*", "backend", "service", "name")),
                ("Service", ("spec", "rules", "*", "http", "paths", "*", "backend", "serviceName")),
                ("Service", ("spec", "defaultBackend", "service", "name")),
                ("Service", ("spec", "backend", "serviceName")), ("Secret", ("spec", "tls", "*", "secretName"))],
    "StatefulSet": [("Service", ("spec", "serviceName"))],
    "ServiceAccount": [("Secret", ("secrets", "*", "name")), ("Secret", ("imagePullSecrets", "*", "name"))],
    "HorizontalPodAutoscaler": [(("spec", "scaleTargetRef", "kind"), ("spec", "scaleTargetRef", "name"))],
    "RoleBinding": [(("roleRef", "kind"), ("roleRef", "name"))],
    "ClusterRoleBinding": [(("roleRef", "kind"), ("roleRef", "name"))],
}


def _leaves(node: N, path: tuple, parent: N | None = None):
    """(parent mapping, key) of every scalar at `path` ('*' = each list item)."""
    if not path:
        yield parent
        return
    step = path[0]
    if step == "*":
        for item in node.v if isinstance(node.v, list) else []:
            yield from _leaves(item, path[1:], node)
    elif isinstance(node.v, dict) and step in node.v:
        if len(path) == 1:
            yield node
        else:
            yield from _leaves(node.v[step], path[1:], node)


def fix_references(objs: list) -> None:
    """Point references (configMapRef, serviceAccountName, roleRef, ...) at renamed objects."""
    by_kind: dict = {}
    for o in objs:
        by_kind.setdefault(o.kind, []).append(o)

    def rewrite(holder: N, key: str, kind: str, ns: str) -> None:
        node = holder.v.get(key)
        if node is None or not isinstance(node.v, str) or not kind:
            return
        targets = by_kind.get(kind, [])
        if any(t.name == node.v for t in targets):
            return
        cands = [t for t in targets if node.v in t.names
                 and (kind in CLUSTER_KINDS or ns is None or t.namespace == ns)]
        if cands:
            holder.v[key] = N(cands[0].name, node.src, node.ksrc)

    for o in objs:
        ns = o.namespace
        pod = POD_SPEC_PATHS.get(o.kind)
        spec = child(o.root, *pod) if pod else None
        if spec is not None:
            for kind, path in POD_REFS:
                for holder in _leaves(spec, path):
                    rewrite(holder, path[-1], kind, ns)
        for kind, path in KIND_REFS.get(o.kind, []):
            kind = kind if isinstance(kind, str) else value(o.root, *kind, default="")
            for holder in _leaves(o.root, path):
                rewrite(holder, path[-1], kind, ns)
        if o.kind in ("RoleBinding", "ClusterRoleBinding"):
            subjects = child(o.root, "subjects")
            for s in subjects.v if subjects is not None and isinstance(subjects.v, list) else []:
                if value(s, "kind") == "ServiceAccount":
                    rewrite(s, "name", "ServiceAccount", value(s, "namespace", default=None) or ns)


def matches_target(o: Obj, target: dict) -> bool:
    """A patch `target:` selector: group/version/kind/name/namespace (regexes) and label/annotation selectors."""
    group, _, version = o.api.rpartition("/")
    checks = [("group", [group]), ("version", [version]), ("kind", [o.kind]), ("name", o.names),
              ("namespace", o.namespaces or [""])]
    for key, candidates in checks:
        want = target.get(key)
        if want in (None, ""):
            continue
        if not any(_full(str(want), c) for c in candidates):
            return False
    for key, meta in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        sel = target.get(key)
        have = plain(child(o.root, "metadata", meta) or N({}, o.root.src))
        if sel and not _selector(str(sel), have if isinstance(have, dict) else {}):
            return False
    return True


def _full(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return pattern == text


def _selector(sel: str, labels: dict) -> bool:
    """Equality-based label selectors (`a=b,c!=d,e`) and `key in (x,y)` / `notin`."""
    for term in re.split(r",(?![^()]*\))", sel):
        term = term.strip()
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if m:
            vals = {v.strip() for v in m.group(3).split(",")}
            ok = str(labels.get(m.group(1))) in vals if m.group(1) in labels else False
            if ok != (m.group(2) == "in"):
                return False
        elif "!=" in term:
            k, v = (x.strip() for x in term.split("!=", 1))
            if str(labels.get(k)) == v:
                return False
        elif "=" in term:
            k, v = (x.strip() for x in term.replace("==", "=").split("=", 1))
            if str(labels.get(k)) != v or k not in labels:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term and term not in labels:
            return False
    return True
