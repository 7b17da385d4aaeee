"""premortem's built-in Kustomize builder: the common subset, with every node's source kept.

Supported: resources/bases (files and directories with their own kustomization), components,
patchesStrategicMerge, patches (path or inline, strategic merge or JSON 6902, target selectors),
patchesJson6902, images (newName/newTag/digest/tagSuffix), namespace, namePrefix/nameSuffix (with
references to renamed objects rewritten), commonLabels/labels (selectors and pod templates as
kustomize does), commonAnnotations, replicas, configMapGenerator/secretGenerator (literals,
files, envs, behavior create/merge/replace, generatorOptions) with kustomize's own name-suffix
hash, so names agree with `kustomize build`. Anything else is reported as unsupported at its line.
"""
from __future__ import annotations

import base64
import os
import re

from .. import discover as disc
from ..model import ScanError, Source
from . import kustomize_transform as tf
from .kubernetes import resources_from_docs
from .kustomize_patch import PatchError, json6902, strategic_merge
from .kustomize_transform import Obj
from .kustomize_tree import N, child, clone, embedded_line_map, from_data, make, value
from .yamldoc import load_all

FIELDS = {
    "apiVersion": str, "kind": str, "metadata": dict, "resources": list, "bases": list, "components": list,
    "patchesStrategicMerge": list, "patches": list, "patchesJson6902": list, "images": list,
    "namespace": str, "namePrefix": str, "nameSuffix": str, "commonLabels": dict, "labels": list,
    "commonAnnotations": dict, "configMapGenerator": list, "secretGenerator": list,
    "generatorOptions": dict, "replicas": list, "sortOptions": dict, "buildMetadata": list,
}
UNSUPPORTED = {"replacements", "vars", "helmCharts", "helmGlobals", "helmChartInflationGenerator", "generators",
               "transformers", "validators", "configurations", "crds", "openapi", "inventory"}
TYPE_NAMES = {list: "list", dict: "mapping", str: "string"}
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|(?:github|gitlab|bitbucket)\.(?:com|org)/"
                    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)+\.[a-z]{2,}/)|\?(?:ref|version|timeout|submodules)=", re.I)


# Overlays share bases: one scan builds the same base files once per overlay. Parsed documents are
# never mutated here (from_data copies them into nodes), so they are shared by text, a few hundred deep.
_PARSED: dict = {}


def _parsed(text: str):
    hit = _PARSED.get(text)
    if hit is None:
        if len(_PARSED) >= 256:
            _PARSED.pop(next(iter(_PARSED)))
        hit = _PARSED[text] = load_all(text)
    return hit


def is_remote(entry: str) -> bool:
    return bool(REMOTE.search(entry))


def _items(tree: N | None, key: str) -> list:
    node = child(tree, key)
    return node.v if node is not None and isinstance(node.v, list) else []


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


