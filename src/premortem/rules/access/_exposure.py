"""Exposure models shared by the 9.2 dashboard rules (PM920, PM921) and 3.3 (PM330). Not a rule.

- what an internal dashboard is (by image, Service/workload name, host, URL path);
- routes: Ingress (networking.k8s.io/v1, v1beta1), Gateway API HTTPRoute, OpenShift Route and
  Traefik IngressRoute as one model (hosts, backends, TLS, guards);
- guards: what stands between the internet and a backend, per dialect (ingress-nginx, Traefik
  Middlewares, AWS ALB, private classes/domains/gateways, an auth proxy in the backend's pods);
- Service exposure: LoadBalancer/NodePort/externalIPs and what restricts them (source ranges,
  internal-load-balancer annotations per cloud).
"""
from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field

from ...k8s.images import parse_image
from ...model import Source


# ---- what a dashboard is ------------------------------------------------------------------------
@dataclass(frozen=True)
class Dashboard:
    name: str
    keys: tuple  # name fragments matched in image basenames, Service/workload names, hosts, URL paths
    critical: bool
    risk: str
    repos: tuple = ()  # repository suffixes for images whose basename says nothing ("kubernetesui/dashboard")


_DB_UI = "it opens sessions on the databases it is configured for"
DASHBOARDS = (
    Dashboard("Jenkins", ("jenkins",), True, "its script console and build jobs run any code with the "
              "controller's credentials; in catalog 9.2 a build job deployed a reverse-shell container"),
    Dashboard("Argo CD", ("argocd", "argo-cd"), True, "it syncs any manifest into the clusters it manages"),
    Dashboard("Argo Workflows", ("argo-server", "argo-workflows", "argocli"), True,
              "it submits workflows that run any container in the cluster"),
    Dashboard("Kubernetes Dashboard", ("kubernetes-dashboard", "k8s-dashboard", "kube-dashboard"), True,
              "it creates pods and reads Secrets with its service account's rights",
              repos=("kubernetesui/dashboard", "kubernetesui/dashboard-web", "kubernetesui/dashboard-api")),
    Dashboard("Grafana", ("grafana",), False, "its data sources query every metrics and log backend it is wired to"),
    Dashboard("Prometheus", ("prometheus",), False,
              "it lists every scrape target and label of the cluster, and its admin API (when enabled) deletes series"),
    Dashboard("Alertmanager", ("alertmanager",), False, "anyone can create silences and hide the next outage"),
    Dashboard("Kibana", ("kibana",), False, "it searches every log index, secrets that reached the logs included"),
    Dashboard("OpenSearch Dashboards", ("opensearch-dashboards",), False, "it searches every log index"),
    Dashboard("pgAdmin", ("pgadmin", "pgadmin4"), False, _DB_UI),
    Dashboard("phpMyAdmin", ("phpmyadmin",), False, _DB_UI),
    Dashboard("Adminer", ("adminer",), False, _DB_UI),
    Dashboard("Mongo Express", ("mongo-express",), False, _DB_UI),
    Dashboard("Redis Commander", ("redis-commander",), False, _DB_UI),
    Dashboard("Kafka UI", ("kafka-ui", "akhq", "kafdrop"), False, "it reads and writes every topic"),
    Dashboard("Longhorn UI", ("longhorn-ui", "longhorn-frontend"), False, "it deletes volumes and backups"),
)
# a name that carries a dashboard's key followed by one of these is a companion, not the UI
# (prometheus-node-exporter, grafana-agent, argocd-repo-server, jenkins-agent, argocd-server-metrics)
_COMPANION = {"exporter", "agent", "operator", "pushgateway", "kube-state-metrics", "adapter", "renderer",
              "reloader", "webhook", "controller", "repo-server", "dex", "redis", "notifications",
              "applicationset", "sidecar", "backup", "slave", "inbound", "jnlp", "admission", "metrics",
              "scraper", "crd", "crds", "test", "cleanup", "mixin", "rules"}
_AUTH_PROXIES = ("oauth2-proxy", "oauth-proxy", "vouch-proxy", "pomerium", "louketo-proxy",
                 "keycloak-gatekeeper", "oauth2_proxy")


