"""PM705: a liveness (or startup) probe that gives up before the app can have started."""
from ...k8s.workloads import containers
from ...model import Severity
from ..registry import Hit, rule
from ._probes import JVM_IMAGES, STARTUP_ANNOTATION, expected_start, probes


@rule(id="PM705", name="probe-kills-slow-starter", severity="high",
      severity_reason="The kubelet kills every new pod before it finishes starting, so a deploy or a restart never "
                      "comes back up; medium when the start time is only estimated and the budget is within 2x of it.",
      incidents=["R9", "7.2"], title="Liveness probe kills the app before it can start",
      production_only=False,
      options={"jvm_startup_seconds": 45, "default_startup_seconds": 10, "jvm_images": JVM_IMAGES},
      fix="Add a startupProbe whose initialDelaySeconds + periodSeconds × failureThreshold covers the slowest start "
          "(e.g. periodSeconds 5, failureThreshold 24 = 120s) and keep the livenessProbe for the running app; "
          f"declare the real start time with the `{STARTUP_ANNOTATION}` annotation.")
def check(resource, ctx):
    """## What it checks
    For every container with a `livenessProbe`: the time the kubelet waits before it kills the
    container, `initialDelaySeconds + periodSeconds × failureThreshold` (Kubernetes defaults 0,
    10 and 3), must cover the app's start. With a `startupProbe` the liveness probe waits for it,
    so the startup probe's own budget is judged instead. The expected start comes from the
    `premortem.dev/startup-seconds` annotation on the workload or its pod template, otherwise from
    the runtime: a JVM (image such as openjdk/temurin/corretto/spring/tomcat/keycloak, a
    `JAVA_OPTS`/`JAVA_TOOL_OPTIONS` env, a `java` command, or the Dockerfile that builds the image)
    is assumed to need `jvm_startup_seconds` (45), anything else `default_startup_seconds` (10).

    ## Why it breaks production
    In the narrative the probe was set to initialDelaySeconds 0, periodSeconds 1, failureThreshold 1
    for a Spring app that takes 45 seconds to start: as a liveness probe it kills the JVM after one
    second, every restart starts over, and the pods sit in CrashLoopBackOff (R9). Catalog 7.2 is
    the same crash loop across every replica, caused by a liveness probe that could not pass.

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
              env: [{name: JAVA_OPTS, value: "-Xmx1g"}]
              livenessProbe:
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
              env: [{name: JAVA_OPTS, value: "-Xmx1g"}]
              startupProbe:
                httpGet: {path: /health, port: 8080}
                periodSeconds: 5
                failureThreshold: 24
              livenessProbe:
                httpGet: {path: /health, port: 8080}
                periodSeconds: 10
                failureThreshold: 3
    ```

    ## Fix
    Give slow starters a startupProbe sized for the worst start (cold JVM, cache warm-up,
    migrations): `periodSeconds: 5` and `failureThreshold: 24` allow two minutes, after which the
    liveness probe takes over with short, sensible settings. Record the measured start time in the
    `premortem.dev/startup-seconds` annotation so this check uses it instead of an estimate.
    """
    for c in containers(resource, include_init=False):
        ps = probes(c)
        probe = ps.get("startupProbe") or ps.get("livenessProbe")
        if probe is None:
            continue
        start, why, declared = expected_start(resource, c, ctx)
        if probe.budget >= start:
            continue
        if probe.kind == "startupProbe":
            what = f"startupProbe of container '{c.name}' gives up after {probe.arithmetic()}"
        else:
            what = f"livenessProbe of container '{c.name}' kills it after {probe.arithmetic()} and there is no startupProbe"
        close = not declared and probe.budget * 2 >= start
        yield Hit(path=probe.path, key=True, severity=Severity.MEDIUM if close else None,
                  message=f"{what}, but the app needs about {start}s to start ({why}): budget {probe.budget}s < "
                          f"{start}s, so the kubelet restarts it before it is up, every restart starts over and the pod "
                          f"never leaves CrashLoopBackOff")
