"""PM706: a readiness or liveness probe that acts on a single failed check."""
from ...k8s.workloads import containers
from ...model import Severity
from ..registry import Hit, rule
from ._probes import probes


@rule(id="PM706", name="hair-trigger-probe", severity="medium",
      severity_reason="One slow response takes a pod out of rotation, and under load all replicas flap together; "
                      "high for a liveness probe, where the same blip restarts a healthy process.",
      incidents=["R9", "7.1", "7.2"], title="Probe acts on a single failed check",
      production_only=False, options={"hair_trigger_period_seconds": 2},
      fix="Let a probe fail a few times before acting: failureThreshold 3 with periodSeconds 5-10 and a "
          "timeoutSeconds above the endpoint's worst latency under load.")
def check(resource, ctx):
    """## What it checks
    A `readinessProbe` with `failureThreshold: 1` that runs every `hair_trigger_period_seconds`
    (2) seconds or faster, and any `livenessProbe` with `failureThreshold: 1`. With the default
    `timeoutSeconds` of 1, one response slower than a second (a GC pause, CPU throttling, a burst
    of traffic) is enough to act. A readiness probe with failureThreshold 1 but a relaxed period,
    or failureThreshold 3 on a fast period, is fine.

    ## Why it breaks production
    In the narrative, readiness ran every second with initialDelaySeconds 0 and failureThreshold 1:
    the 45-second Spring app was marked unhealthy at once and "if it was a liveness probe, it would
    kill the pod" (R9). Under load every replica slows at the same moment, so all of them leave the
    Service together and traffic has nowhere to go (7.1) or every replica restarts together (7.2).

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
              image: our-priv-reg.io/fintech/payment-api:2.7.0
              readinessProbe:
                httpGet: {path: /health, port: 8080}
                initialDelaySeconds: 0
                periodSeconds: 1
                failureThreshold: 1
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
              image: our-priv-reg.io/fintech/payment-api:2.7.0
              readinessProbe:
                httpGet: {path: /health, port: 8080}
                initialDelaySeconds: 5
                periodSeconds: 5
                failureThreshold: 3
    ```

    ## Fix
    Require several consecutive failures (`failureThreshold: 3`) over a period that rides out a
    GC pause (`periodSeconds: 5`), and set `timeoutSeconds` above the endpoint's p99 under load;
    for a fast start use a startupProbe rather than a twitchy readiness or liveness probe.
    """
    fast = int(ctx.options.get("hair_trigger_period_seconds", 2))
    for c in containers(resource):
        for kind, probe in probes(c).items():
            if probe.number("failureThreshold") != 1 or kind == "startupProbe":
                continue
            period, timeout = probe.number("periodSeconds"), probe.number("timeoutSeconds")
            slow = (f"one response slower than timeoutSeconds {timeout}s (a GC pause, CPU throttling, a burst of "
                    f"traffic)")
            if kind == "readinessProbe" and period <= fast:
                yield Hit(path=probe.at("failureThreshold"),
                          message=f"readinessProbe of container '{c.name}' has failureThreshold 1 every {period}s: "
                                  f"{slow} takes the pod out of the Service; under load every replica slows at once, "
                                  f"so all of them leave rotation together and flap in and out every {period}s")
            elif kind == "livenessProbe":
                yield Hit(path=probe.at("failureThreshold"), severity=Severity.HIGH,
                          message=f"livenessProbe of container '{c.name}' has failureThreshold 1: {slow} makes the "
                                  f"kubelet restart a healthy process, and under load every replica is restarted "
                                  f"within the same {period}s")
