"""PM812: a CI step pipes a downloaded script straight into a shell."""
import re

from ..delivery._deploys import commands, tool
from ..delivery._flow import is_ci
from ..registry import Hit, rule

FETCHERS = {"curl", "wget", "iwr", "invoke-webrequest"}
INTERPRETERS = {"sh", "bash", "zsh", "dash", "ksh", "ash", "python", "python3", "perl", "ruby", "node", "iex",
                "invoke-expression", "pwsh", "powershell"}
# `bash <(curl ...)`, `sh -c "$(wget -qO- ...)"`: the download is an argument of the interpreter
_SUBSTITUTED = re.compile(r"(?:<\(|\$\()\s*(?:curl|wget)\b")
_URL = re.compile(r"https?://\S+")


def _url(argv: list) -> str:
    for a in argv:
        m = _URL.search(a)
        if m:
            return m.group(0)
    return "a remote URL"


@rule(id="PM812", name="curl-pipe-shell", severity="high",
      severity_reason="Whatever the server (or anyone between it and the runner) returns at that moment runs "
                      "with the job's credentials; nothing pins or verifies it.",
      incidents=["8.1"], title="CI runs a script downloaded at build time without verifying it",
      formats=("pipeline",), kinds=("PipelineJob",),
      fix="Download to a file, verify it against a pinned checksum or signature (`sha256sum -c`, "
          "`cosign verify-blob`), then run it; better, install a pinned release through a package "
          "manager or a pinned action/image.")
def check(resource, ctx):
    """## What it checks
    Every shell command of every CI job (GitHub Actions, GitLab CI, Jenkins; not shell scripts or
    make targets, which people run by hand): `curl`/`wget`
    piped into an interpreter in the same pipeline (`curl -fsSL URL | sudo bash`,
    `wget -qO- URL | python3`), and an interpreter fed by process or command substitution of a
    download (`bash <(curl -s URL)`, `sh -c "$(wget -qO- URL)"`). A download saved to a file
    and checked before it runs is not reported.

    ## Why it breaks production
    In catalog 8.1 a compromised upstream package ran on every build because nothing pinned
    or verified what was fetched; `curl | sh` is the same trust in its purest form: the
    script that runs is whatever the server returns that minute, with the pipeline's deploy
    credentials in its environment.

    ## Bad
    ```yaml .github/workflows/build.yml
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: curl -fsSL https://get.example.com/install.sh | sudo bash
    ```

    ## Good
    ```yaml .github/workflows/build.yml
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: |
              curl -fsSL -o install.sh https://get.example.com/v1.4.2/install.sh
              echo "3f9c2e1d4b5a6978  install.sh" | sha256sum -c -
              bash install.sh
    ```

    ## Fix
    Save the download, verify a pinned checksum or signature, then run it; or install a pinned
    release through a package manager, a pinned action or a pinned container image.
    """
    if not is_ci(resource.data):  # shell scripts and make targets are run by hand (local dev)
        return
    cmds = list(commands(resource))
    by_pipe: dict = {}
    for path, cmd in cmds:
        if cmd.get("pipeline") is not None:
            by_pipe.setdefault(cmd["pipeline"], []).append((path, cmd))
    seen = set()
    for path, cmd in cmds:
        prog = tool(cmd["argv"]).lower()
        if prog in FETCHERS:
            later = [c for p, c in by_pipe.get(cmd.get("pipeline"), []) if p > path]
            shell = next((tool(c["argv"]).lower() for c in later if tool(c["argv"]).lower() in INTERPRETERS), None)
            if shell and cmd.get("line") not in seen:
                seen.add(cmd.get("line"))
                yield Hit(path=path, message=f"`{prog} … | {shell}` in CI job '{resource.data.get('name')}' runs "
                                             f"{_url(cmd['argv'])} as fetched, unpinned and unverified, with the "
                                             f"job's credentials in its environment")
        elif prog in INTERPRETERS and any(_SUBSTITUTED.search(a) for a in cmd["argv"][1:]):
            if cmd.get("line") not in seen:
                seen.add(cmd.get("line"))
                yield Hit(path=path, message=f"`{prog}` in CI job '{resource.data.get('name')}' runs a script "
                                             f"downloaded by command substitution ({_url(cmd['argv'])}), unpinned "
                                             f"and unverified, with the job's credentials in its environment")
