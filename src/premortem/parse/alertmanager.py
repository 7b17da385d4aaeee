"""Alertmanager configuration, read through one model whatever holds it.

- `alertmanager.yml` (a document with `route:` and `receivers:`) becomes a Resource of format
  "alertmanager", kind `AlertmanagerConfigFile`, recognised by shape (parse/kubernetes hands over
  documents that are not Kubernetes objects).
- A Secret (`data` base64 or `stringData`) or ConfigMap whose key holds such a file (the
  prometheus-operator's `alertmanager-<name>` Secret, the Helm charts' ConfigMap) is read from the
  Kubernetes resource itself: `configs_of(resource)` parses the embedded text and maps its lines
  back into the manifest (a `|` block starts on the line after its key; base64 data points at the key).
- `AlertmanagerConfig` custom resources (monitoring.coreos.com/v1alpha1; camelCase fields,
  matchers as objects) map onto the same model.

The model keeps the route tree (matchers normalised to (label, op, value)), receivers with their
integration types (pagerduty, opsgenie, webhook, email, slack...) and webhook host names only
(never URLs or keys: they are credentials), and inhibit rules, each node with its Source.
"""
from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass, field

from ..model import Origin, Resource, ScanError, Source
from .yamldoc import load_all

CONFIG_FILE = "AlertmanagerConfigFile"
CRD_KIND = "AlertmanagerConfig"
HOLDER_KINDS = ("Secret", "ConfigMap")
KINDS = (CONFIG_FILE, CRD_KIND) + HOLDER_KINDS
FORMATS = ("kubernetes", "alertmanager")
_MATCHER = re.compile(r"""\s*([A-Za-z_][A-Za-z0-9_]*|"[^"]*")\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,}]*)""")


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    types: tuple  # integration types: ("pagerduty", "webhook", ...); () drops every alert
    hosts: tuple  # webhook/URL host names (for "is this webhook a pager?")
    at: Source


@dataclass(slots=True)
class Route:
    receiver: str  # effective receiver (inherited from the parent when not set)
    own_receiver: bool
    matchers: tuple  # ((label, op, value), ...)
    cont: bool
    at: Source  # the route's receiver (or the route itself)
    routes: list = field(default_factory=list)
    depth: int = 0

    def walk(self):
        yield self
        for r in self.routes:
            yield from r.walk()


@dataclass(slots=True)
class AmConfig:
    where: str  # "Secret monitoring/alertmanager-main, key alertmanager.yaml"
    route: Route | None
    route_at: Source
    receivers: dict  # name -> Receiver
    crd: bool = False  # an AlertmanagerConfig: its tree only sees alerts of its namespace

    def drops(self, name: str) -> bool:
        """The receiver is undefined or has no integration: what reaches it is dropped."""
        r = self.receivers.get(name)
        return r is None or not r.types

    @property
    def placeholder(self) -> bool:
        """No receiver has an integration (kube-prometheus' shipped `- name: Default`): nothing is delivered."""
        return not any(r.types for r in self.receivers.values())

    def show(self, name: str) -> str:
        r = self.receivers.get(name)
        if r is None:
            return f"'{name}' (not defined)"
        return f"'{name}' ({', '.join(r.types)})" if r.types else f"'{name}' (no integration)"


# ---- matchers and routing ----------------------------------------------------------------------
def parse_matchers(text: str) -> list:
    """`severity = critical`, `alertname=~"A|B"`, `{a="1", b!="2"}` -> [(label, op, value)]."""
    out = []
    for m in _MATCHER.finditer(str(text).strip().strip("{}")):
        value = m.group(3).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"')
        out.append((m.group(1).strip('"'), m.group(2), value))
    return out


def matches(matchers: tuple, labels: dict, known: set) -> bool | None:
    """True/False when the alert's labels decide; None when a matcher reads a label the alert may
    get at run time from its expression (a label neither set statically nor known to be absent)."""
    maybe = False
    for label, op, value in matchers:
        if label not in labels and label not in known:
            maybe = True
            continue
        have = str(labels.get(label, ""))
        if op in ("=~", "!~"):
            try:
                ok = re.fullmatch(value, have) is not None
            except re.error:
                return None
        else:
            ok = have == value
        if op in ("!=", "!~"):
            ok = not ok
        if not ok:
            return False
    return None if maybe else True


def terminals(route: Route, labels: dict, known: set) -> list:
    """The routes an alert with `labels` may end at (Alertmanager's first-match walk, `continue`
    honoured; a child that may match is followed and the walk goes on past it)."""
    out: list = []
    for child in route.routes:
        m = matches(child.matchers, labels, known)
        if m is False:
            continue
        out.extend(terminals(child, labels, known))
        if m and not child.cont:
            return out
    out.append(route)  # no child surely took it: this route may handle it
    return out


# ---- reading -----------------------------------------------------------------------------------
def is_config(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("route"), dict) and isinstance(data.get("receivers"), list)


def _hosts(value) -> set:
    out: set = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str) and k.endswith(("url", "_url", "URL", "Url")):
                m = re.match(r"^\w+://([^/:?#@]+@)?([^/:?#]+)", v.strip())
                if m:
                    out.add(m.group(2).lower())
            else:
                out |= _hosts(v)
    elif isinstance(value, list):
        for v in value:
            out |= _hosts(v)
    return out


def _list(x) -> list:
    return x if isinstance(x, list) else []


def _integration(key: str) -> str:
    """`pagerduty_configs` / `pagerdutyConfigs` -> 'pagerduty'."""
    k = key[:-8] if key.endswith("_configs") else key[:-7] if key.endswith("Configs") else ""
    return k.replace("_", "").lower()


