"""Bad input never crashes the scan: every problem is an error with the file (and line when there is
one), the other files are still scanned and their findings reported, and the exit code is 2
whenever the scan is incomplete, even with findings (2 wins over 1). Never a Python traceback.

Every scan here runs ALL rules (no select), so a rule that trips over a weird type fails here.
"""
import copy
import json
import os
import subprocess
import sys
import threading

import pytest
import yaml

import premortem.discover as disc
from premortem.cli import main

from .conftest import run_scan

# A production Deployment with a mutable tag: PM501 fires on line 11 (the image).
PROD_LATEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payment-api
  namespace: production
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:latest
"""
PROD_LATEST_IMAGE_LINE = 11


def write(directory, name, content):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def errors_of(result):
    return {(e.file, e.line): e.message for e in result.errors}


def assert_no_internal(result):
    internal = [f"{e.file}:{e.line}: {e.message}" for e in result.errors if "internal error" in e.message]
    assert not internal, "\n".join(internal)


def assert_good_file_still_judged(result, name="good.yaml"):
    hits = [(f.rule_id, f.line) for f in result.findings if f.file == name]
    assert ("PM501", PROD_LATEST_IMAGE_LINE) in hits, f"the valid file beside the broken one was not judged: {hits}"


def cli(capsys, *args):
    rc = main(["scan", "--color", "never", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def within(seconds, fn, unblock=None):
    """Run fn in a daemon thread; fail (instead of hanging the suite) if it does not return in time."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # pragma: no cover - reported below
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        if unblock:
            unblock()
            t.join(5)
        pytest.fail(f"did not finish within {seconds}s (hang)")
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---- syntax -----------------------------------------------------------------------------------
def test_malformed_yaml_reports_file_and_line_and_scan_goes_on(tmp_path, capsys):
    write(tmp_path, "broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: [app\ndata: {}\n")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = run_scan(tmp_path)
    (key, msg), = errors_of(result).items()
    assert key[0] == "broken.yaml" and key[1] in (5, 6), key
    assert msg.startswith("invalid YAML:"), msg
    assert_good_file_still_judged(result)

    rc, out, err = cli(capsys, tmp_path)
    assert rc == 2
    assert f"broken.yaml:{key[1]}: invalid YAML" in out
    assert f"{PROD_LATEST_IMAGE_LINE}:" in out and "PM501" in out


def test_documents_before_a_syntax_error_are_still_judged(tmp_path):
    write(tmp_path, "multi.yaml", PROD_LATEST + "---\napiVersion: v1\nkind: Service\nmetadata: {name: x\n")
    result = run_scan(tmp_path)
    err, = result.errors
    assert err.file == "multi.yaml" and err.line in (15, 16), err  # the flow mapping, or end of input
    assert ("PM501", "multi.yaml", PROD_LATEST_IMAGE_LINE) in {(f.rule_id, f.file, f.line) for f in result.findings}


def test_duplicate_key_names_the_key_and_both_lines(tmp_path):
    write(tmp_path, "dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {}\n  name: b\n")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = run_scan(tmp_path)
    err, = result.errors
    assert (err.file, err.line) == ("dup.yaml", 6)
    assert "duplicate key 'name'" in err.message and "line 4" in err.message, err.message
    assert_good_file_still_judged(result)


def test_tab_indentation_gets_a_clear_message(tmp_path):
    write(tmp_path, "tabs.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n")
    err, = run_scan(tmp_path).errors
    assert (err.file, err.line) == ("tabs.yaml", 4)
    assert "tab character" in err.message and "spaces" in err.message, err.message


# ---- files that are not text, too big, or unreadable ------------------------------------------
def test_file_too_large_is_an_error_and_the_scan_goes_on(tmp_path, capsys):
    chunk = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n" + "".join(
        f"  key{i}: {'x' * 100}\n" for i in range(1000))
    with open(tmp_path / "huge.yaml", "w") as fh:
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(chunk.replace("name: big", f"name: big-{fh.tell()}"))
            fh.write("---\n")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = run_scan(tmp_path)
    err, = result.errors
    assert err.file == "huge.yaml" and "file too large" in err.message, err
    assert "--max-file-size" in err.message
    assert_good_file_still_judged(result)
    rc, out, _ = cli(capsys, tmp_path)
    assert rc == 2 and "huge.yaml: file too large" in out


