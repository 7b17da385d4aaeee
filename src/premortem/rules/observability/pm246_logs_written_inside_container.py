"""PM246: a container that writes its logs to a file inside the container, where nothing ships them."""
from ...k8s.workloads import containers, pod_spec
from ..registry import Hit, rule
from ._logging import ENV_NAME, args_destinations, env_destination, file_target, volume_behind


def _verdict(path: str, c, spec: dict) -> str:
    """Why the file is lost ('' when a volume keeps or shares it)."""
    where = volume_behind(path, c.data, spec, str(c.data.get("workingDir") or ""))
    if where is None:
        return ("inside the container's writable layer: `kubectl logs` shows none of it, and every restart "
                "deletes it")
    name, kind, shared = where
    if kind == "emptyDir" and not shared:
        return (f"on emptyDir volume '{name}', which no other container reads (no shipping sidecar) and which is "
                f"deleted with the pod")
    return ""


def _sources(c, project, namespace):
    """(path inside the container, what set it, the path to report at) of each log file destination."""
    for key in ("command", "args"):
        items = c.data.get(key)
        if isinstance(items, list):
            for i, flag, path in args_destinations(items):
                how = f"{key} `{flag}`" if flag != ">" else f"{key} redirects output to {path}"
                yield path, how, c.at(key, i)
    for i, e in enumerate(c.env):
        path = env_destination(str(e.get("name", "")), e.get("value"))
        if path:  # only a LOG_* value is shown whole: JAVA_OPTS and friends may carry secrets
            name = e.get("name")
            shown = f"env {name}={path}" if ENV_NAME.match(str(name)) else f"a flag in env {name}"
            yield path, shown, c.at("env", i, "value")
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef") if isinstance(e.get("valueFrom"), dict) else None
        if isinstance(ref, dict) and ENV_NAME.match(str(e.get("name", ""))):
            value = project.config_value("ConfigMap", str(ref.get("name")), str(ref.get("key")), namespace)
            if file_target(value or ""):
                yield file_target(value), f"env {e.get('name')}={value} (ConfigMap {ref.get('name')})", c.at("env", i)
    env_from = c.data.get("envFrom")
    for i, src in enumerate(env_from if isinstance(env_from, list) else []):
        ref = src.get("configMapRef") if isinstance(src, dict) else None
        if not isinstance(ref, dict):
            continue
        entry = project.named("ConfigMap", str(ref.get("name")), namespace)
        for k, v in sorted(((entry.facts.get("data") or {}) if entry else {}).items()):
            path = env_destination(str(k), v)
            if path:
                shown = f"env {k}={path}" if ENV_NAME.match(str(k)) else f"a flag in env {k}"
                yield path, f"{shown} from ConfigMap {ref.get('name')}", c.at("envFrom", i)


@rule(id="PM246", name="logs-written-inside-container", severity="medium",
      severity_reason="The app runs fine; the loss shows only in the incident, when the logs that explain a "
                      "crash were deleted with the container.",
      incidents=["2.2"], title="Container writes its logs to a file inside the container",
      production_only=False,
      fix="Log to stdout/stderr (`--log-file=-`, drop `LOG_FILE`, `logging.file.name`), where the node's log "
          "agent collects them; if the app can only write files, put them on an emptyDir shared with a Fluent Bit "
          "sidecar that tails and ships them.")
def check(resource, ctx):
    """## What it checks
    Every container and init container: its `command`/`args` must not send logs to a file
    (`--log-file=/var/log/app.log`, `--logfile`, `--log-path`, `--log-dir`, `--error-logfile`,
    `--access-logfile`, `-Dlogging.file.name=...`, or a shell `>> /var/log/app.log 2>&1`), nor
    its environment (`LOG_FILE`, `APP_LOG_PATH`, `LOG_DIR`, `LOGGING_FILE_NAME`,
    `logging.file.name`, a `-D...` flag inside `JAVA_OPTS`; also from a ConfigMap through
    `configMapKeyRef` or `envFrom`), unless the file lies on a volume that keeps or ships it:
    an emptyDir another container of the pod mounts (a shipping sidecar), or a persistent,
    host or network volume. `-`, `stdout`, `/dev/stdout`, `/dev/stderr` and `/proc/self/fd/1`
    are the console and fine; so is `--log-dir` beside `--logtostderr`/`--alsologtostderr`.
    Values with `$(VAR)` or templates are not judged.

    ## Why it breaks production
    In catalog 2.2 a Python service crashed with unhandled exceptions and its logs were stored
    only in the container: by the time the team looked, the pod had restarted and all logs
    were lost, so the root cause was never found. A log file in the container is invisible to
    `kubectl logs` and to every node-level agent even while the pod runs.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: invoice-worker, namespace: production}
    spec:
      selector: {matchLabels: {app: invoice-worker}}
      template:
        metadata: {labels: {app: invoice-worker}}
        spec:
          containers:
            - name: worker
              image: registry.example.com/invoice-worker:2.3.1
              args: ["--log-file=/var/log/invoice/worker.log"]
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: invoice-worker, namespace: production}
    spec:
      selector: {matchLabels: {app: invoice-worker}}
      template:
        metadata: {labels: {app: invoice-worker}}
        spec:
          containers:
            - name: worker
              image: registry.example.com/invoice-worker:2.3.1
              args: ["--log-file=/var/log/invoice/worker.log"]
              volumeMounts: [{name: logs, mountPath: /var/log/invoice}]
            - name: ship-logs
              image: cr.fluentbit.io/fluent/fluent-bit:3.1.4
              volumeMounts: [{name: logs, mountPath: /var/log/invoice, readOnly: true}]
          volumes:
            - name: logs
              emptyDir: {}
    ```

    ## Fix
    Make the application log to stdout/stderr; the container runtime keeps it where
    `kubectl logs` and the node's log agent read it. When it can only write files, mount an
    emptyDir at the log directory and add a sidecar (Fluent Bit, Vector) that tails and ships it.
    """
    spec = pod_spec(resource)
    if not isinstance(spec, dict):
        return
    for c in containers(resource):
        seen = set()
        for path, how, at in _sources(c, ctx.project, resource.namespace):
            why = _verdict(path, c, spec)
            if not why or (path, at) in seen:
                continue
            seen.add((path, at))
            kind = "init container" if c.init else "container"
            yield Hit(path=at, identity=path,
                      message=f"{kind} '{c.name}' logs to {path} ({how}), {why}; the logs of a crash are gone "
                              f"before anyone reads them")
