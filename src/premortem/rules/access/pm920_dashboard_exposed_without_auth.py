"""PM920: an internal dashboard routed from outside (Ingress, HTTPRoute, Route, IngressRoute) with no
auth layer and no IP allow-list."""
from ...model import Severity, Source
from ..registry import Hit, rule
from . import _exposure as ex

PRIVATE_DOMAINS = ["*.internal", "*.internal.*", "*.intranet", "*.intranet.*", "*.local", "*.lan", "*.corp",
                   "*.private", "*.private.*", "*.home.arpa", "*.cluster.local", "localhost"]
PRIVATE_NAMES = ["*internal*", "*private*", "*intranet*"]


def _routes(resource, ctx) -> list:
    o, project, api = ctx.options, ctx.project, resource.api_version
    if resource.kind == "Ingress":
        top = ex.ingress_guards(resource, project, o.get("private_ingress_classes", PRIVATE_NAMES))
        routes = ex.ingress_routes(resource)
        for r in routes:
            r.guards = top.add(r.guards)
        return routes
    if resource.kind == "HTTPRoute":
        return ex.httproute_routes(resource, project, o.get("private_gateways", PRIVATE_NAMES + ["gke-l7-rilb*"]))
    if resource.kind == "Route" and (api.startswith("route.openshift.io/") or api == "v1"):
        return ex.openshift_routes(resource)
    if resource.kind == "IngressRoute" and api.startswith("traefik."):
        return ex.ingressroute_routes(resource, project, o.get("private_entrypoints", PRIVATE_NAMES))
    return []


@rule(id="PM920", name="dashboard-exposed-without-auth", severity="high",
      severity_reason="An internal dashboard on a public route is a console for whoever finds the host; critical "
                      "for Jenkins, Argo CD, Argo Workflows and the Kubernetes Dashboard, which run code in the cluster.",
      incidents=["9.2"], title="Internal dashboard exposed without an auth layer or IP allow-list",
      kinds=["Ingress", "HTTPRoute", "Route", "IngressRoute"], production_only=False,
      options={"dashboards": [], "private_domains": PRIVATE_DOMAINS, "private_ingress_classes": PRIVATE_NAMES,
               "private_gateways": PRIVATE_NAMES + ["gke-l7-rilb*"], "private_entrypoints": PRIVATE_NAMES},
      fix="Put an auth layer in front of the dashboard (`nginx.ingress.kubernetes.io/auth-url` + `auth-signin` to "
          "oauth2-proxy, a Traefik forwardAuth Middleware, ALB `auth-type: oidc`), or restrict it to your networks "
          "(`whitelist-source-range`, an internal ingress class or ALB scheme), or stop exposing it and use "
          "`kubectl port-forward`.")
