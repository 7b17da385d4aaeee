"""PM822: lockfile entries that pin a version but no content hash."""
import re

from ..registry import Hit, rule
from ._packages import short

_SHA1_FRAGMENT = re.compile(r"#[0-9a-f]{40}$")  # yarn 1 writes the tarball's sha1 after the URL
_WORD = {"pipenv": "hashes", "poetry": "file hashes", "uv": "hashes", "pdm": "file hashes", "pip": "hashes"}


def _unverified(p: dict, manager: str) -> bool:
    if p["source"] not in ("registry", "url") or p["bundled"]:
        return False  # git commits, local paths, links and workspace members have nothing to hash
    if manager in ("npm", "yarn", "pnpm", "bun"):
        return not p["integrity"] and not _SHA1_FRAGMENT.search(p["resolved"])
    return not p["hashes"]


@rule(id="PM822", name="lockfile-without-integrity", severity="medium",
      severity_reason="The lock fixes the version but not the bytes: a tampered tarball from the registry, a "
                      "mirror or a proxy installs without an error.",
      incidents=["8.1"], title="Lockfile pins versions without integrity hashes",
      formats=("package",), kinds=("Lockfile",),
      fix="Regenerate the lockfile with a current package manager against a registry that serves integrity "
          "data (`rm package-lock.json && npm install`, `pipenv lock`, `poetry lock`, `uv lock`) and commit it.")
def check(resource, ctx):
    """## What it checks
    Every lockfile (package-lock.json and npm-shrinkwrap.json of any lockfileVersion, yarn.lock
    classic and berry, pnpm-lock.yaml, bun.lock, Pipfile.lock, poetry.lock, uv.lock, pdm.lock,
    pylock.toml): entries of packages downloaded from a registry or URL that carry no
    `integrity` / `checksum` / `hashes` (yarn 1's `#sha1` after the URL counts). Git, `file:`,
    `link:` and workspace entries have nothing to hash and are skipped, as are compiled
    requirements files (PM823 covers pip). One finding per lockfile, at the first entry without
    a hash, with how many there are. Plain-HTTP `resolved` URLs are PM825's.

    ## Why it breaks production
    In catalog 8.1 malicious code reached production through the package channel, and a
    lockfile was the control that should have held it. A lock without integrity pins only a
    version number, so whatever bytes the registry, a mirror or anyone on the way serve under
    that number are installed unverified.

    ## Bad
    ```json Pipfile.lock
    {
      "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true}]},
      "default": {
        "requests": {"version": "==2.31.0", "hashes": []}
      },
      "develop": {}
    }
    ```

    ## Good
    ```json Pipfile.lock
    {
      "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true}]},
      "default": {
        "requests": {"version": "==2.31.0",
                     "hashes": ["sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"]}
      },
      "develop": {}
    }
    ```

    ## Fix
    Regenerate the lockfile so every entry records its hash, against a registry or mirror that
    serves them, and install with the lock-enforcing command (`npm ci`, `pipenv sync`, `poetry
    install`, `uv sync --locked`).
    """
    d = resource.data
    manager = d.get("manager", "")
    if manager == "pip":
        return
    packages = d.get("packages") or []
    bare = [p for p in packages if _unverified(p, manager)]
    if not bare:
        return
    first = bare[0]
    counted = [p for p in packages if p["source"] in ("registry", "url") and not p["bundled"]]
    word = _WORD.get(manager, "integrity hash")
    names = [f"{p['name']}@{p['version']}" if p["version"] else p["name"] for p in bare]
    yield Hit(path=("packages", first["id"]),
              related=tuple((("packages", p["id"]), f"{n}: no {word} either") for p, n in zip(bare[1:6], names[1:6])),
              message=f"{len(bare)} of {len(counted)} registry packages in this lockfile have no {word} "
                      f"({short(names)}): the lock pins version numbers, not contents, so a tampered package "
                      "from the registry, a mirror or a proxy installs without an error (catalog 8.1)")
