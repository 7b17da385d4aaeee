"""PM322: CODEOWNERS exists, but the default branch's protection does not require code-owner review."""
from ..registry import Hit, rule
from ._gitops import codeowners_file, default_branches, truthy


@rule(id="PM322", name="codeowner-review-not-required", severity="medium",
      severity_reason="The owners of production paths are only asked, not required: any approval merges a "
                      "production change, so CODEOWNERS gives a false sense of control.",
      incidents=["3.3"], title="CODEOWNERS is advisory: code-owner review is not required",
      kinds=["GitHubSettings"], formats=("repo",), production_only=False,
      fix="Set `require_code_owner_reviews: true` under the default branch's `required_pull_request_reviews` "
          "in `.github/settings.yml`.")
def check(resource, ctx):
    """## What it checks
    When the scan holds the repository's CODEOWNERS file (`.github/`, root or `docs/`), the
    default branch's `required_pull_request_reviews` in `.github/settings.yml` must set
    `require_code_owner_reviews: true`. Branches without required reviews at all are PM321's
    finding; files without a CODEOWNERS in the scan are not judged.

    ## Why it breaks production
    In catalog 3.3 a team member with write access but no business in production changed a
    database Service to LoadBalancer and it synced out, exposing the database. A CODEOWNERS line
    like `/prod/ @lead-devops @platform-team` only stops that when branch protection requires the
    code owners' approval; otherwise they are merely requested as reviewers.

    ## Bad
    ```yaml .github/settings.yml
    repository: {name: payments, default_branch: main}
    branches:
      - name: main
        protection:
          required_pull_request_reviews: {required_approving_review_count: 1}
    ```
    ```text .github/CODEOWNERS
    /k8s/prod/ @org/platform-team
    ```

    ## Good
    ```yaml .github/settings.yml
    repository: {name: payments, default_branch: main}
    branches:
      - name: main
        protection:
          required_pull_request_reviews: {required_approving_review_count: 1, require_code_owner_reviews: true}
    ```
    ```text .github/CODEOWNERS
    /k8s/prod/ @org/platform-team
    ```

    ## Fix
    Require code-owner review on the default branch, and keep CODEOWNERS covering every
    production path (PM331), so a change there cannot merge without its owners.
    """
    owners = codeowners_file(ctx.project)
    if owners is None:
        return
    for i, branch, what in default_branches(resource.data):
        protection = branch.get("protection")
        reviews = protection.get("required_pull_request_reviews") if isinstance(protection, dict) else None
        if not isinstance(reviews, dict) or str(reviews.get("required_approving_review_count")).strip() == "0":
            continue
        if truthy(reviews.get("require_code_owner_reviews")):
            continue
        path = ("branches", i, "protection", "required_pull_request_reviews")
        at = path + ("require_code_owner_reviews",) if "require_code_owner_reviews" in reviews else path
        yield Hit(path=at, key=at == path,
                  message=f"{owners.file} assigns owners, but the {what} "
                          f"{'turns require_code_owner_reviews off' if at != path else 'does not set require_code_owner_reviews'}: "
                          f"any approval merges a change to a production path without its owners")