def _norm(name: str) -> str:
    return "-" + re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") + "-"


def dashboards(extra) -> tuple:
    """The built-in catalog plus a rule's `dashboards` option (names, or {name, critical})."""
    out = list(DASHBOARDS)
    for item in extra or ():
        name, crit = (item.get("name"), bool(item.get("critical"))) if isinstance(item, dict) else (item, False)
        if name:
            out.append(Dashboard(str(name), (str(name).lower(),), crit, "it is configured as an internal dashboard"))
    return tuple(out)


def match_name(name: str, catalog) -> tuple:
    """(Dashboard, companion?) for the key found rightmost in `name` ("kube-prometheus-stack-grafana"
    is Grafana; "prometheus-alertmanager" is Alertmanager), or (None, False)."""
    text = _norm(name)
    best = None
    for d in catalog:
        for key in d.keys:
            at = text.rfind(_norm(key))
            end = at + len(_norm(key)) - 1
            if at >= 0 and (best is None or end > best[1]):
                best = (d, end)
    if best is None:
        return None, False
    rest = text[best[1]:]
    companion = any(_norm(c) in rest for c in _COMPANION)
    return best[0], companion


def match_image(image: str, catalog):
    if not image or "$" in image or "{{" in image:
        return None
    repo = parse_image(image).repository.lower()
    for d in catalog:
        if any(repo == r or repo.endswith("/" + r) for r in d.repos):
            return d
    d, companion = match_name(repo.rsplit("/", 1)[-1], catalog)
    return None if companion else d


def auth_proxy(image_or_name: str) -> str:
    base = str(image_or_name).lower()
    if "/" in base or ":" in base:
        base = parse_image(base).repository.rsplit("/", 1)[-1]
    return next((p for p in _AUTH_PROXIES if p in base), "")


@dataclass
class Found:
    dashboard: Dashboard
    evidence: str
    service: str
    workloads: list = field(default_factory=list)  # index entries behind the Service
    guard: str = ""  # an auth proxy in the backend's pods


def selected(project, selector, namespace: str) -> list:
    """Workloads a Service selector picks (an empty or missing selector picks none)."""
    return project.workloads_selected_by(selector, namespace) if isinstance(selector, dict) and selector else []


def backend_dashboard(project, service: str, namespace: str, catalog, hosts=(), url_path: str = "",
                      workloads=None) -> Found | None:
    """Is the backend `service` an internal dashboard? Image of the selected pods first, then the
    Service and workload names, then the host's first label and the URL path's first segment."""
    if workloads is None:
        svc = project.get("Service", service, namespace)
        workloads = selected(project, svc.facts.get("selector") if svc is not None else None, namespace)
    found, vetoed = None, False
    for name in [service] + [w.name for w in workloads]:
        d, companion = match_name(name, catalog)
        if d is not None and companion:
            vetoed = True  # argocd-repo-server runs the argocd image but serves no UI
    for w in workloads:
        for img in w.facts.get("images") or []:
            d = match_image(img, catalog)
            if d is not None and not vetoed and found is None:
                found = Found(d, f"image '{img}' of {w.kind} {w.namespace or '-'}/{w.name}", service)
    if found is None and not vetoed:
        candidates = [(service, f"Service name '{service}'")]
        candidates += [(w.name, f"{w.kind} name '{w.name}'") for w in workloads]
        candidates += [(h.split(".", 1)[0], f"host '{h}'") for h in hosts if h]
        if url_path.strip("/"):
            candidates.append((url_path.strip("/").split("/", 1)[0], f"path '{url_path}'"))
        for name, why in candidates:
            d, companion = match_name(name, catalog)
            if d is not None and not companion:
                found = Found(d, why, service)
                break
    if found is None:
        return None
    found.workloads = workloads
    proxy = auth_proxy(service)
    if proxy:
        found.guard = f"the backend Service '{service}' is {proxy}"
    for w in workloads:
        for img in w.facts.get("images") or []:
            proxy = auth_proxy(img)
            if proxy and not found.guard:
                found.guard = f"{w.kind} {w.name} runs {proxy} ('{img}') in front of it"
    return found


