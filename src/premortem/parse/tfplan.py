"""Terraform plan JSON (`terraform show -json plan.out`, format_version 1.x) into Resources.

Format "tfplan":
- kind "ResourceChange", name = address, one per `resource_changes` entry. `data` is the entry with
  its `change` folded in: address, module_address, mode, type, name, index, deposed, provider
  (= provider_name), actions, before, after, after_unknown, before_sensitive, after_sensitive,
  action_reason, replace_paths, importing; plus `referenced_by` (addresses of resources that stay
  and still use this one: references in `configuration`, or its id/arn among `prior_state` values)
  and `environment` (value, evidence) from variables such as `environment = "prod"` (also set as
  the origin's environment, the engine's production evidence).
- kind "ResourceDrift", one per `resource_drift` entry (changes made outside Terraform), same shape,
  plus `planned_actions`: what this plan does to the same address.
- kind "TerraformPlan", one per file: the plan document itself (paths are the file's JSON paths)
  plus `summary` (counts per action and per type, the changes, terraform_version).

Plans are read with the json module and positions are found on demand (JsonText): a 5 MB plan
parses in a fraction of a second, where a YAML composer keeping every node's position takes
seconds. Whole-line `#`/`//` comments are blanked first (test fixtures mark expectations with
them). A one-line plan gets line 1 and real columns, a pretty-printed one real lines.
"""
from __future__ import annotations

import bisect
import json
import re
from json.decoder import WHITESPACE, scanstring

from ..model import Origin, Resource, ScanError, Source
from .kubernetes import parse_manifest

ENV_VARIABLES = ("environment", "env", "stage", "environment_name", "env_name", "workspace", "tier")
_NOT_RESOURCES = {"var", "local", "module", "data", "each", "count", "path", "self", "terraform"}
_COMMENT = re.compile(r"(?m)^[ \t]*(?:#|//).*$")
_DECODER = json.JSONDecoder()


class JsonText:
    """A JSON text and where its nodes are. `load()` parses it with the json module; `position(path)`
    finds (line, column) of a path by walking the text and skipping sibling values with the C decoder,
    remembering each container's children, so the few paths findings point at cost little."""

    def __init__(self, text: str):
        if text.startswith("\ufeff"):
            text = " " + text[1:]
        if "#" in text or "//" in text:  # whole-line comments become blanks: offsets stay put
            text = _COMMENT.sub(lambda m: " " * len(m.group()), text)
        self.text = text
        self._kids: dict = {}
        self._newlines = None

    def load(self):
        """The data; raises ValueError(message, line, column) when the text is not JSON."""
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise ValueError(exc.msg, exc.lineno, exc.colno) from None
        except RecursionError:
            raise ValueError("document nested too deeply", 1, 1) from None

    def _skip(self, i: int) -> int:
        return WHITESPACE.match(self.text, i).end()

    def _children(self, off: int):
        """{key: (key_offset, value_offset)} of the object at `off`, [value_offset] of an array."""
        if off in self._kids:
            return self._kids[off]
        text, out = self.text, None
        if text.startswith("{", off):
            out, i = {}, self._skip(off + 1)
            while i < len(text) and text[i] == '"':
                key, j = scanstring(text, i + 1)
                v = self._skip(self._skip(j) + 1)
                out[key] = (i, v)
                i = self._skip(_DECODER.raw_decode(text, v)[1])
                i = self._skip(i + 1) if text.startswith(",", i) else i
        elif text.startswith("[", off):
            out, i = [], self._skip(off + 1)
            while i < len(text) and text[i] != "]":
                out.append(i)
                i = self._skip(_DECODER.raw_decode(text, i)[1])
                i = self._skip(i + 1) if text.startswith(",", i) else i
        self._kids[off] = out
        return out

    def offset(self, path, key: bool = False):
        """Offset of the value (or key) at `path`, or of its nearest ancestor that exists."""
        off = self._skip(0)
        found = off
        for n, step in enumerate(path):
            kids = self._children(off)
            if isinstance(kids, dict) and isinstance(step, str) and step in kids:
                k, off = kids[step]
                found = k if key and n == len(path) - 1 else off
            elif isinstance(kids, list) and isinstance(step, int) and 0 <= step < len(kids):
                off = found = kids[step]
            else:
                break
        return found

    def line_col(self, offset: int) -> tuple:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        n = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[n - 1] + 1 if n else 0
        return n + 1, offset - start + 1

    def position(self, path, key: bool = False) -> tuple:
        return self.line_col(self.offset(path, key))


class Locator:
    """Resource.locator for a part of a JSON document: a data path maps to `prefix + fold + path`,
    or to `prefix + path` for the keys in `keep` (a plan entry's own keys beside its folded `change`)."""

    def __init__(self, doc: JsonText, file: str, prefix: tuple = (), fold: tuple = (), keep: tuple = ()):
        self.doc, self.file, self.prefix, self.fold, self.keep = doc, file, prefix, fold, keep

    def __call__(self, path, key=False):
        path = tuple(path)
        if self.fold and path and path[0] not in self.keep:  # ('after', 'x') -> ('change', 'after', 'x')
            path = self.fold + path
        line, col = self.doc.position(self.prefix + path, key)
        return Source(self.file, line, col)


