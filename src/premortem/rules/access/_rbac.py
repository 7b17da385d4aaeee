"""Shared RBAC helpers for the 9.1/R11 rules: resolve a binding's roleRef to the role in the project
index, follow aggregated ClusterRoles (aggregationRule label selectors and the built-in
`aggregate-to-admin/edit/view` labels), decide what a rule grants, and name the identities bound.

Everything here reads the compact facts `project.facts_of` keeps (role `rules`/`aggregation`,
binding `role_ref`/`subjects`, ServiceAccount and workload `automount`/`service_account`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...k8s.images import parse_image
from ...k8s.selectors import selector_matches
from ...model import Source
from ...project import same_ns  # noqa: F401 (also used by sibling rule modules)

POWERFUL_ROLES = {"cluster-admin": "every verb on every resource in every namespace",
                  "admin": "read/write of every Secret, pod, workload and RoleBinding in every namespace",
                  "edit": "read/write of every Secret, pod and workload in every namespace"}
# built-in ClusterRoles that aggregate others by label, and the role each of them rolls up into
BUILTIN_AGGREGATES = {"admin": "rbac.authorization.k8s.io/aggregate-to-admin",
                      "edit": "rbac.authorization.k8s.io/aggregate-to-edit",
                      "view": "rbac.authorization.k8s.io/aggregate-to-view"}
BUILTIN_CHAIN = {"view": "edit", "edit": "admin"}
SYSTEM_PREFIXES = ("system:", "eks:")  # identities and roles Kubernetes (or EKS) ships and manages
BROAD_GROUPS = {"system:authenticated": "every authenticated user and service account",
                "system:unauthenticated": "every anonymous request",
                "system:anonymous": "every anonymous request",
                "system:serviceaccounts": "every service account in the cluster"}
READ_VERBS = ("get", "list", "watch")

# ---- CI/CD deployer identities (R11) -----------------------------------------------------------
# distinctive product names matched anywhere in a name ("GitHubActionsDeployRole", "jenkins-agent")
DEPLOYER_SUBSTRINGS = ["jenkins", "gitlab", "github", "spinnaker", "tekton", "circleci", "buildkite", "teamcity",
                       "concourse", "codebuild", "codepipeline", "actions-runner", "argo-workflow", "woodpecker",
                       "octopus", "tiller"]
# short words matched as whole words only ("ci-bot", "eks-cd-role", "deployer"), never inside others
DEPLOYER_WORDS = ["ci", "cd", "cicd", "deploy", "deployer", "deployers", "deploybot", "pipeline", "pipelines",
                  "drone", "bamboo", "runner", "runners"]
CI_NAMESPACES = ["jenkins", "ci", "cicd", "ci-cd", "gitlab-runner", "gitlab-runners", "actions-runner-system",
                 "arc-runners", "arc-systems", "tekton-pipelines", "tekton-pipelines-resolvers", "argo-workflows",
                 "spinnaker", "buildkite", "drone", "concourse"]
RUNNER_IMAGES = ["jenkins/inbound-agent", "jenkins/jnlp", "jenkins/agent", "jenkins/ssh-agent", "jenkins/jenkins",
                 "jenkinsci/", "gitlab-runner", "actions-runner", "actions/runner", "tekton-releases/", "tektoncd/",
                 "spinnaker", "buildkite/agent", "drone-runner", "argoproj/argoexec", "argoproj/workflow-controller",
                 "concourse/concourse", "circleci/runner", "woodpeckerci/"]
DEPLOYER_OPTIONS = {"deployer_substrings": DEPLOYER_SUBSTRINGS, "deployer_words": DEPLOYER_WORDS,
                    "ci_namespaces": CI_NAMESPACES, "runner_images": RUNNER_IMAGES}


def words(name: str) -> list:
    """'GitHubActionsCICDRole' -> ['git', 'hub', 'actions', 'cicd', 'role']; 'jenkins-agent' -> 2 words."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name))
    return [w for w in re.split(r"[^a-z0-9]+", s.lower()) if w]