# ---- guards -----------------------------------------------------------------------------------
@dataclass
class Guards:
    found: list = field(default_factory=list)  # "ingress-nginx auth-url (oauth2-proxy)", ...
    notes: list = field(default_factory=list)  # half-configurations that protect nothing

    def add(self, other: "Guards") -> "Guards":
        return Guards(self.found + other.found, self.notes + other.notes)


def _s(value) -> str:
    """A scalar as text ('' for null, maps and lists: a malformed field guards nothing)."""
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def _d(value) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value) -> list:
    return value if isinstance(value, list) else []


def _list(value) -> list:
    """A list field, or a comma/space separated annotation, as a list of strings."""
    if isinstance(value, list):
        return [_s(v) for v in value if _s(v)]
    return [p for p in re.split(r"[,\s]+", _s(value)) if p]


def open_ranges(ranges: list) -> list:
    """The CIDRs in `ranges` that admit every address (0.0.0.0/0, ::/0)."""
    out = []
    for r in ranges:
        try:
            if ipaddress.ip_network(r, strict=False).prefixlen == 0:
                out.append(r)
        except ValueError:
            continue
    return out


def allow_list(where: str, ranges: list, g: Guards) -> None:
    if not ranges:
        return
    wide = open_ranges(ranges)
    if wide:
        g.notes.append(f"{where} includes {wide[0]}, which admits every address")
    else:
        g.found.append(f"{where} ({', '.join(ranges[:3])}{', ...' if len(ranges) > 3 else ''})")


def private_name(name: str, patterns) -> bool:
    n = str(name or "").lower()
    return bool(n) and any(fnmatch.fnmatchcase(n, str(p).lower()) for p in patterns)


def private_hosts(hosts: list, patterns) -> bool:
    return bool(hosts) and all(private_name(h, patterns) for h in hosts)


_MW_AUTH = {"forwardAuth", "basicAuth", "digestAuth"}
_MW_ALLOW = {"ipAllowList", "ipWhiteList"}
_MW_AUTH_NAME = re.compile(r"auth|oauth|oidc|sso|login|keycloak|authelia|authentik|pomerium", re.I)
_MW_ALLOW_NAME = re.compile(r"allow-?list|white-?list|ip-?allow|ip-?restrict|internal-only|office-only|vpn-only", re.I)


def middleware(project, name: str, namespace: str, label: str, g: Guards, depth: int = 0) -> None:
    """A Traefik Middleware in the project (its spec kinds when the index keeps them), else its name."""
    entry = project.get("Middleware", name, namespace) if name else None
    facts = entry.facts if entry is not None else {}
    kinds = facts.get("types")
    if not isinstance(kinds, list):  # not in the scan, or indexed without facts: its name is all we have
        if _MW_AUTH_NAME.search(name):
            g.found.append(f"Traefik middleware {label} (by its name)")
        elif _MW_ALLOW_NAME.search(name):
            g.found.append(f"Traefik middleware {label} (an IP allow-list, by its name)")
        return
    if set(kinds) & _MW_AUTH:
        g.found.append(f"Traefik middleware {label} ({sorted(set(kinds) & _MW_AUTH)[0]})")
    if set(kinds) & _MW_ALLOW:
        allow_list(f"Traefik middleware {label} ipAllowList", _list(facts.get("source_range")), g)
    if "chain" in kinds and depth < 4:
        for link in _l(facts.get("chain")):
            link_name = link.get("name") if isinstance(link, dict) else str(link)
            link_ns = (link.get("namespace") if isinstance(link, dict) else "") or entry.namespace or namespace
            middleware(project, str(link_name or ""), link_ns, f"{label} → {link_name}", g, depth + 1)


def traefik_ref(project, ref: str, namespace: str, g: Guards) -> None:
    """`<namespace>-<name>@kubernetescrd` (or `name@file`) from router.middlewares."""
    name, _, provider = ref.strip().partition("@")
    if provider in ("", "kubernetescrd"):
        for e in project.of_kind("Middleware"):
            if f"{e.namespace or namespace}-{e.name}" == name or (not provider and e.name == name):
                middleware(project, e.name, e.namespace or namespace, f"'{ref}'", g)
                return
    middleware(project, name, namespace, f"'{ref}'", g)


