"""PM332: nothing in the repository scans commits for secrets."""
from ..registry import Hit, rule
from ._gitops import (
    PARTIAL_HOOKS,
    SECRET_SCANNERS,
    ci_secret_scanning,
    has_ci,
    hooks,
    is_repo_root,
    scanner_of_hook,
    secret_scanning_evidence,
)

EFFECT = "a hardcoded cloud key or token is pushed unnoticed and bots harvest it within minutes (catalog 4.1)"


@rule(id="PM332", name="no-secret-scanning", severity="medium",
      severity_reason="A missing safety net rather than a fault: nothing fails until someone commits a secret, "
                      "and then nothing stops it.",
      incidents=["3.3", "4.1"], title="No secret scanning anywhere in the repository",
      kinds=["Repository", "PreCommitConfig"], formats=("repository", "repo"), production_only=False,
      options={"tools": SECRET_SCANNERS},
      fix="Add a secret-scanning pre-commit hook (`repo: https://github.com/gitleaks/gitleaks`, `hooks: [{id: "
          "gitleaks}]`) and the same scanner as a required CI check, with its config (`.gitleaks.toml`) in the repo.")
def check(resource, ctx):
    """## What it checks
    The repository as a whole: some evidence of secret scanning must be in the scan — a
    `.gitleaks.toml`, `.trufflehog.yml` or detect-secrets `.secrets.baseline`, or a
    `.pre-commit-config.yaml` hook from one of the `tools` (gitleaks, trufflehog, detect-secrets,
    ggshield, git-secrets, talisman, secretlint, ripsecrets; matched in the hook's repo URL, id
    or entry). pre-commit-hooks' `detect-private-key` and `detect-aws-credentials` do not count:
    they recognise one shape of secret each. When a pre-commit config exists the finding is on
    its `repos:` key (where the hook belongs), else on the repository (its CODEOWNERS or README,
    line 1) when the scan root is a repository root (has one of those; a sub-directory scan
    cannot tell). A CI job that runs a scanner silences it: a scanner action
    (`gitleaks/gitleaks-action`, `trufflesecurity/trufflehog`, `GitGuardian/ggshield-action`), a
    command of one of the `tools` (also as a container image), GitLab's `Secret-Detection`
    template in `include:`, or `pre-commit run` / `pre-commit/action` when the pre-commit config
    holds a scanner hook. When the scan has CI pipelines but the scanner lives only in a pre-commit
    hook or a config file, that is reported too (at the hook): hooks run only where someone
    installed them, and `--no-verify` skips them.

    ## Why it breaks production
    Catalog 3.3 lists "no secret detection or scanning in pull requests" among the root causes
    of an unreviewed change reaching production, and prescribes Gitleaks on every push; in 4.1
    hardcoded AWS keys pushed to Git were exploited within 10 minutes.

    ## Bad
    ```yaml .pre-commit-config.yaml
    repos:
      - repo: https://github.com/pre-commit/pre-commit-hooks
        rev: v4.6.0
        hooks:
          - id: detect-private-key
          - id: trailing-whitespace
    ```

    ## Good
    ```yaml .pre-commit-config.yaml
    repos:
      - repo: https://github.com/pre-commit/pre-commit-hooks
        rev: v4.6.0
        hooks:
          - id: detect-private-key
      - repo: https://github.com/gitleaks/gitleaks
        rev: v8.18.4
        hooks:
          - id: gitleaks
    ```

    ## Fix
    Run a secret scanner before the commit leaves the laptop (pre-commit hook) and again as a
    required CI check on every pull request, so a bypassed hook is still caught; keep its
    allow-list in `.gitleaks.toml` instead of disabling it.
    """
    tools = [str(t) for t in ctx.options.get("tools") or SECRET_SCANNERS]
    if ci_secret_scanning(ctx.project, tools):
        return
    local = secret_scanning_evidence(ctx.project, tools)
    ci = has_ci(ctx.project)
    configs = sorted(ctx.project.of_kind("PreCommitConfig"), key=lambda e: e.file)
    if local:
        if not ci or resource.format == "repository" and configs:
            return
        # scanning exists but only on laptops that installed it: report at the scanner hook, or the repository
        if is_repo_root(resource) or resource.format != "repository" and resource.file == configs[0].file:
            at = next((p for p, repo, hook in hooks(resource.data) if scanner_of_hook(repo, hook, tools)), ())
            yield Hit(path=at, message=f"secret scanning runs only outside CI ({local}): no CI job runs a scanner, "
                                       "so `git commit --no-verify`, a web edit or a machine without the hook pushes "
                                       "secrets unchecked; " + EFFECT)
        return
    none_in_ci = " and no CI job runs a scanner" if ci else ""
    if resource.format == "repository":
        if not configs and is_repo_root(resource):
            yield Hit(path=(), message="no secret scanning anywhere in the repository: no .gitleaks.toml, "
                                      f".trufflehog.yml or .secrets.baseline, no pre-commit config{none_in_ci}: "
                                      + EFFECT)
        return
    if resource.file != configs[0].file:
        return
    found = hooks(resource.data)
    ids = [str(h.get("id")) for _, _, h in found]
    partial = [f"'{i}' {PARTIAL_HOOKS[i]}" for i in ids if i in PARTIAL_HOOKS]
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    yield Hit(path=("repos",) if "repos" in (resource.data or {}) else (), key=True,
              message=f"pre-commit runs {len(ids)} hook{'s' if len(ids) != 1 else ''} ({shown or 'none'}) but none "
                      f"scans for secrets{' (' + '; '.join(partial) + ')' if partial else ''}, and the repository has "
                      f"no gitleaks/trufflehog/detect-secrets config{none_in_ci}: " + EFFECT)