def deployer_word(name: str, options: dict) -> str:
    """The CI/CD word a name carries ('' when none)."""
    low = name.lower()
    for sub in options.get("deployer_substrings", DEPLOYER_SUBSTRINGS):
        if sub in low:
            return sub
    ws = set(words(name))
    return next((w for w in options.get("deployer_words", DEPLOYER_WORDS) if w in ws), "")


# ---- identities ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    kind: str
    name: str
    namespace: str  # for ServiceAccounts: the subject's, else the binding's
    at: Source | None = None

    @property
    def sa(self) -> tuple | None:
        """(namespace, name) when this is a service account (also in its `system:serviceaccount:` user form)."""
        if self.kind == "ServiceAccount":
            return self.namespace, self.name
        if self.kind == "User" and self.name.startswith("system:serviceaccount:") and self.name.count(":") == 3:
            _, _, ns, name = self.name.split(":")
            return ns, name
        return None

    @property
    def identity(self) -> str:
        if self.sa is not None:
            ns, name = self.sa
            return f"ServiceAccount {ns or '(binding namespace)'}/{name}"
        return f"{self.kind} {self.name}"

    @property
    def broad(self) -> str:
        """What a built-in catch-all group means ('' for anything else)."""
        if self.name.startswith("system:serviceaccounts:"):
            return f"every service account in namespace {self.name.split(':', 2)[2]}"
        return BROAD_GROUPS.get(self.name, "") if self.kind in ("Group", "User") else ""

    @property
    def system(self) -> bool:
        """An identity Kubernetes ships and manages (not a catch-all group, not a service account)."""
        return self.sa is None and not self.broad and self.name.startswith(SYSTEM_PREFIXES)


def subjects_of(data_subjects, namespace: str, at=None) -> list:
    """Subjects from a binding (resource data or index facts); `at(i)` gives each one's Source."""
    out = []
    for i, s in enumerate(data_subjects if isinstance(data_subjects, list) else []):
        if not isinstance(s, dict):
            continue
        kind, ns = str(s.get("kind") or ""), str(s.get("namespace") or "")
        out.append(Subject(kind, str(s.get("name") or ""), (ns or namespace) if kind == "ServiceAccount" else ns,
                           s.get("at") or (at(i) if at else None)))
    return out


@dataclass
class Binding:
    kind: str
    name: str
    namespace: str
    ref_kind: str
    ref_name: str
    ref_at: Source
    subjects: list

    @property
    def cluster(self) -> bool:
        return self.kind == "ClusterRoleBinding"

    @property
    def label(self) -> str:
        if self.cluster:
            return f"ClusterRoleBinding '{self.name}' (cluster-wide)"
        return f"RoleBinding {self.namespace or '-'}/{self.name} (namespace {self.namespace or '(unset)'} only)"

    def who(self) -> str:
        live = [s.identity for s in self.subjects if not s.system]
        return ", ".join(live) if live else "only system identities"


def is_system_name(name: str) -> bool:
    return name.startswith(SYSTEM_PREFIXES)


