"""`.premortem.yaml`: rules on/off, severity overrides, rule options, excludes, what counts as
production, allowed registries. Found from the scanned root upward, or given with --config.
Unknown keys and unknown rule IDs are errors with the file and line."""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field

from .environments import PRODUCTION_WORDS
from .model import Severity
from .parse.yamldoc import load_all

CONFIG_NAMES = (".premortem.yaml", ".premortem.yml")
DEFAULT_PROD_NAMESPACES = ["production", "prod", "prd", "live", "*-prod", "*-production", "prod-*",
                           "production-*", "*-prd", "*-live"]
PROD_WORDS = PRODUCTION_WORDS  # prod, production, prd, live

SCHEMA = {
    "fail_on": str,
    "exclude": list,
    "rules": dict,
    "production": {"namespaces": list, "paths": list, "always": bool, "non_production_namespaces": list},
    "registries": {"allowed": list, "mirror": str},
    "helm": {"values": list, "release": str, "namespace": str},
    "images": dict,
    "terraform": {"workspace": str},
    "max_file_size_mb": (int, float),
}
RULE_KEYS = {"enabled", "severity", "options"}


class ConfigError(Exception):
    pass


@dataclass
class RuleConfig:
    enabled: bool = True
    severity: Severity | None = None
    options: dict = field(default_factory=dict)


@dataclass
class Config:
    path: str = ""
    fail_on: Severity = Severity.HIGH
    exclude: list = field(default_factory=list)
    rules: dict = field(default_factory=dict)  # id -> RuleConfig
    prod_namespaces: list = field(default_factory=lambda: list(DEFAULT_PROD_NAMESPACES))
    nonprod_namespaces: list = field(default_factory=list)
    prod_paths: list = field(default_factory=list)
    prod_always: bool = False
    allowed_registries: list = field(default_factory=list)
    mirror: str = ""
    helm_values: list = field(default_factory=list)
    helm_release: str = "release-name"
    helm_namespace: str = ""
    images: dict = field(default_factory=dict)  # image name -> Dockerfile path
    terraform_workspace: str | None = None  # `terraform.workspace` when the repo is planned with one
    max_file_size: int = 10 * 1024 * 1024

    def rule(self, rule_id: str) -> RuleConfig:
        return self.rules.get(rule_id) or RuleConfig()

    def production_evidence(self, namespace: str, paths: list) -> str:
        """Why a resource counts as production ('' when it does not)."""
        if self.prod_always:
            return f"config {os.path.basename(self.path) or '.premortem.yaml'}: production.always"
        if namespace:
            if any(fnmatch.fnmatchcase(namespace, p) for p in self.nonprod_namespaces):
                return ""
            for pat in self.prod_namespaces:
                if fnmatch.fnmatchcase(namespace, pat):
                    return f"namespace '{namespace}'"
        for p in paths:
            if not p:
                continue
            for pat in self.prod_paths:
                if fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.rstrip("/") + "/*"):
                    return f"path '{p}' matches production.paths '{pat}'"
            for seg in re.split(r"[/\\]", p):
                stem = seg.rsplit(".", 1)[0].lower()
                words = set(re.split(r"[-_.]", stem))
                if stem in PROD_WORDS or words & PROD_WORDS:
                    return f"path segment '{seg}' in '{p}'"
        return ""


