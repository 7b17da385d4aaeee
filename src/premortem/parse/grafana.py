"""Grafana dashboards into Resources: JSON files, dashboards embedded in ConfigMaps, grafana-operator CRs.

Format "grafana", kind "GrafanaDashboard", one per dashboard. `data`:
- title, uid, tags, time_from (dashboard `time.from`, Grafana's default `now-6h` when unset),
  embedded_in ("ConfigMap/ns/name key x.json", "" for a file), sidecar (the ConfigMap carries the
  grafana sidecar label `grafana_dashboard`);
- panels: every panel, nested ones too (collapsed rows, old-schema `rows[].panels`), flattened to
  {title, type, description, row, datasource, interval (min interval), maxDataPoints, timeFrom,
  unit, thresholds [{color, value}], calcs (reduce calculations; old singlestat `valueName`), at,
  targets [{refId, expr, datasource, hide, interval, query, at}]}.
  `at` is the panel's (target's) path inside the dashboard JSON, and every path a rule reports at in
  this kind is such a JSON path (`panel["at"] + ("targets", 0, "expr")`): the locator finds it in
  the file. `query` is the PromQL as a plain tree (see `query_tree`), None when the target is not
  PromQL (Loki, Elasticsearch...) or did not parse.

Positions: a JSON file through tfplan.JsonText (found on demand, so a 1 MB dashboard costs nothing
until a finding needs a line). Embedded JSON written as a YAML block literal (`x.json: |`) maps line
for line onto the file, which is checked before it is trusted; otherwise (a quoted string, a Helm
`.Files.Get`) findings point at the ConfigMap key and the message names the panel.

Grafana template syntax is not PromQL: `$__interval`, `$__rate_interval`, `$__range` and `$var`
inside `[...]` become sentinel durations that the tree reports back as {"var": name}; other
`$var`/`${var}`/`[[var]]` become identifiers (or the number 1 where PromQL wants a scalar). A query
of a Prometheus data source that still does not parse is a ScanError at its line.
"""
from __future__ import annotations

import re

from ..model import Origin, Resource, ScanError, Source
from .tfplan import JsonText

DEFAULT_FROM = "now-6h"  # Grafana's default dashboard time range
SIDECAR_LABEL = "grafana_dashboard"
_NOT_PROMQL = ("loki", "elasticsearch", "influxdb", "graphite", "cloudwatch", "stackdriver", "mysql",
               "postgres", "mssql", "tempo", "jaeger", "zipkin", "testdata", "grafana-", "opensearch",
               "splunk", "datadog", "-- grafana --", "-- dashboard --", "expression", "__expr__")
_PROMETHEUS = ("prometheus", "mimir", "cortex", "thanos", "victoriametrics")


