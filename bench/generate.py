"""Write a synthetic but realistic Kubernetes repository for benchmarks.

    python bench/generate.py N OUTDIR [--seed S]

Scale 1 is about 1,000 objects in about 250 files: 5 namespaces of 25 services; each service has a
workload file (Deployment or StatefulSet, Service, PodDisruptionBudget, HorizontalPodAutoscaler or a
headless Service) and a config file (ConfigMap, Ingress, CronJob, NetworkPolicy, ServiceAccount).
Scale N multiplies the namespaces (10 -> 50 namespaces, ~10k objects; 100 -> 500, ~100k objects),
so the cost of a scan should grow linearly with N. Fractions (0.2) give smaller repositories.

About a third of the services carry one of the misconfigurations premortem looks for (mutable image
tags in production, a PDB that blocks every eviction, liveness = readiness, a JVM heap above the
memory limit, a StatefulSet without persistent storage, a database with a short grace period...);
the rest are clean. Half of the namespaces are production. Output is deterministic for a given
N and seed. Plain manifests only (no Helm/Kustomize), so every tool reads the same objects.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil

SERVICES_PER_NAMESPACE = 25
NAMESPACES_PER_SCALE = 5
TEAMS = ["payments", "search", "checkout", "identity", "catalog", "orders", "billing", "ledger", "notify",
         "media", "growth", "risk", "shipping", "pricing", "inventory", "reviews", "ads", "maps"]
STAGES = ["prod", "staging", "prod", "dev", "production"]  # 3 of 5 production-looking
APPS = ["api", "worker", "gateway", "web", "scheduler", "indexer", "consumer", "sync", "auth", "cache-proxy",
        "export", "import", "render", "recommender", "feeds", "webhooks", "audit", "quota", "ratelimit",
        "session", "cart", "stock", "tax", "fx", "mailer"]
DATABASES = ["postgres:16.2", "redis:7.2.4", "mysql:8.0.36", "mongo:7.0.5", "rabbitmq:3.13-management"]
REGISTRY = "registry.example.com"


def _image(rng: random.Random, team: str, app: str, bad: bool) -> str:
    if bad:
        return rng.choice([f"{REGISTRY}/{team}/{app}:latest", f"{REGISTRY}/{team}/{app}", f"{app}:main"])
    if rng.random() < 0.3:
        return f"{REGISTRY}/{team}/{app}@sha256:{rng.getrandbits(256):064x}"
    return f"{REGISTRY}/{team}/{app}:{rng.randint(1, 4)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"


def _deployment(rng, ns, team, app, problems):
    replicas = rng.choice([2, 3, 3, 4, 6])
    java = rng.random() < 0.3
    mem_limit = rng.choice([512, 1024, 2048])
    heap = mem_limit * 2 if "jvm-heap" in problems else mem_limit // 2
    probe_path = "/healthz"
    live_path = probe_path if "liveness-eq-readiness" in problems else "/livez"
    port_name = "http" if "undeclared-probe-port" not in problems else "metrics"
    env = [f"""            - name: LOG_LEVEL
              value: info
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {app}-db
                  key: url"""]
    if java:
        env.append(f"""            - name: JAVA_TOOL_OPTIONS
              value: "-Xmx{heap}m -XX:+UseG1GC\"""")
    readiness = "" if "no-readiness" in problems else f"""
          readinessProbe:
            httpGet:
              path: {probe_path}
              port: http
            periodSeconds: 5
            failureThreshold: 3"""
    return f"""# {app}: {team} service ({'JVM' if java else 'native'})
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: {team}
    team: {team}
  annotations:
    owner: "{team}@example.com"
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
        app.kubernetes.io/part-of: {team}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9090"
    spec:
      serviceAccountName: {app}
      terminationGracePeriodSeconds: 30
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: {app}
      containers:
        - name: {app}
          image: {_image(rng, team, app, "mutable-tag" in problems)}
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
            - name: {'metrics' if port_name == 'http' else 'admin'}
              containerPort: 9090
          env:
{chr(10).join(env)}
          resources:
            requests:
              cpu: {rng.choice(['100m', '250m', '500m'])}
              memory: {mem_limit // 2}Mi
            limits:
              memory: {mem_limit}Mi{readiness}
          livenessProbe:
            httpGet:
              path: {live_path}
              port: {port_name}
            initialDelaySeconds: 10
            periodSeconds: 10
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
          volumeMounts:
            - name: config
              mountPath: /etc/{app}
              readOnly: true
      volumes:
        - name: config
          configMap:
            name: {app}-config
""", replicas


def _statefulset(rng, ns, team, app, problems):
    image = rng.choice(DATABASES)
    engine = image.split(":")[0]
    replicas = 3
    storage = f"""  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: ssd
        resources:
          requests:
            storage: {rng.choice([10, 50, 100])}Gi
"""
    volumes = ""
    if "sts-no-storage" in problems:
        storage = ""
        volumes = """      volumes:
        - name: data
          emptyDir: {}
"""
    retention = "Delete" if "pvc-retention-delete" in problems else "Retain"
    grace = 5 if "short-grace" in problems else 120
    return f"""# {app}: {engine} for {team}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/component: database
    team: {team}
spec:
  serviceName: {app}-headless
  replicas: {replicas}
  podManagementPolicy: OrderedReady
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: {retention}
    whenScaled: Retain
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
        app.kubernetes.io/component: database
    spec:
      terminationGracePeriodSeconds: {grace}
      containers:
        - name: {engine}
          image: {image}
          ports:
            - name: db
              containerPort: {rng.choice([5432, 6379, 3306, 27017, 5672])}
          resources:
            requests:
              cpu: "1"
              memory: 2Gi
            limits:
              memory: 4Gi
          readinessProbe:
            tcpSocket:
              port: db
            periodSeconds: 10
          volumeMounts:
            - name: data
              mountPath: /var/lib/{engine}
{volumes}{storage}""", replicas


