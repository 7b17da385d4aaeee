"""Helm charts, rendered by the real Helm engine in-process (helm-python-sdk's libhelm: no `helm`
binary, no cluster, no network). Rendered manifests become Kubernetes Resources whose findings
point at the template line, with the values line that set the offending value beside it (how:
parse/helm_map.py).

Which renders
    With values files named (`--helm-values`, `helm.values` in config; looked up in the chart
    directory, the working directory, the scan root) the chart is rendered once with its defaults
    plus those files merged in order (later wins, maps merged deeply, as `helm template -f a -f
    b`). With none named, it is rendered once with its defaults AND once per environment file
    beside Chart.yaml (`values-*.yaml`, `values.*.yaml`, `values_*.yaml`): production usually
    lives in `values-prod.yaml`, and scanning only the defaults would miss it. Each render's
    resources carry `Origin("helm", chart, detail=<values file>)`, so a file name like
    `values-prod.yaml` is production evidence; the same finding in several renders collapses into
    one (same template line). A default render that fails while an environment render succeeds
    is not an error: such charts are built to be rendered with an environment file. Release name
    and namespace come from config (`helm.release`, `helm.namespace`; else `release-name` and
    `default`); a resource's namespace is its `metadata.namespace`, else the configured
    namespace, else ''.

Charts and files
    Dependencies vendored under charts/ (directories or .tgz, aliases honoured) are rendered with
    the chart; their templates map back to the real files (inside a .tgz: `<the .tgz>/templates/
    x.yaml`). One declared in Chart.yaml/requirements.yaml but absent is an error. Charts nested
    in a chart directory outside charts/ are rendered on their own; CRDs under crds/ are read as
    plain manifests. A chart Helm cannot load or render is an error naming the chart, Helm's
    message, and the template file and line when Helm gives them; a malformed values file is an
    error at its line.

libhelm's Go runtime is not fork-safe: this module starts no process or thread, and imports
helm_python only when a chart is scanned.
"""
from __future__ import annotations

import io
import os
import re
import tarfile
from dataclasses import dataclass, field

from .kustomize_transform import CLUSTER_KINDS
from ..model import Origin, ScanError
from .helm_map import Links, Template, assign_segment, fmt, get
from .kubernetes import parse_manifest, resources_from_docs
from .yamldoc import Doc, load_all

ENV_VALUES = re.compile(r"^values[-._].+\.ya?ml$")
MAX_TGZ_BYTES = 64 * 1024 * 1024
_HELM_POS = re.compile(r"([\w.+-]+(?:/[\w.+-]+)*\.(?:ya?ml|tpl|txt|json)):(\d+)(?::(\d+))?")


@dataclass
class LoadResult:
    resources: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    consumed: set = field(default_factory=set)  # absolute paths of the files read


