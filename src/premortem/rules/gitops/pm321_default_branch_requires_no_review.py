"""PM321: branch protection as code that lets changes reach the default branch without a review."""
from ..registry import Hit, rule
from ._gitops import default_branches

EFFECT = ("any push or self-merged pull request lands on it unreviewed, and GitOps deploys it to production "
          "(catalog 3.1: replicas 3→0 merged without a PR review)")


@rule(id="PM321", name="default-branch-requires-no-review", severity="high",
      severity_reason="Without a required approval one person's mistake reaches the branch GitOps deploys "
                      "to production, with nobody else having read it.",
      incidents=["3.2", "3.3"], title="Default branch protection requires no pull request review",
      kinds=["GitHubSettings"], formats=("repo",), production_only=False,
      fix="Add `required_pull_request_reviews: {required_approving_review_count: 1, dismiss_stale_reviews: true, "
          "require_code_owner_reviews: true}` to the default branch's `protection:` in `.github/settings.yml`.")
def check(resource, ctx):
    """## What it checks
    `.github/settings.yml` (Probot/safe-settings): the default branch's `protection:`
    (`repository.default_branch`, else `main`/`master`) must require pull request reviews:
    reported when `required_pull_request_reviews` is missing or `null`, or when
    `required_approving_review_count` is `0`. A count left out means GitHub's default of one
    approval and is fine. `protection: null` is PM320's finding, not this one's.

    ## Why it breaks production
    Catalog 3.1 names "no Git PR review – direct push to main" as a root cause of the auto-sync
    that scaled the payment service to zero, and 3.3 an unintended change merged to production
    by someone with write access. A required approval puts a second person between a commit and
    the branch Argo CD or Flux deploys.

    ## Bad
    ```yaml .github/settings.yml
    repository: {name: payments, default_branch: main}
    branches:
      - name: main
        protection:
          required_status_checks: {strict: true, contexts: [ci/test]}
          enforce_admins: true
          required_pull_request_reviews: null
    ```

    ## Good
    ```yaml .github/settings.yml
    repository: {name: payments, default_branch: main}
    branches:
      - name: main
        protection:
          required_status_checks: {strict: true, contexts: [ci/test]}
          enforce_admins: true
          required_pull_request_reviews: {required_approving_review_count: 1, dismiss_stale_reviews: true}
          allow_force_pushes: false
    ```

    ## Fix
    Require at least one approving review on the default branch (dismiss stale approvals and
    require code-owner review, so the owners of production paths see every change to them),
    and enforce it for admins.
    """
    for i, branch, what in default_branches(resource.data):
        protection = branch.get("protection")
        if not isinstance(protection, dict):
            continue
        reviews = protection.get("required_pull_request_reviews")
        base = ("branches", i, "protection")
        if "required_pull_request_reviews" not in protection:
            yield Hit(path=base, key=True,
                      message=f"the {what} is protected but has no required_pull_request_reviews: {EFFECT}")
        elif not isinstance(reviews, dict):
            yield Hit(path=base + ("required_pull_request_reviews",),
                      message=f"required_pull_request_reviews is {'null' if reviews is None else repr(reviews)} for the "
                              f"{what}, so no review is required: {EFFECT}")
        elif str(reviews.get("required_approving_review_count")).strip() == "0":
            yield Hit(path=base + ("required_pull_request_reviews", "required_approving_review_count"),
                      message=f"required_approving_review_count is 0 for the {what}: a pull request is needed "
                              f"but nobody has to approve it, so an author merges their own change and GitOps deploys "
                              f"it to production unreviewed")