NGINX = ("nginx.ingress.kubernetes.io/", "ingress.kubernetes.io/")
ALB = "alb.ingress.kubernetes.io/"


def ingress_class(resource) -> str:
    return _s(resource.get(("spec", "ingressClassName"))) or _s(resource.annotations.get("kubernetes.io/ingress.class"))


def ingress_controller(resource) -> str:
    low = ingress_class(resource).lower()
    for word, ctl in (("alb", "alb"), ("traefik", "traefik"), ("nginx", "nginx"), ("gce", "gce")):
        if word in low:
            return ctl
    return ""


def _nginx(resource, project) -> Guards:
    g, ann = Guards(), resource.annotations

    def val(name):
        for prefix in NGINX:
            if _s(ann.get(prefix + name)):
                return prefix + name, _s(ann[prefix + name])
        return "", ""

    key, url = val("auth-url")
    if url:
        g.found.append(f"{key} ({'oauth2-proxy' if 'oauth2' in url else url})")
    elif val("auth-signin")[1]:
        g.notes.append(f"{val('auth-signin')[0]} is set without auth-url, so ingress-nginx checks nothing "
                       f"(auth-signin only says where to send a 401 from auth-url)")
    key, kind = val("auth-type")
    if kind.lower() in ("basic", "digest"):
        g.found.append(f"{key}: {kind}")
    key, verify = val("auth-tls-verify-client")
    if verify.lower() == "on" and val("auth-tls-secret")[1]:
        g.found.append(f"{key}: on (client certificates)")
    elif verify.lower().startswith("optional"):
        g.notes.append(f"{key}: {verify} lets clients without a certificate through")
    for name in ("whitelist-source-range", "allowlist-source-range"):
        key, ranges = val(name)
        allow_list(key, _list(ranges), g)
    for name in ("configuration-snippet", "server-snippet"):
        key, snippet = val(name)
        if re.search(r"\bdeny\s+all\s*;", snippet):
            g.found.append(f"allow/deny in {key}")
        if re.search(r"\bauth_request\s|\bauth_basic\s+(?!off)", snippet):
            g.found.append(f"auth in {key}")
    if _s(ann.get("nginx.org/basic-auth-secret")) or _s(ann.get("nginx.com/jwt-key")):
        g.found.append("NGINX Inc. basic-auth/JWT annotation")
    global_auth = project.memo("ingress-nginx global-auth-url", _global_auth)
    if global_auth and _s(ann.get("nginx.ingress.kubernetes.io/enable-global-auth")).lower() != "false":
        g.found.append(global_auth)
    return g


def _global_auth(project) -> str:
    """The controller ConfigMap's `global-auth-url`, which ingress-nginx applies to every Ingress."""
    for cm in project.of_kind("ConfigMap"):
        if _s(_d(cm.facts.get("data")).get("global-auth-url")):
            return f"global-auth-url in ConfigMap {cm.namespace or '-'}/{cm.name}"
    return ""


def _alb(resource) -> Guards:
    g, ann = Guards(), resource.annotations
    scheme = _s(ann.get(ALB + "scheme")).lower()
    if scheme != "internet-facing":
        g.found.append(f"{ALB}scheme: {scheme}" if scheme else "an internal ALB (scheme unset: the controller's default is internal)")
    if _s(ann.get(ALB + "auth-type")).lower() in ("oidc", "cognito"):
        g.found.append(f"{ALB}auth-type: {ann[ALB + 'auth-type']}")
    allow_list(ALB + "inbound-cidrs", _list(ann.get(ALB + "inbound-cidrs")), g)
    if _s(ann.get(ALB + "security-groups")):
        g.found.append(f"{ALB}security-groups (custom security groups decide who connects)")
    return g


def _traefik(resource, project) -> Guards:
    g, ann = Guards(), resource.annotations
    for ref in _list(ann.get("traefik.ingress.kubernetes.io/router.middlewares")):
        traefik_ref(project, ref, resource.namespace, g)
    allow_list("traefik.ingress.kubernetes.io/whitelist-source-range",
               _list(ann.get("traefik.ingress.kubernetes.io/whitelist-source-range")), g)
    return g