def test_max_file_size_option_lowers_the_limit(tmp_path, capsys):
    write(tmp_path, "good.yaml", PROD_LATEST)
    rc, out, _ = cli(capsys, tmp_path, "--max-file-size", "0.0001")
    assert rc == 2 and "good.yaml: file too large" in out and "PM501" not in out


def test_binary_file_named_yaml(tmp_path):
    write(tmp_path, "logo.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = run_scan(tmp_path)
    assert errors_of(result) == {("logo.yaml", 0): "binary file (contains NUL bytes): not scanned"}
    assert_good_file_still_judged(result)


def test_non_utf8_file_names_the_line(tmp_path):
    write(tmp_path, "latin1.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n".encode("latin-1"))
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = run_scan(tmp_path)
    err, = result.errors
    assert err.file == "latin1.yaml" and "not UTF-8" in err.message and "line 4" in err.message, err
    assert_good_file_still_judged(result)


def test_utf8_bom_is_accepted(tmp_path):
    write(tmp_path, "good.yaml", b"\xef\xbb\xbf" + PROD_LATEST.encode())
    result = run_scan(tmp_path)
    assert not result.errors
    assert_good_file_still_judged(result)


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "secret.yaml", PROD_LATEST)
    write(tmp_path, "good.yaml", PROD_LATEST)
    os.chmod(path, 0)
    if os.access(path, os.R_OK):
        # Running as root (CI containers): mode 000 does not stop root, so make the file's open fail
        # the way it does for a normal user. Patching `open` in premortem.discover only (read_text's
        # global lookup) touches nothing else; a FIFO is no stand-in, it blocks the reader instead.
        real_open = open

        def guarded_open(p, *a, **kw):
            if os.path.abspath(p) == str(path):
                raise PermissionError(13, "Permission denied", str(p))
            return real_open(p, *a, **kw)

        monkeypatch.setattr(disc, "open", guarded_open, raising=False)
    try:
        result = run_scan(tmp_path)
    finally:
        os.chmod(path, 0o644)
    assert errors_of(result) == {("secret.yaml", 0): "unreadable: permission denied"}
    assert_good_file_still_judged(result)


def test_fifo_named_yaml_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    write(tmp_path, "good.yaml", PROD_LATEST)

    def unblock():  # give the blocked reader a writer, so the thread ends and nothing leaks
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)

    result = within(3, lambda: run_scan(tmp_path), unblock)
    assert [e.file for e in result.errors] == ["pipe.yaml"]
    assert_good_file_still_judged(result)


# ---- symlinks ---------------------------------------------------------------------------------
def test_symlink_to_itself(tmp_path):
    os.symlink("self.yaml", tmp_path / "self.yaml")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = within(20, lambda: run_scan(tmp_path))
    assert errors_of(result) == {("self.yaml", 0): "symlink loop: the link resolves to itself; not followed"}
    assert_good_file_still_judged(result)


def test_symlink_cycle_between_two_links(tmp_path):
    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = within(20, lambda: run_scan(tmp_path))
    assert sorted(errors_of(result)) == [("a.yaml", 0), ("b.yaml", 0)]
    assert all("symlink loop" in e.message for e in result.errors)
    assert_good_file_still_judged(result)


def test_directory_symlink_to_its_parent_is_not_followed(tmp_path):
    write(tmp_path, "good.yaml", PROD_LATEST)
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")
    result = within(20, lambda: run_scan(tmp_path, select=["PM501"]))
    err, = result.errors
    assert err.file == "sub/up" and "symlink loop" in err.message, err
    # judged once, not again through sub/up/good.yaml
    assert [f.file for f in result.findings] == ["good.yaml"]