# ---- entry points ------------------------------------------------------------------------------
def looks_like_dashboard(text: str) -> bool:
    """A cheap sniff before parsing a `.json` file."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    return head == "{" and ('"panels"' in text or '"rows"' in text) and (
        '"schemaVersion"' in text or '"title"' in text) and '"resource_changes"' not in text


def dashboard_of(data):
    """The dashboard object of a parsed JSON document (a dashboard, or an API export/import body
    `{"dashboard": {...}}`) and its path, else (None, ())."""
    if not isinstance(data, dict):
        return None, ()
    if _is_dashboard(data):
        return data, ()
    inner = data.get("dashboard")
    if _is_dashboard(inner):
        return inner, ("dashboard",)
    return None, ()


def _is_dashboard(d) -> bool:
    return isinstance(d, dict) and (isinstance(d.get("panels"), list) or isinstance(d.get("rows"), list)) and (
        "title" in d or "schemaVersion" in d)


def parse_dashboard_file(text: str, file: str):
    """A `.json` file that sniffed as a dashboard: (resources, errors), or None when its content is
    not one after all (the caller then reads it as a plan or Kubernetes objects)."""
    doc = JsonText(text)
    try:
        data = doc.load()
    except ValueError as exc:
        return [], [ScanError(file, exc.args[1], f"not valid dashboard JSON: {exc.args[0]}", exc.args[2])]
    dash, prefix = dashboard_of(data)
    if dash is None:
        return None
    errors: list = []
    loc = FileLocator(doc, file, prefix)
    r = build(dash, file, "", loc, Origin("file", file), errors)
    r.line = loc((), False).line
    return [r], errors


def embedded_dashboards(resources: list, texts: dict) -> tuple[list, list]:
    """Dashboards inside ConfigMaps (any data value that is dashboard JSON) and grafana-operator
    `GrafanaDashboard` CRs (`spec.json`), as GrafanaDashboard resources beside their object.
    `texts` maps file -> text of the files the unit read (to trust block-literal positions)."""
    out, errors = [], []
    for r in resources:
        if r.format != "kubernetes" or not isinstance(r.data, dict):
            continue
        if r.kind == "ConfigMap" and isinstance(r.data.get("data"), dict):
            items = [(("data", k), v) for k, v in r.data["data"].items()]
        elif r.kind == "GrafanaDashboard" and "grafana" in r.api_version and isinstance(r.get(("spec", "json")), str):
            items = [(("spec", "json"), r.get(("spec", "json")))]
        else:
            continue
        for path, value in items:
            if not (isinstance(value, str) and value.lstrip()[:1] == "{" and ('"panels"' in value or '"rows"' in value)):
                continue
            doc = JsonText(value)
            try:
                data = doc.load()
            except ValueError as exc:
                at = r.locate(path)
                errors.append(ScanError(at.file, at.line, f"{r.id} {path[-1]}: not valid dashboard JSON: "
                                                          f"{exc.args[0]} (line {exc.args[1]} of the JSON)", at.column))
                continue
            dash, prefix = dashboard_of(data)
            if dash is None:
                continue
            loc = EmbeddedLocator(doc, value, prefix, r.locate(path), r.locate(path, key=True), texts)
            where = f"{r.kind}/{r.namespace or '-'}/{r.name} {path[-1]}"
            d = build(dash, r.file, r.namespace, loc, r.origin, errors)
            d.line = loc.key.line
            d.data["embedded_in"] = where
            d.data["sidecar"] = SIDECAR_LABEL in r.labels
            out.append(d)
    return out, errors


# ---- positions ---------------------------------------------------------------------------------
class FileLocator:
    """Resource.locator of a dashboard JSON file: a dashboard JSON path to its (line, column)."""

    def __init__(self, doc: JsonText, file: str, prefix: tuple = ()):
        self.doc, self.file, self.prefix = doc, file, prefix

    def __call__(self, path, key=False):
        line, col = self.doc.position(self.prefix + tuple(path), key)
        return Source(self.file, line, col)


class EmbeddedLocator:
    """Resource.locator of a dashboard embedded in a YAML string: through the block literal when its
    lines are the JSON's lines (checked once), else the ConfigMap key."""

    def __init__(self, doc: JsonText, text: str, prefix: tuple, value: Source, key: Source, texts: dict):
        self.doc, self.prefix, self.value, self.key, self.texts = doc, prefix, value, key, texts
        self.text = text  # as written (doc.text has whole-line comments blanked)
        self._map = None  # (first file line, indent) or False

    def _mapping(self):
        if self._map is None:
            self._map = _block_literal(self.text, self.texts.get(self.value.file), self.value.line) or False
            self.texts = self.text = None  # no longer needed
        return self._map

    def __call__(self, path, key=False):
        m = self._mapping()
        if not m:
            return self.key
        first, indent = m
        line, col = self.doc.position(self.prefix + tuple(path), key)
        return Source(self.value.file, first + line - 1, indent + col)


