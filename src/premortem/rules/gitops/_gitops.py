"""Helpers shared by the GitOps and repository-governance rules (PM310–PM332). Not a rule.

- production evidence for where a GitOps object *delivers* (its destination), not where it lives;
- Argo CD: automated sync policy, AppProject sync windows, ApplicationSet parameter rendering;
- CODEOWNERS: GitHub's pattern semantics (gitignore-like, last match wins, no owners un-owns) and
  GitLab sections;
- branch protection as code (`.github/settings.yml`, Probot/safe-settings format);
- secret-scanning evidence (config files, pre-commit hooks).
"""
from __future__ import annotations

import fnmatch
import functools
import re

# ---- the repository as a whole -----------------------------------------------------------------------

# The engine anchors its Repository resource at the first of these it finds at the scan root (else at a
# scanned file); only then is the root a repository (or project) root whose governance can be judged:
# a scan of a sub-directory or of loose files says nothing about CODEOWNERS or secret scanning.
REPO_ROOT_MARKERS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", "README.md", "README")


def is_repo_root(resource) -> bool:
    return resource.format == "repository" and resource.file in REPO_ROOT_MARKERS


# ---- production evidence ------------------------------------------------------------------------


def production_of(ctx, namespace, candidates: list, ns_label: str = "destination namespace") -> str:
    """Why a delivery target is production ('' when it is not), naming the field that decided it.

    `candidates` are (label, value) pairs tried as paths (source path, cluster name or URL, the
    manifest's own file), in order of strength. Decided by `config.production_evidence`, so
    `production.namespaces/paths/non_production_namespaces` in .premortem.yaml apply as everywhere."""
    ns = namespace if isinstance(namespace, str) else ""
    values = [(label, v) for label, v in candidates if isinstance(v, str) and v]
    evidence = ctx.config.production_evidence(ns, [v for _, v in values])
    if not evidence:
        return ""
    if ns and evidence == f"namespace '{ns}'":
        return f"{ns_label} '{ns}'"
    for label, v in values:
        if f"'{v}'" in evidence:
            reason = evidence.replace(f" in '{v}'", "").replace(f"path '{v}' ", "")
            if reason == f"path segment '{v}'":
                return f"{label} '{v}'"
            return f"{label} '{v}' {'with ' if reason.startswith('path segment') else ''}{reason}"
    return evidence


def truthy(value) -> bool:
    """A YAML boolean that is on (also "true" from a templated string or `{enabled: true}`)."""
    if isinstance(value, dict):
        value = value.get("enabled")
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


# ---- Argo CD -------------------------------------------------------------------------------------


def is_argo(resource) -> bool:
    return resource.api_version.startswith("argoproj.io/")


def automated(spec) -> dict | None:
    """The `syncPolicy.automated` block when auto-sync is on (`automated: {}` is on; `enabled: false`
    and a missing or null block are off)."""
    auto = _dict(_dict(spec).get("syncPolicy")).get("automated")
    if not isinstance(auto, dict) or auto.get("enabled", True) is False or str(auto.get("enabled")).lower() == "false":
        return None
    return auto


def argo_target(spec, file: str = "") -> tuple:
    """(namespace, candidates, server, cluster name) of an Application spec's destination."""
    spec = _dict(spec)
    dest = _dict(spec.get("destination"))
    sources = [spec.get("source")] + _list(spec.get("sources"))
    candidates = []
    for src in sources:
        src = _dict(src)
        candidates.append(("source path", src.get("path")))
        for vf in _list(_dict(src.get("helm")).get("valueFiles")):
            candidates.append(("Helm values file", vf))
    candidates += [("destination cluster", dest.get("name")), ("destination server", dest.get("server")),
                   ("Application file", file)]
    return dest.get("namespace"), candidates, dest.get("server"), dest.get("name")