def _merge_maps(a: dict, b: dict) -> dict:
    """`helm -f a -f b`: maps merged deeply, anything else replaced."""
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge_maps(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _coalesce(defaults, overrides):
    """Helm's coalescing of chart defaults under user values (null deletes a default)."""
    if not isinstance(defaults, dict) or not isinstance(overrides, dict):
        return overrides if overrides is not None else defaults
    out = dict(overrides)
    for k, v in defaults.items():
        if k not in out:
            out[k] = v
        elif out[k] is None:
            del out[k]
        else:
            out[k] = _coalesce(v, out[k])
    return out


def _one_line(msg: str) -> str:
    return re.sub(r"\s*\n\s*", " ", str(msg)).strip()


# ---- reading a chart tree -------------------------------------------------------------------
@dataclass
class _Chart:
    name: str  # as Helm renders it: alias or chart name
    display: str  # root-relative directory (or .tgz path), '' for the root itself
    files: dict  # inner path -> text (Chart.yaml, values.yaml, templates/**, crds/**)
    prefix: tuple = ()  # where this chart's values sit in the top chart's values
    parent: "_Chart | None" = None
    children: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    meta_doc: Doc | None = None
    values_doc: Doc | None = None
    defaults: dict = field(default_factory=dict)
    templates: dict = field(default_factory=dict)
    deps: list = field(default_factory=list)  # (name, version, repository, alias, file, line)
    subs: dict = field(default_factory=dict)  # chart name -> (display, flat)

    def path(self, inner: str) -> str:
        return f"{self.display}/{inner}" if self.display else inner

    def template(self, inner: str) -> Template | None:
        if inner not in self.templates:
            text = self.files.get(inner)
            self.templates[inner] = Template(self.path(inner), text) if text is not None else None
        return self.templates[inner]


class _ChartError(Exception):
    def __init__(self, file: str, line: int, message: str):
        super().__init__(message)
        self.file, self.line = file, line


def _flat_dir(path: str, consumed: set) -> dict:
    """The files Helm reads from a chart directory: inner path -> absolute path."""
    out: dict = {}
    for name in ("Chart.yaml", "requirements.yaml", "values.yaml", "values.schema.json", "Chart.lock"):
        if os.path.isfile(os.path.join(path, name)):
            out[name] = os.path.join(path, name)
    for sub in ("templates", "crds", "charts"):
        top = os.path.join(path, sub)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for fn in sorted(filenames):
                full = os.path.join(dirpath, fn)
                out[os.path.relpath(full, path).replace(os.sep, "/")] = full
    consumed.update(out.values())
    return out


def _flat_tgz(data: bytes, display: str) -> dict:
    out: dict = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            total = 0
            for member in tar:
                if not member.isfile():
                    continue
                total += member.size
                if total > MAX_TGZ_BYTES:
                    raise _ChartError(display, 0, f"chart archive larger than {MAX_TGZ_BYTES >> 20} MB unpacked")
                parts = member.name.lstrip("./").split("/", 1)
                if len(parts) == 2:
                    fh = tar.extractfile(member)
                    out[parts[1]] = fh.read() if fh else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _ChartError(display, 0, f"cannot read chart archive: {exc}") from None
    return out


def _text(v) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    with open(v, "rb") as fh:
        return fh.read().decode("utf-8", "replace").lstrip("\ufeff")


def _parse_yaml(text: str, file: str, what: str, chart: str) -> Doc | None:
    docs, err = load_all(text)
    if err is not None:
        raise _ChartError(file, err.line, f"chart {chart}: {what} is not valid YAML: {err}")
    doc = docs[0] if docs else None
    if doc is not None and doc.data is not None and not isinstance(doc.data, dict):
        raise _ChartError(file, doc.line, f"chart {chart}: {what} must be a mapping")
    return doc


def _build(name_hint: str, display: str, flat: dict, chart_rel: str, helm, prefix=(), parent=None) -> _Chart:
    files = {k: _text(v) for k, v in flat.items()
             if not k.startswith("charts/") and (k.startswith(("templates/", "crds/")) or "/" not in k)
             and not k.endswith((".tgz", ".lock", ".json"))}
    node = _Chart(name_hint, display, files, prefix, parent)
    if "Chart.yaml" in files:
        node.meta_doc = _parse_yaml(files["Chart.yaml"], node.path("Chart.yaml"), "Chart.yaml", chart_rel)
        node.meta = (node.meta_doc.data if node.meta_doc else None) or {}
    if "values.yaml" in files:
        node.values_doc = _parse_yaml(files["values.yaml"], node.path("values.yaml"), "values.yaml", chart_rel)
        node.defaults = helm.values_from_yaml(files["values.yaml"]) if node.values_doc and node.values_doc.data else {}
    deps_doc, deps_file = node.meta_doc, "Chart.yaml"
    if not node.meta.get("dependencies") and "requirements.yaml" in files:
        deps_doc = _parse_yaml(files["requirements.yaml"], node.path("requirements.yaml"), "requirements.yaml", chart_rel)
        deps_file = "requirements.yaml"
    deps = (deps_doc.data or {}).get("dependencies") if deps_doc else None
    for i, d in enumerate(deps if isinstance(deps, list) else []):
        if isinstance(d, dict) and d.get("name"):
            line = deps_doc.positions.get(("dependencies", i), (0, 0))[0]
            node.deps.append((str(d["name"]), fmt(d.get("version")), fmt(d.get("repository")),
                              fmt(d.get("alias")), deps_file, line))
    groups: dict = {}
    for k, v in flat.items():
        if k.startswith("charts/"):
            rest = k[7:]
            top, _, inner = rest.partition("/")
            if not inner and top.endswith(".tgz"):
                sub_display = node.path(k)
                sub_flat = _flat_tgz(_text_bytes(v), sub_display)
                groups[sub_display] = sub_flat
            elif inner:
                groups.setdefault(node.path("charts/" + top), {})[inner] = v
    for sub_display, sub_flat in groups.items():
        if "Chart.yaml" not in sub_flat:
            continue
        doc = _parse_yaml(_text(sub_flat["Chart.yaml"]), sub_display + "/Chart.yaml", "Chart.yaml", chart_rel)
        sub_name = str(((doc.data if doc else None) or {}).get("name") or os.path.basename(sub_display))
        node.subs.setdefault(sub_name, (sub_display, sub_flat))
    declared = {d[0] for d in node.deps}
    wanted = [(d[3] or d[0], d[0]) for d in node.deps if d[0] in node.subs]
    wanted += [(n, n) for n in node.subs if n not in declared]
    for render_name, sub_name in wanted:
        sub_display, sub_flat = node.subs[sub_name]
        node.children[render_name] = _build(render_name, sub_display, sub_flat, chart_rel, helm,
                                            prefix + (render_name,), node)
    return node


def _text_bytes(v) -> bytes:
    if isinstance(v, bytes):
        return v
    with open(v, "rb") as fh:
        return fh.read()


def _walk(node: _Chart):
    yield node
    for child in node.children.values():
        yield from _walk(child)


# ---- one render's view of values ------------------------------------------------------------
class _Render:
    """The values of one render: effective values per chart and the files that set them."""

    def __init__(self, top: _Chart, user_files: list, user_values: dict):
        self.top = top
        self.user_files = user_files  # [(display, Doc)]
        self.top_eff = _coalesce(top.defaults, user_values)
        self._eff: dict = {}

    def eff(self, node: _Chart) -> dict:
        key = id(node)
        if key not in self._eff:
            if node.parent is None:
                val = self.top_eff
            else:
                parent = self.eff(node.parent)
                mine = parent.get(node.name) if isinstance(parent.get(node.name), dict) else {}
                val = _coalesce(node.defaults, mine)
                g = parent.get("global")
                if isinstance(g, dict):
                    val = dict(val)
                    val["global"] = _coalesce(val.get("global") or {}, g)
            self._eff[key] = val
        return self._eff[key]

    def source(self, node: _Chart, vpath: tuple):
        """(file, line, column, path as written there) of the highest-priority file setting vpath:
        the named/environment files, then values.yaml from the top chart down to `node`'s own."""
        entries, p = [], node
        while p is not None:
            entries.append((p.path("values.yaml"), p.values_doc, node.prefix[len(p.prefix):]))
            p = p.parent
        entries += [(f, d, node.prefix) for f, d in self.user_files]
        for file, doc, pre in reversed(entries):
            if doc is None:
                continue
            for cand in [pre + vpath] + ([vpath] if vpath[:1] == ("global",) and pre else []):
                table = doc.key_positions if isinstance(get(doc.data, cand), (dict, list)) else doc.positions
                if cand in table:
                    line, col = table[cand]
                    return file, line, col, cand
        return None


# ---- loading --------------------------------------------------------------------------------
def _rel(path: str, root: str) -> str:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return "" if rel == "." else rel


def _find_values_file(name: str, chart_dir: str, root: str, config) -> str | None:
    if os.path.isabs(name):
        return name if os.path.isfile(name) else None
    bases = [chart_dir, os.getcwd(), root] + ([os.path.dirname(config.path)] if getattr(config, "path", "") else [])
    for base in bases:
        p = os.path.join(base, name)
        if os.path.isfile(p):
            return os.path.abspath(p)
    return None


def _owning_chart(path: str) -> str | None:
    """The chart directory a values file lives in (the nearest parent with Chart.yaml), if any."""
    d = os.path.dirname(os.path.abspath(path))
    while True:
        if os.path.isfile(os.path.join(d, "Chart.yaml")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _helm_where(exc: Exception, top: _Chart) -> tuple:
    """(file, line, column, message) of a Helm error: `template: x/templates/a.yaml:12:3: ...` -> the real file."""
    msg = _one_line(getattr(exc, "detail", None) or exc)
    file, line, col = top.path("Chart.yaml"), 0, 0
    m = _HELM_POS.search(msg)
    mapped = _map_rendered(top, m.group(1)) if m else None
    if mapped:
        file, line, col = mapped[0].path(mapped[1]), int(m.group(2)), int(m.group(3) or 0)
    elif "values.yaml" in msg:
        file = top.path("values.yaml")
    lm = re.search(r"yaml: line (\d+)", msg)
    km = re.search(r"chart\.metadata\.(\w+)", msg)
    if lm and not mapped:
        line = int(lm.group(1))
    elif km and not mapped and top.meta_doc is not None:
        line = top.meta_doc.key_positions.get((km.group(1),), (0, 0))[0]
    return file, line, col, msg


def _helm_error(exc: Exception, top: _Chart, chart_rel: str, what: str) -> ScanError:
    file, line, col, msg = _helm_where(exc, top)
    return ScanError(file, line, f"chart {chart_rel}: Helm could not {what}: {msg}; its objects were not scanned", col)


def _map_rendered(top: _Chart, key: str):
    """'<chart>/charts/<sub>/templates/x.yaml' -> (chart node, 'templates/x.yaml')."""
    parts = key.split("/")
    if len(parts) < 2:
        return None
    node, i = top, 1
    while i + 1 < len(parts) and parts[i] == "charts" and parts[i + 1] in node.children:
        node, i = node.children[parts[i + 1]], i + 2
    return node, "/".join(parts[i:])


def _named_templates(top: _Chart) -> dict:
    named: dict = {}
    for node in _walk(top):
        for inner, text in node.files.items():
            if inner.startswith("templates/") and "define" in text:
                tpl = node.template(inner)
                for name, span in tpl.defines.items():
                    named.setdefault(name, (tpl, span))
    return named


def _plans(top: _Chart, unit, root: str, config, helm_values: list, errors: list) -> list:
    """[(origin detail, [values file paths], is an environment file)]: the renders to do."""
    names = list(helm_values or getattr(config, "helm_values", []) or [])
    if names:
        files = []
        for name in names:
            path = _find_values_file(name, unit.path, root, config)
            if path is not None and _owning_chart(path) not in (None, os.path.abspath(unit.path)):
                continue  # `--helm-values charts/api/values-prod.yaml` is api's, not every chart's
            if path is None:
                errors.append(ScanError(top.path("Chart.yaml"), 0, f"chart {unit.rel}: values file '{name}' not found "
                                        "(looked in the chart directory, the working directory and the scan root); "
                                        "rendered without it"))
                continue
            files.append(path)
        return [(", ".join(_rel(p, root) for p in files) or top.path("values.yaml"), files, False)]
    try:
        env = sorted(n for n in os.listdir(unit.path) if ENV_VALUES.match(n) and n not in ("values.yaml", "values.yml"))
    except OSError:
        env = []
    default = top.path("values.yaml") if "values.yaml" in top.files else ""
    return [(default, [], False)] + [(_rel(os.path.join(unit.path, n), root), [os.path.join(unit.path, n)], True) for n in env]


def load_chart(unit, root: str, config, helm_values: list) -> LoadResult:
    out = LoadResult()
    chart_rel = unit.rel
    base = _rel(unit.path, root)
    try:
        import helm_python as helm  # lazy: libhelm is loaded only when a chart is scanned
    except Exception as exc:  # the native library missing or unloadable
        out.errors.append(ScanError(chart_rel, 0, f"chart {chart_rel}: the Helm engine (helm-python-sdk) is "
                                                  f"unavailable ({_one_line(exc)}); the chart was not rendered"))
        return out

    try:
        flat = _flat_dir(unit.path, out.consumed)
        top = _build("", base, flat, chart_rel, helm)
    except _ChartError as exc:
        out.errors.append(ScanError(exc.file, exc.line, str(exc)))
        return out
    except OSError as exc:
        out.errors.append(ScanError(chart_rel, 0, f"chart {chart_rel}: cannot read: {exc.strerror or exc}"))
        return out
    except helm.HelmError as exc:
        out.errors.append(_helm_error(exc, _Chart("", base, {}), chart_rel, "read its values"))
        return out
    top.name = str(top.meta.get("name") or os.path.basename(unit.path))
    for node in _walk(top):
        known = set(node.subs)
        for name, version, repo, alias, file, line in node.deps:
            if name not in known:
                where = " from ".join(x for x in (version, repo) if x)
                out.errors.append(ScanError(node.path(file), line, f"chart {node.display if node.parent else chart_rel}: "
                                            f"dependency '{name}' ({where}) is not vendored under charts/; run "
                                            f"`helm dependency build` — its objects were not scanned"))
    try:
        chart = helm.Chart.load(unit.path)
    except helm.HelmError as exc:
        out.errors.append(_helm_error(exc, top, chart_rel, "load the chart"))
        return out
    named = _named_templates(top)
    namespace = getattr(config, "helm_namespace", "") or ""
    release = getattr(config, "helm_release", "") or "release-name"
    failures: dict = {}  # (file, line, column, message) -> [(values used, named explicitly)]
    env_rendered = False
    with chart:
        for detail, paths, is_env in _plans(top, unit, root, config, helm_values, out.errors):
            values = _user_values(paths, root, chart_rel, helm, out)
            if values is None:
                continue
            try:
                rendered = chart.render(values[1] or None, name=release, namespace=namespace or "default")
            except helm.HelmError as exc:
                failures.setdefault(_helm_where(exc, top), []).append((detail or "defaults", bool(paths)))
                continue
            env_rendered = env_rendered or is_env
            render, origin = _Render(top, *values), Origin("helm", chart_rel, detail)
            for key in sorted(rendered):
                _add_rendered(out, key, rendered[key], top, render, named, origin, namespace, chart_rel)
    for (file, line, col, msg), used in failures.items():
        if env_rendered and not any(explicit for _, explicit in used):
            continue  # only the defaults fail, an environment file completes them: a chart built that way
        out.errors.append(ScanError(file, line, f"chart {chart_rel}: Helm could not render it (values: "
                                                f"{', '.join(d for d, _ in used)}): {msg}; its objects were not scanned", col))
    _add_crds(out, top, chart_rel, namespace)
    _nested_charts(out, unit, root, config, helm_values)
    seen: set = set()
    out.errors = [e for e in out.errors if not ((e.file, e.line, e.message) in seen or seen.add((e.file, e.line, e.message)))]
    return out


def _user_values(paths: list, root: str, chart_rel: str, helm, out: LoadResult):
    """([(display, Doc)], merged values) of the named/environment files, or None when one is unreadable."""
    files, merged = [], {}
    for p in paths:
        display = _rel(p, root)
        out.consumed.add(p)
        try:
            text = _text(p)
            doc = _parse_yaml(text, display, f"values file {display}", chart_rel)
            data = helm.values_from_yaml(text) if doc is not None and doc.data else {}
        except _ChartError as exc:
            out.errors.append(ScanError(exc.file, exc.line, f"{exc}; not rendered with it"))
            return None
        except (OSError, helm.HelmError) as exc:
            out.errors.append(ScanError(display, 0, f"chart {chart_rel}: cannot read values file: {_one_line(exc)}"))
            return None
        if doc is not None:
            files.append((display, doc))
        merged = _merge_maps(merged, data)
    return files, merged


def _add_rendered(out: LoadResult, key: str, text: str, top: _Chart, render: _Render, named: dict,
                  origin: Origin, namespace: str, chart_rel: str) -> None:
    if key.endswith("NOTES.txt") or not text.strip():
        return
    mapped = _map_rendered(top, key)
    node, inner = mapped if mapped else (top, key)
    tpl = node.template(inner)
    display = tpl.display if tpl else node.path(inner)
    docs, err = load_all(text)
    if err is not None:
        bad = text.split("\n")[err.line - 1] if 0 < err.line <= text.count("\n") + 1 else ""
        line = tpl.guess_line(bad) if tpl and bad.strip() else 0
        out.errors.append(ScanError(display, line, f"chart {chart_rel}: template renders invalid YAML "
                                               f"(line {err.line} of its output): {err}", 0))
    prev = -1
    for r in resources_from_docs(docs, display, origin):
        if not r.namespace and namespace and r.kind not in CLUSTER_KINDS:  # helm install -n X: namespaced only
            r.namespace = namespace
        if tpl is not None:
            seg = assign_segment(tpl, r.data, prev, render, node)
            prev = seg
            links = Links(tpl, seg, r.data, node, render, named)
            r.locator, r.relator = links.locate, links.relate
            r.line = links.locate(()).line
        out.resources.append(r)


def _add_crds(out: LoadResult, top: _Chart, chart_rel: str, namespace: str) -> None:
    for node in _walk(top):
        for inner in sorted(node.files):
            if inner.startswith("crds/") and inner.endswith((".yaml", ".yml", ".json")):
                resources, errs = parse_manifest(node.files[inner], node.path(inner), Origin("helm", chart_rel, "crds"))
                out.resources.extend(resources)
                out.errors.extend(errs)


def _nested_charts(out: LoadResult, unit, root: str, config, helm_values: list) -> None:
    """Charts inside this chart's directory but outside charts/: Helm never loads them; render them alone."""
    nested = sorted({os.path.dirname(m) for m in getattr(unit, "members", []) or []
                     if os.path.basename(m) == "Chart.yaml" and m not in out.consumed
                     and os.path.dirname(m) != unit.path}, key=len)
    tops = [d for d in nested if not any(d.startswith(o + os.sep) for o in nested if o != d)]
    for d in tops:
        sub_unit = type(unit)(kind="helm", path=d, rel=_rel(d, root) or unit.rel,
                              members=[m for m in unit.members if m.startswith(d + os.sep)])
        res = load_chart(sub_unit, root, config, helm_values)
        out.resources.extend(res.resources)
        out.errors.extend(res.errors)
        out.consumed.update(res.consumed)


__all__ = ["LoadResult", "load_chart"]
