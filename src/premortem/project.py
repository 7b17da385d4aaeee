"""The project index: compact facts about every resource of one scan, for cross-object questions
("which Service selects this pod?", "which PDB covers this StatefulSet?", "which Dockerfile builds
this image?"). Entries are small so a 100k-object scan fits in memory; rules get the full resource
they are judging plus this index.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .k8s import workloads
from .k8s.selectors import selector_matches
from .model import Resource
from .rules.dependencies import _dbpool as dbpool


@dataclass(slots=True)
class Entry:
    format: str
    kind: str
    name: str
    namespace: str
    file: str
    line: int
    labels: dict
    facts: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.namespace or '-'}/{self.name}"


def _small(v) -> bool:
    return isinstance(v, str) and len(v) <= 4096


def facts_of(r: Resource) -> dict:
    """The facts the index keeps per kind; everything else is dropped after the file is judged."""
    f: dict = {}
    if r.format in ("repo", "pipeline"):  # governance files and CI jobs are small: keep what rules ask of them
        f["data"] = r.data
        return f
    if r.format == "terraform":  # evaluated attributes, for cross-resource questions (bucket -> versioning)
        f.update(type=r.data.get("type"), address=r.data.get("address"), values=r.data.get("values"),
                 environment=r.origin.environment)
        return f
    if r.format == "dockerfile":
        d = r.data
        f.update({"from": d.get("from"), "final": d.get("final"), "env": d.get("env"),
                  "entrypoint": d.get("entrypoint"), "cmd": d.get("cmd"), "labels": d.get("labels"),
                  "dir": os.path.dirname(r.file),
                  # lines of ENV keys / ENTRYPOINT / CMD, for related locations ("env.KEY", "entrypoint")
                  "lines": {".".join(k): v[0] for k, v in r.positions.items()
                            if k and k[0] in ("env", "entrypoint", "cmd")}})
        return f
    tpl_path = workloads.pod_spec_path(r)
    if tpl_path is not None:
        f["pod_labels"] = workloads.pod_labels(r)
        f["replicas"] = workloads.replicas(r)
        f["images"] = [c.image for c in workloads.containers(r)]
        ports = []
        for c in workloads.containers(r, include_init=False):
            for p in c.ports:
                ports.append({"name": p.get("name"), "port": p.get("containerPort")})
        f["ports"] = ports
        f["selector"] = r.get(("spec", "selector"))
        f["origin"] = r.origin.kind
        db, server = dbpool.client_facts(r), dbpool.server_facts(r)  # R8: pool sizes, max_connections
        if db:
            f["db"] = db
        if server:
            f["dbserver"] = server
        spec = r.get(tpl_path)  # 9.1/R11: which identity the pods run as, and whether its token is mounted
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount")
        f["service_account"] = sa if isinstance(sa, str) and sa else "default"
        if isinstance(spec.get("automountServiceAccountToken"), bool):
            f["automount"] = spec["automountServiceAccountToken"]
    elif r.kind in ("ClusterPolicy", "Policy") and "kyverno" in r.api_version:  # 1.3: cluster-side verification
        rules = r.get(("spec", "rules")) or []
        f["verify_images"] = any(isinstance(x, dict) and x.get("verifyImages") for x in rules)
    elif r.kind == "Service":
        f["selector"] = r.get(("spec", "selector"))
        f["type"] = r.get(("spec", "type"), "ClusterIP")
        f["ports"] = r.get(("spec", "ports")) or []
    elif r.kind == "PodDisruptionBudget":
        f["selector"] = r.get(("spec", "selector"))
        f["minAvailable"] = r.get(("spec", "minAvailable"))
        f["maxUnavailable"] = r.get(("spec", "maxUnavailable"))
    elif r.kind == "HorizontalPodAutoscaler":
        target = r.get(("spec", "scaleTargetRef"))
        f["target"] = target if isinstance(target, dict) else {}
        f["min"] = r.get(("spec", "minReplicas"), 1)
        f["max"] = r.get(("spec", "maxReplicas"))
    elif r.kind in ("ConfigMap", "Secret"):
        data = r.get(("data",)) or {}
        f["data"] = {k: v for k, v in data.items() if _small(v)} if isinstance(data, dict) else {}
        if r.kind == "Secret":  # keep keys only, never values
            f["data"] = {k: None for k in f["data"]}
        else:
            mc = dbpool.configmap_max_connections(r)
            if mc:
                f["max_connections"] = mc
    elif r.format == "kubernetes" and r.kind in RBAC_KINDS:
        f.update(_rbac_facts(r))
    elif r.kind == "Middleware":  # Traefik: which guards a router middleware adds (PM920)
        spec = r.get(("spec",)) if isinstance(r.get(("spec",)), dict) else {}
        f["types"] = sorted(str(k) for k in spec)
        allow = spec.get("ipAllowList") or spec.get("ipWhiteList")
        f["source_range"] = allow.get("sourceRange") if isinstance(allow, dict) else None
        chain = spec.get("chain")
        f["chain"] = [m for m in (chain.get("middlewares") or []) if isinstance(m, dict)] if isinstance(chain, dict) else []
    elif r.kind == "Gateway":
        f["class"] = r.get(("spec", "gatewayClassName"))
    elif r.kind == "SecurityPolicy":  # Envoy Gateway
        refs = r.get(("spec", "targetRefs"))
        refs = (refs if isinstance(refs, list) else []) + [r.get(("spec", "targetRef"))]
        f["targets"] = [[t.get("kind"), t.get("name")] for t in refs if isinstance(t, dict)]
    elif r.kind == "AppProject":  # Argo CD: sync windows gate auto-sync
        windows = r.get(("spec", "syncWindows"))
        f["syncWindows"] = windows if isinstance(windows, list) else []
    elif r.kind in ("GitRepository", "OCIRepository"):  # Flux sources: what a ref pins
        ref = r.get(("spec", "ref"))
        f["ref"] = ref if isinstance(ref, dict) else {}
    elif r.kind == "ScaledObject":  # KEDA
        target = r.get(("spec", "scaleTargetRef"))
        f["target"] = target if isinstance(target, dict) else {}
        f["max"] = r.get(("spec", "maxReplicaCount"))
    if r.kind in MONITORING_KINDS:  # alert/recording rules, Alertmanager routing, scrape configs (2.x, 10.x, R7, R8, R12)
        from .rules.observability._promql import index_facts

        f.update(index_facts(r))
    return f


MONITORING_KINDS = ("PrometheusRule", "VMRule", "PrometheusRuleFile", "AlertmanagerConfigFile", "AlertmanagerConfig",
                    "Secret", "ConfigMap", "ServiceMonitor", "PodMonitor")


RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount")
_RULE_KEYS = ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs")


def _rbac_facts(r: Resource) -> dict:
    """9.1/R11: a role's rules and aggregation selectors, a binding's roleRef and subjects (with the
    Source of each, for related locations), a ServiceAccount's automount setting."""
    f: dict = {}
    if r.kind == "ServiceAccount":
        auto = r.get(("automountServiceAccountToken",))
        if isinstance(auto, bool):
            f["automount"] = auto
        return f
    if r.kind in ("Role", "ClusterRole"):
        rules = r.get(("rules",))
        f["rules"] = [{k: [str(x) for x in v] for k, v in rule.items() if k in _RULE_KEYS and isinstance(v, list)}
                      for rule in rules if isinstance(rule, dict)] if isinstance(rules, list) else []
        sel = r.get(("aggregationRule", "clusterRoleSelectors"))
        if isinstance(sel, list):
            f["aggregation"] = [s for s in sel if isinstance(s, dict)]
        return f
    ref = r.get(("roleRef",))
    ref = ref if isinstance(ref, dict) else {}
    f["role_ref"] = {"kind": str(ref.get("kind") or ""), "name": str(ref.get("name") or ""),
                     "at": r.locate(("roleRef", "name"))}
    subjects = r.get(("subjects",))
    f["subjects"] = [{"kind": str(s.get("kind") or ""), "name": str(s.get("name") or ""),
                      "namespace": str(s.get("namespace") or ""), "at": r.locate(("subjects", i, "name"))}
                     for i, s in enumerate(subjects if isinstance(subjects, list) else []) if isinstance(s, dict)]
    return f