class RbacIndex:
    """RBAC objects of one scan, built once per scan through `project.memo`."""

    def __init__(self, project):
        self.project = project
        self.bindings: list = []
        self.by_ref: dict = {}  # (role kind, role name) -> [Binding]
        self.clusterroles = {e.name: e for e in project.of_kind("ClusterRole")}
        for e in project.of_kind("RoleBinding", "ClusterRoleBinding"):
            ref = e.facts.get("role_ref") or {}
            ns = e.namespace if e.kind == "RoleBinding" else ""
            b = Binding(e.kind, e.name, ns, ref.get("kind", ""), ref.get("name", ""),
                        ref.get("at") or Source(e.file, e.line), subjects_of(e.facts.get("subjects"), ns))
            self.bindings.append(b)
            self.by_ref.setdefault((b.ref_kind, b.ref_name), []).append(b)
        self.aggregating = [e for e in self.clusterroles.values() if e.facts.get("aggregation")]
        self._sa_bindings: dict = {}  # service account name -> [(subject namespace, Binding)]
        self._group_bindings: dict = {}  # system:serviceaccounts[:ns] -> [Binding]
        for b in self.bindings:
            for s in b.subjects:
                if s.sa is not None:
                    self._sa_bindings.setdefault(s.sa[1], []).append((s.sa[0], b))
                elif s.kind == "Group" and s.name.startswith("system:serviceaccounts"):
                    self._group_bindings.setdefault(s.name, []).append(b)
        self._rules: dict = {}
        self.sa_workloads: dict = {}  # (namespace, service account) -> [workload Entry]
        for w in project.workloads():
            self.sa_workloads.setdefault((w.namespace or "", w.facts.get("service_account", "default")), []).append(w)

    # ---- roles ------------------------------------------------------------------------------
    def aggregators(self, labels: dict, seen=None) -> list:
        """Names of ClusterRoles whose aggregationRule selects a role with these labels (transitively),
        including the built-in admin/edit/view when it carries their aggregate-to-* label."""
        seen = set() if seen is None else seen
        out = []
        for e in self.aggregating:
            if e.name not in seen and any(selector_matches(s, labels) for s in e.facts.get("aggregation") or []):
                seen.add(e.name)
                out.append(e.name)
                out.extend(self.aggregators(e.labels, seen))
        for name, label in BUILTIN_AGGREGATES.items():
            if str(labels.get(label, "")).lower() == "true" and name not in seen and name not in self.clusterroles:
                chain = name
                while chain and chain not in seen:
                    seen.add(chain)
                    out.append(chain)
                    chain = BUILTIN_CHAIN.get(chain)
        return out

    def effective_rules(self, name: str) -> list:
        """A ClusterRole's rules plus those of every ClusterRole its aggregationRule selects."""
        if name not in self._rules:
            self._rules[name] = self._effective(name, set())
        return self._rules[name]

    def _effective(self, name: str, seen: set) -> list:
        e = self.clusterroles.get(name)
        if e is None or name in seen:
            return []
        seen.add(name)
        rules = list(e.facts.get("rules") or [])
        for sel in e.facts.get("aggregation") or []:
            for other in self.clusterroles.values():
                if other.name not in seen and selector_matches(sel, other.labels):
                    rules.extend(self._effective(other.name, seen))
        return rules

    def grants(self, kind: str, name: str, namespace: str, labels: dict) -> list:
        """[(Binding, via)] granting this Role/ClusterRole; `via` names the aggregating ClusterRole."""
        if kind == "Role":
            return [(b, "") for b in self.by_ref.get(("Role", name), []) if not b.cluster and same_ns(b.namespace, namespace)]
        out = [(b, "") for b in self.by_ref.get(("ClusterRole", name), [])]
        for agg in self.aggregators(labels):
            out.extend((b, agg) for b in self.by_ref.get(("ClusterRole", agg), []))
        return out

    # ---- identities ---------------------------------------------------------------------------
    def bindings_for_sa(self, namespace: str, name: str) -> list:
        out = [b for ns, b in self._sa_bindings.get(name, []) if same_ns(ns, namespace)]
        for group in ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"):
            out.extend(self._group_bindings.get(group, []))
        return list({id(b): b for b in out}.values())

    def workloads_of(self, namespace: str, name: str) -> list:
        if not namespace:
            return [w for (ns, sa), ws in self.sa_workloads.items() if sa == name for w in ws]
        return self.sa_workloads.get((namespace, name), []) + self.sa_workloads.get(("", name), [])

    def service_account(self, namespace: str, name: str):
        return self.project.get("ServiceAccount", name, namespace)

    def deployer_evidence(self, s: Subject, options: dict) -> tuple:
        """Why an identity is a CI/CD deployer: ('its namespace 'jenkins'', [related]) or ('', [])."""
        sa = s.sa
        name, ns = (sa[1], sa[0]) if sa else (s.name, "")
        word = deployer_word(name, options)
        if word:
            return (f"its name '{name}'" if word == name.lower() else f"its name '{name}' contains '{word}'"), []
        if ns and (ns in options.get("ci_namespaces", CI_NAMESPACES) or deployer_word(ns, options)):
            return f"it lives in the CI namespace '{ns}'", []
        if sa:
            images = [i.lower() for i in options.get("runner_images", RUNNER_IMAGES)]
            for w in self.workloads_of(ns, name):
                img = next((im for im in w.facts.get("images") or [] if any(p in im.lower() for p in images)), "")
                if img:
                    return ((f"the pods of {w.kind} {w.namespace or '-'}/{w.name} run the CI runner image '{img}' "
                            f"as it"), [(Source(w.file, w.line), f"CI runner {w.kind} {w.name} runs as {s.identity}")])
        return "", []


