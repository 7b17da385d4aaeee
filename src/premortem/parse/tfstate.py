"""Terraform state files (`*.tfstate`, `*.tfstate.backup`, version 4) into Resources.

Format "tfstate":
- kind "TerraformState", one per file: the state document itself (version, terraform_version,
  serial, lineage, outputs with their `sensitive` flag, resources), paths are the file's JSON paths.
- kind "StateResource", one per resource instance, name = its address (`module.db.aws_db_instance.main`,
  `aws_subnet.public[0]`, `...["a"]`): `data` = {address, module, mode, type, name, provider,
  index_key, deposed, schema_version, attributes, sensitive_attributes (as written), sensitive (the
  same paths as a mark tree: {"password": true})}, positions at ("attributes", ...).

State stores every attribute in clear text, `sensitive` or not: rules decide what that means here.
"""
from __future__ import annotations

from ..model import Origin, Resource, ScanError
from .tfplan import JsonText, Locator

_RESOURCE_KEYS = ("module", "mode", "type", "name", "provider")


def parse_state(text: str, file: str) -> tuple[list, list]:
    if not text.strip():  # an empty state (never written): nothing to judge
        return [], []
    doc = JsonText(text)
    try:
        state = doc.load()
    except ValueError as exc:
        return [], [ScanError(file, exc.args[1], f"not valid Terraform state JSON: {exc.args[0]}", exc.args[2])]
    if not isinstance(state, dict):
        return [], [ScanError(file, 1, "not a Terraform state (expected one JSON object with version, serial, "
                                       "lineage and resources)")]
    errors: list = []
    origin = Origin("file", file)
    top = Resource(format="tfstate", kind="TerraformState", name=file, namespace="", data=state, file=file,
                   line=doc.position(())[0], origin=origin, locator=Locator(doc, file))
    version = state.get("version")
    if version != 4:
        line, col = doc.position(("version",))
        errors.append(ScanError(file, line, f"Terraform state version {version!r}: premortem reads version 4 "
                                            "(Terraform 0.12 and later); its resources were not read", col))
        return [top], errors
    items = state.get("resources") or []
    if not isinstance(items, list):
        line, col = doc.position(("resources",))
        return [top], [ScanError(file, line, "state resources is not a list: not read", col)]
    out = [top]
    for i, res in enumerate(items):
        instances = res.get("instances") if isinstance(res, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("type"), str) or not isinstance(instances, list):
            line, col = doc.position(("resources", i))
            errors.append(ScanError(file, line, f"state resources[{i}] has no type or instances: not read", col))
            continue
        base = ".".join(p for p in (res.get("module") or "", "data" if res.get("mode") == "data" else "",
                                    res["type"], str(res.get("name") or "")) if p)
        for j, inst in enumerate(instances):
            if not isinstance(inst, dict):
                line, col = doc.position(("resources", i, "instances", j))
                errors.append(ScanError(file, line, f"state resources[{i}].instances[{j}] is not an object", col))
                continue
            key = inst.get("index_key")
            address = base + ("" if key is None else f"[{key}]" if isinstance(key, int) else f'["{key}"]')
            attrs = inst.get("attributes")
            data = {k: res.get(k) for k in _RESOURCE_KEYS}
            data.update({"address": address, "index_key": key, "deposed": inst.get("deposed") or "",
                         "schema_version": inst.get("schema_version"),
                         "attributes": attrs if isinstance(attrs, dict) else {},
                         "sensitive_attributes": inst.get("sensitive_attributes") or [],
                         "sensitive": sensitive_tree(inst.get("sensitive_attributes"))})
            # data paths: resource keys stay on the resource, everything else is the instance's
            where = Locator(doc, file, ("resources", i), ("instances", j), _RESOURCE_KEYS)
            out.append(Resource(format="tfstate", kind="StateResource", name=address, namespace="", data=data,
                                file=file, line=doc.position(("resources", i, "instances", j))[0],
                                origin=origin, locator=where))
    return out, errors


def _step(step):
    if not isinstance(step, dict):
        return None
    value = step.get("value")
    if step.get("type") == "index" and isinstance(value, dict):
        value = value.get("value")
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    return value


def sensitive_tree(paths) -> dict:
    """State `sensitive_attributes` ([[{"type": "get_attr", "value": "password"}], ...]) as a mark
    tree ({"password": True}) for `_plan.marked`. Flat single paths ([{...}, {...}]) are read too."""
    tree: dict = {}
    if not isinstance(paths, list):
        return tree
    for path in paths:
        steps = path if isinstance(path, list) else [path]
        keys = [_step(s) for s in steps]
        if not keys or any(k is None for k in keys):
            continue
        node = tree
        for k in keys[:-1]:
            nxt = node.get(k)
            if nxt is True:
                break
            node = node.setdefault(k, {}) if not isinstance(nxt, dict) else nxt
        else:
            node[keys[-1]] = True
    return tree
