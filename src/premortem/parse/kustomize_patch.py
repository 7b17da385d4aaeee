"""Kustomize patches on source-tracking node trees: strategic merge and JSON 6902.

Strategic merge follows kustomize (kyaml merge2): maps merge key by key, `null` deletes a key,
`$patch: delete|replace` work on maps and list items, lists with a Kubernetes merge key
(containers by name, env by name, volumeMounts by mountPath, Service ports by port, ...) merge
item by item — patched items first in the patch's order, then the untouched base items — and
every other list is replaced. Custom resources have no schema here, so their lists are replaced
(as kustomize does without an `openapi:` schema). Nodes taken from the patch keep the patch's
positions; untouched nodes keep the base's.
"""
from __future__ import annotations

from .kustomize_tree import N, clone, plain

LIST_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
             "volumes": "name", "imagePullSecrets": "name", "env": "name", "volumeMounts": "mountPath",
             "volumeDevices": "devicePath", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
             "resourceClaims": "name", "schedulingGates": "name", "ownerReferences": "uid"}


class PatchError(Exception):
    pass


def merge_key(kind: str, api_version: str, path: tuple) -> str | None:
    group = api_version.split("/")[0] if "/" in api_version else ""
    if "." in group and not group.endswith(".k8s.io"):
        return None  # a custom resource: no schema, lists are replaced
    field = path[-1] if path else None
    if field == "ports":
        return "port" if kind == "Service" and path == ("spec", "ports") else "containerPort"
    return LIST_KEYS.get(field) if isinstance(field, str) else None


def _directive(n: N) -> str | None:
    if isinstance(n.v, dict):
        d = n.v.get("$patch")
        return d.v if d is not None and isinstance(d.v, str) else None
    return None


def strip(n: N) -> N:
    """A patch node made ready to insert: directives removed, `$patch: delete` items dropped."""
    if isinstance(n.v, dict):
        n.v = {k: strip(c) for k, c in n.v.items() if not k.startswith("$")}
    elif isinstance(n.v, list):
        n.v = [strip(c) for c in n.v if _directive(c) != "delete"
               and not (_directive(c) and len(c.v) == 1)]
    return n


def strategic_merge(base: N | None, patch: N, kind: str, api: str, path: tuple = ()) -> N | None:
    """Merge `patch` into `base` (mutated and returned); None means the node is deleted."""
    if not isinstance(patch.v, dict):
        return strip(clone(patch))
    directive = _directive(patch)
    if directive == "delete":
        return None
    if directive == "replace" or base is None or not isinstance(base.v, dict):
        return strip(clone(patch))
    retain = patch.v.get("$retainKeys")
    for k, pc in patch.v.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            target = base.v.get(k.split("/", 1)[1])
            if target is not None and isinstance(target.v, list) and isinstance(pc.v, list):
                drop = [plain(x) for x in pc.v]
                target.v = [x for x in target.v if plain(x) not in drop]
            continue
        if k.startswith("$"):
            continue  # $patch, $setElementOrder/..., $retainKeys (below)
        if pc.v is None:
            base.v.pop(k, None)
            continue
        bc = base.v.get(k)
        if bc is not None and not isinstance(pc.v, (dict, list)) and type(bc.v) is type(pc.v) and bc.v == pc.v:
            continue  # the same value (a merge key, say): the base still says it
        if isinstance(pc.v, list):
            new = merge_list(bc, pc, kind, api, path + (k,))
        else:
            new = strategic_merge(bc, pc, kind, api, path + (k,))
        if new is None:
            base.v.pop(k, None)
            continue
        if new is not bc:
            new.ksrc = pc.ksrc
        base.v[k] = new
    if retain is not None and isinstance(retain.v, list):
        keep = {x.v for x in retain.v}
        base.v = {k: c for k, c in base.v.items() if k in keep}
    return base


def merge_list(base: N | None, patch: N, kind: str, api: str, path: tuple) -> N:
    key = merge_key(kind, api, path)
    items = patch.v
    if any(_directive(i) == "replace" and len(i.v) == 1 for i in items):
        key = None
    if key is None or base is None or not isinstance(base.v, list):
        return strip(clone(patch))
    out, used = [], set()
    for item in items:
        if not isinstance(item.v, dict) or not isinstance(item.v.get(key), N):
            if _directive(item) is None:
                out.append(strip(clone(item)))
            continue
        want = item.v[key].v
        bi = next((i for i, b in enumerate(base.v) if i not in used and isinstance(b.v, dict)
                   and isinstance(b.v.get(key), N) and b.v[key].v == want), None)
        if bi is None:
            if _directive(item) != "delete":
                out.append(strip(clone(item)))
            continue
        used.add(bi)
        merged = strategic_merge(base.v[bi], item, kind, api, path + (bi,))
        if merged is not None:
            out.append(merged)
    out.extend(b for i, b in enumerate(base.v) if i not in used)
    base.v = out
    return base


