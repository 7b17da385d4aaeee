"""PM721: a production StatefulSet whose data path is not on a persistent volume."""
from ...k8s.databases import CACHES, DATA_PATHS, database_of_container
from ...k8s.workloads import containers
from ..registry import Hit, rule
from ._stateful import DATA_VOLUME_NAMES, backing, claim_templates, covers, data_store

WHAT = {"emptyDir": "an emptyDir, deleted with the pod", "ephemeral": "a generic ephemeral volume, deleted with the pod",
        "missing": "not defined in volumes or volumeClaimTemplates"}


@rule(id="PM721", name="statefulset-data-not-persistent", severity="critical",
      severity_reason="Every restart, reschedule or rolling update starts the pod with empty storage: the data "
                      "is gone, irreversibly, on a routine deploy.",
      incidents=["7.3"], title="StatefulSet keeps its data on ephemeral storage",
      kinds=["StatefulSet"], production_only=True,
      fix="Mount the data path from a `volumeClaimTemplates` claim (or a persistentVolumeClaim volume); never "
          "from emptyDir or the container filesystem.")
def check(resource, ctx):
    """## What it checks
    In a production StatefulSet, every volumeMount that holds data must come from a
    `volumeClaimTemplates` entry or a `persistentVolumeClaim` volume. Data mounts are those of the
    data-store container (image or port says postgres, redis, mysql, ...; caches excluded) at its
    engine's data directory (`/var/lib/postgresql/data`, `/data`, `/bitnami/...`), and any mount
    named `data`, `storage`, `datadir` or `pgdata`. It fires when such a mount is an `emptyDir`, a
    generic ephemeral volume or a volume defined nowhere, and when the data-store container mounts
    nothing claim-backed at all (its data goes to the container's writable layer).

    ## Why it breaks production
    In catalog 7.3 an update to a Redis StatefulSet removed the volumeClaimTemplates, so the new pods
    started without persistent storage; the rolling update replaced every pod and users lost carts,
    sessions and queue data. Storage that lives and dies with the pod turns each routine rollout into that outage.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: production}
    spec:
      serviceName: redis
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          containers:
            - name: redis
              image: redis:7.2.4
              volumeMounts:
                - {name: data, mountPath: /data}
          volumes:
            - name: data
              emptyDir: {}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: production}
    spec:
      serviceName: redis
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          containers:
            - name: redis
              image: redis:7.2.4
              volumeMounts:
                - {name: data, mountPath: /data}
      volumeClaimTemplates:
        - metadata: {name: data}
          spec:
            accessModes: [ReadWriteOnce]
            resources: {requests: {storage: 10Gi}}
    ```

    ## Fix
    Declare a `volumeClaimTemplates` entry and mount it at the data directory. Note that
    volumeClaimTemplates cannot be changed in place: a change that "removes" them means deleting and
    recreating the StatefulSet, so review such diffs and back the volumes up first.
    """
    store = data_store(resource)
    vct_note = "" if claim_templates(resource) else " (the StatefulSet has no volumeClaimTemplates)"
    for c in containers(resource, include_init=False):
        engine = store[1].engine if store and store[0].index == c.index else ""
        if not engine and getattr(database_of_container(c), "engine", "") in CACHES:
            continue  # a cache may keep its warm state anywhere
        paths = DATA_PATHS.get(engine, [])
        mounts = c.data.get("volumeMounts") if isinstance(c.data.get("volumeMounts"), list) else []
        claimed = covered = False
        for i, m in enumerate(mounts):
            if not isinstance(m, dict) or not isinstance(m.get("mountPath"), str):
                continue
            name, mpath = str(m.get("name")), m["mountPath"]
            kind, where = backing(resource, name)
            claimed |= kind == "claim"
            at_data = [p for p in paths if covers(mpath, p)]
            covered |= bool(at_data) and kind != "other"  # a ConfigMap inside the data dir holds no data
            if kind not in WHAT or not (at_data or name.lower() in DATA_VOLUME_NAMES):
                continue
            what = f"its {engine} data directory {mpath}" if at_data else mpath
            yield Hit(path=c.at("volumeMounts", i, "mountPath"),
                      related=((where, f"volume '{name}' is {kind}"),) if where else (),
                      message=f"container '{c.name}' keeps {what} on volume '{name}', {WHAT[kind]}{vct_note}: "
                              f"a restart or rolling update replaces the pod with empty storage and the data is lost")
        if paths and not covered and not claimed:
            yield Hit(path=c.at("name"),
                      message=f"container '{c.name}' runs {engine} ({store[1].evidence}) but mounts no persistent "
                              f"volume at its data directory ({', '.join(paths)}){vct_note}: it writes to the "
                              f"container filesystem, which a restart or rolling update wipes")
