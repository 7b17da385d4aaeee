"""PM331: production manifests that no CODEOWNERS entry owns (reported once per directory)."""
import posixpath

from ...model import Source
from ..registry import Hit, rule
from ._gitops import CODEOWNERS_LOCATIONS, codeowners_file, is_repo_root, ownership


def unowned_dirs(project, config):
    """(CODEOWNERS entry or None, {dir: info}) for directories holding production manifests that nobody
    owns; info: first (file, line), the unowned files, the production evidence and why it is unowned."""
    owners = codeowners_file(project)
    rules = ((owners.facts.get("data") or {}).get("entries") or []) if owners is not None else []
    decided, dirs = {}, {}
    for e in project.entries:
        if e.format != "kubernetes":
            continue
        evidence = config.production_evidence(e.namespace, [e.file])
        if not evidence:
            continue
        if e.file not in decided:
            decided[e.file] = ownership(rules, e.file) if owners is not None else (False, "")
        owned, why = decided[e.file]
        if owned:
            continue
        info = dirs.setdefault(posixpath.dirname(e.file), {"first": (e.file, e.line), "files": set()})
        info["files"].add(e.file)
        if (e.file, e.line) <= info["first"]:
            info.update(first=(e.file, e.line), evidence=evidence, why=why)
    return owners, dirs


def where(d: str) -> str:
    return f"'{d}/'" if d else "the repository root"


@rule(id="PM331", name="production-path-without-codeowner", severity="medium",
      severity_reason="Nothing breaks by itself, but anyone with write access can merge a production change "
                      "without the owning team's review.",
      incidents=["3.3"], title="Production manifests have no CODEOWNERS owner",
      kinds=None, formats=("kubernetes", "repository"), production_only=False,
      fix="Add a CODEOWNERS line that owns the production paths (`/k8s/prod/ @org/platform-team`) after any "
          "broader pattern (the last match wins), and require code-owner review on the default branch.")
def check(resource, ctx):
    """## What it checks
    Every production manifest of the scan (production by namespace or path, as for every rule)
    must be owned in the CODEOWNERS file the forge reads (`.github/CODEOWNERS`, `CODEOWNERS`,
    `docs/CODEOWNERS`; GitLab's `.gitlab/CODEOWNERS`). Patterns follow GitHub's semantics: a
    pattern without a slash matches at any depth, a leading or middle slash anchors it at the
    root, `dir/*` covers direct children only, the last matching pattern wins, and a pattern
    with no owners un-owns what it matches; negations and `[ ]` ranges are not CODEOWNERS syntax
    and are skipped. GitLab sections count (entries use the section's default owners; optional
    `^[...]` sections require no approval). Reported once per directory, at the first unowned
    production manifest in it, naming the other files. Without any CODEOWNERS file it is
    reported once, on the repository (at its README, line 1), listing the directories; that
    needs a scan of the repository root (a README or CODEOWNERS there), as a scan of a
    sub-directory or of single files cannot see the repository's CODEOWNERS.

    ## Why it breaks production
    In catalog 3.3 a team member with write access but no business in production changed a
    database Service from ClusterIP to LoadBalancer; it merged, Argo CD synced it and the
    database was exposed to the internet. A CODEOWNERS entry such as `/prod/ @lead-devops
    @platform-team` makes the platform team's review part of every production change.

    ## Bad
    ```yaml k8s/prod/payment-db.yaml
    apiVersion: v1
    kind: Service
    metadata: {name: payment-db, namespace: prod}
    spec:
      type: ClusterIP
      selector: {app: payment-db}
      ports: [{port: 5432}]
    ```
    ```text .github/CODEOWNERS
    *.md @org/docs-team
    ```

    ## Good
    ```yaml k8s/prod/payment-db.yaml
    apiVersion: v1
    kind: Service
    metadata: {name: payment-db, namespace: prod}
    spec:
      type: ClusterIP
      selector: {app: payment-db}
      ports: [{port: 5432}]
    ```
    ```text .github/CODEOWNERS
    *.md @org/docs-team
    /k8s/prod/ @org/platform-team
    ```

    ## Fix
    Own every production directory in CODEOWNERS (`/k8s/prod/ @org/platform-team`, placed after
    broader patterns because the last match wins) and turn on "require review from code owners"
    for the default branch (PM322), so production changes cannot merge without that team.
    """
    owners, dirs = ctx.project.memo("gitops.pm331", lambda p: unowned_dirs(p, ctx.config))
    if not dirs:
        return
    if resource.format == "repository":
        if owners is not None or not is_repo_root(resource):
            return
        listed = ", ".join(where(d) for d in sorted(dirs)[:3]) + (f" and {len(dirs) - 3} more" if len(dirs) > 3 else "")
        related = tuple((Source(*dirs[d]["first"]),
                         f"production manifest without a code owner [production: {dirs[d]['evidence']}]")
                        for d in sorted(dirs))
        yield Hit(path=(), related=related,
                  message=f"no CODEOWNERS file ({', '.join(CODEOWNERS_LOCATIONS[:3])}) in the scan: production "
                          f"manifests in {listed} have no owner whose review is required, so anyone with write "
                          f"access can merge a production change (a ClusterIP database turned LoadBalancer)")
        return
    info = dirs.get(posixpath.dirname(resource.file))
    if owners is None or info is None or info["first"] != (resource.file, resource.line):
        return
    files = sorted(posixpath.basename(f) for f in info["files"])
    if len(files) == 1:
        what = f"production manifest '{resource.file}' has no code owner in {owners.file}: {info['why']}"
    else:
        names = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        what = (f"{len(files)} production manifest files in {where(posixpath.dirname(resource.file))} ({names}) have "
                f"no code owner in {owners.file} (for {posixpath.basename(resource.file)}: {info['why']})")
    yield Hit(path=(), message=f"{what}; anyone with write access can merge a production change without the owning "
                               f"team's review", production=info["evidence"])
