"""PM821: a production dependency declared as a version range, with no lockfile to pin it."""
from ..registry import Hit, rule
from ._packages import lock_for, npm_range, npm_role, registry_deps


@rule(id="PM821", name="dependency-range-without-lock", severity="medium",
      severity_reason="The version installed is whichever matching release is newest on the day of the install; "
                      "medium because it is not clear the package is deployed as is (PM820 covers apps).",
      incidents=["8.1"], title="Production dependency is a version range and nothing locks it",
      formats=("package",), kinds=("PackageManifest",),
      fix="Commit a lockfile for the package (`npm install` writes package-lock.json), or pin the dependency to "
          "one exact version (`\"express\": \"4.18.2\"`).")
def check(resource, ctx):
    """## What it checks
    Every production dependency (`dependencies`, not dev, peer or optional) of a `package.json`
    whose version is a range — `^1.2.3`, `~1.2.3`, `*`, `x`, `latest` or another dist-tag,
    `>=1.0`, `1.x` — when no lockfile (`package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`,
    `pnpm-lock.yaml`, `bun.lock`) sits in its directory or a parent directory. It judges the
    packages PM820 does not: ones that are neither clearly an app (private, a `start` script, a
    Dockerfile beside it: PM820 reports those once, at `dependencies`) nor a published library
    (`exports`, `files`, `bin`, `types`, ...: ranges are right there, the consumer's lockfile
    pins them) — a Lambda or Cloud Function directory, a scripts folder, an `npm init` default.
    Exact versions (`4.18.2`), `file:`, `workspace:` and git dependencies (PM824) are not reported.

    ## Why it breaks production
    In catalog 8.1 a hijacked maintainer account published a trojanized ua-parser-js and
    everything that resolved its `^` range at install time pulled it within hours. A range
    without a lockfile means each deploy may run dependency code nobody has seen before.

    ## Bad
    ```json functions/package.json
    {
      "name": "resize-images",
      "main": "index.js",
      "dependencies": {"sharp": "^0.33.2", "ua-parser-js": "*"}
    }
    ```

    ## Good
    ```json functions/package.json
    {
      "name": "resize-images",
      "main": "index.js",
      "dependencies": {"sharp": "0.33.2", "ua-parser-js": "0.7.28"}
    }
    ```

    ## Fix
    Commit the lockfile npm writes and install with `npm ci`; where no lockfile can be used,
    pin each production dependency to one exact version.
    """
    d = resource.data
    if d.get("ecosystem") != "npm" or not resource.file.endswith("package.json"):
        return
    if npm_role(resource, ctx.project)[0] != "unknown" or lock_for(ctx.project, resource.file, "npm"):
        return
    for dep in registry_deps(resource, groups=("prod",)):
        meaning = npm_range(dep["spec"])
        if not meaning:
            continue
        yield Hit(path=("dependencies", dep["id"]),
                  message=f"`\"{dep['alias']}\": \"{dep['written']}\"` accepts {meaning}, and no lockfile pins which "
                          "one: each install may pull a release nobody reviewed, as builds pulled the trojanized "
                          "ua-parser-js (catalog 8.1)")