def _block_literal(json_text: str, file_text: str | None, indicator_line: int):
    """(file line of the JSON's first line, indentation) when the JSON sits line for line in a block
    literal whose indicator (`|`, `|-`) is on `indicator_line`, else None."""
    if not file_text:
        return None
    lines = file_text.split("\n")
    if not 0 < indicator_line <= len(lines) or not re.search(r"[|>][-+0-9]*\s*$", lines[indicator_line - 1]):
        return None
    if lines[indicator_line - 1].rstrip().endswith((">", ">-", ">+")):
        return None  # folded: lines do not map
    body = json_text.split("\n")
    while body and not body[-1].strip():
        body.pop()
    if not body or indicator_line + len(body) > len(lines):
        return None
    first = lines[indicator_line]
    indent = len(first) - len(first.lstrip(" "))
    pad = " " * indent
    for i, jl in enumerate(body):
        fl = lines[indicator_line + i].rstrip("\r")
        if fl != pad + jl and not (not jl.strip() and not fl.strip()):
            return None
    return indicator_line + 1, indent


# ---- dashboards and panels ---------------------------------------------------------------------
def build(dash: dict, file: str, namespace: str, locator, origin: Origin, errors: list) -> Resource:
    title = _text(dash.get("title"))
    time = dash.get("time") if isinstance(dash.get("time"), dict) else {}
    panels: list = []
    for path, panel, row in _walk(dash):
        panels.append(_panel(panel, path, row, dash, locator, errors))
    data = {"title": title, "uid": _text(dash.get("uid")),
            "tags": [str(t) for t in dash.get("tags") or [] if isinstance(t, (str, int))] if isinstance(dash.get("tags"), list) else [],
            "time_from": _text(time.get("from")) or DEFAULT_FROM, "embedded_in": "", "sidecar": False,
            "panels": panels}
    return Resource(format="grafana", kind="GrafanaDashboard", name=title or _text(dash.get("uid")) or file,
                    namespace=namespace, data=data, file=file, line=1, origin=origin, locator=locator)


def _walk(dash: dict):
    """(path, panel, row title) of every panel: top-level, inside rows (collapsed), old-schema rows."""
    def visit(items, path, row):
        for i, p in enumerate(items if isinstance(items, list) else []):
            if not isinstance(p, dict):
                continue
            here = path + (i,)
            if p.get("type") == "row":
                yield from visit(p.get("panels"), here + ("panels",), _text(p.get("title")))
                continue
            yield here, p, row
            if isinstance(p.get("panels"), list):  # a library/nested layout
                yield from visit(p["panels"], here + ("panels",), row)

    yield from visit(dash.get("panels"), ("panels",), "")
    for j, r in enumerate(dash.get("rows") if isinstance(dash.get("rows"), list) else []):
        if isinstance(r, dict):
            yield from visit(r.get("panels"), ("rows", j, "panels"), _text(r.get("title")))


