"""PM725: a production database that is SIGKILLed before it can shut down cleanly."""
from ...k8s.workloads import pod_spec_path
from ..registry import Hit, rule
from ._stateful import data_store

LOSS = {"redis": "writes since the last RDB/AOF flush are lost",
        "postgresql": "it skips the shutdown checkpoint, so the next start replays WAL and replicas may diverge",
        "mysql": "InnoDB crash recovery runs on the next start and unflushed binlog events can be lost",
        "mongodb": "the journal is replayed on the next start and in-flight writes are lost"}


@rule(id="PM725", name="database-grace-period-too-short", severity="medium",
      severity_reason="A killed data store loses unflushed writes and restarts slowly; the volume survives, "
                      "so it is recoverable, unlike PM721.",
      incidents=["7.3"], title="Database pod gets too little time to shut down",
      kinds=["StatefulSet", "Deployment"], production_only=True, options={"min_seconds": 10},
      fix="Leave terminationGracePeriodSeconds at the default 30 or raise it (60–120 for large Redis or "
          "Postgres), and make the container handle SIGTERM.")
def check(resource, ctx):
    """## What it checks
    A production StatefulSet or Deployment running a data store (caches excluded) whose pod sets
    `terminationGracePeriodSeconds` below `min_seconds` (default 10). On every rolling update,
    drain or scale-down the kubelet sends SIGTERM and then SIGKILL after that many seconds.

    ## Why it breaks production
    Catalog 7.3 is titled "stateful app crashed without graceful termination": during the rolling
    update every Redis pod was replaced without protection and the data was lost. A grace period of
    a few seconds kills the engine mid-flush on each of those replacements.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: production}
    spec:
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          terminationGracePeriodSeconds: 0
          containers: [{name: redis, image: "redis:7.2.4"}]
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: production}
    spec:
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          terminationGracePeriodSeconds: 60
          containers: [{name: redis, image: "redis:7.2.4"}]
    ```

    ## Fix
    Remove the override or set it high enough for the engine to flush and stop; measure the
    shutdown time of the largest instance and add margin.
    """
    found = data_store(resource)
    path = pod_spec_path(resource)
    if found is None or path is None:
        return
    grace = resource.get(path + ("terminationGracePeriodSeconds",))
    minimum = int(ctx.options.get("min_seconds", 10))
    if not isinstance(grace, int) or isinstance(grace, bool) or grace >= minimum:
        return
    engine = found[1].engine
    loss = LOSS.get(engine, "writes in flight are lost and the next start runs crash recovery")
    yield Hit(path=path + ("terminationGracePeriodSeconds",),
              message=f"terminationGracePeriodSeconds {grace} (< {minimum}) for {engine} container "
                      f"'{found[0].name}': the kubelet SIGKILLs it {grace}s after SIGTERM on every rollout, drain "
                      f"or scale-down, before it can shut down cleanly; {loss}")
