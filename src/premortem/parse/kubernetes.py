"""Kubernetes manifests (YAML or JSON, multi-document, `kind: List`) into Resources with positions.

Documents that are not Kubernetes objects (no apiVersion/kind) are ignored quietly: a repository
holds plenty of YAML that is not ours to judge here. Two shapes are the exception: Prometheus rule
files and `alertmanager.yml` (parse/prometheus.py, parse/alertmanager.py).
"""
from __future__ import annotations

from ..model import Origin, Resource, ScanError
from .yamldoc import Doc, load_all


def is_k8s_object(data) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("apiVersion"), str)
            and isinstance(data.get("kind"), str) and data.get("kind") != "")


def _sub(table: dict, prefix: tuple) -> dict:
    n = len(prefix)
    return {k[n:]: v for k, v in table.items() if k[:n] == prefix}


def resource_from(data: dict, file: str, positions: dict, key_positions: dict, line: int,
                  origin: Origin | None = None, doc_index: int = 0) -> Resource:
    md = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name = md.get("name") or md.get("generateName") or ""
    ns = md.get("namespace") or ""
    return Resource(format="kubernetes", kind=str(data["kind"]), name=str(name), namespace=str(ns),
                    data=data, file=file, line=line, positions=positions, key_positions=key_positions,
                    origin=origin or Origin("file", file), doc_index=doc_index)


def resources_from_docs(docs: list, file: str, origin: Origin | None = None) -> list:
    out = []
    for i, doc in enumerate(docs):
        data = doc.data
        if not is_k8s_object(data):
            continue
        if data["kind"].endswith("List") and isinstance(data.get("items"), list):
            for j, item in enumerate(data["items"]):
                if is_k8s_object(item):
                    prefix = ("items", j)
                    line = doc.positions.get(prefix, (doc.line, 1))[0]
                    out.append(resource_from(item, file, _sub(doc.positions, prefix),
                                             _sub(doc.key_positions, prefix), line, origin, i))
            continue
        out.append(resource_from(data, file, doc.positions, doc.key_positions, doc.line, origin, i))
    return out


def parse_manifest(text: str, file: str, origin: Origin | None = None) -> tuple[list, list]:
    """Returns (resources, errors). Documents before a syntax error are kept."""
    docs, err = load_all(text)
    errors = []
    if err is not None:
        errors.append(ScanError(file, err.line, str(err), err.column))
    out = resources_from_docs(docs, file, origin)
    for i, doc in enumerate(docs):  # not Kubernetes: a Prometheus rule file or an alertmanager.yml, by shape
        if isinstance(doc.data, dict) and not is_k8s_object(doc.data) and ("groups" in doc.data or "route" in doc.data):
            from . import alertmanager, prometheus

            out.extend(prometheus.from_plain_doc(doc, file, origin, i) + alertmanager.from_plain_doc(doc, file, origin, i))
    return out, errors


__all__ = ["Doc", "is_k8s_object", "parse_manifest", "resources_from_docs", "resource_from"]