def sync_windows(ctx, project_name, app_name, namespace, server, cluster) -> tuple[list, bool]:
    """(windows of the AppProject that cover this application, whether the project is in the scan).

    A window covers an app when one of its `applications`, `namespaces` or `clusters` globs matches
    the app name, destination namespace, or destination server/name (Argo CD's rule); allow windows
    (sync only inside them) and deny windows (no auto-sync inside them) both gate auto-sync."""
    entry = ctx.project.named("AppProject", str(project_name or "default"))
    if entry is None:
        return [], False
    out = []
    for w in _list(entry.facts.get("syncWindows")):
        if not isinstance(w, dict) or str(w.get("kind", "")).lower() not in ("allow", "deny"):
            continue
        pairs = (("applications", app_name), ("namespaces", namespace), ("clusters", server), ("clusters", cluster))
        if any(isinstance(v, str) and v and isinstance(w.get(field), list)
               and any(fnmatch.fnmatchcase(v, str(g)) for g in w[field]) for field, v in pairs):
            out.append(w)
    return out, True


def gate_note(ctx, project, app, ns, server, cluster) -> str | None:
    """None when an AppProject sync window gates the app, else how the project was looked up."""
    windows, found = sync_windows(ctx, project, app, ns, server, cluster)
    if windows:
        return None
    if not found:
        return f"project '{project}' is not in the scan, so no sync window is known to cover it"
    return f"no sync window of project '{project}' covers it"


def auto_sync_consequence(self_heal: bool) -> str:
    if self_heal:
        return ("a bad commit (replicas 3→0, limits removed) reaches production within minutes, objects "
                "deleted or moved in Git are deleted live, and selfHeal reverts the on-call's manual fix")
    return ("a bad commit reaches production within minutes and objects deleted or moved in Git are deleted "
            "live (without selfHeal a manual fix at least survives until the next commit)")


_PLACEHOLDER = re.compile(r"\{\{\s*\.?([A-Za-z_][\w.\-]*)\s*\}\}")


def render(obj, params: dict):
    """An ApplicationSet template with `{{key}}` / `{{.key}}` / `{{values.key}}` filled from one
    generator element; unknown placeholders stay as written."""
    if isinstance(obj, str):
        def sub(m):
            node = params
            for step in m.group(1).split("."):
                if not isinstance(node, dict) or step not in node:
                    return m.group(0)
                node = node[step]
            return str(node) if isinstance(node, (str, int, float)) else m.group(0)
        return _PLACEHOLDER.sub(sub, obj)
    if isinstance(obj, dict):
        return {k: render(v, params) for k, v in obj.items()}
    if isinstance(obj, list):
        return [render(v, params) for v in obj]
    return obj


def generator_params(generators, path: tuple):
    """(path, kind, params) of every generator input that says where apps go: list elements, git
    directory/file paths, cluster selector labels; nested matrix/merge generators included."""
    for i, g in enumerate(_list(generators)):
        g = _dict(g)
        here = path + (i,)
        for j, el in enumerate(_list(_dict(g.get("list")).get("elements"))):
            if isinstance(el, dict):
                yield here + ("list", "elements", j), "list", el
        for key in ("directories", "files"):
            for j, d in enumerate(_list(_dict(g.get("git")).get(key))):
                if isinstance(d, dict) and isinstance(d.get("path"), str):
                    yield here + ("git", key, j, "path"), "git", {"path": d["path"]}
        labels = _dict(_dict(_dict(g.get("clusters")).get("selector")).get("matchLabels"))
        if labels:
            yield here + ("clusters", "selector", "matchLabels"), "clusters", labels
        for nested in ("matrix", "merge"):
            yield from generator_params(_dict(g.get(nested)).get("generators"), here + (nested, "generators"))


# ---- Flux ---------------------------------------------------------------------------------------------


def released_source(ctx, resource) -> str:
    """The pinned ref ('tag v1.4.0') of the Flux source a Kustomization/HelmRelease reads, when the
    source is in the scan and only moves when someone cuts a release; '' for a branch head."""
    ref = _dict(resource.get(("spec", "sourceRef")))
    name = ref.get("name")
    if not isinstance(name, str):
        return ""
    ns = ref.get("namespace") if isinstance(ref.get("namespace"), str) else resource.namespace
    entry = ctx.project.named(str(ref.get("kind") or "GitRepository"), name, ns)
    pinned = _dict(entry.facts.get("ref")) if entry is not None else {}
    return next((f"{k} {pinned[k]}" for k in ("tag", "semver", "commit", "digest") if pinned.get(k)), "")


