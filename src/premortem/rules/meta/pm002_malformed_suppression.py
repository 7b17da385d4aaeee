"""PM002: a suppression that cannot be read (no rule ID, unknown ID, no reason, bad date)."""
from ..registry import rule


@rule(id="PM002", name="malformed-suppression", severity="medium",
      severity_reason="A malformed suppression silences nothing, so the author believes a risk is accepted when it is not tracked at all.",
      incidents=[], title="Suppression is malformed", formats=("suppression",),
      fix="Write `# premortem:ignore PM123 reason=why until=YYYY-MM-DD` with a known rule ID and a reason.")
def check(resource, ctx):
    """Reported by the engine while reading suppressions.

    ## What it checks
    A suppression must name known rule IDs (`PM501`, or `all`), carry a `reason=`, and, when it
    has `until=`, a date written `YYYY-MM-DD`.

    ## Why it breaks production
    Accepted risks need an owner and a reason; a suppression without one cannot be reviewed, and a
    typo'd rule ID silently suppresses nothing while the team believes the finding is handled.

    ## Bad
    ```yaml
    # premortem:ignore PM5O1
    image: registry.example.com/api:latest
    ```

    ## Good
    ```yaml
    # premortem:ignore PM501 reason=canary tag managed by Argo Image Updater until=2026-12-31
    image: registry.example.com/api:canary
    ```

    ## Fix
    Correct the rule ID, add `reason=`, and write dates as `YYYY-MM-DD`.
    """
    return ()
