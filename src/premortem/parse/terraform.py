"""Terraform modules (a directory of `.tf` / `.tf.json`) into Resources a reviewer would recognise.

One unit is one directory. Values are resolved as `terraform plan` would before touching the world:
variable defaults, then `terraform.tfvars` and `*.auto.tfvars` (loaded automatically), locals,
literal `count`/`for_each`, string templates and pure functions (parse/hcl_eval.py). Every other
`*.tfvars` in the directory is a variant (`terraform plan -var-file=prod.tfvars`): the module is
evaluated once more with it, and the variant's name, a variable such as `environment`, the backend
key or the workspace become the resources' environment (production evidence). Local modules
(`source = "./modules/x"`) are loaded with their inputs, addresses prefixed `module.x.`; remote
ones are kept as the `module` call with its inputs. Unknown values stay `Unknown`.

Resources: format "terraform"; kind = the resource type (`aws_db_instance`), `data.<type>` for
data sources, or `module`, `provider`, `backend`, `variable`, `output`, `locals`, `tfvars` (one per
variable file, name = its path); name = address.
`data` = {"type", "address", "module", "mode", "labels", "values": {attr: value, block: [dicts]},
"count" | "for_each" (as written), "source" (modules)}; positions at ("values", attr, ...).
"""
from __future__ import annotations

import os
import re

from ..environments import environment_of
from ..model import Origin, Resource, ScanError, Source
from .hcl import Block, parse_hcl, parse_hcl_json
from .hcl_eval import Scope, Unknown, evaluate, known

MAX_MODULE_DEPTH = 8
MAX_INSTANCES = 32
ENV_VARIABLES = ("environment", "env", "stage", "environment_name", "env_name", "workspace", "tier")
_VAR_REF = re.compile(r"\bvar\.([A-Za-z_][\w-]*)")


def is_tf(name: str) -> bool:
    return name.endswith((".tf", ".tf.json"))


def is_tfvars(name: str) -> bool:
    return name.endswith((".tfvars", ".tfvars.json"))


def auto_tfvars(name: str) -> bool:
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith((".auto.tfvars", ".auto.tfvars.json"))


_PARSED: dict = {}  # (path, mtime, size) -> (Body, errors): a module used by many roots is parsed once


class _Files:
    """Files read for one unit. Errors are reported by the unit whose directory holds the file (every
    directory with .tf files is a unit of its own), so a module used by 12 roots is reported once."""

    def __init__(self, root: str, read, own_dir: str = ""):
        self.root, self.read, self.own_dir = root, read, os.path.abspath(own_dir) if own_dir else ""
        self.cache: dict = {}
        self.errors: list = []
        self.consumed: set = set()

    def body(self, path: str):
        if path not in self.cache:
            rel = os.path.relpath(path, self.root).replace(os.sep, "/")
            own = not self.own_dir or os.path.dirname(os.path.abspath(path)) == self.own_dir
            try:
                st = os.stat(path)
                key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
                if key not in _PARSED:
                    text = self.read(path)
                    if len(_PARSED) > 4096:
                        _PARSED.clear()
                    _PARSED[key] = (parse_hcl_json if path.endswith(".json") else parse_hcl)(text, rel)
            except (OSError, ValueError) as exc:
                if own:
                    self.errors.append(ScanError(rel, 0, str(exc) if isinstance(exc, ValueError) else
                                                 f"cannot read: {exc.strerror or exc}"))
                self.cache[path] = None
                return None
            if own:
                self.consumed.add(path)
            body, errors = _PARSED[key]
            if own:
                self.errors.extend(errors)
            self.cache[path] = body
        return self.cache[path]


class _Module:
    def __init__(self, directory: str, files: _Files):
        self.dir = directory
        self.blocks: list = []
        self.tfvars: list = []  # (name, path)
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            files.errors.append(ScanError(os.path.relpath(directory, files.root), 0, f"cannot read: {exc.strerror}"))
            names = []
        for n in names:
            p = os.path.join(directory, n)
            if is_tf(n) and os.path.isfile(p):
                body = files.body(p)
                if body is not None:
                    self.blocks.extend(body.blocks)
            elif is_tfvars(n) and os.path.isfile(p):
                self.tfvars.append((n, p))

    def of(self, btype: str) -> list:
        return [b for b in self.blocks if b.type == btype]