def ingress_guards(resource, project, private_classes) -> Guards:
    """Guards an Ingress carries as a whole. Annotations of a dialect its controller does not read
    protect nothing, and the notes say so."""
    ctl, cls = ingress_controller(resource), ingress_class(resource)
    g = Guards()
    if private_name(cls, private_classes):
        g.found.append(f"ingress class '{cls}' (private)")
    if _s(resource.annotations.get("appgw.ingress.kubernetes.io/use-private-ip")).lower() == "true":
        g.found.append("appgw.ingress.kubernetes.io/use-private-ip")
    alb_used = ctl == "alb" or (not ctl and any(str(k).startswith(ALB) for k in resource.annotations))
    dialects = {"nginx": _nginx(resource, project), "traefik": _traefik(resource, project),
                "alb": _alb(resource) if alb_used else Guards()}
    for name, got in dialects.items():
        if not ctl or ctl == name or (name == "alb" and alb_used):
            g = g.add(got)
        elif got.found:
            g.notes.append(f"{got.found[0]} is ignored: this Ingress is served by the {ctl} controller")
    return g


# ---- routes -----------------------------------------------------------------------------------
@dataclass
class Backend:
    service: str
    path: tuple  # of the backend's name, for reporting
    url_path: str = ""


@dataclass
class Route:
    path: tuple  # where a finding about this route points
    key: bool
    hosts: list
    backends: list
    tls: bool
    guards: Guards = field(default_factory=Guards)
    what: str = ""  # "Ingress rule for host 'x'"


def _ingress_backend(b, path) -> Backend | None:
    b = _d(b)
    name = _s(_d(b.get("service")).get("name"))
    if name:
        return Backend(name, path + ("service", "name"))
    if _s(b.get("serviceName")):
        return Backend(_s(b["serviceName"]), path + ("serviceName",))
    return None


def ingress_routes(r) -> list:
    spec = _d(r.get(("spec",)))
    tls = [t for t in _l(spec.get("tls")) if isinstance(t, dict)]
    tls_hosts = {_s(h) for t in tls for h in _l(t.get("hosts"))}
    tls_all = any(not t.get("hosts") for t in tls)
    out = []
    for key in ("defaultBackend", "backend"):
        b = _ingress_backend(spec.get(key), ("spec", key))
        if b:
            out.append(Route(("spec", key), True, [], [b], bool(tls), what=f"Ingress {key} (every host)"))
    for i, rule in enumerate(_l(spec.get("rules"))):
        if not isinstance(rule, dict):
            continue
        host = _s(rule.get("host"))
        backends = []
        for j, p in enumerate(_l(_d(rule.get("http")).get("paths"))):
            b = _ingress_backend(_d(p).get("backend"), ("spec", "rules", i, "http", "paths", j, "backend"))
            if b:
                b.url_path = _s(p.get("path"))
                backends.append(b)
        where = ("spec", "rules", i, "host") if host else ("spec", "rules", i)
        out.append(Route(where, False, [host] if host else [], backends, tls_all or host in tls_hosts,
                         what=f"Ingress rule for host '{host}'" if host else "Ingress rule without a host (every host)"))
    return out


def _targets(entry) -> list:
    """(kind, name) pairs a policy attaches to: from the index when it keeps them, else its own name."""
    t = entry.facts.get("targets")
    return [tuple(x) for x in t if isinstance(x, (list, tuple)) and len(x) == 2] if isinstance(t, list) \
        else [("*", entry.name)]


