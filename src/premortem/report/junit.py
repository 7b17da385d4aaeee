"""`--format junit`: JUnit XML for CI test dashboards (Jenkins, GitLab, Azure DevOps, CircleCI).

One `<testsuite name="premortem">`; one failing testcase per finding (classname = the file, name
= "PM501 mutable-image-tag Deployment/prod/api at 11:18", `<failure type=severity>` with the fix
and incidents in the body); one testcase with `<error>` per scan error; and when there is
nothing at all, one passing "premortem scan" testcase so the dashboard shows a green test.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .. import __version__
from .common import repo_path, workspace

# characters XML 1.0 cannot carry at all, even escaped
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _x(text) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))


def _case(suite, classname: str, name: str, file: str = "", line: int = 0) -> ET.Element:
    attrs = {"classname": _x(classname), "name": _x(name), "time": "0"}
    if file:
        attrs["file"] = _x(file)
    if line:
        attrs["line"] = str(line)
    return ET.SubElement(suite, "testcase", attrs)


def _body(f, prefix: str) -> str:
    where = f"{repo_path(prefix, f.file)}:{f.line}:{f.column}"
    lines = [f"{f.rule_id} {f.rule} ({f.severity.label}): {f.title}", f"{where}  {f.resource}".rstrip(), "", f.message]
    if f.snippet:
        lines += ["", f"    {f.line} | {f.snippet}"]
    lines += [f"also {repo_path(prefix, r.file)}:{r.line}: {r.message}" for r in f.related]
    lines += ["", f"fix: {f.fix}"]
    if f.incidents:
        lines.append(f"incident: {', '.join(f.incidents)}  (premortem explain {f.rule_id})")
    lines.append(f"fingerprint: {f.fingerprint}")
    return _x("\n".join(lines))


def to_element(result) -> ET.Element:
    _, prefix = workspace(result)
    cases = len(result.findings) + len(result.errors) or 1
    counts = {"tests": str(cases), "failures": str(len(result.findings)), "errors": str(len(result.errors)),
              "skipped": "0", "time": "0"}
    root = ET.Element("testsuites", {"name": "premortem", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "premortem", **counts})
    props = ET.SubElement(suite, "properties")
    for k, v in (("version", __version__), ("files", result.files), ("resources", result.resources),
                 ("suppressed", len(result.suppressed)), ("baselined", result.baselined)):
        ET.SubElement(props, "property", {"name": k, "value": str(v)})
    for f in result.findings:
        path = repo_path(prefix, f.file)
        name = " ".join(p for p in (f.rule_id, f.rule, f.resource) if p) + f" at {f.line}:{f.column}"
        case = _case(suite, path, name, path, f.line)
        fail = ET.SubElement(case, "failure", {"type": f.severity.label, "message": _x(f.message)})
        fail.text = _body(f, prefix)
    for e in result.errors:
        path = repo_path(prefix, e.file)
        where = f"{path}:{e.line}" if e.line else path
        case = _case(suite, path, f"scan error in {where}", path, e.line)
        err = ET.SubElement(case, "error", {"type": "ScanError", "message": _x(e.message)})
        err.text = _x(f"{where}: {e.message}\nThe scan is incomplete: this file was not (fully) checked.")
    if not result.findings and not result.errors:
        _case(suite, "premortem", "premortem scan")
    return root


def render(result, color: bool = False) -> str:
    root = to_element(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