def _panel(p: dict, path: tuple, row: str, dash: dict, locator, errors: list) -> dict:
    fc = p.get("fieldConfig") if isinstance(p.get("fieldConfig"), dict) else {}
    defaults = fc.get("defaults") if isinstance(fc.get("defaults"), dict) else {}
    options = p.get("options") if isinstance(p.get("options"), dict) else {}
    reduce = options.get("reduceOptions") if isinstance(options.get("reduceOptions"), dict) else {}
    calcs = [str(c) for c in reduce.get("calcs") or [] if isinstance(c, str)] if isinstance(reduce.get("calcs"), list) else []
    if not calcs and isinstance(p.get("valueName"), str):  # old singlestat
        calcs = [{"avg": "mean", "current": "lastNotNull"}.get(p["valueName"], p["valueName"])]
    unit = defaults.get("unit") or p.get("format")
    if not unit and isinstance(p.get("yaxes"), list) and p["yaxes"] and isinstance(p["yaxes"][0], dict):
        unit = p["yaxes"][0].get("format")
    th = defaults.get("thresholds") if isinstance(defaults.get("thresholds"), dict) else {}
    steps = th.get("steps") if isinstance(th.get("steps"), list) else []
    thresholds = [{"color": s.get("color"), "value": s.get("value")} for s in steps if isinstance(s, dict)]
    if not thresholds and isinstance(p.get("thresholds"), str):  # old singlestat "80,90"
        thresholds = [{"color": None, "value": v.strip()} for v in p["thresholds"].split(",") if v.strip()]
    panel_ds = _datasource(p.get("datasource"))
    targets = []
    for j, t in enumerate(p.get("targets") if isinstance(p.get("targets"), list) else []):
        if not isinstance(t, dict):
            continue
        ds = _datasource(t.get("datasource")) or panel_ds
        expr = t.get("expr") if isinstance(t.get("expr"), str) else ""
        query = None
        if expr.strip() and _maybe_promql(ds, expr):
            query, err = query_tree(expr)
            if err and any(k in ds.lower() for k in _PROMETHEUS):
                at = locator(path + ("targets", j, "expr"), False)
                errors.append(ScanError(at.file, at.line, f"panel '{_text(p.get('title'))}' query {t.get('refId') or j}: "
                                                          f"PromQL does not parse ({err}); not checked", at.column))
        targets.append({"refId": _text(t.get("refId")), "expr": expr, "datasource": ds, "hide": t.get("hide") is True,
                        "interval": _text(t.get("interval")), "query": query, "at": path + ("targets", j)})
    mdp = p.get("maxDataPoints")
    return {"title": _text(p.get("title")), "type": _text(p.get("type")), "description": _text(p.get("description")),
            "row": row, "datasource": panel_ds, "interval": _text(p.get("interval")),
            "maxDataPoints": mdp if isinstance(mdp, int) and not isinstance(mdp, bool) else None,
            "timeFrom": _text(p.get("timeFrom")), "unit": _text(unit), "thresholds": thresholds, "calcs": calcs,
            "targets": targets, "at": path}


def _text(v) -> str:
    return v if isinstance(v, str) else ""


def _datasource(ds) -> str:
    """A data source as one lower-case word: its type when known, else its name/uid ('' when unset)."""
    if isinstance(ds, dict):
        return str(ds.get("type") or ds.get("uid") or "").lower()
    return ds.lower() if isinstance(ds, str) else ""


def _maybe_promql(ds: str, expr: str) -> bool:
    if any(k in ds for k in _NOT_PROMQL):
        return False
    return not _LOGQL.search(expr)


# a LogQL line filter or parser stage after a stream selector: `{app="x"} |= "error"`, `| json`
_LOGQL = re.compile(r'\}\s*(?:\|[=~]?|!=\s*"|!~\s*")|\|\s*(?:json|logfmt|line_format|label_format|pattern|regexp|unwrap)\b')


# ---- PromQL with Grafana variables -------------------------------------------------------------
SENTINEL = 1_000_000  # seconds; sentinel durations stand for variables inside [...]
_VAR = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")


def _substitute(expr: str, scalar: bool) -> tuple[str, dict]:
    """Grafana variables out of a PromQL text: in a range or after `offset` a sentinel duration,
    elsewhere an identifier (or `1` when `scalar`). Quoted strings are left alone."""
    out, names, i, depth, n = [], {}, 0, 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch in "\"'`":
            j = i + 1
            while j < n and expr[j] != ch:
                j += 2 if expr[j] == "\\" and ch != "`" else 1
            out.append(expr[i:j + 1])
            i = j + 1
            continue
        m = _VAR.match(expr, i) if ch in "$[" else None
        if not m and ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        if m:
            name = m.group(1) or m.group(2) or m.group(3)
            before = "".join(out)[-12:]
            if depth or re.search(r"\boffset\s*-?$", before):
                sec = names.setdefault(name, SENTINEL + len(names))
                out.append(f"{sec}s")
            else:
                out.append("1" if scalar else f"__var_{name}")
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out), {v: k for k, v in names.items()}


def query_tree(expr: str):
    """(tree, None) or (None, error message) for a PromQL text with Grafana variables."""
    import promql_parser

    err = None
    for scalar in (False, True):
        text, variables = _substitute(expr, scalar)
        try:
            return _tree(promql_parser.parse(text), variables), None
        except ValueError as exc:
            err = err or str(exc).splitlines()[0]
        except Exception as exc:  # the parser raising something else is still a parse failure
            err = err or f"{type(exc).__name__}: {exc}"
    return None, err


