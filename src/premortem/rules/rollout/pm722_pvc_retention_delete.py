"""PM722: a production StatefulSet that deletes its volumes when it is deleted or scaled down."""
from ..registry import Hit, rule
from ._stateful import claim_templates, data_store

WHEN = {"whenDeleted": "deleting the StatefulSet (helm uninstall, an Argo CD prune, delete-and-recreate to change "
                       "volumeClaimTemplates) deletes every claim",
        "whenScaled": "scaling down (kubectl scale, an autoscaler, replicas: 0 to 'restart') deletes the claims "
                      "of the removed pods"}


@rule(id="PM722", name="pvc-retention-delete", severity="high",
      severity_reason="A routine delete or scale-down destroys the volumes with the data; the default (Retain) "
                      "keeps them for the next pod.",
      incidents=["7.3"], title="StatefulSet deletes its PersistentVolumeClaims on delete or scale-down",
      kinds=["StatefulSet"], production_only=True,
      fix="Set `persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Retain}` (the default) "
          "and clean up unused claims deliberately.")
def check(resource, ctx):
    """## What it checks
    A production StatefulSet with volumeClaimTemplates whose `persistentVolumeClaimRetentionPolicy`
    sets `whenDeleted` or `whenScaled` to `Delete`. One finding per field; the message says which
    routine operation deletes the data.

    ## Why it breaks production
    In catalog 7.3 a StatefulSet change replaced every Redis pod and left users with empty carts and
    sessions; the on-call narrative (R10) lost three hours recovering a PVC detached during a node
    scale-down. With `Delete` the claims are not even left to recover: the controller deletes them,
    and with a `Delete` reclaim policy on the StorageClass the disks go too.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: postgres, namespace: production}
    spec:
      serviceName: postgres
      selector: {matchLabels: {app: postgres}}
      persistentVolumeClaimRetentionPolicy:
        whenDeleted: Delete
        whenScaled: Retain
      template:
        metadata: {labels: {app: postgres}}
        spec:
          containers:
            - name: postgres
              image: postgres:16.2
              volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
      volumeClaimTemplates:
        - metadata: {name: data}
          spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 50Gi}}}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: postgres, namespace: production}
    spec:
      serviceName: postgres
      selector: {matchLabels: {app: postgres}}
      persistentVolumeClaimRetentionPolicy:
        whenDeleted: Retain
        whenScaled: Retain
      template:
        metadata: {labels: {app: postgres}}
        spec:
          containers:
            - name: postgres
              image: postgres:16.2
              volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
      volumeClaimTemplates:
        - metadata: {name: data}
          spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 50Gi}}}
    ```

    ## Fix
    Keep the default `Retain` for both fields in production; delete leftover claims by hand after
    a backup, not as a side effect of a scale-down or an uninstall.
    """
    vcts = claim_templates(resource)
    policy = resource.get(("spec", "persistentVolumeClaimRetentionPolicy"))
    if not vcts or not isinstance(policy, dict):
        return
    store = data_store(resource)
    what = f"{store[1].engine} data" if store else "data"
    claims = ", ".join(vcts)
    for field, effect in WHEN.items():
        if str(policy.get(field, "")).strip() == "Delete":
            yield Hit(path=("spec", "persistentVolumeClaimRetentionPolicy", field),
                      message=f"{field}: Delete on '{resource.name}' (claims {claims}): {effect}, and the "
                              f"{what} on them with it")