def gateway_guards(r, project, private_gateways) -> Guards:
    """An HTTPRoute's parents (a private Gateway) and Envoy Gateway SecurityPolicies attached to it."""
    g = Guards()
    parents = [(_s(p.get("name")), _s(p.get("namespace")) or r.namespace)
               for p in _l(r.get(("spec", "parentRefs"))) if isinstance(p, dict) and _s(p.get("name"))]
    private = []
    for name, ns in parents:
        gw = project.get("Gateway", name, ns)
        cls = _s(gw.facts.get("class")) if gw is not None else ""
        if private_name(name, private_gateways) or private_name(cls, private_gateways):
            private.append(name)
    if parents and len(private) == len(parents):
        g.found.append(f"private Gateway {', '.join(repr(n) for n in private)}")
    wanted = {("HTTPRoute", r.name)} | {("Gateway", name) for name, _ in parents}
    names = {n for _, n in wanted}
    for pol in project.in_namespace("SecurityPolicy", r.namespace):
        if any((k, n) in wanted or (k == "*" and n in names) for k, n in _targets(pol)):
            g.found.append(f"SecurityPolicy {pol.name}")
    return g


def httproute_routes(r, project, private_gateways=()) -> list:
    spec = _d(r.get(("spec",)))
    hosts = [_s(h) for h in _l(spec.get("hostnames")) if _s(h)]
    top = gateway_guards(r, project, private_gateways)
    out = []
    for j, rule in enumerate(_l(spec.get("rules"))):
        if not isinstance(rule, dict):
            continue
        g = Guards(list(top.found), list(top.notes))
        for f in _l(rule.get("filters")):
            ref = _d(_d(f).get("extensionRef"))
            name = _s(ref.get("name"))
            if name and ref.get("kind") == "Middleware":
                middleware(project, name, r.namespace, f"'{name}'", g)
            elif name and _MW_AUTH_NAME.search(name):
                g.found.append(f"filter {_s(ref.get('kind'))} '{name}' (by its name)")
        matches = _l(rule.get("matches"))
        url = _s(_d(_d(matches[0] if matches else None).get("path")).get("value"))
        backends = [Backend(_s(b["name"]), ("spec", "rules", j, "backendRefs", k, "name"), url)
                    for k, b in enumerate(_l(rule.get("backendRefs")))
                    if isinstance(b, dict) and _s(b.get("name")) and b.get("kind", "Service") == "Service"]
        what = f"HTTPRoute for {', '.join(repr(h) for h in hosts)}" if hosts else "HTTPRoute without hostnames (every host)"
        out.append(Route((), False, hosts, backends, False, g, what))
    return out


def openshift_routes(r) -> list:
    spec = _d(r.get(("spec",)))
    host = _s(spec.get("host"))
    nodes = [(("spec", "to"), spec.get("to"))]
    nodes += [(("spec", "alternateBackends", i), b) for i, b in enumerate(_l(spec.get("alternateBackends")))]
    backends = [Backend(_s(node["name"]), base + ("name",), _s(spec.get("path"))) for base, node in nodes
                if isinstance(node, dict) and _s(node.get("name")) and node.get("kind", "Service") == "Service"]
    g = Guards()
    for name in ("haproxy.router.openshift.io/ip_whitelist", "haproxy.router.openshift.io/ip_allowlist"):
        allow_list(name, _list(r.annotations.get(name)), g)
    where = ("spec", "host") if host else ("spec", "to", "name")
    return [Route(where, False, [host] if host else [], backends, isinstance(spec.get("tls"), dict), g,
                  f"Route for host '{host}'" if host else "Route with a generated host")]


_HOST = re.compile(r"Host(?:SNI)?\(([^)]*)\)")
_PREFIX = re.compile(r"Path(?:Prefix)?\(\s*`([^`]*)`")


def ingressroute_routes(r, project, private_entrypoints) -> list:
    spec = _d(r.get(("spec",)))
    eps = [_s(e) for e in _l(spec.get("entryPoints"))]
    out = []
    for i, route in enumerate(_l(spec.get("routes"))):
        if not isinstance(route, dict):
            continue
        match = _s(route.get("match"))
        hosts = [h for m in _HOST.findall(match) for h in re.findall(r"`([^`]*)`", m)]
        url = (_PREFIX.findall(match) or [""])[0]
        g = Guards()
        if eps and all(private_name(e, private_entrypoints) for e in eps):
            g.found.append(f"entryPoints {eps} (private)")
        for m in _l(route.get("middlewares")):
            name = _s(_d(m).get("name"))
            if name:
                middleware(project, name, _s(m.get("namespace")) or r.namespace, f"'{name}'", g)
        backends = [Backend(_s(sv["name"]), ("spec", "routes", i, "services", k, "name"), url)
                    for k, sv in enumerate(_l(route.get("services")))
                    if isinstance(sv, dict) and _s(sv.get("name")) and sv.get("kind", "Service") == "Service"]
        out.append(Route(("spec", "routes", i, "match"), False, hosts, backends, "tls" in spec, g,
                         f"IngressRoute match {match!r}"))
    return out


