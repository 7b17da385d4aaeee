"""Prometheus recording and alerting rules, read through one model whatever holds them.

- Plain rule files (`groups:` → `rules:`, what `rule_files:` loads) become one Resource of format
  "prometheus", kind `PrometheusRuleFile`, recognised by shape (parse/kubernetes.parse_manifest
  hands over documents that are not Kubernetes objects).
- `PrometheusRule` (prometheus-operator) and `VMRule` (VictoriaMetrics) objects already are
  Kubernetes resources; their groups live under `spec.groups`.

`rules_of(resource)` yields every rule with its path inside the resource, so a rule reports at the
alert's own line through the resource's positions (Helm and Kustomize locators included).
`summarize(expr)` parses PromQL with promql-parser (not regexes) into a compact `Summary`: every
series selector with its label matchers, its range window and the chain of nodes around it
(functions with their windows, aggregations with their grouping, comparisons with their threshold,
arithmetic and set operators), so rules can ask "is this error counter averaged over 1h?",
"is this quantile averaged?", "is `up` compared with 0?" without walking the AST themselves.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from ..model import Origin, Resource, ScanError, Source

RULE_FILE = "PrometheusRuleFile"
RULE_KINDS = ("PrometheusRule", "VMRule")  # Kubernetes kinds whose spec.groups hold rule groups
KINDS = RULE_KINDS + (RULE_FILE,)
FORMATS = ("kubernetes", "prometheus")
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
SET_OPS = {"and", "or", "unless"}
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


# ---- the PromQL summary ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Selector:
    """One series selector. `chain` holds the nodes around it, outermost first:
    ("call", name, window_s | None), ("agg", op, by_labels | None, without_labels | None),
    ("cmp", op, threshold | None) with op seen from this side (`1 > x` is x "<" 1),
    ("bin", op, side), ("set", op, side), ("subquery", window_s)."""

    metric: str
    matchers: tuple  # ((label, "=" | "!=" | "=~" | "!~", value), ...)
    window: int | None  # seconds of its own range selector `[5m]`
    offset: int | None
    chain: tuple

    def calls(self) -> list:
        return [c[1] for c in self.chain if c[0] == "call"]

    def windows(self) -> list:
        """Every window that shapes this series: its own range and those of enclosing subqueries."""
        out = [self.window] if self.window else []
        return out + [c[2] for c in self.chain if c[0] == "call" and c[2] and c[2] != self.window]


@dataclass(frozen=True, slots=True)
class Summary:
    selectors: tuple = ()
    functions: tuple = ()  # ((name, window_s | None), ...) in the order met
    aggregations: tuple = ()  # op names: sum, avg, max, quantile, count...
    always: bool = False  # no series at all, `vector(1)`: fires all the time (Watchdog)
    error: str = ""  # promql-parser's message when the expression does not parse

    @property
    def metrics(self) -> list:
        return sorted({s.metric for s in self.selectors if s.metric})

    def label_matchers(self, *labels: str) -> list:
        """(label, op, value) of every selector's matchers on the given labels."""
        return [m for s in self.selectors for m in s.matchers if not labels or m[0] in labels]


def _seconds(td) -> int | None:
    return int(td.total_seconds()) if td is not None else None


def _number(node) -> float | None:
    """The value of a constant expression (`0.05`, `(14.4 * 0.001)`, `-1`), else None."""
    import promql_parser as pp

    if isinstance(node, pp.NumberLiteral):
        return float(node.val)
    if isinstance(node, pp.ParenExpr):
        return _number(node.expr)
    if isinstance(node, pp.UnaryExpr):
        v = _number(node.expr)
        return -v if v is not None else None
    if isinstance(node, pp.BinaryExpr) and str(node.op) in ("+", "-", "*", "/"):
        a, b = _number(node.lhs), _number(node.rhs)
        if a is None or b is None:
            return None
        op = str(node.op)
        if op == "/":
            return a / b if b else None
        return a + b if op == "+" else a - b if op == "-" else a * b
    return None