# ---- CODEOWNERS ------------------------------------------------------------------------------------

CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


def codeowners_file(project):
    """The CODEOWNERS file the forge reads: GitHub looks in .github/, the root, then docs/ (GitLab adds
    .gitlab/); a CODEOWNERS anywhere else is ignored by both."""
    found = {e.file: e for e in project.of_kind("CodeOwners") if e.format == "repo"}
    return next((found[loc] for loc in CODEOWNERS_LOCATIONS if loc in found), None)


@functools.lru_cache(maxsize=4096)
def codeowners_regex(pattern: str) -> re.Pattern:
    """A CODEOWNERS pattern as GitHub matches it: a pattern without a slash matches at any depth,
    a leading or middle slash anchors it at the root, a trailing slash means the directory's
    contents, `dir/*` means direct children only, `**` spans directories, and a plain name also
    matches everything below a directory of that name."""
    if pattern in ("", "/"):
        return re.compile(r"(?!)")
    segs = pattern.split("/")
    if segs[0] == "":
        segs = segs[1:]
    elif (len(segs) == 1 or (len(segs) == 2 and segs[1] == "")) and segs[0] != "**":
        segs = ["**"] + segs
    if len(segs) > 1 and segs[-1] == "":
        segs[-1] = "**"
    out, slash, last = [], False, len(segs) - 1
    for i, seg in enumerate(segs):
        if seg == "**":
            out.append(".+" if i == 0 == last else "(?:.+/)?" if i == 0 else "/.*" if i == last else "(?:/.+)?")
            slash = 0 < i < last
            continue
        out.append("/" if slash else "")
        if seg == "*":
            out.append("[^/]+")
        else:
            out.append("".join(re.escape(c[1:]) if c.startswith("\\") else "[^/]*" if c == "*"
                               else "[^/]" if c == "?" else re.escape(c)
                               for c in re.findall(r"\\.|.", seg)))
            if i == last:
                out.append("(?:/.*)?")
        slash = True
    return re.compile("".join(out) + r"\Z")


def ownership(entries: list, path: str) -> tuple[bool, str]:
    """(owned, why) for a file: per section (GitLab; GitHub has one), the last matching entry wins;
    the file is owned when a required section's winning entry names owners."""
    winners: dict = {}
    for e in entries:
        if isinstance(e, dict) and not e.get("invalid") and codeowners_regex(str(e.get("pattern"))).match(path):
            winners[e.get("section", "")] = e
    for e in winners.values():
        if e.get("owners") and not e.get("optional"):
            return True, f"owned by {' '.join(e['owners'])} (line {e.get('line')})"
    if not winners:
        return False, "no pattern matches it"
    e = next(iter(winners.values()))
    if e.get("optional"):
        return False, f"only the optional section '{e.get('section')}' matches it (line {e.get('line')}), which requires no approval"
    return False, f"the last matching pattern '{e.get('pattern')}' (line {e.get('line')}) lists no owners, which un-owns it"


# ---- branch protection as code (.github/settings.yml) ---------------------------------------------


def default_branches(data) -> list:
    """(index, branch entry, description) for the default branch's entries in `branches:`:
    `repository.default_branch`, else `main` and `master`."""
    data = _dict(data)
    default = _dict(data.get("repository")).get("default_branch")
    names = [default] if isinstance(default, str) and default else ["main", "master"]
    how = "" if isinstance(default, str) and default else " (assumed: repository.default_branch is not set)"
    return [(i, b, f"default branch '{b.get('name')}'{how}")
            for i, b in enumerate(_list(data.get("branches")))
            if isinstance(b, dict) and b.get("name") in names]


