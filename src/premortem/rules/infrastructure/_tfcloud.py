"""What the Terraform cloud-exposure and access rules (PM630-PM635) share: the data-store ports, what
"the whole internet" is, nested-block access, references to other resources of the same module,
IAM policy statements (JSON strings, `jsonencode`, `aws_iam_policy_document` data sources), AWS
managed policy ARNs, and whether an IAM role or user is a CI/CD identity (its name, or a trust
policy that lets GitHub Actions / GitLab / Terraform Cloud assume it through OIDC).

Values Terraform cannot know before apply are `Unknown` and never become a finding; an Unknown only
ever leads to the resource it references (`aws_iam_role.ci.arn` -> `aws_iam_role.ci`).
"""
from __future__ import annotations

import ipaddress
import json
import os
import re

from ...model import Source
from ...parse.hcl_eval import Unknown
from ..access import _rbac

# ---- data-store ports (PM631) ---------------------------------------------------------------------
DB_PORTS = {
    1433: "SQL Server", 1521: "Oracle", 2483: "Oracle TLS", 3306: "MySQL", 5432: "PostgreSQL",
    5439: "Redshift", 5984: "CouchDB", 6379: "Redis", 7000: "Cassandra", 7001: "Cassandra TLS",
    7687: "Neo4j", 9042: "Cassandra CQL", 9160: "Cassandra Thrift", 9200: "Elasticsearch",
    9300: "Elasticsearch transport", 11211: "Memcached", 26257: "CockroachDB", 27017: "MongoDB",
    27018: "MongoDB shard", 28015: "RethinkDB",
}
PORT_OPTIONS = {"ports": sorted(DB_PORTS)}
WORLD_WORDS = {"*", "any", "internet"}  # Azure source prefixes meaning everyone


def is_world(cidr) -> bool:
    """0.0.0.0/0, ::/0 (or any prefix covering half the address space or more), Azure's `*`/`Internet`."""
    if not isinstance(cidr, str):
        return False
    c = cidr.strip().lower()
    if c in WORLD_WORDS:
        return True
    try:
        return ipaddress.ip_network(c, strict=False).prefixlen <= 1
    except ValueError:
        return False


def source_name(cidr: str) -> str:
    return f"source '{cidr}' (any address)" if cidr.lower() in WORLD_WORDS else cidr


def port_name(port: int) -> str:
    return f"{port} ({DB_PORTS[port]})" if port in DB_PORTS else str(port)


def covered(lo: int, hi: int, ports) -> list:
    """The listed ports inside lo..hi."""
    return [p for p in ports if lo <= p <= hi]


def describe_ports(ports: list, limit: int = 4) -> str:
    shown = ", ".join(port_name(p) for p in ports[:limit])
    return shown + (f" and {len(ports) - limit} more data-store ports" if len(ports) > limit else "")


# ---- values -------------------------------------------------------------------------------------
def structure(v):
    """The value, or for an Unknown the partial structure the evaluator kept (`jsonencode` of a map
    with one unknown leaf), when it keeps one; else None."""
    if isinstance(v, Unknown):
        return getattr(v, "partial", None)
    return v


def blocks(values: dict, name: str) -> list:
    """[(index, dict)] of a nested block (`ingress`, `statement`)."""
    v = values.get(name) if isinstance(values, dict) else None
    return [(i, b) for i, b in enumerate(v) if isinstance(b, dict)] if isinstance(v, list) else []


def block(values: dict, name: str) -> dict | None:
    """The first instance of a nested block, None when it is not written."""
    found = blocks(values, name)
    return found[0][1] if found else None