def _tfvars_values(files: _Files, path: str) -> dict:
    body = files.body(path)
    out = {}
    if body is None:
        return out
    empty = Scope({}, {})
    for name, attr in body.attrs.items():
        out[name] = (evaluate(attr, empty), Source(attr.file, attr.line, attr.column))
    return out


class Loader:
    def __init__(self, root: str, read, workspace: str | None = None, own_dir: str = ""):
        self.files = _Files(root, read, own_dir)
        self.root = root
        self.workspace = workspace
        self.resources: list = []

    # -- entry point ----------------------------------------------------------------------------
    def load_root(self, directory: str) -> None:
        mod = _Module(directory, self.files)
        if not mod.blocks:
            return
        auto = {}
        for n, p in mod.tfvars:
            if auto_tfvars(n):
                auto.update(_tfvars_values(self.files, p))
        variants = [("", auto)]
        for n, p in mod.tfvars:
            if not auto_tfvars(n):
                variants.append((os.path.relpath(p, self.root).replace(os.sep, "/"), {**auto, **_tfvars_values(self.files, p)}))
        seen: set = set()
        for var_file, values in variants:
            before = len(self.resources)
            self.load(mod, values, prefix="", depth=0, var_file=var_file, environment=())
            # a variant adds only what differs (same address, same values are kept once)
            kept = []
            for r in self.resources[before:]:
                key = (r.kind, r.name, repr(r.data.get("values")), r.origin.environment)
                if key not in seen:
                    seen.add(key)
                    kept.append(r)
            self.resources[before:] = kept
        for _, p in mod.tfvars:  # after the modules: a value they use is reported with its use first
            self.tfvars_resource(p)

    def tfvars_resource(self, path: str) -> None:
        """A variable file as a resource of its own (kind "tfvars"), so a value no module uses is judged too."""
        body = self.files.body(path)
        if body is None or not body.attrs:
            return
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        values, positions, key_positions = {}, {}, {}
        for name, attr in body.attrs.items():
            values[name] = evaluate(attr, Scope({}, {}))
            key_positions[("values", name)] = (attr.line, attr.column)
            if attr.expr is not None:
                positions[("values", name)] = (attr.expr.start_point[0] + 1, attr.expr.start_point[1] + 1)
        positions[()] = (1, 1)
        w = environment_of(os.path.basename(rel).split(".")[0])
        origin = Origin("terraform", unit=os.path.dirname(rel), detail=rel,
                        environment=(w, f"var-file {rel}") if w else ())
        self.resources.append(Resource(format="terraform", kind="tfvars", name=rel, namespace="",
                                       data={"type": "tfvars", "address": rel, "module": "", "labels": [],
                                             "values": values}, file=rel, line=1, positions=positions,
                                       key_positions=key_positions, origin=origin))

    # -- one module instance -------------------------------------------------------------------------
    def load(self, mod: _Module, given: dict, prefix: str, depth: int, var_file: str, environment: tuple) -> None:
        variables, origins = {}, {}
        for b in mod.of("variable"):
            if not b.labels:
                continue
            name = b.labels[0]
            if name in given:
                variables[name], origins[name] = given[name]
            elif "default" in b.attrs:
                d = b.attrs["default"]
                variables[name] = evaluate(d, Scope({}, {}))
                origins[name] = Source(d.file, d.line, d.column)
        locals_ = {}
        for b in mod.of("locals"):
            locals_.update(b.attrs)
        rel_dir = os.path.relpath(mod.dir, self.root).replace(os.sep, "/")
        scope = Scope(variables, locals_, module_path=rel_dir, workspace=self.workspace)
        environment = environment or self._environment(mod, scope, var_file)
        origin = Origin("terraform", unit=rel_dir, detail=var_file, environment=environment)
        ctx = (scope, origins, origin, prefix)
        for b in mod.blocks:
            if b.type in ("resource", "data") and len(b.labels) >= 2:
                self.resource(b, ctx)
            elif b.type == "module" and b.labels:
                self.module(b, ctx, depth, var_file, environment)
            elif b.type in ("provider", "variable", "output") and b.labels:
                self.emit(b, b.type, prefix + f"{b.type}.{b.labels[0]}", {"type": b.type}, scope, ctx)
            elif b.type == "locals":
                self.emit(b, "locals", prefix + f"locals@{b.file}:{b.line}", {"type": "locals"}, scope, ctx)
            elif b.type == "terraform":
                for inner in b.blocks:
                    if inner.type in ("backend", "cloud"):
                        name = inner.labels[0] if inner.labels else inner.type
                        self.emit(inner, "backend", prefix + f"backend.{name}", {"type": name}, scope, ctx)

    def _environment(self, mod: _Module, scope: Scope, var_file: str) -> tuple:
        if var_file:
            w = environment_of(os.path.basename(var_file).split(".")[0])
            if w:
                return (w, f"var-file {var_file}")
        for name in ENV_VARIABLES:
            v = scope.variables.get(name)
            if isinstance(v, str) and v:
                return (v, f"var.{name} = \"{v}\"" + (f" ({var_file})" if var_file else ""))
        for b in mod.of("terraform"):
            for inner in b.blocks:
                if inner.type == "backend":
                    for key in ("key", "prefix", "workspace_key_prefix", "bucket"):
                        if key in inner.attrs:
                            v = evaluate(inner.attrs[key], scope)
                            w = environment_of(v) if isinstance(v, str) else ""
                            if w:
                                return (w, f"backend {key} \"{v}\"")
        if self.workspace:
            return (self.workspace, f"workspace '{self.workspace}'")
        rel_dir = os.path.relpath(mod.dir, self.root).replace(os.sep, "/")
        w = environment_of(rel_dir) if rel_dir != "." else ""
        if w:  # envs/prod/: also the environment of the local modules it calls (their files live elsewhere)
            return (w, f"directory {rel_dir}")
        return ()

    # -- blocks -------------------------------------------------------------------------------------
    def resource(self, b: Block, ctx) -> None:
        scope, origins, origin, prefix = ctx
        mode = "data" if b.type == "data" else "managed"
        rtype, rname = b.labels[0], b.labels[1]
        kind = rtype if mode == "managed" else f"data.{rtype}"
        address = prefix + (f"data.{rtype}.{rname}" if mode == "data" else f"{rtype}.{rname}")
        base = {"type": rtype, "mode": mode, "name": rname}
        if "count" in b.attrs:
            n = evaluate(b.attrs["count"], scope)
            base["count"] = b.attrs["count"].text()
            if isinstance(n, bool):
                n = int(n)
            if isinstance(n, (int, float)) and n <= 0:
                return  # `count = 0`: not created with these values
            self.emit(b, kind, address, base, scope.child(count={"index": Unknown("count.index")}), ctx)
            return
        if "for_each" in b.attrs:
            coll = evaluate(b.attrs["for_each"], scope)
            base["for_each"] = b.attrs["for_each"].text()
            if isinstance(coll, (dict, list)) and known(list(coll) if isinstance(coll, dict) else coll):
                items = list(coll.items()) if isinstance(coll, dict) else [(x, x) for x in coll]
                if not items:
                    return
                for k, v in items[:MAX_INSTANCES]:
                    self.emit(b, kind, f"{address}[{k!r}]".replace("'", '"'), base,
                              scope.child(each={"key": k, "value": v}), ctx)
                return
            self.emit(b, kind, address, base, scope.child(each={"key": Unknown("each.key"), "value": Unknown("each.value")}), ctx)
            return
        self.emit(b, kind, address, base, scope, ctx)

    def module(self, b: Block, ctx, depth: int, var_file: str, environment: tuple) -> None:
        scope, origins, origin, prefix = ctx
        name = b.labels[0]
        address = prefix + f"module.{name}"
        src = evaluate(b.attrs["source"], scope) if "source" in b.attrs else None
        self.emit(b, "module", address, {"type": "module", "source": src if isinstance(src, str) else None}, scope, ctx)
        if not (isinstance(src, str) and src.startswith(("./", "../"))):
            return
        if "count" in b.attrs:
            n = evaluate(b.attrs["count"], scope)
            if isinstance(n, (int, float)) and not isinstance(n, bool) and n <= 0 or n is False:
                return
        path = os.path.normpath(os.path.join(os.path.dirname(os.path.join(self.root, b.file)), src))
        real_root = os.path.realpath(self.root)
        if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
            self.files.errors.append(ScanError(b.file, b.line, f"module '{name}': source '{src}' is outside the "
                                                               "scanned directory; not read", b.column))
            return
        if not os.path.isdir(path):
            self.files.errors.append(ScanError(b.file, b.line, f"module '{name}': source '{src}' not found", b.column))
            return
        if depth >= MAX_MODULE_DEPTH:
            self.files.errors.append(ScanError(b.file, b.line, f"module '{name}': modules nested deeper than "
                                                               f"{MAX_MODULE_DEPTH} levels; not followed", b.column))
            return
        inputs = {}
        for k, attr in b.attrs.items():
            if k not in ("source", "version", "count", "for_each", "providers", "depends_on"):
                direct = re.fullmatch(r"\s*var\.([A-Za-z_][\w-]*)\s*", attr.text())
                where = origins.get(direct.group(1)) if direct else None  # passed through: where it was set
                inputs[k] = (evaluate(attr, scope), where or Source(attr.file, attr.line, attr.column))
        self.load(_Module(path, self.files), inputs, prefix=address + ".", depth=depth + 1, var_file=var_file,
                  environment=environment or origin.environment)

    def emit(self, b: Block, kind: str, address: str, data: dict, scope: Scope, ctx) -> None:
        _, origins, origin, prefix = ctx
        positions, key_positions, related = {}, {}, {}
        values = self.values(b, scope, ("values",), positions, key_positions, related, origins)
        data = dict(data, address=address, module=prefix.rstrip("."), labels=list(b.labels), values=values)
        positions[()] = (b.line, b.column)
        res = Resource(format="terraform", kind=kind, name=address, namespace="", data=data, file=b.file,
                       line=b.line, positions=positions, key_positions=key_positions, origin=origin)
        if related:
            res.relator = _Relator(related)
        self.resources.append(res)

    def values(self, b: Block, scope: Scope, path: tuple, positions, key_positions, related, origins) -> dict:
        out = {}
        for name, attr in b.attrs.items():
            p = path + (name,)
            out[name] = evaluate(attr, scope)
            key_positions[p] = (attr.line, attr.column)
            if attr.expr is not None:
                positions[p] = (attr.expr.start_point[0] + 1, attr.expr.start_point[1] + 1)
            refs = [v for v in _VAR_REF.findall(attr.text()) if v in origins] if "var." in attr.text() else []
            if refs:
                related[p] = [(origins[v], f"var.{v} is set here") for v in dict.fromkeys(refs)]
        for inner in b.blocks:
            if inner.type == "dynamic" and inner.labels:
                self.dynamic(inner, scope, path, out, positions, key_positions, related, origins)
                continue
            lst = out.setdefault(inner.type, [])
            if not isinstance(lst, list):
                continue
            p = path + (inner.type, len(lst))
            key_positions[p] = positions[p] = (inner.line, inner.column)
            lst.append(self.values(inner, scope, p, positions, key_positions, related, origins))
        return out

    def dynamic(self, d: Block, scope, path, out, positions, key_positions, related, origins) -> None:
        label = d.labels[0]
        content = next((x for x in d.blocks if x.type == "content"), None)
        if content is None:
            return
        it = label
        if "iterator" in d.attrs:
            v = d.attrs["iterator"].text().strip()
            it = v or label
        coll = evaluate(d.attrs["for_each"], scope) if "for_each" in d.attrs else Unknown("")
        if isinstance(coll, (dict, list)):
            items = list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))
        else:
            items = [(Unknown(f"{it}.key"), Unknown(f"{it}.value"))]
        lst = out.setdefault(label, [])
        for k, v in items[:MAX_INSTANCES]:
            p = path + (label, len(lst))
            key_positions[p] = positions[p] = (d.line, d.column)
            lst.append(self.values(content, scope.child(**{it: {"key": k, "value": v}}), p, positions,
                                   key_positions, related, origins))


class _Relator:
    """Where a value that came through a variable was set (tfvars line or the variable's default)."""

    __slots__ = ("table",)

    def __init__(self, table: dict):
        self.table = table

    def __call__(self, path) -> list:
        p = tuple(path)
        while p:
            if p in self.table:
                return self.table[p]
            p = p[:-1]
        return []


def load_directory(directory: str, root: str, read, workspace: str | None = None) -> tuple[list, list, set]:
    """(resources, errors, files read) of the Terraform root module in `directory`."""
    loader = Loader(root, read, workspace, own_dir=directory)
    loader.load_root(directory)
    return loader.resources, loader.files.errors, loader.files.consumed