def _model(data: dict, locate, where: str, crd: bool) -> AmConfig:
    """Build the model from config data; `locate(path, key)` maps a path inside it to a Source."""
    receivers = {}
    for i, r in enumerate(_list(data.get("receivers"))):
        if not isinstance(r, dict):
            continue
        types = tuple(sorted({_integration(str(k)) for k, v in r.items() if _integration(str(k)) and v}))
        receivers[str(r.get("name"))] = Receiver(str(r.get("name")), types, tuple(sorted(_hosts(r))),
                                                 locate(("receivers", i, "name"), False))

    def route(node: dict, path: tuple, inherited: str, depth: int) -> Route:
        own = node.get("receiver")
        ms: list = []
        if crd:
            for m in _list(node.get("matchers")):
                if isinstance(m, dict) and m.get("name"):
                    op = m.get("matchType") or ("=~" if m.get("regex") else "=")
                    ms.append((str(m["name"]), str(op), str(m.get("value", ""))))
        else:
            for k, v in (node.get("match") or {}).items() if isinstance(node.get("match"), dict) else ():
                ms.append((str(k), "=", str(v)))
            for k, v in (node.get("match_re") or {}).items() if isinstance(node.get("match_re"), dict) else ():
                ms.append((str(k), "=~", str(v)))
            for m in _list(node.get("matchers")):
                ms.extend(parse_matchers(m))
        at = locate(path + ("receiver",), False) if own else locate(path, True)
        out = Route(str(own) if own else inherited, bool(own), tuple(ms), bool(node.get("continue")), at,
                    depth=depth)
        for i, child in enumerate(_list(node.get("routes"))):
            if isinstance(child, dict):
                out.routes.append(route(child, path + ("routes", i), out.receiver, depth + 1))
        return out

    root = data.get("route")
    tree = route(root, ("route",), "", 0) if isinstance(root, dict) else None
    return AmConfig(where, tree, locate(("route",), True), receivers, crd)


@functools.lru_cache(maxsize=256)
def _parse_text(text: str):
    docs, err = load_all(text)
    if err is not None:
        return None, err
    return (docs[0] if docs else None), None


def _decoded(value) -> str | None:
    try:
        return base64.b64decode(str(value), validate=False).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def embedded_texts(resource: Resource) -> list:
    """(path of the key, text, block) of Secret/ConfigMap values that may hold an Alertmanager file."""
    out = []
    for section in ("stringData", "data"):
        if resource.kind == "ConfigMap" and section == "stringData":
            continue
        values = resource.get((section,))
        for k, v in (values.items() if isinstance(values, dict) else ()):
            if not str(k).endswith((".yml", ".yaml")) or not isinstance(v, str):
                continue
            text = _decoded(v) if resource.kind == "Secret" and section == "data" else v
            if text and "receivers" in text and "route" in text:
                out.append(((section, k), text, section != "data" or resource.kind == "ConfigMap"))
    return out


def _embedded(resource: Resource, errors: list | None) -> list:
    out = []
    for path, text, plain in embedded_texts(resource):
        doc, err = _parse_text(text)
        key_src = resource.locate(path)
        if err is not None:
            if errors is not None and ("alertmanager" in path[1] or "route:" in text):
                errors.append(ScanError(key_src.file, key_src.line + (err.line if plain and "\n" in text else 0),
                                        f"{path[1]}: {err}"))
            continue
        if doc is None or not is_config(doc.data):
            continue
        block = plain and "\n" in text and resource.locator is None

        def locate(p, key, doc=doc, key_src=key_src, block=block):
            if not block:
                return key_src
            table = doc.key_positions if key else doc.positions
            q = tuple(p)
            while q and q not in table:
                q = q[:-1]
            line = table.get(q, (1, 1))[0]
            return Source(key_src.file, key_src.line + line, 0)

        out.append(_model(doc.data, locate, f"{resource.kind} {resource.namespace or '-'}/{resource.name}, key {path[1]}",
                          False))
    return out


def configs_of(resource: Resource, errors: list | None = None) -> list:
    """Every Alertmanager configuration a resource holds (usually one, often none)."""
    if resource.format == "alertmanager" and resource.kind == CONFIG_FILE:
        return [_model(resource.data, lambda p, k: resource.locate(p, key=k), resource.file, False)]
    if resource.format != "kubernetes":
        return []
    if resource.kind == CRD_KIND:
        spec = resource.get(("spec",))
        if not isinstance(spec, dict):
            return []
        data = {"route": spec.get("route") if isinstance(spec.get("route"), dict) else {},
                "receivers": spec.get("receivers") if isinstance(spec.get("receivers"), list) else []}
        if not data["route"] and not data["receivers"]:
            return []
        return [_model(data, lambda p, k: resource.locate(("spec",) + tuple(p), key=k),
                       f"AlertmanagerConfig {resource.namespace or '-'}/{resource.name}", True)]
    if resource.kind in HOLDER_KINDS:
        return _embedded(resource, errors)
    return []


def config_errors(resources: list) -> list:
    errors: list = []
    for r in resources:
        if r.format == "kubernetes" and r.kind in HOLDER_KINDS:
            _embedded(r, errors)
    return errors


def from_plain_doc(doc, file: str, origin: Origin | None, index: int) -> list:
    if not is_config(doc.data):
        return []
    return [Resource(format="alertmanager", kind=CONFIG_FILE, name=file, namespace="", data=doc.data, file=file,
                     line=doc.line, positions=doc.positions, key_positions=doc.key_positions,
                     origin=origin or Origin("file", file), doc_index=index)]
