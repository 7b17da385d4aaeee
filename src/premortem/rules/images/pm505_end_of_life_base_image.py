"""PM505: a base image (or a workload's image) whose language or OS version is past its end of life."""
import datetime as dt

from ...k8s.images import parse_image
from ...k8s.workloads import containers
from ...model import Severity
from ..registry import Hit, rule
from ._eol import LAST_UPDATED, versions_of
from ._stages import arg_origin, describe, pulled_image


def _today(ctx) -> dt.date:
    value = ctx.options.get("today")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)) if value else dt.date.today()


def _ended(e, today: dt.date) -> str:
    when = f"before {e.date}" if e.before else (f"on {e.date}" if e.date.count("-") == 2 else f"in {e.date}")
    if e.product.startswith("openjdk"):
        return f"the openjdk image is deprecated: tag '{e.version}' got its last update {when} ({e.source})"
    return f"{e.product} {e.version} reached end of life {when} ({e.source})"


def judge(image: str, today: dt.date, warn_days: int):
    """(severity or None for the rule's, text) for the image, or None: every EOL version it names
    (its language and the OS in its tag) in one text; else one that ends within `warn_days`; else,
    with a table over a year old, a version the table does not know."""
    ref = parse_image(image)
    stale = (today - LAST_UPDATED).days > 365
    found = versions_of(ref.repository, ref.tag)
    ended = [e for e in found if e.known and (e.ends() - today).days <= 0]
    if ended:
        table = (f"; premortem's EOL table was last updated {LAST_UPDATED.isoformat()}, over a year ago: versions "
                 f"released since are missing from it, update premortem") if stale else ""
        return None, (" and ".join(_ended(e, today) for e in ended) +
                      f": no more security fixes, so every CVE found since stays in this image{table}")
    for e in found:
        left = (e.ends() - today).days if e.known else None
        if left is not None and left <= warn_days:
            return Severity.LOW, (f"{e.product} {e.version} reaches end of life on {e.date}, in {left} days "
                                  f"({e.source}): plan the upgrade now")
    unknown = [e for e in found if not e.known]
    if stale and unknown:
        e = unknown[0]
        return Severity.LOW, (f"{e.product} {e.version} is not in premortem's EOL table (last updated "
                              f"{LAST_UPDATED.isoformat()}, over a year ago): check its support dates ({e.source}) "
                              f"and update premortem")
    return None


@rule(id="PM505", name="end-of-life-base-image", severity="high",
      severity_reason="An end-of-life runtime or OS gets no security fixes: known, public CVEs stay exploitable "
                      "in production for as long as the image runs.",
      incidents=["5.3"], title="Image is built on an end-of-life language or OS version",
      formats=("dockerfile", "kubernetes"), kinds=None, options={"warn_days": 90, "today": ""},
      fix="Move to a supported version (`python:3.12-slim`, `node:22`, `eclipse-temurin:21-jre`, "
          "`debian:bookworm-slim`) and let Renovate/Dependabot propose the next upgrade before it ends.")
def check(resource, ctx):
    """## What it checks
    The `FROM` image of every Dockerfile stage, and the image of every container and init
    container of a Kubernetes workload, against a dated table of end-of-life versions of
    Python, Node.js, Go, Eclipse Temurin and Amazon Corretto (Java), the deprecated `openjdk`
    image, Ubuntu, Debian and Alpine (`rules/images/_eol.py`, with its sources). Both the
    language version and the OS in the tag are checked (`python:3.12-slim-buster` runs on
    Debian 10, whose LTS ended 2024-06-30). A version that ends within `warn_days` (90) is a
    low finding. The table carries the date it was last updated; when that is more than a year
    before today, the message says so, and a version missing from the table is a low finding.
    Tags without a version (`latest`, `3`) are PM503's business; values only a build argument
    gives are not guessed. `today` can be set (YYYY-MM-DD) for reproducible runs.

    ## Why it breaks production
    In catalog 5.3 a Python app went to production on a Python 3.6 base with a high-severity
    urllib3 CVE that allowed remote code execution, and stayed exploitable for weeks. An
    end-of-life base never gets the fix, so no rebuild or scanner run makes it safe.

    ## Bad
    ```dockerfile
    FROM python:3.8-slim
    COPY . /app
    RUN pip install --no-cache-dir -r /app/requirements.txt
    CMD ["python", "/app/main.py"]
    ```

    ## Good
    ```dockerfile
    FROM python:3.13-slim
    COPY . /app
    RUN pip install --no-cache-dir -r /app/requirements.txt
    CMD ["python", "/app/main.py"]
    ```

    ## Fix
    Upgrade the base to a supported release (the message names the end date and the source),
    rebuild and redeploy; keep base images on a bot-driven update schedule so a version is
    replaced before it ends.
    """
    today = _today(ctx)
    warn = int(ctx.options.get("warn_days", 90))
    if resource.format == "dockerfile":
        ref = pulled_image(resource)
        if ref is None:
            return
        verdict = judge(ref.raw, today, warn)
        if verdict:
            note, related = arg_origin(resource)
            yield Hit(path=("from",), severity=verdict[0], related=related,
                      message=f"{describe(resource)} is built FROM '{ref.raw}'{note}: {verdict[1]}")
        return
    for c in containers(resource):
        if not c.image or "$" in c.image or "{{" in c.image:
            continue
        verdict = judge(c.image, today, warn)
        if verdict:
            kind = "init container" if c.init else "container"
            yield Hit(path=c.at("image"), severity=verdict[0], message=f"{kind} '{c.name}' runs '{c.image}': {verdict[1]}")
