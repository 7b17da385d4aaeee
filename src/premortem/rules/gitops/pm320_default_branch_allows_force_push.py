"""PM320: branch protection as code that lets anyone force-push over, or delete, the default branch."""
from ..registry import Hit, rule
from ._gitops import default_branches, truthy

CONSEQUENCE = {
    "allow_force_pushes": "anyone with push access can rewrite its history (`git push --force`), and GitOps then "
                          "deploys whatever old state the rewrite left",
    "allow_deletions": "anyone with push access can delete it, and GitOps then syncs an empty or stale state",
}


@rule(id="PM320", name="default-branch-allows-force-push", severity="high",
      severity_reason="One mistaken `git push --force` rewrites what GitOps deploys to production; the good "
                      "history is gone from the server.",
      incidents=["3.2"], title="Default branch allows force pushes or deletion",
      kinds=["GitHubSettings"], formats=("repo",), production_only=False,
      fix="In `.github/settings.yml` give the default branch a `protection:` block with "
          "`allow_force_pushes: false` and `allow_deletions: false` (the defaults when omitted), and never "
          "`protection: null`.")
def check(resource, ctx):
    """## What it checks
    `.github/settings.yml` (the Probot/safe-settings format for branch protection as code): the
    `branches:` entry of the default branch (`repository.default_branch`, else `main` and
    `master`) must not set `allow_force_pushes: true` or `allow_deletions: true`, and must not
    be `protection: null`, which removes branch protection altogether. A file that does not
    list the default branch is not judged (its protection lives elsewhere); other branches
    may allow force pushes.

    ## Why it breaks production
    In catalog 3.2 a developer ran `git push origin feature/login --force` onto main; Argo CD
    synced the rewritten branch and production rolled back to a three-week-old configuration.
    Protection that forbids force pushes and deletion rejects that push on the server.

    ## Bad
    ```yaml .github/settings.yml
    repository: {name: payments, default_branch: main}
    branches:
      - name: main
        protection:
          required_pull_request_reviews: {required_approving_review_count: 1}
          enforce_admins: true
          allow_force_pushes: true
    ```

    ## Good
    ```yaml .github/settings.yml
    repository: {name: payments, default_branch: main}
    branches:
      - name: main
        protection:
          required_pull_request_reviews: {required_approving_review_count: 1}
          enforce_admins: true
          allow_force_pushes: false
          allow_deletions: false
      - name: sandbox
        protection: {allow_force_pushes: true, required_pull_request_reviews: null}
    ```

    ## Fix
    Set `allow_force_pushes: false` and `allow_deletions: false` on the default branch (with
    `enforce_admins: true` so admins cannot bypass it), and recover bad merges with a revert
    commit, never a force push.
    """
    for i, branch, what in default_branches(resource.data):
        if "protection" in branch and branch["protection"] is None:
            yield Hit(path=("branches", i, "protection"),
                      message=f"protection: null removes all branch protection from the {what}: anyone with "
                              f"push access can force-push over its history or delete it, and GitOps deploys "
                              f"whatever state is left")
            continue
        protection = branch.get("protection")
        if not isinstance(protection, dict):
            continue
        for key, effect in CONSEQUENCE.items():
            if truthy(protection.get(key)):
                yield Hit(path=("branches", i, "protection", key), message=f"{key} is on for the {what}: {effect}")