class _Walker:
    def __init__(self) -> None:
        self.selectors: list = []
        self.functions: list = []
        self.aggregations: list = []

    def selector(self, vs, window, chain) -> None:
        matchers, metric = [], vs.name or ""
        for m in vs.matchers.matchers:
            op = _MATCH_OPS.get(str(m.op), "=")
            if m.name == "__name__" and op == "=" and not metric:
                metric = m.value
            else:
                matchers.append((m.name, op, m.value))
        self.selectors.append(Selector(metric, tuple(matchers), window, _seconds(vs.offset), chain))

    def walk(self, node, chain: tuple, depth: int = 0) -> None:
        import promql_parser as pp

        if depth > 200:
            raise ValueError("expression nested too deeply")
        d = depth + 1
        if isinstance(node, pp.VectorSelector):
            self.selector(node, None, chain)
        elif isinstance(node, pp.MatrixSelector):
            self.selector(node.vector_selector, _seconds(node.range), chain)
        elif isinstance(node, pp.Call):
            name = node.func.name
            window = None
            for a in node.args:
                if isinstance(a, pp.MatrixSelector):
                    window = _seconds(a.range)
                elif isinstance(a, pp.SubqueryExpr):
                    window = _seconds(a.range)
            self.functions.append((name, window))
            for a in node.args:
                self.walk(a, chain + (("call", name, window),), d)
        elif isinstance(node, pp.AggregateExpr):
            op = str(node.op)
            by = without = None
            if node.modifier is not None:
                labels = tuple(node.modifier.labels)
                if "Without" in str(node.modifier.type):
                    without = labels
                else:
                    by = labels
            self.aggregations.append(op)
            if node.param is not None:
                self.walk(node.param, chain, d)
            self.walk(node.expr, chain + (("agg", op, by, without),), d)
        elif isinstance(node, pp.BinaryExpr):
            op = str(node.op)
            if op in COMPARISONS:
                left, right = _number(node.lhs), _number(node.rhs)
                self.walk(node.lhs, chain + (("cmp", op, right),), d)
                self.walk(node.rhs, chain + (("cmp", _FLIP[op], left),), d)
            else:
                kind = "set" if op in SET_OPS else "bin"
                self.walk(node.lhs, chain + ((kind, op, 0),), d)
                self.walk(node.rhs, chain + ((kind, op, 1),), d)
        elif isinstance(node, (pp.ParenExpr, pp.UnaryExpr)):
            self.walk(node.expr, chain, d)
        elif isinstance(node, pp.SubqueryExpr):
            self.walk(node.expr, chain + (("subquery", _seconds(node.range)),), d)