# ---- Services ---------------------------------------------------------------------------------
# annotation -> values meaning "internal" (None: any value but "false")
INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": None,
    "service.beta.kubernetes.io/aws-load-balancer-scheme": {"internal"},
    "networking.gke.io/load-balancer-type": {"internal"},
    "cloud.google.com/load-balancer-type": {"internal"},
    "service.beta.kubernetes.io/azure-load-balancer-internal": {"true"},
    "service.beta.kubernetes.io/oci-load-balancer-internal": {"true"},
    "oci-network-load-balancer.oraclecloud.com/internal": {"true"},
    "service.beta.kubernetes.io/openstack-internal-load-balancer": {"true"},
    "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type": {"private"},
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": {"intranet"},
}


_PRIVATE_NETS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                                                    "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128")]


def private_ip(text) -> bool:
    """RFC 1918, CGNAT, loopback, link-local and ULA addresses (documentation ranges count as public:
    they stand for public addresses in examples)."""
    try:
        ip = ipaddress.ip_address(str(text).strip())
    except ValueError:
        return False
    return any(ip in n for n in _PRIVATE_NETS if n.version == ip.version)


@dataclass
class Exposure:
    how: str  # "is type LoadBalancer with no ...", "is type NodePort", "has the public external IP 203.0.113.10"
    path: tuple
    direct: bool  # a public address of its own (LoadBalancer, externalIPs) rather than node ports
    guards: Guards


def service_exposure(r) -> Exposure | None:
    """How a Service is reachable from outside the cluster, and what restricts it; None for ClusterIP."""
    spec = _d(r.get(("spec",)))
    ann = r.annotations
    kind = _s(spec.get("type")) or "ClusterIP"
    g = Guards()
    if kind == "LoadBalancer":
        for key, values in INTERNAL_LB.items():
            v = _s(ann.get(key)).lower()
            if v and (v != "false" if values is None else v in values):
                g.found.append(f"annotation {key}: {ann[key]}")
        aws_controller = (_s(ann.get("service.beta.kubernetes.io/aws-load-balancer-type")).lower() in ("external", "nlb-ip")
                          or spec.get("loadBalancerClass") == "service.k8s.aws/nlb")
        if aws_controller and not _s(ann.get("service.beta.kubernetes.io/aws-load-balancer-scheme")):
            g.found.append("an AWS Load Balancer Controller NLB without a scheme (its default is internal)")
        allow_list("loadBalancerSourceRanges", _list(_l(spec.get("loadBalancerSourceRanges"))), g)
        key = "service.beta.kubernetes.io/load-balancer-source-ranges"
        allow_list(f"annotation {key}", _list(ann.get(key)), g)
        how = "is type LoadBalancer with no source-range restriction and no internal load balancer"
        return Exposure(how, ("spec", "type"), True, g)
    for i, ip in enumerate(_l(spec.get("externalIPs"))):
        if _s(ip) and not private_ip(ip):
            return Exposure(f"has the public external IP {_s(ip)}", ("spec", "externalIPs", i), True, g)
    if kind == "NodePort":
        return Exposure("is type NodePort", ("spec", "type"), False, g)
    return None


def service_ports(r) -> list:
    """(port, targetPort, nodePort) of a Service."""
    return [(p.get("port"), p.get("targetPort", p.get("port")), p.get("nodePort"))
            for p in _l(r.get(("spec", "ports"))) if isinstance(p, dict)]


def related_workloads(workloads, what: str) -> tuple:
    return tuple((Source(w.file, w.line, 1), f"{w.kind} {w.namespace or '-'}/{w.name} {what}") for w in workloads[:3])