def find_config(start: str) -> str | None:
    d = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        for name in CONFIG_NAMES:
            p = os.path.join(d, name)
            if os.path.isfile(p):
                return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _check_keys(data: dict, schema: dict, where: str, positions: dict, prefix: tuple, path: str) -> None:
    for key, value in data.items():
        line = positions.get(prefix + (key,), (0, 0))[0]
        if key not in schema:
            raise ConfigError(f"{path}:{line}: unknown key '{where}{key}' (expected one of: {', '.join(sorted(schema))})")
        expected = schema[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{line}: '{where}{key}' must be a mapping")
            _check_keys(value, expected, f"{where}{key}.", positions, prefix + (key,), path)
        elif value is not None and not isinstance(value, expected):
            names = expected.__name__ if isinstance(expected, type) else "number"
            raise ConfigError(f"{path}:{line}: '{where}{key}' must be a {names.replace('str', 'string').replace('list', 'list').replace('dict', 'mapping')}")


def load_config(path: str | None, known_rules: dict) -> Config:
    cfg = Config()
    if not path:
        return cfg
    cfg.path = path
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    docs, err = load_all(text)
    if err is not None:
        raise ConfigError(f"{path}:{err.line}: {err}")
    if not docs or docs[0].data is None:
        return cfg
    doc = docs[0]
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:{doc.line}: config must be a mapping")
    pos = doc.key_positions
    _check_keys(data, SCHEMA, "", pos, (), path)

    def line(*p):
        return pos.get(tuple(p), (0, 0))[0]

    if data.get("fail_on") is not None:
        try:
            cfg.fail_on = Severity.parse(data["fail_on"])
        except ValueError as exc:
            raise ConfigError(f"{path}:{line('fail_on')}: fail_on: {exc}") from None
    cfg.exclude = [str(x) for x in data.get("exclude") or []]
    for rid, rc in (data.get("rules") or {}).items():
        rid_s = str(rid).upper()
        if rid_s not in known_rules:
            by_name = {r.name: r.id for r in known_rules.values()}
            hint = f" (did you mean {by_name[rid]}?)" if rid in by_name else ""
            raise ConfigError(f"{path}:{line('rules', rid)}: unknown rule ID '{rid}'{hint}")
        r = RuleConfig()
        if isinstance(rc, bool):
            r.enabled = rc
        elif isinstance(rc, str) and rc.lower() in ("off", "on"):
            r.enabled = rc.lower() == "on"
        elif isinstance(rc, dict):
            for k in rc:
                if k not in RULE_KEYS:
                    raise ConfigError(f"{path}:{line('rules', rid, k)}: unknown key 'rules.{rid}.{k}' "
                                      f"(expected one of: {', '.join(sorted(RULE_KEYS))})")
            r.enabled = bool(rc.get("enabled", True))
            if rc.get("severity") is not None:
                try:
                    r.severity = Severity.parse(rc["severity"])
                except ValueError as exc:
                    raise ConfigError(f"{path}:{line('rules', rid, 'severity')}: {exc}") from None
            opts = rc.get("options") or {}
            if not isinstance(opts, dict):
                raise ConfigError(f"{path}:{line('rules', rid, 'options')}: options must be a mapping")
            known_opts = known_rules[rid_s].options
            for k in opts:
                if k not in known_opts:
                    raise ConfigError(f"{path}:{line('rules', rid, 'options', k)}: unknown option '{k}' for {rid_s} "
                                      f"(expected one of: {', '.join(sorted(known_opts)) or 'none'})")
            r.options = dict(opts)
        else:
            raise ConfigError(f"{path}:{line('rules', rid)}: rules.{rid} must be true/false or a mapping")
        cfg.rules[rid_s] = r
    prod = data.get("production") or {}
    if prod.get("namespaces"):
        cfg.prod_namespaces = [str(x) for x in prod["namespaces"]]
    cfg.nonprod_namespaces = [str(x) for x in prod.get("non_production_namespaces") or []]
    cfg.prod_paths = [str(x) for x in prod.get("paths") or []]
    cfg.prod_always = bool(prod.get("always", False))
    reg = data.get("registries") or {}
    cfg.allowed_registries = [str(x) for x in reg.get("allowed") or []]
    cfg.mirror = str(reg.get("mirror") or "")
    helm = data.get("helm") or {}
    cfg.helm_values = [str(x) for x in helm.get("values") or []]
    cfg.helm_release = str(helm.get("release") or cfg.helm_release)
    cfg.helm_namespace = str(helm.get("namespace") or "")
    cfg.images = {str(k): str(v) for k, v in (data.get("images") or {}).items()}
    tf = data.get("terraform") or {}
    cfg.terraform_workspace = str(tf["workspace"]) if tf.get("workspace") else None
    if data.get("max_file_size_mb"):
        cfg.max_file_size = int(float(data["max_file_size_mb"]) * 1024 * 1024)
    return cfg
