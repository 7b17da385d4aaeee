"""PM824: a dependency installed from git at a branch, a tag or the default branch."""
from ...model import Severity
from ..registry import Hit, rule
from ._packages import commit_pinned, lock_for


def _what(dep: dict) -> str:
    ref, kind = dep["ref"], dep.get("ref_kind", "")
    if not ref:
        return "with no ref, so at the default branch's newest commit"
    if ref.startswith("semver:"):
        return f"at `{ref}`, whichever tag matches that day"
    if kind == "tag" or ref[:1] == "v" and any(c.isdigit() for c in ref):
        return f"at the tag `{ref}`, which can be moved to any commit"
    if kind == "branch":
        return f"at the branch `{ref}`, which moves with every push"
    return f"at `{ref}`, a branch or tag name that can point at another commit tomorrow"


@rule(id="PM824", name="git-dependency-without-commit", severity="high",
      severity_reason="Whoever can push to that repository decides what the next build installs, with no registry, "
                      "version number or integrity hash in the way.",
      incidents=["8.1"], title="Git dependency is not pinned to a commit",
      formats=("package",), kinds=("PackageManifest",),
      fix="Pin the dependency to a full 40-character commit SHA (`#<sha>` for npm, `@<sha>` for pip, "
          "`rev = \"<sha>\"` for Poetry/uv/Pipenv), or publish it to a registry and depend on a version.")
def check(resource, ctx):
    """## What it checks
    Dependencies installed from a git repository — npm `github:org/repo`, `org/repo`,
    `git+https://…#main`; pip `git+https://…@main#egg=x` (also `-e`); Poetry and uv
    `{git = "…", branch = "…"}`; Pipfile `{git = "…", ref = "…"}` — whose ref is not a full
    40-character commit SHA: a branch, a tag, `semver:` or nothing at all (the default branch).
    Development dependencies (`devDependencies`, dev groups, `requirements-dev.txt`) are left out.
    When a lockfile of the same ecosystem sits beside the manifest or above it (it records the
    commit that was resolved) the finding is medium: the next `npm install`/`poetry update`
    still moves it. Requirement files have no lock and stay high.

    ## Why it breaks production
    In catalog 8.1 a hijacked account pushed malicious code that builds installed unreviewed;
    a git dependency on a branch is that channel without even a registry in between — any push
    (or force-push) to the branch is in the next build. A tag is no better: it can be deleted
    and re-created on another commit.

    ## Bad
    ```text requirements.txt
    payments-sdk @ git+https://github.com/acme/payments-sdk.git@main
    ```

    ## Good
    ```text requirements.txt
    payments-sdk @ git+https://github.com/acme/payments-sdk.git@5f1c3a9e2b7d4c6f8a0e1b2c3d4e5f6a7b8c9d0e
    ```

    ## Fix
    Replace the branch or tag with the commit SHA it points at today, and update it
    deliberately (a reviewed change), or publish the package to a registry and pin a version.
    """
    d = resource.data
    floating = [x for x in d.get("dependencies", [])
                if x["source"] == "git" and not commit_pinned(x["ref"]) and x["group"] != "dev"]
    # a requirements file has no lock; a manifest's lockfile records the commit it resolved
    lock = lock_for(ctx.project, resource.file, d["ecosystem"], requirements=False) \
        if floating and d["manager"] != "pip" else ""
    for dep in floating:
        where = dep["url"] or dep["spec"]
        tail = (f"; {lock} records the commit resolved last time, but the next update moves to the branch's head"
                if lock else "; no lockfile records a commit, so every install takes what the ref points at then")
        yield Hit(path=("dependencies", dep["id"]), severity=Severity.MEDIUM if lock else None,
                  message=f"`{dep.get('alias') or dep['name']}` is installed from git ({where}) {_what(dep)}: "
                          f"any push to that repository ships in the next build{tail} (catalog 8.1)")