def test_broken_symlink(tmp_path):
    os.symlink("missing.yaml", tmp_path / "dangling.yaml")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = run_scan(tmp_path)
    assert errors_of(result) == {("dangling.yaml", 0): "broken symlink or missing file"}
    assert_good_file_still_judged(result)


# ---- valid YAML that is not what we expect ----------------------------------------------------
@pytest.mark.parametrize("content", [
    "",
    "\n\n",
    "# only\n# comments\n",
    "---\n# comments between separators\n---\n",
    "- a\n- b\n",
    "just a scalar\n",
    "42\n",
    "---\n- [nested, list]\n---\nnull\n---\n~\n",
    "apiVersion: v1\n",  # a mapping without kind
    "kind: [1, 2]\napiVersion: {a: b}\n",
    "apiVersion: v1\nkind: List\nitems: [1, null, \"x\", {kind: 3}]\n",
], ids=["empty", "blank", "comments", "separators-only", "list", "scalar", "number", "mixed-docs",
        "no-kind", "typed-kind", "list-of-junk"])
def test_yaml_that_is_not_a_kubernetes_object_is_ignored_quietly(tmp_path, content):
    write(tmp_path, "odd.yaml", content)
    result = run_scan(tmp_path)
    assert result.errors == []
    assert result.findings == []
    assert result.resources == 0


def test_json_manifest_that_is_an_array_or_broken(tmp_path):
    write(tmp_path, "array.json", "[1, 2, 3]")
    write(tmp_path, "broken.json", '{"apiVersion": "v1", "kind": "ConfigMap",\n "metadata": {"name": ]}\n')
    result = run_scan(tmp_path)
    assert [e.file for e in result.errors] == ["broken.json"]
    assert result.errors[0].line == 2 and result.errors[0].message.startswith("invalid YAML"), result.errors


WEIRD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: weird
  namespace: production
spec:
  replicas: "3"
  selector: "app=x"
  template:
    metadata:
      labels: null
    spec:
      containers: "string"
      volumes: 5
---
apiVersion: v1
kind: Service
metadata: "x"
spec:
  ports: null
  selector: [1, 2]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: w2
  namespace: production
  labels: "x"
  annotations: [1]
spec:
  replicas: -1
  template:
    spec:
      containers:
        - "string"
        - null
        - name: c
          image: 5
          ports: null
          resources: "big"
          env: "x"
          livenessProbe: 7
          readinessProbe: {httpGet: "x", periodSeconds: "ten"}
          command: 1
          args: {a: b}
      initContainers: {a: b}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: pdb, namespace: production}
spec: {minAvailable: "150%", selector: {matchLabels: [1], matchExpressions: "x"}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: hpa, namespace: production}
spec: {scaleTargetRef: "Deployment/weird", minReplicas: "2", maxReplicas: null, metrics: 3}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj, namespace: production}
spec: {schedule: 5, jobTemplate: {spec: {template: {spec: {containers: [{image: [1]}]}}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: production}
data: [1, 2]
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: production}
data: {key: [1], other: null}
stringData: "x"
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing, namespace: production}
spec: {rules: [{host: 5, http: {paths: "x"}}], tls: {a: b}}
---
apiVersion: v1
kind: List
items: "not a list"
"""


def test_kubernetes_objects_with_weird_types_do_not_crash_any_rule(tmp_path):
    write(tmp_path, "weird.yaml", WEIRD)
    result = run_scan(tmp_path)
    assert_no_internal(result)
    assert result.resources == 10


# Realistic seed objects; every node of each is replaced, one at a time, by values of the wrong type.
SEEDS = list(yaml.safe_load_all("""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: production
  labels: {app: api}
  annotations: {a: b}
