"""Helpers shared by the incident-response rules (10.1 runbooks, 10.3 routing): runbook annotations
and links, and where Alertmanager sends an alert (paging or not, dropped or not). Not a rule."""
from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from ..observability._promql import scan_facts

RULE_KINDS = ["PrometheusRule", "VMRule", "PrometheusRuleFile"]
RULE_FORMATS = ("kubernetes", "prometheus")
CONFIG_KINDS = ["AlertmanagerConfigFile", "AlertmanagerConfig", "Secret", "ConfigMap"]
CONFIG_FORMATS = ("kubernetes", "alertmanager")
RUNBOOK_ANNOTATIONS = ["runbook_url", "runbook", "playbook", "playbook_url", "runbook_link"]
PAGING_INTEGRATIONS = ["pagerduty", "opsgenie", "victorops", "incidentio"]
PAGING_HOSTS = ["pagerduty", "opsgenie", "victorops", "splunk", "incident.io", "firehydrant", "rootly", "squadcast",
                "ilert", "zenduty", "spike.sh", "oncall", "betteruptime", "pagertree", "signl4", "xmatters"]
PAGING_SEVERITIES = ["critical", "page", "p1", "sev1", "emergency"]
_PLACEHOLDER = re.compile(r"^(todo|tbd|tba|n/?a|none|-|#|xxx|fixme|changeme)?$", re.I)


# ---- runbooks ----------------------------------------------------------------------------------
def runbook(annotations: dict, names: list) -> tuple:
    """(annotation name, value) of the first runbook annotation present, else ('', '')."""
    for n in names:
        if n in annotations:
            return n, str(annotations[n] if annotations[n] is not None else "").strip()
    return "", ""


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip()))


_FORGE = re.compile(r"^https?://(?:www\.)?(github\.com|gitlab\.[^/]+|bitbucket\.org)/(.+?)/(?:-/)?(?:blob|tree|raw|src)/"
                    r"([^/]+)/([^?#]+)")


def repo_link(url: str) -> tuple | None:
    """(org/repo, path) of a link to a file in a forge repository, else None."""
    m = _FORGE.match(url.strip())
    if not m:
        return None
    return m.group(2).lower(), unquote(m.group(4)).strip("/")


def dirs_of(project) -> set:
    def compute(p):
        out = {""}
        for f in p.files:
            parts = f.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                out.add("/".join(parts[:i]))
        return out
    return project.memo("response.dirs", compute)


def missing_target(url: str, rule_file: str, project, repository: str) -> str | None:
    """The repository path a runbook link points at when that path is known to be missing from the
    scan, else None (exists, points elsewhere, or cannot be told)."""
    if not url or "{{" in url or "$" in url:
        return None
    files, dirs = project.files, dirs_of(project)
    link = repo_link(url)
    if link is not None:
        repo, path = link
        ours = bool(repository) and repo == repository.lower().strip("/")
        if repository and not ours:
            return None
        candidates = [path]
    elif re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("//"):
        return None  # a web page (a wiki, a runbook site): not a repository file
    else:
        path = unquote(url.split("#")[0].split("?")[0])
        if not path:
            return None
        ours = True
        candidates = [posixpath.normpath(posixpath.join(posixpath.dirname(rule_file), path)),
                      posixpath.normpath(path.lstrip("/"))]
        candidates = [c for c in candidates if not c.startswith("..")]
    for c in candidates:
        if c in files or c in dirs:
            return None
    if link is not None and ours:  # a link into this very repository (option `repository`)
        return candidates[0]
    for c in candidates:
        parent = posixpath.dirname(c)
        # the link's folder is in the scan (its other files are there) but the file is not
        if parent in dirs and (parent or link is None):
            return c
    return None


# ---- routing -----------------------------------------------------------------------------------
def pages(receiver, integrations: list, hosts: list) -> bool:
    if receiver is None:
        return False
    if set(receiver.types) & set(integrations):
        return True
    return "webhook" in receiver.types and any(h in host for host in receiver.hosts for h in hosts)


def configs(project) -> list:
    """(Entry, AmConfig) of every Alertmanager configuration of the scan."""
    return scan_facts(project)["configs"]
