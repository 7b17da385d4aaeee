"""PromQL helpers shared by the observability (2.x, R7, R8, R12) and response (10.x) rules: what a
series measures (errors, latency, traffic, saturation), the scan's alert and recording rules and
Alertmanager configurations from the index, the windows an alert really looks through (recording
rules followed), and which workloads an alert's label matchers cover. Not a rule."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...model import Source
from ...parse import alertmanager as am
from ...parse import prometheus as prom

# ---- durations ---------------------------------------------------------------------------------
_DUR = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds(text) -> int | None:
    """`5m`, `1h30m`, `90s` (or a number of seconds) -> seconds; None when it is not a duration."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text)
    t = str(text or "").strip()
    if not t or _DUR.sub("", t):
        return None
    return int(sum(float(n) * _UNIT[u] for n, u in _DUR.findall(t)))


def none_of(n: int) -> str:
    """'no alerting rule in the scan (12 in all)' for messages."""
    return f"no alerting rule in the scan ({n} in all)"


def show(secs: int | None) -> str:
    if not secs:
        return "0s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


# ---- what a series measures --------------------------------------------------------------------
ERROR_WORDS = {"error", "errors", "err", "errs", "fail", "failed", "failure", "failures", "5xx", "exception",
               "exceptions", "timeout", "timeouts", "panic", "panics", "rejected", "unavailable"}
LATENCY_WORDS = {"duration", "latency", "latencies", "rtt", "quantile", "percentile", "p99", "p95", "p90", "p999"}
TRAFFIC_WORDS = {"request", "requests", "req", "reqs", "rpc", "rpcs", "calls", "queries", "hits", "qps", "rps",
                 "throughput", "handled", "served"}
SATURATION_WORDS = {"cpu", "memory", "mem", "heap", "queue", "queued", "backlog", "lag", "connections", "connection",
                    "conns", "pool", "threads", "saturation", "utilization", "utilisation", "throttled",
                    "throttling", "inflight", "disk", "filesystem", "fs", "inodes", "fds", "goroutines", "oom",
                    "busy", "pending", "capacity", "swap"}
CODE_LABELS = {"code", "status", "status_code", "response_code", "http_status", "http_code", "grpc_code",
               "status_class", "outcome", "result", "response_status", "http_response_status_code"}
_ERROR_VALUES = {"error", "errors", "failure", "failed", "fail", "5xx", "servererror", "server_error", "false"}


def tokens(name: str) -> set:
    return {t for t in re.split(r"[_:.\-]+", name.lower()) if t}


def error_matcher(m: tuple) -> bool:
    label, op, value = m
    if label.lower() not in CODE_LABELS:
        return False
    v = value.strip().lower()
    if op in ("=", "=~"):
        return v.startswith("5") or v in _ERROR_VALUES or v.startswith("(5") or "5xx" in v
    return v.startswith("2") or v in ("ok", "success", "(2..)", "2..|3..")  # code!~"2.." : everything else


def signals(sel: prom.Selector) -> set:
    """errors / latency / traffic / saturation: what one series in an expression measures."""
    words = tokens(sel.metric)
    out = set()
    if words & ERROR_WORDS or any(error_matcher(m) for m in sel.matchers):
        out.add("errors")
    if (words & LATENCY_WORDS or "histogram_quantile" in sel.calls() or any(m[0] == "quantile" for m in sel.matchers)
            or ({"response", "request"} & words and "time" in words)):
        if not (sel.metric.endswith("_count") and "histogram_quantile" not in sel.calls()):
            out.add("latency")
    if words & SATURATION_WORDS:
        out.add("saturation")
    if not out and (words & TRAFFIC_WORDS or sel.metric.endswith(("_count", "_requests_total"))):
        out.add("traffic")
    return out


def expr_signals(summary: prom.Summary) -> set:
    """The signals an alert watches: a ratio of errors over requests is an errors alert, not a
    traffic one (the request counter is its denominator)."""
    out = set()
    for s in summary.selectors:
        out |= signals(s)
    if out & {"errors", "latency"}:
        out.discard("traffic")
    return out


