"""PM702: a liveness probe that runs the readiness check or a deep dependency check."""
import re

from ...k8s.workloads import containers
from ...model import Severity
from ..registry import Hit, rule
from ._probes import probes, templated

# path segments that name a dependency or the readiness side of health
_DEEP = re.compile(r"(?:^|/)(db|database|databases|deep|deps|dependencies|dependency|downstream|upstream|full|all|"
                   r"ready|readiness|readyz|redis|postgres|postgresql|mysql|mongo|mongodb|kafka|rabbitmq|cache|"
                   r"elasticsearch)(?:/|$|\.)")
_DEEP_QUERY = re.compile(r"(?:^|&)(full|deep|verbose|all|dependencies)(?:=|&|$)")
# aggregate health endpoints that include every dependency indicator unless a group is named
_AGGREGATE = {re.compile(r"/actuator/health/?$"): ("Spring Boot's aggregate health, which includes every "
                                                    "HealthIndicator (db, redis, diskSpace...)", "/actuator/health/liveness"),
              re.compile(r"/q/health/?$"): ("Quarkus' aggregate health, which includes every readiness check",
                                            "/q/health/live")}


def _http(probe):
    a = probe.action
    path = str(a.get("path") or "/")
    return path, str(a.get("port")), str(a.get("host") or ""), str(a.get("scheme") or "HTTP").upper()


def _deep(path: str) -> tuple[str, str]:
    """(why `path` looks like a dependency check, what to use instead); ('', '') when it does not."""
    base, _, query = path.lower().partition("?")
    for pattern, (what, instead) in _AGGREGATE.items():
        if pattern.search(base):
            return f"{path}, {what}", f"; point liveness at {instead}"
    m = _DEEP.search(base)
    if m:
        return f"{path}, whose '{m.group(1)}' segment says it checks more than the process itself", ""
    m = _DEEP_QUERY.search(query)
    if m:
        return f"{path}, whose '{m.group(1)}' parameter asks for a deep check", ""
    return "", ""


@rule(id="PM702", name="liveness-shares-readiness-check", severity="high",
      severity_reason="A liveness probe that checks dependencies restarts every replica at once when a dependency "
                      "blips; lowered to medium when it only repeats the readiness endpoint, whose depth we cannot see.",
      incidents=["7.2"], title="Liveness probe runs the readiness or a dependency check",
      production_only=False,
      fix="Give liveness its own cheap route that only proves the process is not wedged (`/livez`, "
          "`/actuator/health/liveness`): no auth, no database, no downstream calls; keep dependency checks in readiness.")
def check(resource, ctx):
    """## What it checks
    Each container's `livenessProbe`: it must not be the very same check as its `readinessProbe`
    (same httpGet path and port, or the same exec command), and its httpGet path must not look
    like a deep check: a dependency in the path (`/health/db`, `/status/redis`), the readiness
    side of health (`/ready`, `/readyz`, `/health/readiness`), a deep query (`?full=true`), or an
    aggregate endpoint such as Spring Boot's `/actuator/health` without the `/liveness` group.
    Readiness and liveness on different paths, and tcpSocket on the same port, are fine.

    ## Why it breaks production
    In catalog 7.2 a Node.js liveness probe hit `/health`, a route that did more than prove the
    process was alive (it sat behind auth middleware), so it always failed and the kubelet restarted
    every replica into CrashLoopBackOff. A liveness check that depends on anything outside the
    container does the same thing whenever that dependency is slow, across all replicas at once.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: registry.example.com/payment-api:3.1.0
              readinessProbe:
                httpGet: {path: /actuator/health, port: 8080}
              livenessProbe:
                httpGet: {path: /actuator/health, port: 8080}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: app
              image: registry.example.com/payment-api:3.1.0
              readinessProbe:
                httpGet: {path: /actuator/health/readiness, port: 8080}
              livenessProbe:
                httpGet: {path: /actuator/health/liveness, port: 8080}
    ```

    ## Fix
    Serve a dedicated, unauthenticated liveness route that answers 200 as long as the process can
    handle a request at all (`app.get('/livez', (req, res) => res.sendStatus(200))`, or Spring
    Boot's `/actuator/health/liveness`), and keep database and downstream checks in readiness,
    where a failure takes the pod out of rotation instead of restarting it.
    """
    for c in containers(resource):
        ps = probes(c)
        live, ready = ps.get("livenessProbe"), ps.get("readinessProbe")
        if live is None:
            continue
        same = ready is not None and live.handler == ready.handler and (
            (live.handler == "httpGet" and _http(live) == _http(ready))
            or (live.handler == "exec" and live.action.get("command") == ready.action.get("command")))
        where = f"livenessProbe of container '{c.name}'"
        restart = ("the kubelet restarts every replica at once (CrashLoopBackOff), although a restart "
                   "fixes nothing outside the container")
        if live.handler == "httpGet" and not templated(str(live.action.get("path") or "")):
            path, port = _http(live)[:2]
            deep, instead = _deep(path)
            if deep:
                also = " (the same check as its readinessProbe)" if same else ""
                yield Hit(path=live.at("httpGet", "path"),
                          message=f"{where} calls {deep}{also}: when a dependency is slow or down, {restart}{instead}")
                continue
            if same:
                yield Hit(path=live.at("httpGet", "path"), severity=Severity.MEDIUM,
                          message=f"{where} calls the same check as its readinessProbe (GET {path} on port {port}): "
                                  f"readiness is meant to fail while dependencies are down, and as liveness that "
                                  f"failure means {restart}")
        elif same and live.handler == "exec":
            yield Hit(path=live.at("exec", "command"), severity=Severity.MEDIUM,
                      message=f"{where} runs the same command as its readinessProbe: readiness is meant to fail "
                              f"while dependencies are down, and as liveness that failure means {restart}")