spec:
  replicas: 3
  revisionHistoryLimit: 5
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: api}, matchExpressions: [{key: tier, operator: In, values: [web]}]}
  template:
    metadata: {labels: {app: api, tier: web}, annotations: {x: y}}
    spec:
      serviceAccountName: api
      terminationGracePeriodSeconds: 30
      affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: api}}}}]}}
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}]
      initContainers:
        - {name: migrate, image: "registry.example.com/api:1.2.3", command: [sh, -c, migrate]}
      containers:
        - name: app
          image: registry.example.com/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          imagePullPolicy: IfNotPresent
          ports: [{name: http, containerPort: 8080, protocol: TCP}]
          env:
            - {name: DB_URL, value: "postgres://db:5432/app"}
            - {name: TOKEN, valueFrom: {secretKeyRef: {name: api, key: token}}}
            - {name: MODE, valueFrom: {configMapKeyRef: {name: api, key: mode}}}
          envFrom: [{configMapRef: {name: api}}, {secretRef: {name: api}}]
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "1", memory: 256Mi}}
          livenessProbe: {httpGet: {path: /healthz, port: http}, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1}
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 5}
          startupProbe: {exec: {command: [cat, /ready]}, failureThreshold: 30, periodSeconds: 2}
          lifecycle: {preStop: {exec: {command: [sleep, "5"]}}}
          securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          volumeMounts: [{name: cfg, mountPath: /etc/api, readOnly: true}]
      volumes: [{name: cfg, configMap: {name: api}}, {name: data, persistentVolumeClaim: {claimName: d}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: production}
spec:
  serviceName: db
  replicas: 3
  podManagementPolicy: Parallel
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 0}}
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - {name: db, image: "postgres:16.2", ports: [{containerPort: 5432}], volumeMounts: [{name: data, mountPath: /var/lib/postgresql}]}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], storageClassName: ssd, resources: {requests: {storage: 10Gi}}}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Retain}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: production, annotations: {service.beta.kubernetes.io/aws-load-balancer-internal: "true"}}
spec:
  type: LoadBalancer
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
  externalTrafficPolicy: Local
  loadBalancerSourceRanges: [10.0.0.0/8]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: production}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: api}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: production}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 3
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
  behavior: {scaleDown: {stabilizationWindowSeconds: 300, policies: [{type: Percent, value: 10, periodSeconds: 60}]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: production, annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 1m}}
spec:
  ingressClassName: nginx
  tls: [{hosts: [api.example.com], secretName: api-tls}]
  rules: [{host: api.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}]}}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: production}
spec:
  schedule: "0 3 * * *"
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 3600
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: "registry.example.com/report:2.0.1", args: [--since, 24h]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: api, namespace: production}
data: {mode: live, config.yaml: "a: 1\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: api, namespace: production}
type: Opaque
data: {token: c2VjcmV0}
stringData: {password: hunter2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: production}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 8080}]}]
  egress: [{to: [{namespaceSelector: {}}], ports: [{port: 53, protocol: UDP}]}]