def strs(v) -> list:
    """A string or a list as a list of strings (Unknown items are left out)."""
    if isinstance(v, str):
        return [v]
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def as_int(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


def refs_in(v) -> list:
    """Every resource an Unknown inside v references, in order."""
    if isinstance(v, Unknown):
        return list(v.refs)
    if isinstance(v, dict):
        return [r for x in v.values() for r in refs_in(x)]
    if isinstance(v, list):
        return [r for x in v for r in refs_in(x)]
    return []


class _Index:
    """Terraform entries of one scan by (folder, address), by (kind, name) and by what references them,
    built once per scan (`project.memo`) so cross-resource lookups stay linear."""

    def __init__(self, project):
        self.by_address: dict = {}  # (folder, address without [key]) -> [Entry]
        self.by_name: dict = {}  # (kind, `name` attribute or address label) -> [Entry]
        self.referrers: dict = {}  # (folder, address referenced) -> [(Entry, attribute)]
        for e in project.entries:
            if e.format != "terraform":
                continue
            folder, base = os.path.dirname(e.file), e.name.split("[")[0]
            prefix = base[:base.rfind(e.kind + ".")]  # 'module.db.' or ''
            self.by_address.setdefault((folder, base), []).append(e)
            vals = e.facts.get("values") or {}
            for n in {vals.get("name") if isinstance(vals.get("name"), str) else "", base.rsplit(".", 1)[-1]} - {""}:
                self.by_name.setdefault((e.kind, n), []).append(e)
            for attr, v in vals.items() if isinstance(vals, dict) else ():
                for ref in dict.fromkeys(refs_in(v)):
                    self.referrers.setdefault((folder, prefix + ref), []).append((e, attr))


def index(project) -> _Index:
    return project.memo("tfcloud.index", _Index)


def _prefer_env(resource, found: list) -> list:
    env = resource.origin.environment
    return [e for e in found if e.facts.get("environment") == env] or found


def full_address(resource, ref: str) -> tuple:
    """(folder, address) of `ref` as seen from the module instance of `resource`."""
    prefix = resource.data.get("module") or ""
    return os.path.dirname(resource.file), f"{prefix}.{ref}" if prefix else ref


def entries_for(project, resource, ref: str) -> list:
    """Index entries of the resource `ref` names (`aws_iam_role.ci`, `data.x.y`), in the referring
    resource's module instance, preferring the same environment (tfvars variant)."""
    return _prefer_env(resource, index(project).by_address.get(full_address(resource, ref), []))


def referrers(project, resource, ref: str, kinds, attrs) -> list:
    """Entries of these kinds whose attribute in `attrs` references `ref` (seen from `resource`'s module)."""
    return _prefer_env(resource, [e for e, a in index(project).referrers.get(full_address(resource, ref), [])
                                  if e.kind in kinds and a in attrs])


def entries_named(project, resource, kinds, name: str) -> list:
    """Entries of these kinds whose `name` attribute (or address label) is `name`, same environment first."""
    idx = index(project)
    return _prefer_env(resource, [e for k in kinds for e in idx.by_name.get((k, name), [])])


def resolve(project, resource, v, kinds) -> list:
    """Entries a value (or a list of them) points at: through the references of an Unknown, or by a
    literal name."""
    if isinstance(v, list):
        return list({id(e): e for x in v for e in resolve(project, resource, x, kinds)}.values())
    if isinstance(v, Unknown):
        return [e for ref in v.refs if ref.rsplit(".", 1)[0] in kinds for e in entries_for(project, resource, ref)]
    if isinstance(v, str) and v:
        return entries_named(project, resource, kinds, v.rsplit("/", 1)[-1])
    return []


def at(entry, why: str) -> tuple:
    return Source(entry.file, entry.line), why


# ---- IAM ----------------------------------------------------------------------------------------
_MANAGED = re.compile(r":(iam|eks)::aws:(?:policy|cluster-access-policy)/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)\"?$")


def managed_policy(project, resource, v) -> str:
    """The name of the AWS-managed policy an ARN names ('AdministratorAccess', 'AmazonEKSClusterAdminPolicy').
    Only the partition may be unknown (`arn:${data.aws_partition.current.partition}:iam::aws:policy/X`:
    whatever it is, the policy is X); a data source `aws_iam_policy` with a literal arn or name counts too."""
    if isinstance(v, str):
        m = _MANAGED.search(v)
        return m.group(2) if m and v.startswith("arn:") else ""
    if isinstance(v, Unknown):
        m = _MANAGED.search(v.text.strip())
        if m and re.fullmatch(r'"arn:\$\{[^}]*\}' + re.escape(m.group(0)), v.text.strip()):
            return m.group(2)
        for e in resolve(project, resource, v, ("data.aws_iam_policy",)):
            vals = e.facts.get("values") or {}
            name = managed_policy(project, resource, vals.get("arn"))
            if name or vals.get("name") == "AdministratorAccess":
                return name or "AdministratorAccess"
    return ""


def policy_doc(v):
    """A policy as a dict: a JSON string parsed, a dict as is; None when unknown or not JSON."""
    v = structure(v)
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return None
    return v if isinstance(v, dict) else None


def statements(v) -> list:
    """[(index, statement)] of a JSON policy document, keys in the JSON spelling."""
    doc = policy_doc(v)
    st = doc.get("Statement") if doc else None
    st = [st] if isinstance(st, dict) else st
    return [(i, s) for i, s in enumerate(st) if isinstance(s, dict)] if isinstance(st, list) else []


DOC_KEYS = {"sid": "Sid", "effect": "Effect", "actions": "Action", "not_actions": "NotAction", "resources": "Resource",
            "not_resources": "NotResource", "principals": "Principal", "not_principals": "NotPrincipal"}


def document_statements(values: dict) -> list:
    """[(index, statement)] of an `aws_iam_policy_document` data source, in the JSON spelling."""
    out = []
    for i, s in blocks(values, "statement"):
        st = {DOC_KEYS[k]: v for k, v in s.items() if k in DOC_KEYS}
        st.setdefault("Effect", "Allow")  # the data source's default
        out.append((i, st))
    return out


def oidc_issuer(project, resource, entry) -> str:
    """Which CI system's OIDC tokens a role's trust policy accepts ('GitHub Actions'), '' for none.
    Reads the `assume_role_policy` (a string, the text of an unknown `jsonencode`, or the
    `aws_iam_policy_document` it references); only ever supporting evidence, never a finding."""
    v = (entry.facts.get("values") or {}).get("assume_role_policy")
    texts = [json.dumps(structure(v) or v, default=lambda u: getattr(u, "text", ""))]
    for e in resolve(project, resource, v, ("data.aws_iam_policy_document",)):
        texts.append(json.dumps(e.facts.get("values"), default=lambda u: getattr(u, "text", "")))
    text = " ".join(texts)
    return next((name for issuer, name in OIDC_ISSUERS.items() if issuer in text), "")


OIDC_ISSUERS = {"token.actions.githubusercontent.com": "GitHub Actions", "gitlab.com": "GitLab CI",
                "app.terraform.io": "Terraform Cloud", "oidc.circleci.com": "CircleCI",
                "agent.buildkite.com": "Buildkite", "oidc.codefresh.io": "Codefresh"}
IAM_KINDS = ("aws_iam_role", "aws_iam_user", "aws_iam_group")
_NAMED_ARN = re.compile(r"^arn:.*:(role|user|group)/[^$]+$")  # the name is literal even if the account is not
_TEMPLATE_REF = re.compile(r"\$\{\s*((?:data\.)?[A-Za-z][\w-]*\.[\w-]+)")
# module sources that build a role CI assumes through OIDC (terraform-aws-modules/iam//modules/iam-github-oidc-role)
CI_MODULE_SOURCES = {"github-oidc": "GitHub Actions", "gitlab-oidc": "GitLab CI"}


def ci_identity(project, resource, v, options: dict, kinds=IAM_KINDS) -> tuple:
    """(identity, why it is CI/CD, related) for an IAM role/user given as an ARN, a name or a reference;
    ('', '', ()) when nothing says it is CI. A trust policy naming a CI OIDC issuer is evidence too,
    and is always said when present."""
    name, entries = "", []
    if isinstance(v, Unknown) and isinstance(structure(v), str):
        v = structure(v)  # a template with unknown parts, kept as written
    if isinstance(v, str) and "${" in v and not _NAMED_ARN.search(v):
        v = Unknown(v, tuple(_TEMPLATE_REF.findall(v)))  # only `${aws_iam_role.ci.arn}` is unknown: follow it
    if isinstance(v, str) and v:
        name = v.split(":role/", 1)[-1].split(":user/", 1)[-1].split(":group/", 1)[-1] if v.startswith("arn:") else v
        entries = entries_named(project, resource, kinds, name.rsplit("/", 1)[-1])
    elif isinstance(v, Unknown):
        entries = resolve(project, resource, v, kinds)
        mod = next((r for r in v.refs if r.startswith("module.")), "")
        if not entries and mod:
            return _module_identity(project, resource, mod, options)
        if entries:
            vals = entries[0].facts.get("values") or {}
            label = entries[0].name.rsplit(".", 1)[-1].split("[")[0]
            name = next((x for x in (vals.get("name"), vals.get("name_prefix")) if isinstance(x, str) and x), label)
            if not _rbac.deployer_word(name, options) and _rbac.deployer_word(label, options):
                name = f"{name} ({entries[0].name})" if name != label else name
    if not name:
        return "", "", ()
    word = _rbac.deployer_word(name, options)
    roles = [e for e in entries if e.kind == "aws_iam_role"]
    issuer = next((i for i in (oidc_issuer(project, resource, e) for e in roles) if i), "")
    related = tuple(at(e, f"{e.name} is defined here") for e in entries[:1] if e.name != resource.name)
    if issuer:
        role = next(e for e in entries if e.kind == "aws_iam_role")
        related = (at(role, f"{role.name}'s trust policy lets {issuer} assume it through OIDC"),)
    why = [f"its name contains '{word}'"] if word else []
    if issuer:
        why.append(f"its trust policy lets {issuer} workflows assume it through OIDC")
    return (name, " and ".join(why), related) if why else ("", "", ())


def _module_identity(project, resource, mod: str, options: dict) -> tuple:
    prefix = resource.data.get("module") or ""
    full = f"{prefix}.{mod}" if prefix else mod
    e = next((e for e in project.of_kind("module") if e.name == full), None)
    vals = (e.facts.get("values") or {}) if e else {}
    source = str(vals.get("source") or "")
    label = mod.split(".", 1)[1]
    name = next((x for x in (vals.get("name"), vals.get("role_name")) if isinstance(x, str) and x), label)
    word = _rbac.deployer_word(name, options) or _rbac.deployer_word(mod.split(".", 1)[1], options)
    oidc = next((ci for s, ci in CI_MODULE_SOURCES.items() if s in source), "")
    why = [f"its name contains '{word}'"] if word else []
    if oidc:
        why.append(f"module {mod} ('{source}') builds a role {oidc} workflows assume through OIDC")
    related = (at(e, f"{full} is called here"),) if e else ()
    return (name, " and ".join(why), related) if why else ("", "", ())


# ---- firewall openings (PM631, and PM630's related locations) ----------------------------------------
ALL_PORTS = (0, 65535)


def _range(spec):
    """'5432' / '5000-6000' / '*' / 5432 -> (lo, hi); None when unknown or malformed."""
    if isinstance(spec, bool) or spec is None or isinstance(spec, Unknown):
        return None
    s = str(spec).strip()
    if s in ("*", "all"):
        return ALL_PORTS
    lo, _, hi = s.partition("-")
    lo_i, hi_i = as_int(lo), as_int(hi or lo)
    return (lo_i, hi_i) if lo_i is not None and hi_i is not None else None


def _opening(path, cidrs, spans, ports) -> list:
    """One opening per world CIDR attribute: {path, cidr, ports (listed ones covered), all}."""
    hit = sorted({p for lo, hi in spans for p in covered(lo, hi, ports)})
    world = [c for c in cidrs if is_world(c)]
    if not hit or not world:
        return []
    return [{"path": path, "cidr": world[0], "ports": hit, "all": ALL_PORTS in spans}]


def _aws(b: dict, base: tuple, ports, v4="cidr_blocks", v6="ipv6_cidr_blocks", proto_key="protocol") -> list:
    proto = b.get(proto_key)
    proto = str(proto).lower() if isinstance(proto, (str, int)) and not isinstance(proto, bool) else None
    if proto in ("-1", "all"):
        spans = [ALL_PORTS]
    elif proto in ("tcp", "6"):
        lo, hi = as_int(b.get("from_port")), as_int(b.get("to_port"))
        spans = [(lo, hi)] if lo is not None and hi is not None else []
    else:
        return []
    out = []
    for key in (v4, v6):
        out += _opening(base + (key,), strs(b.get(key)), spans, ports)
    return out


def _azure(b: dict, base: tuple, ports) -> list:
    if str(b.get("direction", "")).lower() != "inbound" or str(b.get("access", "")).lower() != "allow":
        return []
    if str(b.get("protocol", "")).lower() not in ("tcp", "*"):
        return []
    specs = strs(b.get("destination_port_range")) + strs(b.get("destination_port_ranges"))
    spans = [s for s in map(_range, specs) if s]
    out = []
    for key in ("source_address_prefix", "source_address_prefixes"):
        out += _opening(base + (key,), strs(b.get(key)), spans, ports)
    return out


def _google(values: dict, ports) -> list:
    if str(values.get("direction") or "INGRESS").upper() != "INGRESS" or values.get("disabled") is True:
        return []
    spans = []
    for _, allow in blocks(values, "allow"):
        proto = allow.get("protocol")
        if not isinstance(proto, str) or proto.lower() not in ("tcp", "all", "6"):
            continue
        listed = allow.get("ports")
        spans += [ALL_PORTS] if listed is None or listed == [] else [s for s in map(_range, strs(listed)) if s]
    return _opening(("values", "source_ranges"), strs(values.get("source_ranges")), spans, ports)


def openings(kind: str, values: dict, ports) -> list:
    """Ingress rules of a security group / firewall / NSG that let the whole internet reach a listed port."""
    if kind == "aws_security_group":
        return [o for i, b in blocks(values, "ingress") for o in _aws(b, ("values", "ingress", i), ports)]
    if kind == "aws_security_group_rule":
        return _aws(values, ("values",), ports) if values.get("type") == "ingress" else []
    if kind == "aws_vpc_security_group_ingress_rule":
        return _aws(values, ("values",), ports, "cidr_ipv4", "cidr_ipv6", "ip_protocol")
    if kind == "google_compute_firewall":
        return _google(values, ports)
    if kind == "azurerm_network_security_rule":
        return _azure(values, ("values",), ports)
    if kind == "azurerm_network_security_group":
        return [o for i, b in blocks(values, "security_rule") for o in _azure(b, ("values", "security_rule", i), ports)]
    return []


FIREWALL_KINDS = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule",
                  "google_compute_firewall", "azurerm_network_security_rule", "azurerm_network_security_group")


def group_openings(project, resource, v, ports) -> list:
    """[(entry, opening)] of the security groups a value names (`vpc_security_group_ids`), their inline
    ingress blocks and the standalone rules of the same module that target them."""
    out = []
    for sg in resolve(project, resource, v, ("aws_security_group",)):
        out += [(sg, o) for o in openings(sg.kind, sg.facts.get("values") or {}, ports)]
        prefix = resource.data.get("module") or ""
        rel = (sg.name[len(prefix) + 1:] if prefix else sg.name).split("[")[0]
        for e in referrers(project, resource, rel, ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule"),
                           ("security_group_id",)):
            out += [(e, o) for o in openings(e.kind, e.facts.get("values") or {}, ports)]
    return out
