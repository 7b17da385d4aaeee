"""`premortem sbom`: a CycloneDX SBOM (JSON, spec 1.5 or 1.6) of what a repository declares.

Components come from lockfiles (exact versions, `pkg:npm/...` / `pkg:pypi/...` purls, the lock's
hash when it records one artifact), from manifests where no lockfile covers them (a version only
when the manifest pins one, the declared range as a property), and from the base images of
Dockerfiles (`pkg:docker/...`, type container). Each component says where it was found
(`evidence.occurrences`: file and line). Files are found and parsed as `premortem scan` does
(discover + parse.packages / parse.dockerfile, `.gitignore` and config `exclude` honoured);
cyclonedx-python-lib builds and serializes the document.
"""
from __future__ import annotations

import base64
import binascii
import os
import posixpath
import re
import warnings

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from . import __version__
from . import discover as disc
from .k8s.images import DOCKER_HUB, parse_image
from .model import ScanError

SPEC_VERSIONS = {"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
_SRI = {"sha1": HashAlgorithm.SHA_1, "sha256": HashAlgorithm.SHA_256, "sha384": HashAlgorithm.SHA_384,
        "sha512": HashAlgorithm.SHA_512, "md5": HashAlgorithm.MD5}
_EXACT_NPM = re.compile(r"^[=v]?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
_EXACT_PY = re.compile(r"^===?([^*,;<>!~\s]+)$")


def _hashes(pkg: dict) -> list:
    """HashTypes from an SRI `integrity` (`sha512-<base64>`), yarn 1's `#<sha1>` or `sha256:<hex>` entries.
    Python locks list one hash per file (sdist, wheels): only a single-artifact hash names the component."""
    out = []
    for sri in (pkg.get("integrity") or "").split():
        alg, _, b64 = sri.partition("-")
        try:
            out.append(HashType(alg=_SRI[alg.lower()], content=base64.b64decode(b64).hex()))
        except (KeyError, binascii.Error, ValueError):
            continue
    m = re.search(r"#([0-9a-f]{40})$", pkg.get("resolved") or "")
    if not out and m:
        out.append(HashType(alg=HashAlgorithm.SHA_1, content=m.group(1)))
    if len(pkg.get("hashes") or []) == 1:
        alg, _, hexd = pkg["hashes"][0].partition(":")
        if alg.lower() in _SRI and re.fullmatch(r"[0-9a-fA-F]+", hexd):
            out.append(HashType(alg=_SRI[alg.lower()], content=hexd.lower()))
    return out


def _named(ecosystem: str, name: str) -> tuple:
    """(group, name): an npm scope is the component's group (`@babel`, `core`)."""
    if ecosystem == "npm" and name.startswith("@") and "/" in name:
        scope, _, base = name.partition("/")
        return scope, base
    return None, name


def _purl(ecosystem: str, name: str, version: str) -> PackageURL:
    if ecosystem == "npm":
        scope, _, base = name.rpartition("/") if name.startswith("@") else ("", "", name)
        return PackageURL(type="npm", namespace=scope or None, name=base, version=version or None)
    return PackageURL(type="pypi", name=re.sub(r"[-_.]+", "-", name).lower(), version=version or None)


def _image_purl(ref) -> PackageURL:
    repo = ref.repository
    if ref.registry == DOCKER_HUB and "/" not in repo:
        repo = "library/" + repo
    namespace, _, name = repo.rpartition("/")
    qualifiers = {} if ref.registry == DOCKER_HUB else {"repository_url": ref.registry}
    return PackageURL(type="docker", namespace=namespace or None, name=name, version=ref.digest or ref.tag or "latest",
                      qualifiers=qualifiers)


class _Collector:
    def __init__(self):
        self.by_ref: dict = {}

    def add(self, purl: PackageURL, group: str | None, name: str, version: str, file: str, line: int, *,
            ctype=ComponentType.LIBRARY, hashes=(), dev=None, props=()):
        ref = purl.to_string()
        comp = self.by_ref.get(ref)
        if comp is None:
            comp = Component(type=ctype, name=name, group=group, version=version or None, purl=purl, bom_ref=ref,
                             hashes=list(hashes), scope=ComponentScope.EXCLUDED if dev is True else None,
                             properties=[Property(name=k, value=v) for k, v in props],
                             evidence=ComponentEvidence(occurrences=[]))
            self.by_ref[ref] = comp
        elif dev is False and comp.scope == ComponentScope.EXCLUDED:
            comp.scope = None  # a runtime dependency somewhere: not dev-only
        comp.evidence.occurrences.add(Occurrence(location=file, line=line))


def _covered(resource, locks: dict) -> bool:
    """A manifest whose ecosystem has a lockfile in its directory or a parent one."""
    d = posixpath.dirname(resource.file)
    eco = resource.data.get("ecosystem")
    while True:
        if eco in locks.get(d, ()):
            return True
        if not d:
            return False
        d = posixpath.dirname(d)


def _add_packages(col: _Collector, r, locks: dict) -> None:
    d, eco = r.data, r.data.get("ecosystem")
    if r.kind == "Lockfile":
        for p in d.get("packages") or []:
            if p["source"] in ("workspace", "link", "path") or not p["name"] or not p["version"]:
                continue
            line = r.locate(("packages", p["id"])).line
            props = [("premortem:source", p["source"])] if p["source"] != "registry" else []
            col.add(_purl(eco, p["name"], p["version"]), *_named(eco, p["name"]), p["version"], r.file, line,
                    hashes=_hashes(p), dev=p.get("dev"), props=props)
    elif r.kind == "PackageManifest" and not _covered(r, locks):
        for dep in d.get("dependencies") or []:
            if dep["source"] not in ("registry", "alias") or not dep["name"]:
                continue
            m = (_EXACT_NPM if eco == "npm" else _EXACT_PY).match(dep["spec"].replace(" ", ""))
            version = m.group(1) if m else ""
            props = [] if version else [("premortem:declared-range", dep["spec"] or "*")]
            col.add(_purl(eco, dep["name"], version), *_named(eco, dep["name"]), version, r.file,
                    r.locate(("dependencies", dep["id"])).line, dev=dep["group"] == "dev", props=props)


def _add_images(col: _Collector, stages: list) -> None:
    for st in stages:
        image = st.data.get("from") or ""
        if st.data.get("base_stage") or not image or image == "scratch" or "$" in image:
            continue
        ref = parse_image(image)
        purl = _image_purl(ref)
        name = ref.repository if ref.registry == DOCKER_HUB else f"{ref.registry}/{ref.repository}"
        col.add(purl, None, name, purl.version, st.file, st.locate(("from",)).line, ctype=ComponentType.CONTAINER,
                props=[("premortem:image", image)])


def collect(paths: list, root: str, config) -> tuple[list, list]:
    """(resources, errors): package and Dockerfile resources of the scan, as `premortem scan` parses them."""
    from .parse.dockerfile import parse_dockerfile
    from .parse.packages import parse_package

    found = disc.discover(paths, root, config.exclude, config.max_file_size)
    resources, errors = [], list(found.errors)
    for unit in found.units:
        if unit.kind not in ("package", "dockerfile"):
            continue
        try:
            text = disc.read_text(unit.path)
        except (OSError, ValueError) as exc:
            errors.append(ScanError(unit.rel, 0, disc._os_message(exc) if isinstance(exc, OSError) else str(exc)))
            continue
        res, errs = (parse_package if unit.kind == "package" else parse_dockerfile)(text, unit.rel)
        resources.extend(res)
        errors.extend(errs)
    return resources, errors


def build(paths: list, root: str, config) -> tuple[Bom, list]:
    resources, errors = collect(paths, root, config)
    locks: dict = {}
    for r in resources:
        if r.kind == "Lockfile":
            locks.setdefault(posixpath.dirname(r.file), set()).add(r.data.get("ecosystem"))
    col = _Collector()
    for r in sorted(resources, key=lambda r: (r.kind != "Lockfile", r.file, r.line)):
        if r.format == "package":
            _add_packages(col, r, locks)
    _add_images(col, [r for r in resources if r.kind == "DockerStage"])
    tool = Component(type=ComponentType.APPLICATION, name="premortem", version=__version__)
    subject = Component(type=ComponentType.APPLICATION, name=os.path.basename(os.path.abspath(root)) or "repository",
                        bom_ref="repository")
    bom = Bom(metadata=BomMetaData(component=subject))
    bom.metadata.tools.components.add(tool)
    for ref in sorted(col.by_ref):
        bom.components.add(col.by_ref[ref])
    return bom, errors


def render(bom: Bom, spec: str = "1.6") -> str:
    with warnings.catch_warnings():  # the library warns about an incomplete dependency graph: it is, by design
        warnings.simplefilter("ignore")
        return make_outputter(bom, OutputFormat.JSON, SPEC_VERSIONS[spec]).output_as_string(indent=2) + "\n"
