"""PM731: a Service targetPort that no container of the selected pods declares."""
from ...model import Severity
from ..registry import Hit, rule
from ._xref import declared_ports, number, ports_text, service_selector, source, templated


@rule(id="PM731", name="service-target-port-not-declared", severity="high",
      severity_reason="A named targetPort no pod declares leaves the Service without endpoints: every request "
                      "fails. Medium for an undeclared number, which only fails if nothing listens there.",
      incidents=["7.1", "7.2"], title="Service targetPort is not declared by the selected pods",
      kinds=["Service"], production_only=False,
      fix="Target a port the pods declare, by name (`targetPort: http` with `ports: [{name: http, "
          "containerPort: 8080}]`), so a port change in the pod template moves the Service with it.")
def check(resource, ctx):
    """## What it checks
    Every port of a Service with a selector, against the container ports of the workloads in
    the scan whose pod templates the selector matches. A named `targetPort` must be the name of a
    port some selected container declares. A numeric one (or a missing one, which means the
    same number as `port`) must be declared too, but only when every selected workload declares
    ports at all (declaring them is optional, so silence proves nothing); that case is medium.
    Services that select nothing in the scan are PM730's.

    ## Why it breaks production
    The endpoints controller resolves a named targetPort per pod and leaves out every pod that
    lacks it, so the Service gets no endpoints and every request fails, like the unready traffic
    of catalog 7.1. A wrong number (`port: 80` with no targetPort in front of an app on 8080)
    sends traffic to a closed port: pods pass their probes (7.2) yet every connection is refused.

    ## Bad
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {app: checkout}
      ports: [{name: http, port: 80, targetPort: web}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {matchLabels: {app: checkout}}
      template:
        metadata: {labels: {app: checkout}}
        spec:
          containers:
            - name: web
              image: registry.example.com/checkout-web:5.2.0
              ports: [{name: http, containerPort: 3000}]
    ```

    ## Good
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {app: checkout}
      ports: [{name: http, port: 80, targetPort: http}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: production}
    spec:
      selector: {matchLabels: {app: checkout}}
      template:
        metadata: {labels: {app: checkout}}
        spec:
          containers:
            - name: web
              image: registry.example.com/checkout-web:5.2.0
              ports: [{name: http, containerPort: 3000}]
    ```

    ## Fix
    Name the container port and use that name as `targetPort`; when the app serves on a second
    port (metrics, admin), declare it too.
    """
    selector = service_selector(resource)
    ports = resource.get(("spec", "ports"))
    if not selector or not isinstance(ports, list):
        return
    selected = ctx.project.workloads_selected_by({"matchLabels": selector}, resource.namespace)
    if not selected:
        return
    declared = [(w, declared_ports(w)) for w in selected]
    listing = "; ".join(f"{w.kind}/{w.name} declares {ports_text(pairs)}" for w, pairs in declared[:3])
    related = tuple((source(w), f"{w.kind}/{w.name} declares {ports_text(pairs)}") for w, pairs in declared[:3])
    for i, p in enumerate(ports):
        if not isinstance(p, dict) or templated(p.get("targetPort")):
            continue
        label = f"port '{p['name']}' ({p.get('port')})" if p.get("name") else f"port {p.get('port')}"
        target = p.get("targetPort", p.get("port"))
        path = ("spec", "ports", i, "targetPort" if "targetPort" in p else "port")
        if isinstance(target, str) and number(target) is None:
            if not any(name == target for _, pairs in declared for name, _ in pairs):
                yield Hit(path=path, related=related,
                          message=f"Service '{resource.name}' {label} targets port '{target}', which no selected "
                                  f"container declares ({listing}): the endpoints controller leaves every pod out, "
                                  f"so the Service has no endpoints and every request to it fails")
            continue
        n = number(target)
        if n is None or any(not pairs for _, pairs in declared):
            continue
        if not any(num == n for _, pairs in declared for _, num in pairs):
            how = f"targets port {n}" if "targetPort" in p else f"has no targetPort, so it targets port {n}"
            yield Hit(path=path, related=related, severity=Severity.MEDIUM,
                      message=f"Service '{resource.name}' {label} {how}, which no selected container declares "
                              f"({listing}): unless the app also listens there, every connection is refused "
                              f"while the pods pass their probes")