# ---- secret scanning evidence -------------------------------------------------------------------------

SECRET_SCANNERS = ["gitleaks", "trufflehog", "detect-secrets", "ggshield", "git-secrets", "talisman",
                   "secretlint", "ripsecrets"]
# pre-commit-hooks' detectors look for one shape only: they are not secret scanning
PARTIAL_HOOKS = {"detect-private-key": "finds private-key headers only, not API keys or tokens",
                 "detect-aws-credentials": "finds only the AWS keys configured on the committer's own machine"}


def hooks(data) -> list:
    """(path, repo, hook) for every pre-commit hook."""
    out = []
    for i, repo in enumerate(_list(_dict(data).get("repos"))):
        repo = _dict(repo)
        for j, hook in enumerate(_list(repo.get("hooks"))):
            if isinstance(hook, dict):
                out.append((("repos", i, "hooks", j), str(repo.get("repo", "")), hook))
    return out


def scanner_of_hook(repo: str, hook: dict, tools: list) -> str:
    text = " ".join(str(x) for x in (repo, hook.get("id", ""), hook.get("entry", ""))).lower()
    return next((t for t in tools if t.lower() in text), "")


def secret_scanning_evidence(project, tools: list) -> str:
    """Where the repository scans for secrets ('' when nowhere in the scan)."""
    for e in sorted(project.of_kind("SecretScanConfig"), key=lambda e: e.file):
        if e.format == "repo":
            return f"{_dict(e.facts.get('data')).get('tool', 'secret scanner')} config {e.file}"
    for e in sorted(project.of_kind("PreCommitConfig"), key=lambda e: e.file):
        for _, repo, hook in hooks(e.facts.get("data")):
            tool = scanner_of_hook(repo, hook, tools)
            if tool:
                return f"{tool} pre-commit hook in {e.file}"
    return ""


# GitHub actions and GitLab templates that scan for secrets, matched in `uses:` / `include:`
SCANNER_ACTIONS = ("gitleaks/gitleaks-action", "trufflesecurity/trufflehog", "gitguardian/ggshield-action",
                   "gitguardian/ggshield", "secret-detection")


def _ci_jobs(project) -> list:
    return [e for e in project.of_kind("PipelineJob")
            if (e.facts.get("data") or {}).get("system") not in ("script", "make")]


def ci_secret_scanning(project, tools: list) -> str:
    """Which CI job runs a secret scanner ('' when none): a scanner action or command, GitLab's
    Secret-Detection template, or `pre-commit run` when the pre-commit config holds a scanner hook."""
    names = [t.lower() for t in tools]
    precommit = any(scanner_of_hook(repo, hook, tools) for e in project.of_kind("PreCommitConfig")
                    for _, repo, hook in hooks(e.facts.get("data")))
    for e in sorted(_ci_jobs(project), key=lambda e: (e.file, e.line)):
        data = e.facts.get("data") or {}
        for inc in data.get("includes") or []:
            if "secret-detection" in str(inc).lower():
                return f"GitLab {inc} in {data.get('pipeline') or e.file}"
        for step in data.get("steps") or []:
            uses = str(step.get("uses") or "").lower()
            if uses and (any(a in uses for a in SCANNER_ACTIONS) or any(n in uses for n in names)
                         or (precommit and uses.startswith("pre-commit/action"))):
                return f"`uses: {step['uses']}` in CI job '{e.name}' ({e.file}:{step.get('line')})"
            for cmd in step.get("commands") or []:
                argv = [str(a).lower() for a in cmd.get("argv") or []]
                hit = next((n for n in names if any(a == n or a.endswith("/" + n) or a.split(":")[0].endswith("/" + n)
                                                    for a in argv)), "")
                if not hit and precommit and argv[:2] == ["pre-commit", "run"]:
                    hit = "pre-commit"
                if hit:
                    return f"`{hit}` in CI job '{e.name}' ({e.file}:{cmd.get('line')})"
    return ""


def has_ci(project) -> bool:
    return bool(_ci_jobs(project))
