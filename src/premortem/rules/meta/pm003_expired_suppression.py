"""PM003: a suppression whose `until` date has passed."""
from ..registry import rule


@rule(id="PM003", name="expired-suppression", severity="low",
      severity_reason="The suppressed findings are already reported again; this points at the stale comment.",
      incidents=[], title="Suppression has expired", formats=("suppression",),
      fix="Fix what the suppression covered, or renew it with a new `until=` and a reason.")
def check(resource, ctx):
    """Reported by the engine when a suppression's `until=` date is in the past.

    ## What it checks
    `until=YYYY-MM-DD` on a suppression is a promise to fix the finding by that date. After the
    date the suppression stops working and this rule points at it.

    ## Why it breaks production
    Time-boxed exceptions that never expire become permanent: the temporary `:latest` tag or the
    missing PDB is still there a year later, during the incident.

    ## Bad
    ```yaml
    # premortem:ignore PM501 reason=migration until=2020-01-31
    image: registry.example.com/api:latest
    ```

    ## Good
    ```yaml
    image: registry.example.com/api:1.4.2
    ```

    ## Fix
    Fix the underlying finding and delete the suppression, or renew it with a new date and reason.
    """
    return ()