def check(resource, ctx):
    """## What it checks
    Every rule of an Ingress (networking.k8s.io/v1 and v1beta1), Gateway API HTTPRoute, OpenShift
    Route and Traefik IngressRoute whose backend is an internal dashboard: Grafana, Prometheus,
    Alertmanager, Kibana, Jenkins, Argo CD, Argo Workflows, the Kubernetes Dashboard, pgAdmin and other
    database UIs, plus any name in the `dashboards` option. The dashboard is recognised by the image of
    the pods the backend Service selects, then by the Service and workload names, then by the host's
    first label (`jenkins.company.com`) and the URL path; companions such as `prometheus-node-exporter`
    or `argocd-repo-server` are not dashboards, and a frontend is not one either.

    It is quiet when something guards the route: ingress-nginx `auth-url`, `auth-type: basic`,
    `auth-tls-verify-client: on`, `whitelist-source-range`/`allowlist-source-range` or a controller
    `global-auth-url`; a Traefik Middleware (forwardAuth, basicAuth, ipAllowList, a chain of them)
    referenced by `router.middlewares`, an HTTPRoute filter or an IngressRoute; an AWS ALB with
    `auth-type: oidc|cognito`, `inbound-cidrs`, custom security groups or an internal scheme (the
    controller's default); an internal ingress class, Gateway or entry point; hosts in a private domain
    (`private_domains`); OpenShift `ip_whitelist`; an Envoy Gateway SecurityPolicy attached to the
    route or its Gateway; an oauth2-proxy/oauth-proxy in the backend's pods. A Middleware or policy
    whose spec the project index does not keep is judged by its name (`sso`, `oauth`, `allowlist`).
    An allow-list containing `0.0.0.0/0`, an `auth-signin` without `auth-url`, and annotations of a
    dialect the Ingress's controller does not read protect nothing, and the message says so. TLS alone
    is not authentication, and the message says that too.

    ## Why it breaks production
    In catalog 9.2 a Jenkins reached through `host: jenkins.company.com` had no auth layer and no IP
    allow-list; a Google dork found it and attackers ran a build job that deployed a reverse-shell
    container. Any dashboard on an open route is that incident waiting for its search engine.

    ## Bad
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: jenkins, namespace: ci}
    spec:
      ingressClassName: nginx
      tls: [{hosts: [jenkins.company.com], secretName: jenkins-tls}]
      rules:
        - host: jenkins.company.com
          http:
            paths:
              - path: /
                pathType: Prefix
                backend: {service: {name: jenkins, port: {number: 8080}}}
    ```

    ## Good
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: jenkins
      namespace: ci
      annotations:
        nginx.ingress.kubernetes.io/auth-url: "https://oauth.company.com/oauth2/auth"
        nginx.ingress.kubernetes.io/auth-signin: "https://oauth.company.com/oauth2/start?rd=$escaped_request_uri"
    spec:
      ingressClassName: nginx
      tls: [{hosts: [jenkins.company.com], secretName: jenkins-tls}]
      rules:
        - host: jenkins.company.com
          http:
            paths:
              - path: /
                pathType: Prefix
                backend: {service: {name: jenkins, port: {number: 8080}}}
    ```

    ## Fix
    Front the dashboard with oauth2-proxy (ingress-nginx `auth-url`/`auth-signin`, a Traefik forwardAuth
    Middleware, ALB OIDC/Cognito), or publish it only on an internal ingress class or load balancer
    with an IP allow-list and a private DNS zone. Reach admin consoles through `kubectl port-forward`
    or a VPN rather than the internet.
    """
    catalog = ex.dashboards(ctx.options.get("dashboards"))
    private = ctx.options.get("private_domains", PRIVATE_DOMAINS)
    for route in _routes(resource, ctx):
        if route.guards.found or ex.private_hosts(route.hosts, private):
            continue
        exposed = []
        for b in route.backends:
            found = ex.backend_dashboard(ctx.project, b.service, resource.namespace, catalog, route.hosts, b.url_path)
            if found is not None and not found.guard and all(f.dashboard != found.dashboard for _, f in exposed):
                exposed.append((b, found))
        if not exposed:
            continue
        names = " and ".join(f"{f.dashboard.name} ({f.evidence}" + ("" if f.evidence.startswith("Service name")
                             else f", via Service '{f.service}'") + ")" for _, f in exposed)
        risks = (exposed[0][1].dashboard.risk if len(exposed) == 1 else
                 "; ".join(f"{f.dashboard.name}: {f.dashboard.risk}" for _, f in exposed))
        message = (f"{route.what} routes to {names} with no auth layer and no IP allow-list: anyone who finds "
                   f"the host reaches it, and {risks}")
        if route.tls:
            message += ". TLS is configured, but it only encrypts the traffic: it authenticates nobody"
        if route.guards.notes:
            message += ". Not a guard: " + "; ".join(route.guards.notes)
        related = []
        for b, f in exposed:
            if b.path != route.path:
                related.append((b.path, f"backend Service '{f.service}' ({f.dashboard.name})"))
            svc = ctx.project.get("Service", f.service, resource.namespace)
            if svc is not None:
                related.append((Source(svc.file, svc.line, 1), f"Service {svc.namespace or '-'}/{svc.name} (the route's backend)"))
            related.extend(ex.related_workloads(f.workloads, f"serves {f.dashboard.name}"))
        critical = any(f.dashboard.critical for _, f in exposed)
        yield Hit(path=route.path or exposed[0][0].path, key=route.key, message=message, related=tuple(related),
                  severity=Severity.CRITICAL if critical else None)