def quantile_valued(sel: prom.Selector, records: dict | None = None, depth: int = 0) -> bool:
    """A series that is a percentile: a summary quantile, a `_p99`-style name, or a recording rule
    that is a histogram_quantile."""
    if any(m[0] == "quantile" for m in sel.matchers) or tokens(sel.metric) & {"quantile", "percentile", "p99", "p95",
                                                                              "p90", "p999", "p50"}:
        return True
    if records and depth < 3:
        for rec in records.get(sel.metric, []):
            if any("histogram_quantile" in s.calls() or quantile_valued(s, records, depth + 1)
                   for s in rec.summary.selectors):
                return True
    return False


# ---- the scan's rules and Alertmanager configurations, from the index ----------------------------
@dataclass(frozen=True, slots=True)
class RuleFact:
    kind: str  # alert | record
    name: str
    at: Source  # the `alert:` / `record:` value
    for_: str
    labels: dict
    summary: prom.Summary
    slo: bool  # named or labelled as an SLO / burn-rate / error-budget alert
    heartbeat: bool  # an always-firing Watchdog / dead man's switch


SLO_TOKENS = {"slo", "slos", "sli", "slis", "burn", "burnrate", "errorbudget", "budget"}


def words(text: str) -> set:
    """Lower-case words of a name: `KubeAPIErrorBudgetBurn` -> {kube, api, error, budget, burn}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", str(text)))
    return {w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w}


def is_slo(rule: prom.PromRule) -> bool:
    """Named or labelled as an SLO / burn-rate / error-budget rule (a long window on purpose)."""
    text = " ".join([rule.name, rule.group] + [f"{k} {v}" for k, v in rule.labels.items()])
    w = words(text)
    return bool(w & SLO_TOKENS) or {"error", "budget"} <= w


HEARTBEAT_NAMES = re.compile(r"^(watchdog|deadmans?switch|deadmanssnitch|deadman|heartbeat|alwaysfiring)$", re.I)


def is_heartbeat(rule: prom.PromRule) -> bool:
    return rule.summary.always or bool(HEARTBEAT_NAMES.match(re.sub(r"[\s_-]", "", rule.name)))


def _scalar_labels(labels: dict) -> dict:
    return {str(k): str(v) for k, v in labels.items() if isinstance(v, (str, int, float, bool)) and len(str(v)) < 200}


def index_facts(r) -> dict:
    """Compact facts for project.facts_of: rules (per rule: kind, name, position, for, labels, PromQL
    summary), Alertmanager models, ServiceMonitor/PodMonitor selectors."""
    out: dict = {}
    if r.kind in prom.KINDS:
        facts = []
        for rule in prom.rules_of(r):
            facts.append(RuleFact(rule.kind, rule.name, r.locate(rule.at(rule.kind)), rule.for_,
                                  _scalar_labels(rule.labels), rule.summary, is_slo(rule),
                                  rule.kind == "alert" and is_heartbeat(rule)))
        if facts:
            out["prom"] = facts
    if r.kind in am.KINDS:
        configs = am.configs_of(r)
        if configs:
            out["alertmanager"] = configs
    if r.kind in ("ServiceMonitor", "PodMonitor"):
        spec = r.get(("spec",)) if isinstance(r.get(("spec",)), dict) else {}
        eps = spec.get("endpoints") or spec.get("podMetricsEndpoints")
        eps = eps if isinstance(eps, list) else []
        ns_sel = spec.get("namespaceSelector") if isinstance(spec.get("namespaceSelector"), dict) else {}
        names = ns_sel.get("matchNames") if isinstance(ns_sel.get("matchNames"), list) else []
        job_label = spec.get("jobLabel") if isinstance(spec.get("jobLabel"), str) else None
        out["monitor"] = {"selector": spec.get("selector"), "job_label": job_label,
                          "any_ns": ns_sel.get("any") is True, "ns": [str(n) for n in names],
                          "intervals": [s for s in (seconds(e.get("interval")) for e in eps if isinstance(e, dict)) if s]}
    return out


def _collect(project):
    rules = [(e, f) for e in project.entries if "prom" in e.facts for f in e.facts["prom"]]
    records: dict = {}
    for _, f in rules:
        if f.kind == "record":
            records.setdefault(f.name, []).append(f)
    configs = [(e, c) for e in project.entries if "alertmanager" in e.facts for c in e.facts["alertmanager"]]
    holders = sorted((e for e in project.entries if any(f.kind == "alert" for f in e.facts.get("prom", ()))),
                     key=lambda e: (e.file, e.line))
    return {"rules": rules, "alerts": [(e, f) for e, f in rules if f.kind == "alert"], "records": records,
            "configs": configs, "anchor": holders[0] if holders else None}


def scan_facts(project) -> dict:
    """{"rules", "alerts": [(Entry, RuleFact)], "records": name -> [RuleFact], "configs": [(Entry, AmConfig)],
    "anchor": the first resource holding alerts} — computed once per scan."""
    return project.memo("observability.promql", _collect)


def is_anchor(resource, project) -> bool:
    """The resource repository-level monitoring findings are reported on: the first (by file and
    line) that holds alerting rules."""
    a = scan_facts(project)["anchor"]
    return a is not None and (a.file, a.line, a.kind, a.name) == (resource.file, resource.line, resource.kind,
                                                                  resource.name)


AVERAGING = {"rate", "avg_over_time"}  # a per-second or mean value over the window
SUMMING = {"increase", "sum_over_time", "count_over_time"}  # a count: averaging only when divided


def averaged_windows(sel: prom.Selector, records: dict, via: str = "", depth: int = 0) -> list:
    """(window_s, function, selector measured, recording rule followed) for every window over which a
    series is averaged: `rate`/`avg_over_time`, or `increase` inside a ratio; recording rules the
    selector names are followed (three levels), and a window spelled in a recorded name
    (`job:errors:ratio_rate30m`) counts when the rule is not in the scan."""
    out = []
    ratio = any(c[0] == "bin" and c[1] == "/" for c in sel.chain)
    for c in sel.chain:
        if c[0] == "call" and c[2] and (c[1] in AVERAGING or (c[1] in SUMMING and ratio)):
            out.append((c[2], c[1], sel, via))
    if out or sel.window or depth >= 3:
        return out
    recs = records.get(sel.metric)
    if recs:
        return [w for rec in recs for s in rec.summary.selectors
                for w in averaged_windows(s, records, via or sel.metric, depth + 1)]
    m = re.search(r"(?:rate|ratio|burnrate|avg)_?(\d+[smhdw])$", sel.metric)
    return [(seconds(m.group(1)), "rate", sel, sel.metric)] if m and ":" in sel.metric else []


# ---- which workloads an alert covers -----------------------------------------------------------
NAMESPACE_LABELS = {"namespace", "kubernetes_namespace", "exported_namespace", "k8s_namespace", "namespace_name"}
NAME_LABELS = {"job", "service", "service_name", "kubernetes_service", "exported_service", "destination_service_name",
               "destination_service", "app", "application", "app_kubernetes_io_name", "k8s_app", "deployment",
               "statefulset", "daemonset", "workload", "destination_workload", "container", "container_name",
               "kubernetes_name", "exported_job", "name"}
POD_LABELS = {"pod", "pod_name", "kubernetes_pod_name", "exported_pod"}
# jobs that export metrics *about* other workloads: their job label names the exporter, not the subject
INFRA_JOBS = re.compile(r"kubelet|cadvisor|kube-state-metrics|integrations/kubernetes|kubernetes-nodes", re.I)


def _hit(op: str, value: str, candidates: set) -> bool:
    if op in ("=", "!="):
        ok = value in candidates
    else:
        try:
            ok = any(re.fullmatch(value, c) for c in candidates)
        except re.error:
            return True
    return ok if op in ("=", "=~") else True  # a negative matcher excludes little: count it as covering


def covers(sel: prom.Selector, namespace: str, names: set, pod_prefixes: set, infra: bool = True) -> bool:
    """True when the selector's identity matchers (namespace, job/service/app/container, pod) all
    fit the workload; a selector with none covers every workload (it is evaluated per series).
    `infra`: a job naming an exporter of metrics about others (kubelet, kube-state-metrics) does
    not narrow the subject (False when the question is about that exporter itself)."""
    for label, op, value in sel.matchers:
        low = label.lower()
        if low in NAMESPACE_LABELS:
            if namespace and not _hit(op, value, {namespace}):
                return False
        elif low in NAME_LABELS:
            if infra and low in ("job", "service", "exported_job") and INFRA_JOBS.search(value):
                continue
            if not _hit(op, value, names):
                return False
        elif low in POD_LABELS and op in ("=", "=~"):
            pods = {p + "-abcde-12345" for p in pod_prefixes} | {p + "-0" for p in pod_prefixes}
            if not (_hit("=~", value, pods) or any(value.startswith(p + "-") for p in pod_prefixes)):
                return False
    return True


def workload_identity(resource, project) -> tuple:
    """(names, pod prefixes, services, monitors) a workload's series can carry: its name, container
    names, app labels, the Services selecting it (the default job of a ServiceMonitor) and the jobLabel
    values of the ServiceMonitors / PodMonitors that scrape it."""
    from ...k8s.selectors import selector_matches
    from ...k8s.workloads import containers, pod_labels

    labels = pod_labels(resource)
    names = {resource.name} | {c.name for c in containers(resource, include_init=False)}
    names |= {str(labels[k]) for k in ("app", "app.kubernetes.io/name", "k8s-app", "name", "component") if k in labels}
    services = project.services_selecting(labels, resource.namespace)
    names |= {s.name for s in services}
    monitors = []
    for e in project.of_kind("ServiceMonitor", "PodMonitor"):
        m = e.facts.get("monitor") or {}
        if not (m.get("any_ns") or resource.namespace in m.get("ns", []) or
                (not m.get("ns") and (not e.namespace or not resource.namespace or e.namespace == resource.namespace))):
            continue
        sel = m.get("selector")
        if not isinstance(sel, dict):
            continue
        targets = [s.labels for s in services] if e.kind == "ServiceMonitor" else [labels]
        hit = [t for t in targets if selector_matches(sel, t or {})]
        if hit:
            monitors.append(e)
            jl = m.get("job_label")
            if jl:
                names |= {str(t[jl]) for t in hit if jl in t}
            if e.kind == "PodMonitor":
                names.add(f"{e.namespace}/{e.name}")
    return names, {resource.name}, services, monitors


def scraped(resource, monitors: list) -> bool:
    from ...k8s.workloads import pod_template_path

    if monitors:
        return True
    tpl = pod_template_path(resource)
    ann = resource.get(tpl + ("metadata", "annotations")) if tpl else None
    return isinstance(ann, dict) and str(ann.get("prometheus.io/scrape", "")).lower() == "true"


# ---- what an alert watches for -----------------------------------------------------------------
ABSENT_CALLS = {"absent", "absent_over_time"}


def watches_down(sel: prom.Selector) -> bool:
    """`up == 0`, `up < 1`, `count(up == 0)`, `avg_over_time(up[5m]) < 0.9`, or any `absent(x)`: the
    selector notices a target that stopped reporting."""
    if set(sel.calls()) & ABSENT_CALLS:
        return True
    if sel.metric != "up":
        return False
    for c in sel.chain:
        if c[0] == "cmp" and c[2] is not None:
            op, v = c[1], c[2]
            if (op == "==" and v == 0) or (op in ("<", "<=") and v <= 1) or (op == "!=" and v == 1):
                return True
    return False


def watches_drop(sel: prom.Selector) -> bool:
    """The selector is compared from below (`< x`, `<= x`, `== 0`) or checked for absence: a drop alert."""
    if set(sel.calls()) & ABSENT_CALLS:
        return True
    return any(c[0] == "cmp" and (c[1] in ("<", "<=") or (c[1] == "==" and c[2] == 0)) for c in sel.chain)


def generic(sel: prom.Selector) -> bool:
    """No matcher that narrows the selector to some targets (every job, every namespace)."""
    return not any(label in ("job", "service", "instance", "namespace", "pod", "container") and
                   not (op == "=~" and value in (".*", ".+")) and op in ("=", "=~")
                   for label, op, value in sel.matchers)


def through_records(sel: prom.Selector, records: dict, depth: int = 0) -> list:
    """The raw selectors a selector stands for: itself, or those of the recording rule it names."""
    recs = records.get(sel.metric) if depth < 3 else None
    if not recs:
        return [sel]
    return [x for rec in recs for s in rec.summary.selectors for x in through_records(s, records, depth + 1)]
