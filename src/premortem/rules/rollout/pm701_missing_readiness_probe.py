"""PM701: a container that receives Service (or hostPort) traffic with no readinessProbe."""
from ...k8s.workloads import SERVED_KINDS, containers, pod_labels, pod_spec
from ...model import Severity
from ..registry import Hit, rule
from ._probes import declared_ports


_HOST = (": the rolling update counts a new pod available the moment it starts and moves on to the next node, "
         "so a version that cannot serve replaces it everywhere before anyone notices")


def _serves(c, target) -> bool:
    names, numbers = declared_ports(c)
    if isinstance(target, str) and target.isdigit():
        target = int(target)
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        return False
    return target in numbers if isinstance(target, int) else target in names


def _routes(resource, ctx) -> dict:
    """container index -> how traffic reaches it and what a missing readiness probe costs there."""
    app = containers(resource, include_init=False)
    out: dict = {}
    unmatched = []
    for svc in ctx.project.services_selecting(pod_labels(resource), resource.namespace):
        ports = svc.facts.get("ports")
        for p in ports if isinstance(ports, list) else []:
            if not isinstance(p, dict):
                continue
            target = p.get("targetPort", p.get("port"))
            via = (f"Service '{svc.name}' sends it traffic (port {p.get('port')} → {target}): a new pod is "
                   f"Ready the moment its process starts and receives requests before it can answer them "
                   f"(connections, caches, warm-up), so every rollout and restart serves errors")
            hit = [c for c in app if _serves(c, target)]
            for c in hit:
                out.setdefault(c.index, via)
            if not hit:
                unmatched.append(via)
    host_network = (pod_spec(resource) or {}).get("hostNetwork") is True
    for c in app:
        for p in c.ports:
            if p.get("hostPort"):
                out.setdefault(c.index, f"it listens on hostPort {p['hostPort']} on every node" + _HOST)
            elif host_network and p.get("containerPort"):
                out.setdefault(c.index, f"it serves port {p['containerPort']} on the node's network (hostNetwork)" + _HOST)
    # a Service whose targetPort names no declared port: the pod's first container is the app
    # (only when no container has a readiness probe we could be mistaking for the app's)
    if unmatched and not out and app and not any(isinstance(c.data.get("readinessProbe"), dict) for c in app):
        out[app[0].index] = unmatched[0]
    return out


@rule(id="PM701", name="missing-readiness-probe", severity="high",
      severity_reason="Every rollout and every restart sends live requests to pods that cannot answer them yet; "
                      "lowered to medium outside production, where those errors reach no customer.",
      incidents=["7.1"], title="Served container has no readiness probe",
      kinds=sorted(SERVED_KINDS), production_only=False,
      fix="Add a readinessProbe on a route that answers only when the app can serve (dependencies connected, "
          "caches warm), e.g. `httpGet: {path: /ready, port: http}` with periodSeconds 5 and failureThreshold 3.")
def check(resource, ctx):
    """## What it checks
    Workloads that serve traffic — a Service in the scan selects their pod labels, or they listen
    on a hostPort / the host network — must give each serving container (the one whose declared
    port the Service targets) a `readinessProbe`. The message names the Service and port.
    Workers that no Service selects, and Jobs/CronJobs, are left alone.

    ## Why it breaks production
    In catalog 7.1 a Go API took 10 seconds to connect to its database after start, but with no
    readiness probe Kubernetes marked each new pod Ready at once and the load balancer routed live
    traffic to it, so every rolling update served 500s. A readiness probe is the only signal that
    keeps a pod out of the Service's endpoints until it can actually answer.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: orders-api, namespace: production}
    spec:
      selector: {matchLabels: {app: orders-api}}
      template:
        metadata: {labels: {app: orders-api}}
        spec:
          containers:
            - name: api
              image: registry.example.com/orders-api:2.4.1
              ports: [{name: http, containerPort: 8080}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: orders-api, namespace: production}
    spec:
      selector: {app: orders-api}
      ports: [{port: 80, targetPort: http}]
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: orders-api, namespace: production}
    spec:
      selector: {matchLabels: {app: orders-api}}
      template:
        metadata: {labels: {app: orders-api}}
        spec:
          containers:
            - name: api
              image: registry.example.com/orders-api:2.4.1
              ports: [{name: http, containerPort: 8080}]
              readinessProbe:
                httpGet: {path: /ready, port: http}
                periodSeconds: 5
                failureThreshold: 3
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: orders-api, namespace: production}
    spec:
      selector: {app: orders-api}
      ports: [{port: 80, targetPort: http}]
    ```

    ## Fix
    Expose a cheap `/ready` route that returns 200 only once the app's connections are up, and
    point a readinessProbe at it (`periodSeconds: 5`, `failureThreshold: 3`). Keep liveness on a
    separate, dependency-free route (see PM702).
    """
    routes = _routes(resource, ctx)
    for c in containers(resource, include_init=False):
        via = routes.get(c.index)
        if via is None or isinstance(c.data.get("readinessProbe"), dict):
            continue
        yield Hit(path=c.at("name"),
                  message=f"container '{c.name}' has no readinessProbe but {via}",
                  severity=None if ctx.production else Severity.MEDIUM)
