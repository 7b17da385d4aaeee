"""PM704: a probe on a port the probed container does not declare."""
from ...k8s.workloads import containers
from ...model import Severity
from ..registry import Hit, rule
from ._probes import declared_ports, port_of, probes, templated

# a port nobody listens on: the probe fails
EFFECT = {"livenessProbe": "the kubelet restarts the container over and over (CrashLoopBackOff)",
          "startupProbe": "the kubelet restarts the container over and over (CrashLoopBackOff)",
          "readinessProbe": "the pod never becomes Ready: the rollout stalls and the Service gets no endpoints"}
# a port name that does not resolve: the probe errors, and the kubelet discards errored results
UNRESOLVED = {"livenessProbe": (Severity.MEDIUM, "the kubelet discards errored results, so liveness silently never "
                                                 "runs and a hung process is never restarted"),
              "startupProbe": (None, "the container never counts as started: readiness and liveness never run "
                                     "and the pod stays unready for good"),
              "readinessProbe": (None, EFFECT["readinessProbe"])}


def _declares(c, port) -> bool:
    names, numbers = declared_ports(c)
    return port in (numbers if isinstance(port, int) else names)


def _listing(c) -> str:
    out = [f"{p.get('name')}={p.get('containerPort')}" if p.get("name") else str(p.get("containerPort"))
           for p in c.ports]
    return ", ".join(out) if out else "none"


@rule(id="PM704", name="probe-port-not-declared", severity="high",
      severity_reason="A readiness or startup probe on a port name that does not resolve keeps every pod out of "
                      "service; medium for a liveness probe (it silently never runs) and for an undeclared number, "
                      "often a typo or a management port that is not enabled.",
      incidents=["7.2"], title="Probe targets a port the container does not declare",
      production_only=False,
      fix="Point the probe at a port the container declares, preferably by name (`port: http` with "
          "`ports: [{name: http, containerPort: 8080}]`), so a port change moves the probe with it.")
def check(resource, ctx):
    """## What it checks
    Every httpGet, tcpSocket and grpc probe of every container. A named port must be one of the
    container's own `ports[].name` (the kubelet resolves names against the probed container only,
    not its siblings). A numeric port that the container does not declare, while it declares
    others, is reported at medium: a typo, a port that moved, or a sibling's port.
    Containers that declare no ports at all are not judged on numbers.

    ## Why it breaks production
    Catalog 7.2's liveness probe could never succeed, so the kubelet restarted every replica into
    CrashLoopBackOff. A probe on a wrong port number fails the same way on every pod from the first
    deploy; one on a port name that does not exist errors instead, which keeps a readiness-gated
    pod out of the Service for good and silently switches a liveness probe off.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: web
              image: registry.example.com/checkout-web:5.2.0
              ports: [{name: http, containerPort: 3000}]
              readinessProbe:
                httpGet: {path: /ready, port: web}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: web
              image: registry.example.com/checkout-web:5.2.0
              ports: [{name: http, containerPort: 3000}]
              readinessProbe:
                httpGet: {path: /ready, port: http}
    ```

    ## Fix
    Declare the port the app listens on with a name and use that name in every probe; when the
    app serves health on a separate management port, declare that port too.
    """
    pod = containers(resource)
    for c in pod:
        names, numbers = declared_ports(c)
        for kind, probe in probes(c).items():
            port = port_of(probe)
            if port is None or templated(port):
                continue
            where = f"{kind} of container '{c.name}'"
            sibling = next((o.name for o in pod if o is not c and _declares(o, port)), "")
            if isinstance(port, str) and port not in names:
                also = (f"; '{port}' is declared by container '{sibling}', but named ports resolve only against "
                        f"the probed container" if sibling else "")
                severity, effect = UNRESOLVED[kind]
                yield Hit(path=probe.at(probe.handler, "port"), severity=severity,
                          message=f"{where} uses port '{port}', which the container does not declare (its ports: "
                                  f"{_listing(c)}){also}: the kubelet cannot resolve it, the probe errors on every "
                                  f"run and {effect}")
            elif isinstance(port, int) and numbers and port not in numbers:
                what = (f"port {port} belongs to container '{sibling}', so the probe judges that container: when it "
                        f"is slow or down" if sibling else
                        "a typo, a moved port or a management port that is not enabled; if nothing answers there")
                yield Hit(path=probe.at(probe.handler, "port"), severity=Severity.MEDIUM,
                          message=f"{where} probes port {port}, which the container does not declare (its ports: "
                                  f"{_listing(c)}): {what} {EFFECT[kind]}")
