"""PM813: CI installs JavaScript dependencies in a way that may ignore or rewrite the lockfile."""
from ..delivery._deploys import commands, subcommand, tool, words
from ..delivery._flow import is_ci
from ..registry import Hit, rule

_FROZEN = {"--frozen-lockfile", "--immutable", "--pure-lockfile"}


@rule(id="PM813", name="npm-install-in-ci", severity="medium",
      severity_reason="The build may resolve different, newer package versions than the ones reviewed in the "
                      "lockfile, including a freshly compromised release.",
      incidents=["8.1"], title="CI installs dependencies without enforcing the lockfile",
      formats=("pipeline",), kinds=("PipelineJob",),
      fix="Use `npm ci` (or `yarn install --frozen-lockfile` / `yarn install --immutable`), which installs "
          "exactly the lockfile and fails when it is out of date.")
def check(resource, ctx):
    """## What it checks
    Every shell command of every CI job (GitHub Actions, GitLab CI, Jenkins; not shell scripts or
    make targets, which people run by hand) that installs a
    project's dependencies: `npm install` / `npm i` with no package arguments, and `yarn` /
    `yarn install` without `--frozen-lockfile` or `--immutable`. Installing one named tool
    (`npm install -g aws-cdk@2.140.0`) and `npm ci` are not reported.

    ## Why it breaks production
    In catalog 8.1 a hijacked maintainer account published a trojanized ua-parser-js and builds
    that resolved version ranges pulled it within hours. `npm install` resolves ranges and may
    rewrite the lockfile, so the code that ships is not the code that was reviewed; `npm ci`
    installs exactly the lockfile or fails.

    ## Bad
    ```yaml .github/workflows/build.yml
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: npm install && npm run build
    ```

    ## Good
    ```yaml .github/workflows/build.yml
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: npm ci && npm run build
          - run: npm install -g aws-cdk@2.140.0
    ```

    ## Fix
    Replace `npm install` with `npm ci` in CI (and yarn's install with `--frozen-lockfile` or
    `--immutable`); commit the lockfile.
    """
    if not is_ci(resource.data):  # shell scripts and make targets are run by hand (local dev)
        return
    for path, cmd in commands(resource):
        argv = words(cmd["argv"])
        prog = tool(cmd["argv"])
        sub = subcommand(argv)
        rest = [a for a in argv[2:] if a != sub] if sub else []
        if prog == "npm" and sub in ("install", "i", "add"):
            if any(not a.startswith("-") for a in rest):
                continue  # a named package (a tool), not the project's dependency tree
            yield Hit(path=path, message=f"`{cmd.get('text') or ' '.join(argv)}` in CI job "
                                         f"'{resource.data.get('name')}' resolves version ranges and may rewrite "
                                         f"package-lock.json instead of installing exactly what was reviewed; use `npm ci`")
        elif prog == "yarn" and sub in ("", "install") and not _FROZEN & set(argv):
            if sub == "" and len(argv) > 1:
                continue  # `yarn build` etc. are scripts, not installs
            yield Hit(path=path, message=f"`{cmd.get('text') or ' '.join(argv)}` in CI job "
                                         f"'{resource.data.get('name')}' may update yarn.lock; add --frozen-lockfile "
                                         f"(yarn 1) or --immutable (yarn 2+)")
