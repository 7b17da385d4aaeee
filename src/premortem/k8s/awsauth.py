"""The EKS `aws-auth` ConfigMap (kube-system): `mapRoles`/`mapUsers` are YAML documents inside string
values, each entry mapping an IAM role or user ARN to a Kubernetes username and groups.

https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..parse.yamldoc import load_all

KEYS = {"mapRoles": "rolearn", "mapUsers": "userarn"}


@dataclass(frozen=True)
class Mapping:
    key: str  # mapRoles | mapUsers
    index: int
    arn: str
    username: str
    groups: tuple = ()
    line: int = 1  # 1-based line of the ARN inside the string value
    raw: dict = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        return "IAM role" if self.key == "mapRoles" else "IAM user"

    @property
    def iam_name(self) -> str:
        """The part of the ARN after `role/` or `user/`, path included ('ci/eks-deployer')."""
        for marker in (":role/", ":user/", ":assumed-role/"):
            if marker in self.arn:
                return self.arn.split(marker, 1)[1]
        return self.arn.rsplit(":", 1)[-1]


def is_aws_auth(resource) -> bool:
    return resource.kind == "ConfigMap" and resource.name == "aws-auth" and resource.namespace in ("", "kube-system")


def mappings(text, key: str) -> tuple[list, str]:
    """Entries of one `mapRoles`/`mapUsers` value, and a parse problem ('' when none)."""
    if not isinstance(text, str) or not text.strip():
        return [], ""
    docs, err = load_all(text)
    if err is not None:
        return [], str(err)
    if not docs or not isinstance(docs[0].data, list):
        return [], f"{key} is not a YAML list"
    doc, out = docs[0], []
    arn_key = KEYS.get(key, "rolearn")
    for i, item in enumerate(doc.data):
        if not isinstance(item, dict):
            continue
        groups = item.get("groups")
        line = doc.positions.get((i, arn_key), doc.positions.get((i,), (1, 1)))[0]
        out.append(Mapping(key, i, str(item.get(arn_key) or ""), str(item.get("username") or ""),
                           tuple(str(g) for g in groups) if isinstance(groups, list) else (), line, item))
    return out, ""


def all_mappings(resource) -> list:
    """Every mapping of an aws-auth ConfigMap resource (mapRoles then mapUsers)."""
    data = resource.get(("data",))
    if not isinstance(data, dict):
        return []
    out = []
    for key in KEYS:
        out.extend(mappings(data.get(key), key)[0])
    return out


def file_line(resource, key: str, mapping: Mapping) -> int | None:
    """The line of a mapping in the manifest, when the value is a literal block (`mapRoles: |`) in a
    plain YAML file; None for rendered or JSON sources where the string's lines are not the file's."""
    if resource.origin.kind != "file" or resource.file.endswith(".json"):
        return None
    at = resource.positions.get(("data", key))
    key_at = resource.key_positions.get(("data", key))
    if not at or not key_at or at[0] != key_at[0]:
        return None
    text = resource.get(("data", key))
    end = at[0] + (text.count("\n") if isinstance(text, str) else 0)
    # a quoted one-line string with \n escapes: the next key sits inside the lines a block would take
    if any(at[0] < line <= end for line, _ in resource.key_positions.values()):
        return None
    return at[0] + mapping.line