@functools.lru_cache(maxsize=8192)
def summarize(expr: str) -> Summary:
    """The summary of one PromQL expression (cached: the same expression is asked by many rules)."""
    import promql_parser as pp

    try:
        tree = pp.parse(expr)
        w = _Walker()
        w.walk(tree, ())
    except (ValueError, RecursionError) as exc:
        return Summary(error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    always = not w.selectors and any(f[0] == "vector" for f in w.functions)
    return Summary(tuple(w.selectors), tuple(w.functions), tuple(w.aggregations), always)


# ---- the rules of a resource -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PromRule:
    """One recording or alerting rule: `path` is where its mapping sits inside the resource."""

    path: tuple
    kind: str  # "alert" | "record"
    name: str
    expr: str
    group: str
    data: dict

    @property
    def labels(self) -> dict:
        v = self.data.get("labels")
        return v if isinstance(v, dict) else {}

    @property
    def annotations(self) -> dict:
        v = self.data.get("annotations")
        return v if isinstance(v, dict) else {}

    @property
    def for_(self) -> str:
        v = self.data.get("for")
        return str(v) if v is not None else ""

    @property
    def summary(self) -> Summary:
        return summarize(self.expr)

    def at(self, *steps) -> tuple:
        return self.path + tuple(steps)


def groups_path(resource: Resource) -> tuple | None:
    if resource.format == "kubernetes" and resource.kind in RULE_KINDS:
        return ("spec", "groups")
    if resource.format == "prometheus" and resource.kind == RULE_FILE:
        return ("groups",)
    return None


def rules_of(resource: Resource) -> list:
    """Every rule of a PrometheusRule / VMRule / plain rule file, in file order."""
    base = groups_path(resource)
    groups = resource.get(base) if base else None
    out: list = []
    for gi, g in enumerate(groups if isinstance(groups, list) else []):
        rules = g.get("rules") if isinstance(g, dict) else None
        for ri, r in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(r, dict):
                continue
            kind = "alert" if "alert" in r else "record" if "record" in r else ""
            expr = r.get("expr")
            if not kind or expr is None:
                continue
            out.append(PromRule(base + (gi, "rules", ri), kind, str(r.get(kind) or ""), str(expr).strip(),
                                str(g.get("name") or ""), r))
    return out


def alerts_of(resource: Resource) -> list:
    return [r for r in rules_of(resource) if r.kind == "alert"]


def expr_errors(resources: list) -> list:
    """A ScanError for every rule expression promql-parser cannot read (at the expression's line)."""
    out = []
    for res in resources:
        if res.kind not in KINDS:
            continue
        for r in rules_of(res):
            s = r.summary
            if s.error:
                src = res.locate(r.at("expr"))
                out.append(ScanError(src.file, src.line, f"PromQL of {r.kind} '{r.name}' does not parse: {s.error}",
                                     src.column))
    return out


def is_rule_file(data) -> bool:
    """A Prometheus rule file by shape: `groups:` holding mappings with `rules:` lists of
    alert/record rules that have an `expr`."""
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list) or not data["groups"]:
        return False
    seen = False
    for g in data["groups"]:
        if not isinstance(g, dict) or not isinstance(g.get("rules", []), list):
            return False
        for r in g.get("rules") or []:
            if not (isinstance(r, dict) and ("alert" in r or "record" in r) and "expr" in r):
                return False
            seen = True
    return seen


def from_plain_doc(doc, file: str, origin: Origin | None, index: int) -> list:
    """A rule-file document as a Resource (or nothing when the document is not one)."""
    if not is_rule_file(doc.data):
        return []
    return [Resource(format="prometheus", kind=RULE_FILE, name=file, namespace="", data=doc.data, file=file,
                     line=doc.line, positions=doc.positions, key_positions=doc.key_positions,
                     origin=origin or Origin("file", file), doc_index=index)]


RULE_FILE_KEYS = (".yml", ".yaml", ".rules", ".rules.yml", ".rules.yaml")


def embedded_rule_files(resources: list) -> list:
    """Rule files held in ConfigMap values (`alerting_rules.yml: |` as the prometheus-community chart
    and plain Prometheus deployments mount them): one PrometheusRuleFile Resource each, whose
    positions point into the ConfigMap (the line inside a block scalar; the key for other forms)."""
    from .yamldoc import load_all

    out = []
    for res in resources:
        if res.format != "kubernetes" or res.kind != "ConfigMap":
            continue
        data = res.get(("data",))
        for key, text in (data.items() if isinstance(data, dict) else ()):
            if not (str(key).endswith(RULE_FILE_KEYS) and isinstance(text, str) and "groups" in text
                    and "expr" in text):
                continue
            docs, err = load_all(text)
            if err is not None or not docs or not is_rule_file(docs[0].data):
                continue
            doc, key_src = docs[0], res.locate(("data", key))
            block = "\n" in text and res.locator is None  # a literal block: its lines are the file's lines

            def locate(path, key=False, doc=doc, key_src=key_src, block=block):
                if not block:
                    return key_src
                table = doc.key_positions if key else doc.positions
                p = tuple(path)
                while p and p not in table:
                    p = p[:-1]
                line, col = table.get(p, (1, 1))
                return Source(key_src.file, key_src.line + line, 0)  # column 0: the start of that line

            out.append(Resource(format="prometheus", kind=RULE_FILE, name=f"{res.namespace or '-'}/{res.name}:{key}",
                                namespace=res.namespace, data=doc.data, file=key_src.file, line=key_src.line,
                                origin=res.origin, locator=locate))
    return out