def looks_like_plan(text: str) -> bool:
    """A cheap sniff before parsing: plan keys anywhere in the text."""
    return '"format_version"' in text and ('"resource_changes"' in text or '"planned_values"' in text)


def is_plan(data) -> bool:
    return isinstance(data, dict) and "format_version" in data and (
        "resource_changes" in data or "planned_values" in data)


def parse_json(text: str, file: str) -> tuple[list, list]:
    """A `.json` file: a plan when its content is one, else Kubernetes objects."""
    if looks_like_plan(text):
        doc = JsonText(text)
        try:
            data = doc.load()
        except ValueError as exc:
            return [], [ScanError(file, exc.args[1], f"not valid plan JSON: {exc.args[0]}", exc.args[2])]
        if is_plan(data):
            return from_data(data, doc, file)
    return parse_manifest(text, file)


def parse_plan(text: str, file: str) -> tuple[list, list]:
    """A file that must be a plan (the `plan` command): errors say why it is not one."""
    if text[:2] == "PK":
        return [], [ScanError(file, 1, "a binary plan file: convert it first with "
                                       "`terraform show -json plan.out > plan.json`")]
    doc = JsonText(text)
    try:
        data = doc.load()
    except ValueError as exc:
        return [], [ScanError(file, exc.args[1], f"not valid plan JSON: {exc.args[0]}", exc.args[2])]
    if not is_plan(data):
        return [], [ScanError(file, 1, "not a Terraform plan (expected the output of `terraform show -json "
                                       "plan.out`, an object with format_version and resource_changes)")]
    return from_data(data, doc, file)


def _variables(plan: dict) -> dict:
    variables = plan.get("variables")
    return {str(k): (v.get("value") if isinstance(v, dict) else None)
            for k, v in (variables.items() if isinstance(variables, dict) else ())}


def plan_environment(variables: dict) -> tuple:
    """(value, evidence) from the first environment-naming variable with a string value, else ()."""
    for name in ENV_VARIABLES:
        v = variables.get(name)
        if isinstance(v, str) and v.strip():
            return (v, f'variable {name} = "{v}"')
    return ()


def from_data(plan: dict, doc: JsonText, file: str) -> tuple[list, list]:
    errors: list = []
    fv = str(plan.get("format_version", ""))
    if fv.split(".")[0] != "1":
        line, col = doc.position(("format_version",))
        return [], [ScanError(file, line, f"plan format_version {fv!r} is not 1.x: premortem reads 1.x plans", col)]
    environment = plan_environment(_variables(plan))
    origin = Origin("file", file, environment=environment)  # production evidence for the engine
    changes = _entries(plan, "resource_changes", doc, file, errors)
    drifts = _entries(plan, "resource_drift", doc, file, errors)
    refs = _references(plan, changes)
    planned = {e["address"]: e["actions"] for _, e, _ in changes}
    top = dict(plan)
    top["summary"] = _summary(plan, changes, drifts, refs)
    top["environment"] = environment
    resources = [Resource(format="tfplan", kind="TerraformPlan", name=file, namespace="", data=top, file=file,
                          line=doc.position(())[0], origin=origin, locator=Locator(doc, file))]
    for kind, key, entries in (("ResourceChange", "resource_changes", changes),
                               ("ResourceDrift", "resource_drift", drifts)):
        for i, data, keep in entries:
            data["environment"] = environment
            if kind == "ResourceChange":
                data["referenced_by"] = refs.get(data["address"], [])
            else:
                data["planned_actions"] = planned.get(data["address"], [])
            resources.append(Resource(format="tfplan", kind=kind, name=data["address"], namespace="", data=data,
                                      file=file, line=doc.position((key, i))[0], origin=origin,
                                      locator=Locator(doc, file, (key, i), ("change",), keep)))
    return resources, errors


def _entries(plan: dict, top: str, doc, file: str, errors: list) -> list:
    """[(index, folded entry, the entry's own keys)] of `resource_changes`/`resource_drift`; malformed
    entries are errors."""
    items = plan.get(top)
    if items is None:
        return []
    if not isinstance(items, list):
        line, col = doc.position((top,))
        errors.append(ScanError(file, line, f"plan {top} is not a list", col))
        return []
    out = []
    for i, entry in enumerate(items):
        change = entry.get("change") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str) or not isinstance(change, dict):
            line, col = doc.position((top, i))
            errors.append(ScanError(file, line, f"plan {top}[{i}] has no address or change: not read", col))
            continue
        actions = change.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
            line, col = doc.position((top, i, "change"))
            errors.append(ScanError(file, line, f"plan {top}[{i}] ({entry['address']}) has no list of actions: "
                                                "not read", col))
            continue
        data = {k: v for k, v in entry.items() if k != "change"}
        data.update(change)
        data.setdefault("type", "")
        data.setdefault("mode", "managed")
        data["provider"] = entry.get("provider_name", "")
        out.append((i, data, tuple(k for k in entry if k != "change")))
    return out