# ---- JSON 6902 ---------------------------------------------------------------------------------
def _pointer(text) -> list:
    if not isinstance(text, str) or (text and not text.startswith("/")):
        raise PatchError(f"invalid JSON pointer {text!r} (must start with '/')")
    if text == "":
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in text[1:].split("/")]


def _index(node: N, token: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(node.v)
    if not token.isdigit():
        raise PatchError(f"'{token}' is not a list index")
    i = int(token)
    if i > len(node.v) or (i == len(node.v) and not allow_end):
        raise PatchError(f"index {i} is out of range (the list has {len(node.v)} items)")
    return i


def _parent(root: N, tokens: list, where: str) -> N:
    node = root
    for t in tokens[:-1]:
        if isinstance(node.v, dict) and t in node.v:
            node = node.v[t]
        elif isinstance(node.v, list) and t.isdigit() and int(t) < len(node.v):
            node = node.v[int(t)]
        else:
            raise PatchError(f"path {where} does not exist")
    return node


def _get(root: N, tokens: list, where: str) -> N:
    if not tokens:
        return root
    parent = _parent(root, tokens, where)
    last = tokens[-1]
    if isinstance(parent.v, dict) and last in parent.v:
        return parent.v[last]
    if isinstance(parent.v, list):
        return parent.v[_index(parent, last, False)]
    raise PatchError(f"path {where} does not exist")


def _remove(root: N, tokens: list, where: str) -> N:
    if not tokens:
        raise PatchError("cannot remove the whole object with a JSON patch")
    node = _get(root, tokens, where)
    parent = _parent(root, tokens, where)
    if isinstance(parent.v, dict):
        del parent.v[tokens[-1]]
    else:
        del parent.v[int(tokens[-1])]
    return node


def _add(root: N, tokens: list, new: N, where: str, replace: bool = False) -> None:
    if not tokens:
        raise PatchError("cannot replace the whole object with a JSON patch")
    parent = _parent(root, tokens, where)
    last = tokens[-1]
    if isinstance(parent.v, dict):
        if replace and last not in parent.v:
            raise PatchError(f"path {where} does not exist")
        new.ksrc = new.src
        parent.v[last] = new
    elif isinstance(parent.v, list):
        i = _index(parent, last, not replace)
        if replace:
            parent.v[i] = new
        else:
            parent.v.insert(i, new)
    else:
        raise PatchError(f"path {where} does not exist")


def json6902(root: N, ops: N) -> None:
    """Apply a JSON patch (a list of operations as nodes) to `root` in place; PatchError on failure."""
    if not isinstance(ops.v, list):
        raise PatchError("a JSON 6902 patch must be a list of operations")
    for op in ops.v:
        if not isinstance(op.v, dict):
            raise PatchError("each JSON 6902 operation must be a mapping with op and path")
        name = op.v.get("op").v if isinstance(op.v.get("op"), N) else None
        where = op.v["path"].v if isinstance(op.v.get("path"), N) else None
        tokens = _pointer(where)
        val = op.v.get("value")
        if name in ("add", "replace", "test") and val is None:
            raise PatchError(f"operation '{name}' on {where} has no value")
        if name == "add":
            _add(root, tokens, clone(val), where)
        elif name == "replace":
            _add(root, tokens, clone(val), where, replace=True)
        elif name == "remove":
            _remove(root, tokens, where)
        elif name in ("move", "copy"):
            frm = op.v["from"].v if isinstance(op.v.get("from"), N) else None
            ftokens = _pointer(frm)
            node = _remove(root, ftokens, frm) if name == "move" else clone(_get(root, ftokens, frm))
            _add(root, tokens, node, where)
        elif name == "test":
            if plain(_get(root, tokens, where)) != plain(val):
                raise PatchError(f"test failed: {where} is not {plain(val)!r}")
        else:
            raise PatchError(f"unknown operation {name!r} (expected add, remove, replace, move, copy, test)")