def index(project) -> RbacIndex:
    return project.memo("rbac.index", RbacIndex)


# ---- what a rule grants ----------------------------------------------------------------------------
def strings(rule: dict, key: str) -> list:
    """A list field as strings ([] when missing or not a list)."""
    v = rule.get(key)
    return [str(x) for x in v] if isinstance(v, list) else []


def groups_of(rule: dict) -> list:
    return strings(rule, "apiGroups") or [""]


def allows(rule: dict, verb: str, resource: str, groups=("",)) -> bool:
    """True when the rule grants `verb` on every object of `resource` (no resourceNames limit)."""
    if strings(rule, "resourceNames"):
        return False
    if not any(g in ("*",) + tuple(groups) for g in groups_of(rule)):
        return False
    verbs, resources = strings(rule, "verbs"), strings(rule, "resources")
    if "*" not in verbs and verb not in verbs:
        return False
    sub = resource.split("/", 1)[1] if "/" in resource else ""
    return "*" in resources or resource in resources or (bool(sub) and f"*/{sub}" in resources)


def full_admin(rules: list) -> bool:
    """Any rule granting every verb on every resource of every API group (cluster-admin's own rule)."""
    return any("*" in groups_of(r) and "*" in strings(r, "resources") and "*" in strings(r, "verbs")
               and not strings(r, "resourceNames") for r in rules)


BUILTIN_GROUP_NAMES = {"", "*", "apps", "batch", "extensions", "policy", "autoscaling"}
READ_ONLY_GROUPS = {"metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"}  # served read-only


def builtin_group(group: str) -> bool:
    """The core group, `*`, or a group Kubernetes itself serves (`apps`, `*.k8s.io`), not a CRD's nor a
    read-only metrics API (prometheus-adapter's `*` there grants reads of numbers, nothing else)."""
    return group in BUILTIN_GROUP_NAMES or (group.endswith(".k8s.io") and group not in READ_ONLY_GROUPS)


WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "*"}


def wildcard(rule: dict) -> tuple:
    """(what, field, index) of the wildcard PM902 reports in a rule, or None: `*` verbs on a built-in API
    group, or `*` resources on the core/any group or with write verbs. CRD groups are left alone."""
    groups = [g for g in groups_of(rule) if builtin_group(g)]
    if not groups or strings(rule, "resourceNames") or not strings(rule, "resources"):
        return None
    verbs, resources = strings(rule, "verbs"), strings(rule, "resources")
    wild_res = "*" in resources and ("" in groups or "*" in groups or bool(WRITE_VERBS & set(verbs)))
    if "*" in verbs:
        return ("verbs", "verbs", verbs.index("*")) if not wild_res else ("verbs and resources", "resources",
                                                                          resources.index("*"))
    if wild_res:
        return "resources", "resources", resources.index("*")
    return None