class Project:
    """An index over all resources of one scan."""

    def __init__(self) -> None:
        self.entries: list = []
        self._by_kind: dict = {}  # kind -> [Entry]
        self._by_kind_ns: dict = {}  # (kind, namespace) -> [Entry]
        self._workloads_ns: dict = {}  # namespace -> [workload Entry]
        self.files: set = set()  # every file read as text (runbook links to repository files, 10.1)

    def _insert(self, e: Entry) -> None:
        self.entries.append(e)
        self._by_kind.setdefault(e.kind, []).append(e)
        self._by_kind_ns.setdefault((e.kind, e.namespace or ""), []).append(e)
        if "pod_labels" in e.facts:
            self._workloads_ns.setdefault(e.namespace or "", []).append(e)

    def add(self, r: Resource) -> None:
        if r.format == "text":  # a file's raw text is judged where it is read; the index keeps only its name
            self.files.add(r.file)
            return
        self._insert(Entry(r.format, r.kind, r.name, r.namespace, r.file, r.line,
                           r.labels if r.format == "kubernetes" else {}, facts_of(r)))

    def merge(self, other: "Project") -> None:
        for e in other.entries:
            self._insert(e)
        self.files |= other.files

    def __len__(self) -> int:
        return len(self.entries)

    # ---- queries -------------------------------------------------------------------------
    # A namespace of '' (an object that does not say) matches every namespace, as `kubectl apply
    # -n X` would put it anywhere; lookups are bucketed by namespace so they stay O(matches).
    def of_kind(self, *kinds: str) -> list:
        out = []
        for k in kinds:
            out.extend(self._by_kind.get(k, []))
        return out

    def kinds(self) -> list:
        return list(self._by_kind)

    def in_namespace(self, kind: str, namespace: str) -> list:
        if not namespace:
            return self._by_kind.get(kind, [])
        out = self._by_kind_ns.get((kind, namespace), [])
        unset = self._by_kind_ns.get((kind, ""), [])
        return out + unset if unset else out

    def get(self, kind: str, name: str, namespace: str = "") -> Entry | None:
        for e in self.in_namespace(kind, namespace):
            if e.name == name:
                return e
        return None

    def workloads(self, namespace: str | None = None) -> list:
        if namespace is None or namespace == "":
            return [e for bucket in self._workloads_ns.values() for e in bucket]
        return self._workloads_ns.get(namespace, []) + self._workloads_ns.get("", [])

    def services_selecting(self, pod_labels: dict, namespace: str) -> list:
        return [s for s in self.in_namespace("Service", namespace)
                if isinstance(s.facts.get("selector"), dict) and s.facts["selector"]
                and selector_matches(s.facts["selector"], pod_labels)]

    def pdbs_selecting(self, pod_labels: dict, namespace: str) -> list:
        return [p for p in self.in_namespace("PodDisruptionBudget", namespace)
                if selector_matches(p.facts.get("selector"), pod_labels)]

    def workloads_selected_by(self, selector, namespace: str) -> list:
        """Workloads whose pod template a label selector matches. `{}` (policy/v1 PDB) selects every
        pod in the namespace; None selects nothing."""
        if not isinstance(selector, dict):
            return []
        return [w for w in self.workloads(namespace) if selector_matches(selector, w.facts.get("pod_labels") or {})]

    def autoscalers_for(self, kind: str, name: str, namespace: str) -> list:
        out = []
        for h in self.in_namespace("HorizontalPodAutoscaler", namespace) + self.in_namespace("ScaledObject", namespace):
            target = h.facts.get("target")
            if isinstance(target, dict) and target.get("name") == name and target.get("kind", "Deployment") == kind:
                out.append(h)
        return out

    def config_value(self, kind: str, name: str, key: str, namespace: str) -> str | None:
        e = self.get(kind, name, namespace)
        if e is None:
            return None
        return (e.facts.get("data") or {}).get(key)

    def dockerfiles_for_image(self, image: str, mapping: dict | None = None) -> list:
        """Final Dockerfile stages that build `image`: from config `images:`, an OCI title label,
        or a Dockerfile in a directory named like the image's repository."""
        repo = image.split("@")[0]
        last = repo.rsplit("/", 1)[-1]
        if ":" in last:
            repo = repo.rsplit(":", 1)[0]
            last = last.split(":")[0]
        stages = [e for e in self.of_kind("DockerStage") if e.facts.get("final")]
        if mapping:
            for name, path in mapping.items():
                if name == repo or name == image:
                    hits = [s for s in stages if s.file == path or s.facts.get("dir") == path.rstrip("/")]
                    if hits:
                        return hits
        hits = [s for s in stages if (s.facts.get("labels") or {}).get("org.opencontainers.image.title") == last]
        if hits:
            return hits
        return [s for s in stages if os.path.basename(s.facts.get("dir") or "") == last]

    def named(self, kind: str, name: str, namespace: str = "") -> Entry | None:
        """Like `get`, through a (kind, name) -> namespace index built once after the scan's first
        phase, for lookups made per container (ConfigMaps behind envFrom, configMapKeyRef)."""
        idx = self.__dict__.get("_named")
        if idx is None or idx[0] != len(self.entries):
            table: dict = {}
            for e in self.entries:
                table.setdefault((e.kind, e.name), {}).setdefault(e.namespace or "", []).append(e)
            idx = self._named = (len(self.entries), table)
        by_ns = idx[1].get((kind, name))
        if not by_ns:
            return None
        if not namespace:
            return next(iter(by_ns.values()))[0]
        hits = by_ns.get(namespace) or by_ns.get("")
        return hits[0] if hits else None

    def memo(self, key: str, compute):
        """A value derived from the whole index (`compute(project)`), computed once per process and
        shared by every resource a rule judges, so cross-object sums stay linear."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache or cache[key][0] != len(self.entries):
            cache[key] = (len(self.entries), compute(self))
        return cache[key][1]


def same_ns(a: str, b: str) -> bool:
    """Two namespaces can be the same object's: equal, or either unset (`kubectl apply -n X` puts an
    object that names none anywhere). Every cross-object rule uses this one definition."""
    return not a or not b or a == b