def _service(ns, app, headless=False, port=80):
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {app}{'-headless' if headless else ''}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
spec:
  {'clusterIP: None' if headless else 'type: ClusterIP'}
  selector:
    app.kubernetes.io/name: {app}
  ports:
    - name: {'db' if headless else 'http'}
      port: {port}
      targetPort: {'db' if headless else 'http'}
"""


def _pdb(ns, app, replicas, problems):
    if "pdb-blocks" in problems:
        budget = f"minAvailable: {replicas}"
    elif "pdb-selects-nothing" in problems:
        budget = "maxUnavailable: 1"
    else:
        budget = "maxUnavailable: 1"
    sel = f"{app}-v2" if "pdb-selects-nothing" in problems else app
    return f"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}
  namespace: {ns}
spec:
  {budget}
  selector:
    matchLabels:
      app.kubernetes.io/name: {sel}
"""


def _hpa(ns, app, replicas):
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
  minReplicas: {replicas}
  maxReplicas: {replicas * 4}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
"""


def _config(rng, ns, team, app, stateful, problems):
    docs = [f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
data:
  LOG_FORMAT: json
  FEATURE_FLAGS: "checkout-v2,fast-search"
  config.yaml: |
    server:
      port: 8080
      shutdownTimeout: 25s
    upstreams:
      - name: {rng.choice(APPS)}
        url: http://{rng.choice(APPS)}.{ns}.svc.cluster.local
        timeout: {rng.choice([1, 2, 5])}s
""", f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
"""]
    if not stateful:
        docs.append(f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  namespace: {ns}
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "30"
spec:
  ingressClassName: nginx
  tls:
    - hosts: [{app}.{team}.example.com]
      secretName: {app}-tls
  rules:
    - host: {app}.{team}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {app}
                port:
                  name: http
""")
        docs.append(f"""apiVersion: batch/v1
kind: CronJob
metadata:
  name: {app}-cleanup
  namespace: {ns}
spec:
  schedule: "{rng.randint(0, 59)} {rng.randint(0, 23)} * * *"
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 600
  successfulJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 3600
      template:
        spec:
          restartPolicy: OnFailure
          serviceAccountName: {app}
          containers:
            - name: cleanup
              image: {_image(rng, team, app + '-jobs', 'mutable-tag' in problems)}
              args: ["--older-than", "30d"]
              resources:
                requests:
                  cpu: 100m
                  memory: 128Mi
                limits:
                  memory: 256Mi
""")
    else:
        docs.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {app}
  namespace: {ns}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {app}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {ns}
""")
        docs.append(f"""apiVersion: v1
kind: Secret
metadata:
  name: {app}-auth
  namespace: {ns}
type: Opaque
stringData:
  username: {app}
  password-file: /run/secrets/{app}
""")
    return "---\n".join(docs)


STATELESS_PROBLEMS = ["mutable-tag", "no-readiness", "liveness-eq-readiness", "jvm-heap", "undeclared-probe-port",
                      "pdb-blocks", "pdb-selects-nothing"]
STATEFUL_PROBLEMS = ["sts-no-storage", "pvc-retention-delete", "short-grace", "pdb-blocks"]


def generate(scale: float, out: str, seed: int = 7) -> dict:
    rng = random.Random(seed)
    n_ns = max(1, round(NAMESPACES_PER_SCALE * scale))
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    files = objects = bad = 0
    for i in range(n_ns):
        team = TEAMS[i % len(TEAMS)]
        block = i // len(TEAMS)  # unique (team, block) per namespace
        ns = f"{team}{block or ''}-{STAGES[i % len(STAGES)]}"
        for j in range(SERVICES_PER_NAMESPACE):
            app = APPS[j % len(APPS)]
            stateful = j % 5 == 4
            problems = set()
            if rng.random() < 0.33:
                problems.add(rng.choice(STATEFUL_PROBLEMS if stateful else STATELESS_PROBLEMS))
                bad += 1
            d = os.path.join(out, "clusters", ns, app)
            os.makedirs(d)
            if stateful:
                wl, replicas = _statefulset(rng, ns, team, app, problems)
                docs = [wl, _service(ns, app, headless=True), _service(ns, app), _pdb(ns, app, replicas, problems)]
            else:
                wl, replicas = _deployment(rng, ns, team, app, problems)
                docs = [wl, _service(ns, app), _pdb(ns, app, replicas, problems), _hpa(ns, app, replicas)]
            with open(os.path.join(d, "workload.yaml"), "w") as fh:
                fh.write("---\n".join(docs))
            config = _config(rng, ns, team, app, stateful, problems)
            with open(os.path.join(d, "config.yaml"), "w") as fh:
                fh.write(config)
            files += 2
            objects += len(docs) + config.count("\napiVersion:") + 1
    with open(os.path.join(out, "README.md"), "w") as fh:
        fh.write(f"Synthetic repository generated by bench/generate.py at scale {scale} (seed {seed}).\n")
    meta = {"scale": scale, "seed": seed, "namespaces": n_ns, "services": n_ns * SERVICES_PER_NAMESPACE,
            "files": files, "objects": objects, "services_with_a_problem": bad}
    with open(os.path.join(out, "GENERATED.txt"), "w") as fh:
        json.dump(meta, fh, indent=2)
    return meta


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scale", type=float, help="1 = ~1,000 objects in ~250 files; 100 = ~100k objects")
    p.add_argument("outdir")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    meta = generate(args.scale, args.outdir, args.seed)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