def describe_grants(grants: list, limit: int = 3) -> str:
    """'bound to ServiceAccount ci/jenkins by ClusterRoleBinding 'x' (cluster-wide)' for a message."""
    if not grants:
        return "bound by no RoleBinding or ClusterRoleBinding in this scan (any binding added later inherits it)"
    parts = []
    for b, via in grants[:limit]:
        through = f" through the aggregated ClusterRole '{via}'" if via else ""
        parts.append(f"{b.who()} by {b.label}{through}")
    more = f" and {len(grants) - limit} more binding(s)" if len(grants) > limit else ""
    return "bound to " + "; ".join(parts) + more


def related_grants(grants: list, role_name: str) -> tuple:
    return tuple((b.ref_at, (f"{b.label} binds '{via or role_name}'{f' (which aggregates {role_name!r})' if via else ''} "
                            f"to {b.who()}")) for b, via in grants)


# ---- does a workload call the Kubernetes API? (automount rules) -----------------------------------
API_ENV = ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG")
API_WORDS = ("kubectl", "kubeconfig", "in-cluster", "incluster", "/var/run/secrets/kubernetes.io/serviceaccount",
             "kubernetes_service_host", "leader-elect", "helm ")
API_CLIENT_IMAGES = ["kubectl", "k8s-sidecar", "helm", "operator", "controller", "external-dns", "cert-manager",
                     "cluster-autoscaler", "kube-state-metrics", "prometheus", "promtail", "fluent-bit", "fluentd",
                     "grafana-agent", "alloy", "vector", "datadog", "opentelemetry-collector", "otel", "argocd",
                     "fluxcd", "keda", "metrics-server", "ingress-nginx", "traefik", "velero", "vault", "kyverno",
                     "gatekeeper", "reloader", "sealed-secrets", "external-secrets", "descheduler", "coredns",
                     "kube-proxy", "calico", "cilium", "istio", "linkerd", "jenkins", "gitlab-runner",
                     "actions-runner", "tekton", "spinnaker", "kubernetes-dashboard", "dashboard", "kiali"]


def api_client_hint(resource, containers, images=None) -> str:
    """Why a workload looks like it calls the Kubernetes API ('' when nothing suggests it): an API env
    variable or kubectl/kubeconfig in its command, or an image of a known in-cluster client."""
    images = [i.lower() for i in (images if images is not None else API_CLIENT_IMAGES)]
    for c in containers:
        for e in c.env:
            if str(e.get("name", "")).upper() in API_ENV:
                return f"container '{c.name}' sets {e.get('name')}"
        text = " ".join(str(x) for k in ("command", "args") for x in strings(c.data, k)).lower()
        word = next((w for w in API_WORDS if w in text), "")
        if word:
            return f"container '{c.name}' mentions '{word.strip()}' in its command"
        ref = parse_image(c.image)
        repo = f"{ref.registry}/{ref.repository}".lower()
        ws = set(words(repo))
        img = next((i for i in images if (i in repo if "-" in i or "/" in i else i in ws)), "")
        if img:
            return f"container '{c.name}' runs '{c.image}', an in-cluster API client ('{img}')"
    return ""


def token_mounted(resource, spec: dict, sa_entry) -> tuple:
    """(mounted, why): the pod's automountServiceAccountToken wins over its ServiceAccount's."""
    pod = spec.get("automountServiceAccountToken")
    if pod is False:
        return False, "the pod sets automountServiceAccountToken: false"
    if pod is True:
        return True, "the pod sets automountServiceAccountToken: true"
    if sa_entry is not None and sa_entry.facts.get("automount") is False:
        return False, f"ServiceAccount {sa_entry.name} sets automountServiceAccountToken: false"
    return True, "automountServiceAccountToken is unset, so the kubelet mounts the token by default"