def _action(actions: list) -> str:
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    return "+".join(actions)


def _summary(plan: dict, changes: list, drifts: list, refs: dict) -> dict:
    counts: dict = {}
    by_type: dict = {}
    listed = []
    for i, c, _ in changes:
        act = _action(c["actions"])
        if c.get("mode") == "data" or act in ("no-op", "read"):
            continue
        counts[act] = counts.get(act, 0) + 1
        t = by_type.setdefault(str(c.get("type")), {})
        t[act] = t.get(act, 0) + 1
        listed.append({"address": c["address"], "type": c.get("type"), "action": act, "index": i,
                       "reason": c.get("action_reason") or "", "deposed": c.get("deposed") or "",
                       "first": c["actions"][0], "used_by": len(refs.get(c["address"], ()))})
    drift = [{"address": d["address"], "type": d.get("type"), "action": _action(d["actions"])} for _, d, _ in drifts
             if d.get("mode") != "data"]
    return {"terraform_version": str(plan.get("terraform_version") or ""),
            "format_version": str(plan.get("format_version") or ""),
            "counts": counts, "by_type": by_type, "changes": listed, "drift": drift,
            "errored": bool(plan.get("errored")), "complete": plan.get("complete", True) is not False}


# ---- who uses a resource -----------------------------------------------------------------------
def _base(address: str) -> str:
    """'module.a["x"].aws_sg.web[0]' -> 'module.a.aws_sg.web' (the configuration address)."""
    out, depth = [], 0
    for ch in address:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _target(ref: str) -> str:
    parts = _base(ref).split(".")
    if len(parts) < 2 or parts[0] in _NOT_RESOURCES:
        return ""
    return f"{parts[0]}.{parts[1]}"


def _refs_in(expr, out: list) -> None:
    if isinstance(expr, dict):
        for k, v in expr.items():
            if k == "references" and isinstance(v, list):
                out.extend(r for r in v if isinstance(r, str))
            else:
                _refs_in(v, out)
    elif isinstance(expr, list):
        for v in expr:
            _refs_in(v, out)


def _config_refs(module: dict, prefix: str, out: dict, depth: int = 0) -> None:
    if not isinstance(module, dict) or depth > 16:
        return
    for res in module.get("resources") or []:
        if not isinstance(res, dict) or res.get("mode") == "data":
            continue
        src = prefix + str(res.get("address"))
        found: list = []
        _refs_in(res.get("expressions"), found)
        for ref in found:
            t = _target(ref)
            if t and prefix + t != src:
                out.setdefault(prefix + t, set()).add(src)
    calls = module.get("module_calls") or {}
    for name, call in calls.items() if isinstance(calls, dict) else ():
        if not isinstance(call, dict):
            continue
        found = []
        _refs_in(call.get("expressions"), found)
        for ref in found:
            t = _target(ref)
            if t:
                out.setdefault(prefix + t, set()).add(f"{prefix}module.{name}")
        _config_refs(call.get("module"), f"{prefix}module.{name}.", out, depth + 1)


def _state_resources(module, depth: int = 0):
    if not isinstance(module, dict) or depth > 16:
        return
    for res in module.get("resources") or []:
        if isinstance(res, dict) and res.get("mode") != "data":
            yield res
    for child in module.get("child_modules") or []:
        yield from _state_resources(child, depth + 1)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _references(plan: dict, changes: list) -> dict:
    """address -> sorted addresses of resources that stay and still reference it, for every deleted or
    replaced resource (a security group or a role is critical only while in use)."""
    gone = {c["address"] for _, c, _ in changes if c["actions"] == ["delete"]}
    staying = {_base(c["address"]) for _, c, _ in changes if c["actions"] != ["delete"]}
    gone_config = {_base(a) for a in gone} - staying
    wanted = {c["address"]: c for _, c, _ in changes if "delete" in c["actions"] and c.get("mode") != "data"}
    if not wanted:
        return {}
    out: dict = {}
    by_config: dict = {}
    cfg = plan.get("configuration")
    _config_refs(cfg.get("root_module") if isinstance(cfg, dict) else None, "", by_config)
    for address in wanted:
        users = {u for u in by_config.get(_base(address), ()) if u not in gone_config}
        if users:
            out[address] = users
    ids: dict = {}
    for address, c in wanted.items():
        before = c.get("before") if isinstance(c.get("before"), dict) else {}
        for key in ("id", "arn"):
            if isinstance(before.get(key), str) and len(before[key]) >= 8:  # not "none", "default"
                ids[before[key]] = address
    prior = plan.get("prior_state")
    values = prior.get("values") if isinstance(prior, dict) else None
    for res in _state_resources(values.get("root_module") if isinstance(values, dict) else None):
        user = str(res.get("address"))
        if user in gone:
            continue
        for s in _strings(res.get("values")):
            owner = ids.get(s)
            if owner and owner != user:
                out.setdefault(owner, set()).add(user)
    return {k: sorted(v) for k, v in out.items()}