"""))
WRONG = [None, "string", "3", 3, -1, True, [], {}, ["x"], [None], {"k": "v"}]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _mutants(seed):
    """(description, document) for every node of seed replaced by every wrong value."""
    for path in _paths(seed):
        if path[:1] in ((), ("apiVersion",), ("kind",)):
            continue  # those decide whether it is a Kubernetes object at all (covered above)
        for value in WRONG:
            doc = copy.deepcopy(seed)
            node = doc
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = copy.deepcopy(value)
            yield f"{'.'.join(map(str, path))} = {value!r}", doc


def _write_mutants(directory, mutants):
    text = "".join(f"---\n# mutant: {desc}\n{yaml.safe_dump(doc, sort_keys=False)}" for desc, doc in mutants)
    return write(directory, "mutants.yaml", text)


def _explain(tmp_path, result, mutants):
    """Name the mutation behind each internal error: by the comment above it in mutants.yaml, or (for a
    crash on a seed, caused by a mutant seen through the project index) by scanning mutants one by one."""
    lines = (tmp_path / "mutants.yaml").read_text().splitlines()
    out, seed_errors = [], []
    for e in result.errors:
        if e.file == "mutants.yaml":
            desc = next((ln for ln in reversed(lines[:e.line]) if ln.startswith("# mutant:")), "?")
            out.append(f"{e.message}  <- {desc[2:]}")
        else:
            seed_errors.append(e)
    if seed_errors:
        out.append(f"{len(seed_errors)} crash(es) on the unmutated seeds, e.g. {seed_errors[0].message}; caused by:")
        found = 0
        for desc, doc in mutants:
            _write_mutants(tmp_path, [(desc, doc)])
            errs = [e.message for e in run_scan(tmp_path).errors if e.file != "mutants.yaml"]
            if errs:
                out.append(f"  mutant: {desc} -> {errs[0]}")
                found += 1
                if found == 3:
                    break
    return "\n".join(out)


@pytest.mark.parametrize("seed", SEEDS, ids=[s["kind"] for s in SEEDS])
def test_type_mutations_of_realistic_objects_do_not_crash_any_rule(tmp_path, seed):
    # All seeds go into the scan (so cross-object rules see a Service for the Deployment, etc.);
    # the mutants of one seed sit beside them.
    write(tmp_path, "seeds.yaml", yaml.safe_dump_all(SEEDS, sort_keys=False))
    mutants = list(_mutants(seed))
    _write_mutants(tmp_path, mutants)
    result = run_scan(tmp_path)
    if result.errors:
        pytest.fail(_explain(tmp_path, result, mutants))
    assert result.resources == len(SEEDS) + len(mutants)


# ---- exit codes and the command line ----------------------------------------------------------
def test_errors_win_over_findings_in_the_exit_code(tmp_path, capsys):
    write(tmp_path, "good.yaml", PROD_LATEST)
    write(tmp_path, "broken.yaml", "a: [\n")
    rc, out, _ = cli(capsys, tmp_path, "--format", "json")
    assert rc == 2
    report = json.loads(out)
    assert [e["file"] for e in report["errors"]] == ["broken.yaml"]
    assert any(f["rule_id"] == "PM501" and f["line"] == PROD_LATEST_IMAGE_LINE for f in report["findings"])
    # --fail-on never does not hide an incomplete scan either
    rc, _, _ = cli(capsys, tmp_path, "--fail-on", "never")
    assert rc == 2
    # and without the error, the same findings give 1
    (tmp_path / "broken.yaml").unlink()
    rc, _, _ = cli(capsys, tmp_path)
    assert rc == 1


def test_missing_path_is_an_error(tmp_path, capsys):
    rc, out, _ = cli(capsys, tmp_path / "nope.yaml")
    assert rc == 2 and "no such file or directory" in out


def test_unwritable_output_file_is_a_clear_error(tmp_path):
    write(tmp_path, "good.yaml", PROD_LATEST)
    proc = _run_cli("scan", tmp_path, "-o", tmp_path / "no" / "such" / "dir" / "out.json")
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2 and "out.json" in proc.stderr


def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "premortem", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture
def zoo(tmp_path):
    """One directory holding every kind of bad input at once (except the 50 MB file: see above)."""
    write(tmp_path, "good.yaml", PROD_LATEST)
    write(tmp_path, "broken.yaml", "a: [\n")
    write(tmp_path, "dup.yaml", "a: 1\na: 2\n")
    write(tmp_path, "tabs.yaml", "a:\n\tb: 1\n")
    write(tmp_path, "bin.yaml", b"\x00\x01\x02")
    write(tmp_path, "latin1.yml", b"a: \xe9\n")
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "comments.yaml", "# nothing\n")
    write(tmp_path, "list.yaml", "- 1\n- 2\n")
    write(tmp_path, "weird.yaml", WEIRD)
    write(tmp_path, "deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n")
    write(tmp_path, "anchors.yaml", "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\n"
                                    "d: &d [*c, *c, *c, *c]\ne: [*d, *d, *d, *d]\n")
    write(tmp_path, "tagged.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t, namespace: production}\n"
                                   "data: !!python/object/apply:os.system [echo pwned]\n")
    write(tmp_path, "Dockerfile", b"FROM \x00\x00")
    os.symlink("self.yaml", tmp_path / "self.yaml")
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_no_traceback_from_the_command_line(zoo, fmt):
    proc = _run_cli("scan", zoo, "--format", fmt)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr[-3000:]
    assert "internal error" not in proc.stdout, proc.stdout
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    if fmt == "json":
        report = json.loads(proc.stdout)
        files = {e["file"] for e in report["errors"]}
        assert {"broken.yaml", "dup.yaml", "tabs.yaml", "bin.yaml", "latin1.yml", "self.yaml", "sub/up",
                "deep.yaml"} <= files, files
        assert not {"empty.yaml", "comments.yaml", "list.yaml", "anchors.yaml"} & files
        assert any(f["file"] == "good.yaml" and f["rule_id"] == "PM501" for f in report["findings"])


def test_no_traceback_with_parallel_workers(zoo):
    proc = _run_cli("scan", zoo, "--jobs", "2", "--format", "json")
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 2
    assert any(f["file"] == "good.yaml" for f in json.loads(proc.stdout)["findings"])


@pytest.mark.parametrize("args", [
    ["scan", "--format", "nope", "."],
    ["scan", "--select", "PM999", "."],
    ["scan", "--jobs", "many", "."],
    ["explain", "PM999"],
    ["frobnicate"],
], ids=["bad-format", "unknown-rule", "bad-jobs", "explain-unknown", "unknown-command"])
def test_bad_calls_exit_2_without_traceback(tmp_path, args):
    proc = _run_cli(*args)
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr and "error" in proc.stderr, proc.stderr


def test_broken_config_file_exits_2_without_traceback(tmp_path):
    write(tmp_path, "good.yaml", PROD_LATEST)
    write(tmp_path, ".premortem.yaml", "rules:\n  PM501: {enabled: true\n")
    proc = _run_cli("scan", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert ".premortem.yaml:" in proc.stderr and "invalid YAML" in proc.stderr, proc.stderr


# ---- Helm and Kustomize input (active once src/premortem/parse/{helm,kustomize}.py land) ---------
def test_broken_helm_chart_is_an_error_not_a_crash(tmp_path):
    pytest.importorskip("premortem.parse.helm", reason="Helm support not merged yet")
    write(tmp_path, "chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: [\n")
    write(tmp_path, "chart/templates/dep.yaml", "{{ .Values.nope.deeper }}\n{{- if }}\n")
    write(tmp_path, "chart2/Chart.yaml", "apiVersion: v2\nname: c2\nversion: 0.1.0\n")
    write(tmp_path, "chart2/values.yaml", "image: [\n")
    write(tmp_path, "chart2/templates/x.yaml", "kind: {{ .Values.kind }}\n")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = within(60, lambda: run_scan(tmp_path))
    assert_no_internal(result)
    files = {e.file.split("/")[0] for e in result.errors}
    assert {"chart", "chart2"} <= files, result.errors
    assert_good_file_still_judged(result)


def test_broken_kustomization_is_an_error_not_a_crash(tmp_path):
    pytest.importorskip("premortem.parse.kustomize", reason="Kustomize support not merged yet")
    write(tmp_path, "k1/kustomization.yaml", "resources:\n  - missing.yaml\n  - ../nowhere\n")
    write(tmp_path, "k2/kustomization.yaml", "resources: [\n")
    write(tmp_path, "k3/kustomization.yaml", "resources:\n  - ../k3\n")  # includes itself
    write(tmp_path, "k4/kustomization.yaml", "resources: 5\npatches: \"x\"\nimages: {a: b}\n")
    write(tmp_path, "good.yaml", PROD_LATEST)
    result = within(60, lambda: run_scan(tmp_path))
    assert_no_internal(result)
    files = {e.file.split("/")[0] for e in result.errors}
    assert {"k1", "k2", "k3", "k4"} <= files, result.errors
    assert_good_file_still_judged(result)
