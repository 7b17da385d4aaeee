"""PM811: a GitHub Actions step or reusable workflow referenced by a movable tag or branch."""
import re

from ..registry import Hit, rule

_SHA = re.compile(r"^[0-9a-f]{40}$")


@rule(id="PM811", name="action-not-pinned-to-sha", severity="medium",
      severity_reason="A tag or branch of someone else's repository can be moved to new code at any time; "
                      "the job then runs it with the repository's secrets.",
      incidents=["8.1"], title="Third-party action not pinned to a full commit SHA",
      formats=("pipeline",), kinds=("PipelineJob",),
      options={"trusted_owners": []},
      fix="Pin `uses:` to the full 40-character commit SHA and keep the version in a comment "
          "(`actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1`); let Dependabot or "
          "Renovate update the pins.")
def check(resource, ctx):
    """## What it checks
    Every `uses:` of a GitHub Actions job (steps and reusable-workflow calls) that names another
    repository (`owner/repo@ref`, `owner/repo/path@ref`) must pin `ref` to a full 40-character
    commit SHA. Local actions (`./path`) and container actions pinned by digest
    (`docker://image@sha256:...`) are not reported; neither are owners listed in the option
    `trusted_owners` (for example your own organisation).

    ## Why it breaks production
    In catalog 8.1 a maintainer account was taken over and a trojanized release was published
    under a version people already used; builds picked it up and shipped malware. A tag like
    `@v3` or a branch like `@master` is exactly such a movable name: whoever controls the
    action's repository decides what your pipeline runs, with its secrets and deploy rights.

    ## Bad
    ```yaml .github/workflows/build.yml
    on: push
    jobs:
      scan:
        runs-on: ubuntu-latest
        steps:
          - uses: aquasecurity/trivy-action@master
    ```

    ## Good
    ```yaml .github/workflows/build.yml
    on: push
    jobs:
      scan:
        runs-on: ubuntu-latest
        steps:
          - uses: aquasecurity/trivy-action@6e7b7d1fd3e4fef0c5fa8cce1229c54b2c9bd0d8 # 0.24.0
          - uses: ./.github/actions/setup
    ```

    ## Fix
    Replace the tag or branch with the commit SHA it points at today, keep the version as a
    comment, and let a dependency bot propose new pins through reviewed pull requests.
    """
    if resource.data.get("system") != "github":
        return
    trusted = {str(o).lower() for o in ctx.options.get("trusted_owners") or []}
    for i, step in enumerate(resource.data.get("steps") or []):
        uses = step.get("uses")
        if not isinstance(uses, str) or uses.startswith(("./", "docker://")) or "@" not in uses:
            continue
        name, ref = uses.rsplit("@", 1)
        if "${{" in uses or _SHA.match(ref) or name.split("/")[0].lower() in trusted:
            continue
        kind = "branch" if ref in ("main", "master", "develop", "dev", "trunk") else "tag or branch"
        yield Hit(path=("steps", i, "uses"),
                  message=f"`uses: {uses}` in job '{resource.data.get('name')}' follows the {kind} '{ref}' of "
                          f"{name.split('/')[0]}/{name.split('/')[1] if '/' in name else ''}: whoever can move it "
                          f"changes what this job runs, with its secrets")
