"""PM734: an Ingress backend naming a Service, or a Service port, that is not in the scan."""
from ..registry import Hit, rule
from ._xref import closest_named, ingress_backends, number, service_ports_text, source, templated, where


def _port_matches(ports: list, port) -> bool:
    n = number(port)
    key = "port" if n is not None else "name"
    want = n if n is not None else port
    return any(isinstance(p, dict) and (number(p.get(key)) if key == "port" else p.get(key)) == want for p in ports)


def _target_of(ports: list, n: int):
    """The Service port whose targetPort is `n` (the usual slip: the container port instead of the Service port)."""
    return next((p for p in ports if isinstance(p, dict) and number(p.get("targetPort")) == n
                 and number(p.get("port")) != n), None)


@rule(id="PM734", name="ingress-backend-not-found", severity="high",
      severity_reason="A backend without a Service, or on a port the Service does not expose, answers 503 to every "
                      "request on that host and path.",
      incidents=["7.1"], title="Ingress backend names a missing Service or port",
      kinds=["Ingress"], production_only=False,
      fix="Name a Service of the Ingress's own namespace and one of its `spec.ports` (its `port` number or "
          "its `name`, never the targetPort).")
def check(resource, ctx):
    """## What it checks
    The default backend and every rule path of an Ingress (networking.k8s.io/v1
    `service.name` with `service.port.number` or `.name`; v1beta1 `serviceName`/`servicePort`).
    The Service must exist in the Ingress's namespace, and the port must be one of its
    `spec.ports`: `number` against `port` (not `targetPort`), `name` against the port's name.
    It stays quiet when the scan holds no Service of that namespace (they live elsewhere), for
    resource backends, and on ports of ExternalName Services (they have no ports of their own).

    ## Why it breaks production
    Catalog 7.1 is users getting errors because traffic reached something that could not serve
    it; an Ingress path to a renamed Service, or to the container port 8080 where the Service
    exposes 80, has no endpoints to send to, so the controller returns 503 on that path from the
    moment it is applied while every pod is healthy.

    ## Bad
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: shop, namespace: production}
    spec:
      ingressClassName: nginx
      rules:
        - host: shop.example.com
          http:
            paths:
              - path: /
                pathType: Prefix
                backend:
                  service: {name: storefront, port: {number: 8080}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: storefront, namespace: production}
    spec:
      selector: {app: storefront}
      ports: [{name: http, port: 80, targetPort: 8080}]
    ```

    ## Good
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: shop, namespace: production}
    spec:
      ingressClassName: nginx
      rules:
        - host: shop.example.com
          http:
            paths:
              - path: /
                pathType: Prefix
                backend:
                  service: {name: storefront, port: {name: http}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: storefront, namespace: production}
    spec:
      selector: {app: storefront}
      ports: [{name: http, port: 80, targetPort: 8080}]
    ```

    ## Fix
    Refer to the Service port by name (`port: {name: http}`), so a renumbering cannot break the
    route, and keep the Ingress in the same chart as the Service it routes to.
    """
    ns, project = resource.namespace, ctx.project
    if not project.in_namespace("Service", ns):
        return  # this namespace's Services are not in the scan
    for b in ingress_backends(resource):
        default = b.route == "default backend"
        what = "the default backend" if default else f"the backend of {b.route}"
        effect = ("the ingress controller answers 503 for every request " +
                  ("no rule matches" if default else f"to {b.route}"))
        svc = project.get("Service", b.service, ns)
        if svc is None:
            yield _missing(project, b, ns, what, effect)
            continue
        ports = svc.facts.get("ports") or []
        if svc.facts.get("type") == "ExternalName" or not ports or b.port is None or templated(b.port):
            continue
        if _port_matches(ports, b.port):
            continue
        shown = f"port {b.port}" if number(b.port) is not None else f"port '{b.port}'"
        slip = _target_of(ports, number(b.port)) if number(b.port) is not None else None
        why = (f" ({b.port} is the targetPort behind Service port {slip.get('port')}; an Ingress names the Service "
               f"port, not the container's)" if slip else "")
        yield Hit(path=b.port_path,
                  related=((source(svc), f"Service '{svc.name}' exposes {service_ports_text(ports)}"),),
                  message=f"{what} uses {shown} of Service '{b.service}', which exposes only "
                          f"{service_ports_text(ports)}{why}: {effect}")


def _missing(project, b, ns: str, what: str, effect: str) -> Hit:
    elsewhere = next((s for s in project.of_kind("Service") if s.name == b.service), None)
    if elsewhere is not None:
        return Hit(path=b.name_path,
                   related=((source(elsewhere), f"Service '{b.service}' in namespace '{elsewhere.namespace}'"),),
                   message=f"{what} names Service '{b.service}', which is not in {where(ns)}; a Service "
                           f"'{b.service}' exists in namespace '{elsewhere.namespace}', but an Ingress routes only to "
                           f"Services of its own namespace: {effect}")
    near = closest_named(project.in_namespace("Service", ns), b.service)
    return Hit(path=b.name_path,
               related=((source(near), f"Service '{near.name}': the closest name"),) if near else (),
               message=f"{what} names Service '{b.service}', which is not in {where(ns)}"
                       + (f" (the scan has Service '{near.name}')" if near else "") + f": {effect}")