class Builder:
    """Builds one kustomization directory; collects errors, unsupported fields and files read."""

    def __init__(self, root: str):
        self.root = root
        self.errors: list = []
        self.unsupported: list = []  # fields the binary would cover
        self.consumed: set = set()
        self.remote = False
        self.top_kind = ""
        self._lines: dict = {}
        self._stack: list = []

    # ---- plumbing ------------------------------------------------------------------------------
    def rel(self, path: str) -> str:
        return disc.rel_of(path, self.root)

    def error(self, path: str, line: int, message: str, column: int = 0) -> None:
        self.errors.append(ScanError(self.rel(path), line, message, column))

    def at(self, kfile: str, node: N, message: str) -> None:
        src = node.ksrc or node.src
        self.error(kfile, src.line, message, src.column)

    def read(self, path: str) -> str | None:
        try:
            text = disc.read_text(path)
        except ValueError as exc:
            self.error(path, 0, str(exc))
            return None
        except OSError as exc:
            self.error(path, 0, disc._os_message(exc))
            return None
        self.consumed.add(path)
        self._lines[path] = text.splitlines()
        return text

    def read_bytes(self, path: str, kfile: str, node: N) -> bytes | None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            self.at(kfile, node, f"cannot read '{node.v}': {disc._os_message(exc)}")
            return None
        self.consumed.add(path)
        return raw

    # ---- kustomization files -------------------------------------------------------------------
    def kustomization(self, kdir: str) -> tuple[str | None, N | None]:
        found = [os.path.join(kdir, n) for n in disc.KUSTOMIZATION_NAMES if os.path.isfile(os.path.join(kdir, n))]
        if not found:
            return None, None
        kfile = found[0]
        if len(found) > 1:
            self.error(kfile, 0, f"several kustomization files in one directory ({', '.join(map(os.path.basename, found))}); "
                                 "kustomize refuses to build it")
        text = self.read(kfile)
        if text is None:
            return kfile, None
        docs, err = _parsed(text)
        if err is not None:
            self.error(kfile, err.line, f"malformed kustomization: {err}", err.column)
            return kfile, None
        docs = [d for d in docs if d.data is not None]
        if not docs:
            return kfile, N({}, Source(self.rel(kfile), 1, 1))
        if len(docs) > 1:
            self.error(kfile, docs[1].line, "a kustomization is one YAML document; the documents after the first are ignored")
        doc = docs[0]
        if not isinstance(doc.data, dict):
            self.error(kfile, doc.line, "malformed kustomization: expected a mapping of fields "
                                        f"(resources:, patches:, ...), found a {type(doc.data).__name__}")
            return kfile, None
        tree = from_data(doc.data, doc.positions, doc.key_positions, self.rel(kfile))
        for key in list(tree.v):
            node = tree.v[key]
            src = node.ksrc or node.src
            if key in UNSUPPORTED:
                self.unsupported.append(ScanError(
                    self.rel(kfile), src.line, f"'{key}' is not in premortem's built-in Kustomize subset and no "
                    f"kustomize/kubectl binary is available: objects it changes are judged without that change", src.column))
                del tree.v[key]
            elif key not in FIELDS:
                self.at(kfile, node, f"malformed kustomization: unknown field '{key}'")
                del tree.v[key]
            elif node.v is not None and not isinstance(node.v, FIELDS[key]):
                self.at(kfile, node, f"malformed kustomization: '{key}' must be a {TYPE_NAMES[FIELDS[key]]}, "
                                     f"not a {type(node.v).__name__}")
                del tree.v[key]
        return kfile, tree

    # ---- the build -----------------------------------------------------------------------------
    def build(self, kdir: str) -> list:
        objs = self.accumulate(kdir)
        if self.top_kind == "Kustomization":
            tf.add_hashes(objs)
            tf.fix_references(objs)
        return objs

    def accumulate(self, kdir: str, into: list | None = None, component: bool = False,
                   ref: tuple | None = None) -> list:
        top = not self._stack
        real = os.path.realpath(kdir)
        if real in self._stack:
            self.at(*ref, f"'{ref[1].v}' includes itself (a cycle of kustomizations); not followed")
            return []
        kfile, tree = self.kustomization(kdir)
        if kfile is None:
            if ref is not None:
                self.at(*ref, f"'{ref[1].v}' is a directory without a kustomization.yaml")
            return []
        if tree is None:
            return []
        kind = value(tree, "kind") or "Kustomization"
        if top:
            self.top_kind = kind
            if kind == "Component":  # built only through an overlay; its patch files are fragments
                self.patch_files(kdir, tree)
                return []
        if kind not in ("Kustomization", "Component"):
            self.at(kfile, child(tree, "kind"), f"malformed kustomization: kind '{kind}' (expected Kustomization or Component)")
            return []
        if ref is not None and component != (kind == "Component"):
            want = "components: takes kind Component" if component else "resources: takes a Kustomization, not a Component"
            self.at(*ref, f"'{ref[1].v}' is a {kind}; {want}")
            return []
        objs = into if component else []
        self._stack.append(real)
        try:
            self.resources(kdir, kfile, tree, objs)
            for entry in _items(tree, "components"):
                path = self.local(kdir, kfile, entry, "component")
                if path is not None:
                    self.accumulate(path, objs, component=True, ref=(kfile, entry))
            opts = child(tree, "generatorOptions")
            for key, kind_ in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
                for entry in _items(tree, key):
                    self.generate(kdir, kfile, entry, kind_, opts, objs)
            self.transform(kdir, kfile, tree, objs)
        finally:
            self._stack.pop()
        return objs

    def patch_files(self, kdir: str, tree: N) -> None:
        """Mark the patch files of a kustomization as read (they are fragments, never whole objects)."""
        entries = _items(tree, "patchesStrategicMerge") + [child(e, "path") for e in
                                                           _items(tree, "patches") + _items(tree, "patchesJson6902")]
        for e in entries:
            path = os.path.normpath(os.path.join(kdir, e.v)) if e is not None and isinstance(e.v, str) else ""
            if os.path.isfile(path):
                self.consumed.add(path)

    def local(self, kdir: str, kfile: str, entry: N, what: str) -> str | None:
        if not isinstance(entry.v, str) or not entry.v:
            self.at(kfile, entry, f"a {what} entry must be a path")
            return None
        path = os.path.normpath(os.path.join(kdir, entry.v))
        if os.path.exists(path):
            return path
        if is_remote(entry.v):
            self.remote = True
            self.at(kfile, entry, f"remote base not fetched (offline): {entry.v}")
        else:
            self.at(kfile, entry, f"{what} '{entry.v}' not found")
        return None

    def resources(self, kdir: str, kfile: str, tree: N, objs: list) -> None:
        for entry in _items(tree, "resources") + _items(tree, "bases"):
            path = self.local(kdir, kfile, entry, "resource")
            if path is None:
                continue
            if os.path.isdir(path):
                objs.extend(self.accumulate(path, ref=(kfile, entry)))
            else:
                objs.extend(self.load_objects(path))

    def load_objects(self, path: str) -> list:
        text = self.read(path)
        if text is None:
            return []
        rel = self.rel(path)
        docs, err = _parsed(text)
        if err is not None:
            self.errors.append(ScanError(rel, err.line, str(err), err.column))
        out = []
        for r in resources_from_docs(docs, rel):
            root = from_data(r.data, r.positions, r.key_positions, rel)
            out.append(Obj(root, rel, r.line, r.doc_index, [r.name], [r.namespace]))
        return out

    # ---- generators ----------------------------------------------------------------------------
    def generate(self, kdir: str, kfile: str, entry: N, kind: str, global_opts: N | None, objs: list) -> None:
        field = "configMapGenerator" if kind == "ConfigMap" else "secretGenerator"
        name = value(entry, "name")
        if not isinstance(entry.v, dict) or not name:
            self.at(kfile, entry, f"a {field} entry needs a name")
            return
        data, binary = N({}, entry.src), N({}, entry.src)

        def put(key: str, raw, src: Source) -> None:
            if isinstance(raw, bytes) and kind == "ConfigMap":
                try:
                    raw = raw.decode("utf-8")
                except UnicodeDecodeError:
                    binary.v[key] = N(base64.b64encode(raw).decode(), src, src)
                    return
            if kind == "Secret":
                raw = base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode()
            data.v[key] = N(raw, src, src)

        for lit in _items(entry, "literals"):
            if not isinstance(lit.v, str) or "=" not in lit.v:
                self.at(kfile, lit, f"literal {lit.v!r} in {field} '{name}' is not KEY=VALUE")
                continue
            k, v = lit.v.split("=", 1)
            put(k, _unquote(v), lit.src)
        for f in _items(entry, "files"):
            spec = str(f.v)
            key, _, rel = spec.partition("=") if "=" in spec else (os.path.basename(spec), "", spec)
            path = os.path.normpath(os.path.join(kdir, rel))
            raw = self.read_bytes(path, kfile, f)
            if raw is not None:
                put(key, raw, Source(self.rel(path), 1, 1))
        envs = _items(entry, "envs") + ([child(entry, "env")] if isinstance(value(entry, "env"), str) else [])
        for e in envs:
            path = os.path.normpath(os.path.join(kdir, str(e.v)))
            if not os.path.isfile(path):
                self.at(kfile, e, f"env file '{e.v}' not found")
                continue
            text = self.read(path) or ""
            for i, line in enumerate(text.splitlines(), 1):
                line = line.lstrip()
                if line and not line.startswith("#"):
                    k, _, v = line.partition("=")
                    put(k, v, Source(self.rel(path), i, 1))

        opts = child(entry, "options")
        meta = {"name": name} | ({"namespace": value(entry, "namespace")} if value(entry, "namespace") else {})
        root = make({"apiVersion": "v1", "kind": kind, "metadata": meta}, entry.src)
        if kind == "Secret":
            root.v["type"] = make(value(entry, "type") or "Opaque", entry.src)
        for key in ("labels", "annotations"):
            for o in (global_opts, opts):
                pairs = child(o, key)
                if pairs is not None and isinstance(pairs.v, dict):
                    tf.add_pairs([Obj(root, "", 0)], pairs, [(None, ("metadata", key), True, "meta")])
        immutable = value(opts, "immutable", default=value(global_opts, "immutable"))
        no_hash = value(opts, "disableNameSuffixHash", default=value(global_opts, "disableNameSuffixHash"))
        behavior = value(entry, "behavior") or "create"
        ns = value(entry, "namespace") or ""
        existing = [o for o in objs if o.kind == kind and name in o.names and (not ns or o.namespace == ns)]
        if behavior == "create":
            if existing:
                self.at(kfile, entry, f"{kind} '{name}' already exists in a base: use behavior: merge or replace")
                return
            if data.v:
                root.v["data"] = data
            if binary.v:
                root.v["binaryData"] = binary
            if immutable:
                root.v["immutable"] = make(True, entry.src)
            objs.append(Obj(root, self.rel(kfile), entry.src.line, 0, [name], [ns], hash=not no_hash))
        elif behavior in ("merge", "replace"):
            if not existing:
                self.at(kfile, entry, f"behavior: {behavior} but no {kind} '{name}' comes from the bases")
                return
            target = existing[0]
            for key, new in (("data", data), ("binaryData", binary)):
                old = child(target.root, key)
                if behavior == "merge" and old is not None and isinstance(old.v, dict):
                    old.v.update(new.v)
                elif new.v or behavior == "replace":
                    target.root.v[key] = new
            for key in ("labels", "annotations"):
                pairs = child(root, "metadata", key)
                if pairs is not None:
                    tf.add_pairs([target], pairs, [(None, ("metadata", key), True, "meta")])
            if no_hash is not None:
                target.hash = not no_hash
        else:
            self.at(kfile, child(entry, "behavior"), f"unknown behavior '{behavior}' (expected create, merge or replace)")

    # ---- transformers --------------------------------------------------------------------------
    def transform(self, kdir: str, kfile: str, tree: N, objs: list) -> None:
        for entry in _items(tree, "patchesStrategicMerge"):
            inline = isinstance(entry.v, str) and not os.path.isfile(os.path.join(kdir, entry.v)) and ":" in entry.v
            docs = self.patch_docs(kdir, kfile, entry, inline)
            for d in docs or []:
                if isinstance(d.v, dict):
                    self.apply_smp(objs, d, None, kfile, entry)
                else:
                    self.at(kfile, entry, "a patchesStrategicMerge patch must be a partial object (a mapping)")
        for entry in _items(tree, "patches"):
            self.patch_entry(kdir, kfile, entry, objs)
        ns = child(tree, "namespace")
        if ns is not None and ns.v:
            tf.set_namespace(objs, ns)
        prefix, suffix = value(tree, "namePrefix") or "", value(tree, "nameSuffix") or ""
        if prefix or suffix:
            tf.add_prefix_suffix(objs, str(prefix), str(suffix))
        labels = child(tree, "commonLabels")
        if labels is not None and labels.v:
            tf.add_pairs(objs, labels, tf.LABEL_SPECS)
        for entry in _items(tree, "labels"):
            pairs = child(entry, "pairs")
            if child(entry, "fields") is not None:
                f = child(entry, "fields")
                self.unsupported.append(ScanError(self.rel(kfile), f.ksrc.line, "'labels: fields:' is not in premortem's "
                                                  "built-in Kustomize subset; the labels go to metadata only", f.ksrc.column))
            if pairs is not None and isinstance(pairs.v, dict):
                cats = ["meta"] + (["selector", "template"] if value(entry, "includeSelectors") else []) \
                    + (["template"] if value(entry, "includeTemplates") else [])
                tf.add_pairs(objs, pairs, tf.LABEL_SPECS, cats)
        annotations = child(tree, "commonAnnotations")
        if annotations is not None and annotations.v:
            tf.add_pairs(objs, annotations, tf.ANNOTATION_SPECS)
        for entry in _items(tree, "patchesJson6902"):
            target = child(entry, "target")
            if target is None or not isinstance(target.v, dict):
                self.at(kfile, entry, "a patchesJson6902 entry needs a target (group, version, kind, name)")
                continue
            inline = child(entry, "patch") is not None
            for d in self.patch_docs(kdir, kfile, child(entry, "patch") or child(entry, "path") or entry, inline) or []:
                self.apply_json(objs, d, target, kfile, entry, required=True)
        for entry in _items(tree, "replicas"):
            tf.set_replicas(objs, entry)
        for entry in _items(tree, "images"):
            bad = [k for k in ("newTag", "newName", "digest", "tagSuffix")
                   if child(entry, k) is not None and not isinstance(value(entry, k), str)]
            if bad:
                node = child(entry, bad[0])
                self.at(kfile, node, f"images: {bad[0]} must be a string; quote it ({bad[0]}: \"{node.v}\"), "
                                     "a YAML number loses digits (1.20 reads as 1.2) and kustomize rejects it")
                continue
            tf.set_images(objs, entry)

    def patch_docs(self, kdir: str, kfile: str, node: N, inline: bool) -> list | None:
        if not isinstance(node.v, str):
            self.at(kfile, node, "a patch must be a file path or an inline YAML/JSON text")
            return None
        if inline:
            line_map = embedded_line_map(self._lines.get(kfile, []), node.src.line, node.src.column)
            text, path = node.v, kfile
        else:
            line_map = None
            path = os.path.normpath(os.path.join(kdir, node.v))
            if not os.path.isfile(path):
                self.at(kfile, node, f"patch file '{node.v}' not found")
                return None
            text = self.read(path)
            if text is None:
                return None
        docs, err = load_all(text)
        if err is not None:
            line, col = line_map(err.line, err.column) if line_map else (err.line, err.column)
            self.error(path, line, f"invalid patch: {err}", col)
        rel = self.rel(path)
        return [from_data(d.data, d.positions, d.key_positions, rel, line_map=line_map) for d in docs if d.data is not None]

    def patch_entry(self, kdir: str, kfile: str, entry: N, objs: list) -> None:
        if not isinstance(entry.v, dict):
            self.at(kfile, entry, "a 'patches' entry must be a mapping with 'path' or 'patch' (and an optional "
                                  "'target'); kustomize rejects a plain file name here")
            return
        path, patch, target = child(entry, "path"), child(entry, "patch"), child(entry, "target")
        if (path is None) == (patch is None):
            self.at(kfile, entry, "a 'patches' entry needs exactly one of 'path' or 'patch'")
            return
        for d in self.patch_docs(kdir, kfile, patch or path, patch is not None) or []:
            if isinstance(d.v, list):
                if target is None:
                    self.at(kfile, entry, "a JSON 6902 patch needs a 'target'")
                else:
                    self.apply_json(objs, d, target, kfile, entry)
            elif isinstance(d.v, dict):
                self.apply_smp(objs, d, target, kfile, entry)

    def apply_smp(self, objs: list, patch: N, target: N | None, kfile: str, entry: N) -> None:
        if target is not None:
            sel = {k: c.v for k, c in target.v.items()} if isinstance(target.v, dict) else {}
            matched = [o for o in objs if tf.matches_target(o, sel)]
        else:
            kind, name = value(patch, "kind"), value(patch, "metadata", "name")
            ns = value(patch, "metadata", "namespace")
            want = {ns or "", "default"} if (ns or "default") == "default" else {ns}
            matched = [o for o in objs if o.kind == kind and name in o.names and want & set(o.namespaces)]
            if not matched:
                self.at(kfile, entry, f"patch for {kind} '{name}' matches no object of this kustomization")
        body = clone(patch)
        if value(body, "$patch") != "replace":
            for key in ("apiVersion", "kind"):
                body.v.pop(key, None)
            md = child(body, "metadata")
            if md is not None and isinstance(md.v, dict):
                md.v.pop("name", None)
                md.v.pop("namespace", None)
        for o in matched:
            res = strategic_merge(o.root, clone(body), o.kind, o.api)
            if res is None:
                objs.remove(o)
            else:
                o.root = res

    def apply_json(self, objs: list, ops: N, target: N, kfile: str, entry: N, required: bool = False) -> None:
        sel = {k: c.v for k, c in target.v.items()} if isinstance(target.v, dict) else {}
        matched = [o for o in objs if tf.matches_target(o, sel)]
        if required and not matched:
            self.at(kfile, entry, f"JSON patch target {sel} matches no object of this kustomization")
        for o in matched:
            try:
                json6902(o.root, ops)
            except PatchError as exc:
                self.at(kfile, entry, f"JSON patch on {o.kind} '{o.name}' failed: {exc}")
