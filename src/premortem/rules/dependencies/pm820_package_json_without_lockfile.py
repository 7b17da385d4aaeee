"""PM820: the package.json of a deployable app has no lockfile beside it."""
from ..registry import Hit, rule
from ._packages import lock_for, npm_range, npm_role, short


@rule(id="PM820", name="package-json-without-lockfile", severity="high",
      severity_reason="Every build of the app resolves its whole dependency tree afresh, so a release hijacked "
                      "minutes ago ships to production without anyone changing a line.",
      incidents=["8.1"], title="Deployable Node.js app has no lockfile",
      formats=("package",), kinds=("PackageManifest",),
      fix="Run `npm install` (or yarn/pnpm) once, commit the package-lock.json (yarn.lock, pnpm-lock.yaml) it "
          "writes, and install with `npm ci` in CI and in the Dockerfile.")
def check(resource, ctx):
    """## What it checks
    A `package.json` that is an application rather than a published library — `private: true`,
    a `start` script, or a Dockerfile in the same directory — and declares dependencies, with no
    `package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml` or `bun.lock` in
    its directory or a parent directory (a workspace root). A lockfile ignored by `.gitignore`
    is not in the repository and does not count. Reported once, at the `dependencies` key; the
    message lists the ranges that float (PM821 covers packages that are neither clearly an app
    nor a library, one dependency at a time). Published libraries (`exports`, `files`, `bin`,
    `types`, ... and not private) are left alone: their consumers' lockfiles pin them.

    ## Why it breaks production
    In catalog 8.1 a hijacked maintainer account published a trojanized ua-parser-js, and apps
    that resolved `^` ranges at build time shipped malware to their users within hours. Without
    a committed lockfile every `npm install` resolves afresh, so the code that ships was never
    reviewed and the previous build cannot be reproduced.

    ## Bad
    ```json package.json
    {
      "name": "checkout-web",
      "private": true,
      "scripts": {"start": "node server.js"},
      "dependencies": {"express": "^4.18.2", "ua-parser-js": "^0.7.28"}
    }
    ```

    ## Good
    ```json package.json
    {
      "name": "checkout-web",
      "private": true,
      "scripts": {"start": "node server.js"},
      "dependencies": {"express": "^4.18.2", "ua-parser-js": "^0.7.28"}
    }
    ```
    ```json package-lock.json
    {"name": "checkout-web", "lockfileVersion": 3, "requires": true, "packages": {}}
    ```

    ## Fix
    Generate the lockfile with the package manager the team uses, commit it, and install with
    `npm ci` / `yarn install --immutable` / `pnpm install --frozen-lockfile` so builds fail when
    it is out of date.
    """
    d = resource.data
    if d.get("ecosystem") != "npm" or not resource.file.endswith("package.json"):
        return
    deps = [x for x in d["dependencies"] if x["source"] not in ("path", "workspace")]
    if not deps:
        return
    role, why = npm_role(resource, ctx.project)
    if role != "app" or lock_for(ctx.project, resource.file, "npm"):
        return
    section = next((s for s in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
                    if ("sections", s) in resource.key_positions), "dependencies")
    floating = [f"{x['alias']} {x['spec'] or '*'}" for x in deps
                if x["source"] in ("registry", "alias") and npm_range(x["spec"])]
    detail = (f"{len(floating)} of its {len(deps)} dependencies are ranges ({short(floating)}) that resolve to "
              "whatever the registry serves that minute" if floating else
              "its dependencies are exact, but theirs resolve to whatever the registry serves that minute")
    name = d.get("name") or resource.file
    yield Hit(path=("sections", section), key=True,
              message=f"'{name}' is an app ({why}) with no package-lock.json, yarn.lock or pnpm-lock.yaml here or in "
                      f"a parent directory: {detail}; a hijacked release ships on the next build, as the trojanized "
                      "ua-parser-js did (catalog 8.1)")