def _duration(td, variables: dict):
    if td is None:
        return None
    sec = int(td.total_seconds())
    return {"var": variables[sec]} if sec in variables else td.total_seconds()


def _tree(node, variables: dict):
    """A promql_parser AST as plain dicts: sel, matrix, sub, call, agg, bin, paren, unary, num, str."""
    import promql_parser as p

    if isinstance(node, p.VectorSelector):
        ms = [(m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers]
        for group in node.matchers.or_matchers or []:
            ms.extend((m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in group)
        name = node.name or next((v for k, op, v in ms if k == "__name__" and op == "Equal"), "")
        return {"t": "sel", "name": name, "matchers": ms}
    if isinstance(node, p.MatrixSelector):
        return {"t": "matrix", "sel": _tree(node.vector_selector, variables), "range": _duration(node.range, variables)}
    if isinstance(node, p.SubqueryExpr):
        return {"t": "sub", "expr": _tree(node.expr, variables), "range": _duration(node.range, variables),
                "step": _duration(node.step, variables)}
    if isinstance(node, p.Call):
        return {"t": "call", "func": node.func.name, "args": [_tree(a, variables) for a in node.args]}
    if isinstance(node, p.AggregateExpr):
        mod = node.modifier
        by = without = None
        if mod is not None:
            if str(mod.type).endswith("By"):
                by = list(mod.labels)
            else:
                without = list(mod.labels)
        return {"t": "agg", "op": str(node.op), "expr": _tree(node.expr, variables),
                "param": _tree(node.param, variables) if node.param is not None else None, "by": by, "without": without}
    if isinstance(node, p.BinaryExpr):
        return {"t": "bin", "op": str(node.op), "lhs": _tree(node.lhs, variables), "rhs": _tree(node.rhs, variables)}
    if isinstance(node, p.ParenExpr):
        return {"t": "paren", "expr": _tree(node.expr, variables)}
    if isinstance(node, p.UnaryExpr):
        return {"t": "unary", "expr": _tree(node.expr, variables)}
    if isinstance(node, p.NumberLiteral):
        return {"t": "num", "value": node.val}
    if isinstance(node, p.StringLiteral):
        return {"t": "str", "value": node.val}
    return {"t": "other"}


def nodes(tree):
    """Every node of a query tree, depth first."""
    if not isinstance(tree, dict):
        return
    yield tree
    for k in ("sel", "expr", "param", "lhs", "rhs"):
        if isinstance(tree.get(k), dict):
            yield from nodes(tree[k])
    for a in tree.get("args") or ():
        yield from nodes(a)


# ---- Grafana durations -------------------------------------------------------------------------
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}


def duration_seconds(text: str) -> float | None:
    """'30m', '1h30m', '>10s' (min interval), '24h', 'now-7d', 'now-7d/d', 'now/d' -> seconds of the span,
    None when unknown (a variable, an absolute date, empty)."""
    s = (text or "").strip().lstrip(">").strip()
    if not s or "$" in s:
        return None
    if s.startswith("now"):
        s = s[3:]
        if s.startswith("/"):  # now/d: since the start of the day, up to one unit
            return _UNITS.get(s[1:], None)
        if not s.startswith("-"):
            return None
        s = s[1:].split("/")[0]
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|[smhdwMy])", s)
    if not parts or "".join(a + b for a, b in parts) != s:
        return None
    return sum(float(a) * _UNITS[b] for a, b in parts)


def show_seconds(sec: float) -> str:
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if sec >= n and sec % n == 0:
            return f"{int(sec // n)}{unit}"
    if sec >= 3600:
        return f"{sec / 3600:.1f}h"
    if sec >= 60:
        return f"{int(sec // 60)}m{int(sec % 60)}s"
    return f"{sec:g}s"
