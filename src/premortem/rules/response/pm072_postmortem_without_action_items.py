"""PM072: a postmortem with a root cause but no action items at all."""
from ..registry import Hit, rule


@rule(id="PM072", name="postmortem-without-action-items", severity="low",
      severity_reason="Nothing breaks today; a root cause with no follow-up is left in place for next time.",
      incidents=["10.2"], title="Postmortem has a root cause but no action items",
      formats=("markdown",), kinds=["Postmortem"], production_only=False,
      fix="Add an \"Action items\" section: one owned, ticketed item per gap the root cause exposed.")
def check(resource, ctx):
    """## What it checks
    A postmortem (see PM070 for what counts as one) that has a root-cause section but no
    action-items section ("Action items", "Follow-ups", "Corrective actions", "Remediation",
    "Next steps", heading or `**Action items:**` paragraph) and no items in one. The finding is
    on the title.

    ## Why it breaks production
    Catalog 10.2 lists "no RCA or follow-ups" as the root cause of a repeated outage: the
    postmortem named what happened, nothing was planned to change, and the same failure came
    back a month later.

    ## Bad
    ```markdown docs/incidents/2024-07-11-invoices.md
    # Incident: invoices not generated for five days

    ### Timeline
    - 09:10 customers report missing invoices

    ### Root cause
    The invoice worker's queue consumer stopped after a broker failover and nothing alerted on
    the drop in invoices generated.
    ```

    ## Good
    ```markdown docs/incidents/2024-07-11-invoices.md
    # Incident: invoices not generated for five days

    ### Root cause
    The invoice worker's queue consumer stopped after a broker failover and nothing alerted on
    the drop in invoices generated.

    ### Follow-ups
    - Alert when invoices generated per hour drops below 1 (OPS-981, @maria)
    ```

    ## Fix
    For every contributing factor, write what will change, who owns it and where it is
    tracked; a postmortem is finished when its action items are, not when it is written.
    """
    data = resource.data
    kinds = {s.get("kind") for s in data.get("sections") or ()}
    if "root_cause" not in kinds or "actions" in kinds or data.get("actions"):
        return
    yield Hit(path=("title",),
              message=f"postmortem \"{data.get('title') or resource.file}\" states a root cause but has no action "
                      f"items (no Action items / Follow-ups / Remediation section): nothing is planned to change, "
                      f"so the same failure is left in place")
