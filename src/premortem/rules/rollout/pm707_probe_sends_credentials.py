"""PM707: a probe that authenticates, i.e. a health route behind auth."""
import re

from ...k8s.workloads import containers
from ..registry import Hit, rule
from ._probes import probes

_HEADER = re.compile(r"(?i)^(proxy-)?authorization$|^cookie$|^x-(api|auth|access)[-_]?(key|token)$|^api[-_]?key$|"
                     r"^x-[\w-]*(token|secret|session)$")
_QUERY = re.compile(r"(?i)[?&](token|access_token|api_key|apikey|key|auth|secret|password)=([^&#]+)")
_CURL = re.compile(r"(?i)(?:-H|--header)\s*=?\s*['\"]?((?:proxy-)?authorization|cookie|x-api-key|x-auth-token)"
                   r"\s*:\s*([^'\"\n]+)")
EFFECT = {"livenessProbe": "the kubelet restarts them all at once (CrashLoopBackOff)",
          "startupProbe": "no new pod can start and every restart loops (CrashLoopBackOff)",
          "readinessProbe": "every pod leaves the Service at once"}


# A session cookie whose value names the probe (microservices-demo's `shop_session-id=x-readiness-probe`)
# is a marker that keeps probes from creating sessions, not a credential.
_MARKER = re.compile(r"(?i)probe|health|liveness|readiness|kubelet|k8s")


def _is_marker(name: str, value: str) -> bool:
    if not re.search(r"(?i)cookie|session", name):
        return False
    values = [part.split("=", 1)[-1] for part in value.split(";") if part.strip()]
    return bool(values) and all(_MARKER.search(v) for v in values)


def credentials(probe):
    """(path, what, secret) for each credential the probe sends."""
    if probe.handler == "httpGet":
        headers = probe.action.get("httpHeaders")
        for i, h in enumerate(headers if isinstance(headers, list) else []):
            if isinstance(h, dict) and _HEADER.search(str(h.get("name", ""))) \
                    and not _is_marker(str(h.get("name", "")), str(h.get("value") or "")):
                yield probe.at("httpGet", "httpHeaders", i, "value"), f"the '{h['name']}' header", str(h.get("value") or "")
        m = _QUERY.search(str(probe.action.get("path") or ""))
        if m:
            yield probe.at("httpGet", "path"), f"the '{m.group(1)}' query parameter", m.group(2)
    elif probe.handler == "exec" and isinstance(probe.action.get("command"), list):
        for i, part in enumerate(probe.action["command"]):
            for m in _CURL.finditer(str(part)):
                yield probe.at("exec", "command", i), f"the '{m.group(1)}' header", m.group(2).strip()


@rule(id="PM707", name="probe-sends-credentials", severity="high",
      severity_reason="A probe that needs a credential fails on every replica at once the day it rotates or "
                      "expires (catalog 7.2's 401 crash loop), and the credential sits in the pod spec in clear text.",
      incidents=["7.2"], title="Probe sends credentials to an auth-protected health route",
      production_only=False,
      fix="Serve health on a route the auth middleware skips (a public `/liveness`, or a separate management "
          "port that only the kubelet reaches) and drop the credential from the probe.")
def check(resource, ctx):
    """## What it checks
    Every probe of every container: an httpGet probe must not send credential headers
    (`Authorization`, `Cookie`, `X-API-Key`, `X-Auth-Token`, ...) or a token in its query string,
    and an exec probe must not `curl -H 'Authorization: ...'`. Needing them means the health route
    sits behind authentication. Ordinary headers (`Host`, `Accept`, `X-Forwarded-Proto`) are fine.
    The credential is never printed whole.

    ## Why it breaks production
    In catalog 7.2 a Node.js liveness probe pointed at `/health`, a route behind auth middleware,
    so it always got 401 and the kubelet restarted every replica into CrashLoopBackOff. Sending a
    token with the probe only postpones that outage to the day the token rotates or expires, when
    every replica fails together, and meanwhile anyone who can read the Deployment reads the token.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout-web, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: web
              image: registry.example.com/checkout-web:5.2.0
              livenessProbe:
                httpGet:
                  path: /health
                  port: 3000
                  httpHeaders:
                    - {name: Authorization, value: "Bearer probe-7f3c9a1e5b2d48c6"}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: checkout-web, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: web
              image: registry.example.com/checkout-web:5.2.0
              livenessProbe:
                httpGet:
                  path: /liveness
                  port: 3000
                  httpHeaders:
                    - {name: Accept, value: application/json}
    ```

    ## Fix
    Register the health routes before the auth middleware (`app.get('/liveness', (req, res) =>
    res.sendStatus(200))`), or serve them on a management port, and remove the credential from
    the probe; rotate the credential that was in the manifest.
    """
    found = [(c, kind, path, what, secret) for c in containers(resource) for kind, probe in probes(c).items()
             for path, what, secret in credentials(probe)]
    # every credential of the object is redacted in every finding: flow-style YAML puts several on one line
    secrets = tuple(sorted({s for *_, s in found if len(s) >= 6}, key=len, reverse=True))
    for c, kind, path, what, _ in found:
        yield Hit(path=path, secrets=secrets, identity=what,
                  message=f"{kind} of container '{c.name}' sends {what}, so its health route sits behind "
                          f"authentication: when the credential rotates or expires every replica's probe is refused "
                          f"together and {EFFECT[kind]}; the credential is also readable by anyone who can read "
                          f"this {resource.kind}")
