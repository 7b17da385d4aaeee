"""PM825: dependency installs that fetch code over plain HTTP or pipe a download into a shell."""
import re
from urllib.parse import urlsplit

from ...model import Severity
from ...parse.shell import commands
from ..delivery._deploys import tool
from ..registry import Hit, rule
from ._packages import plain_transport, short
from .pm812_curl_pipe_shell import _SUBSTITUTED, FETCHERS, INTERPRETERS

_HASHED = ("the recorded hashes catch a swapped file, but the next lock update or a new dependency trusts "
           "whatever the network path served")
LIFECYCLE = ("preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare", "prepublish")
_URL = re.compile(r"(?:git\+)?(?:https?|git)://[^\s\"'`)|;]+")


def _script_problem(text: str) -> str:
    """Why a lifecycle script fetches code unsafely ('' when it does not): a clear-text URL, a download
    piped into an interpreter (`curl … | sh`), or an interpreter fed by one (`bash <(curl …)`)."""
    for m in _URL.finditer(text):
        if plain_transport(m.group(0)):
            return f"fetches {m.group(0)} over plain {plain_transport(m.group(0))}"
    cmds = commands(text)
    for i, c in enumerate(cmds):
        prog = tool(c["argv"]).lower()
        if prog in FETCHERS and c.get("pipeline") is not None:
            shell = next((tool(x["argv"]).lower() for x in cmds[i + 1:] if x.get("pipeline") == c["pipeline"]
                          and tool(x["argv"]).lower() in INTERPRETERS), "")
            if shell:
                return f"pipes `{prog}` into `{shell}`, running whatever the server returns"
        if prog in INTERPRETERS and any(_SUBSTITUTED.search(a) for a in c["argv"][1:]):
            return f"runs a downloaded script through `{prog}`"
    return ""


@rule(id="PM825", name="install-script-over-http", severity="high",
      severity_reason="Anyone on the network path can substitute the code that runs at install time, on every "
                      "developer machine and CI runner, with their credentials.",
      incidents=["8.1"], title="Dependencies or install scripts are fetched over plain HTTP",
      formats=("package",), kinds=("PackageManifest", "Lockfile", "RegistryConfig"),
      fix="Use https:// for every registry, index and download, drop `--trusted-host` and `strict-ssl=false`, and "
          "replace `curl … | sh` in lifecycle scripts with a pinned, verified dependency.")
def check(resource, ctx):
    """## What it checks
    - package.json lifecycle scripts that run on install (`preinstall`, `install`,
      `postinstall`, `prepare`, `prepublish`) and fetch over `http://` or `git://`, or pipe
      `curl`/`wget` into an interpreter (`curl -s http://… | sh`, `bash <(curl …)`);
    - dependencies whose URL is plain `http://`, `git+http://` or `git://` (tarball or git
      dependencies in package.json, pip requirement URLs);
    - package indexes in clear text or without TLS verification: pip `--index-url`,
      `--extra-index-url`, `--find-links` over `http://` and any `--trusted-host`; Pipfile and
      Pipfile.lock sources with `http://` or `verify_ssl = false`; Poetry and uv sources;
      `.npmrc` `registry=http://…` and `strict-ssl=false`;
    - lockfile entries `resolved` over `http://` (one finding per lockfile, with the count).
    `localhost`/`127.0.0.1` (a local test registry) and `https://` are not reported.

    ## Why it breaks production
    In catalog 8.1 malicious code reached production through the dependency channel; a plain
    HTTP fetch opens that channel to anyone on the network path — a café Wi-Fi, a compromised
    proxy, a CI provider's neighbour — not only to a hijacked maintainer. Install scripts run
    with the developer's or the CI runner's credentials.

    ## Bad
    ```json package.json
    {
      "name": "pdf-render",
      "version": "2.1.0",
      "scripts": {"postinstall": "curl -s http://downloads.example.com/wkhtml.sh | sh"}
    }
    ```

    ## Good
    ```json package.json
    {
      "name": "pdf-render",
      "version": "2.1.0",
      "scripts": {"postinstall": "node scripts/check-binary.js", "test": "curl -s http://localhost:3000/health"}
    }
    ```

    ## Fix
    Switch every URL to https://, remove `--trusted-host`/`strict-ssl=false`, and ship what
    install scripts download as a pinned dependency checked against a hash.
    """
    d = resource.data
    for name in LIFECYCLE:
        problem = _script_problem(d.get("scripts", {}).get(name, ""))
        if problem:
            yield Hit(path=("scripts", name), message=f"the `{name}` script {problem}: it runs on every `npm install` "
                                                      "with the installing user's credentials, and anyone on the "
                                                      "network path can swap the code (catalog 8.1)")
    for dep in d.get("dependencies", []):
        scheme = plain_transport(dep["url"])
        if scheme:
            yield Hit(path=("dependencies", dep["id"]), severity=Severity.MEDIUM if dep["hashes"] else None,
                      message=f"`{dep.get('alias') or dep['name']}` is downloaded over plain {scheme} ({dep['url']}): "
                              + (_HASHED if dep["hashes"] else "anyone on the network path can substitute the package")
                              + " (catalog 8.1)")
    for i, idx in enumerate(d.get("indexes", [])):
        scheme = plain_transport(idx["url"])
        if idx["option"] == "--trusted-host":
            why = f"`--trusted-host {idx['url']}` turns off TLS verification for that index"
        elif idx.get("verify_ssl") is False:
            why = f"the package source {idx['url']} has `verify_ssl = false`"
        elif scheme:
            why = f"the package index {idx['url']} ({idx['option']}) is plain {scheme}"
        else:
            continue
        yield Hit(path=("indexes", i), message=f"{why}: every package resolved through it can be swapped in transit "
                                               "(catalog 8.1)")
    for i, s in enumerate(d.get("settings", [])):
        if s["key"] == "strict-ssl" and s["value"].lower() == "false":
            yield Hit(path=("settings", i), message="`strict-ssl=false` makes npm accept any certificate from the "
                                                    "registry: packages can be swapped in transit (catalog 8.1)")
        elif s["key"].endswith("registry") and plain_transport(s["value"]):
            yield Hit(path=("settings", i), message=f"`{s['key']}={s['value']}` fetches packages over plain HTTP: "
                                                    "anyone on the network path can swap them (catalog 8.1)")
    if d.get("manager") == "pip":  # a compiled requirements file's packages are its requirements (above)
        return
    plain = [p for p in d.get("packages", []) if plain_transport(p["resolved"])]
    if plain:
        names = [f"{p['name']}@{p['version']}" for p in plain]
        hashed = all(p["integrity"] or p["hashes"] for p in plain)
        try:
            origin = urlsplit(plain[0]["resolved"].removeprefix("git+"))
            where = f"{origin.scheme}://{origin.netloc}"
        except ValueError:  # a malformed URL (`http://[bad`) is still plain HTTP
            where = plain[0]["resolved"].split("/", 3)[2] if plain[0]["resolved"].count("/") >= 2 else "?"
        yield Hit(path=("packages", plain[0]["id"]), severity=Severity.MEDIUM if hashed else None,
                  message=f"{len(plain)} lockfile entries resolve over plain HTTP ({short(names)}, from "
                          f"{where}): "
                          + (_HASHED if hashed else "the packages can be swapped in transit") + " (catalog 8.1)")
