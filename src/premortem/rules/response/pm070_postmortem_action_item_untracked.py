"""PM070: a postmortem action item with no owner and no tracking link."""
from ..registry import Hit, rule

REQUIRE = ("either", "owner", "ticket", "both")


@rule(id="PM070", name="postmortem-action-item-untracked", severity="low",
      severity_reason="Nothing breaks today; the same incident comes back because its fix was never done.",
      incidents=["10.2"], title="Postmortem action item has no owner and no tracking link",
      formats=("markdown",), kinds=["Postmortem"], production_only=False,
      options={"require": "either"},
      fix="Give every open action item an owner (`@handle` or an Owner column) and a ticket "
          "(`OPS-123` or the issue URL), and review open items until they are closed.")
def check(resource, ctx):
    """## What it checks
    Every open action item of a postmortem (Markdown whose path or title says postmortem,
    post-mortem, post-incident, retro, RCA or PIR, or incident with a root-cause section; not
    templates or README/index pages): each top-level list item or table row under an "Action
    items", "Follow-ups", "Corrective actions", "Remediation" or "Next steps" section must have
    an owner — an `@mention`, `Owner:`/`Assignee:`/`DRI:` text, or a filled Owner column — or a
    tracking link — an issue/ticket URL (`/issues/12`, Jira `/browse/`, Linear, Shortcut...), a
    key like `OPS-123`, `#123` or `org/repo#123`, or a filled Ticket column. `require` sets how
    much is enough: `either` (default), `owner`, `ticket` or `both`. Done items (`[x]`, struck
    through, a Status of done/closed) and template filler (`TBD`, `...`, `<action>`) are skipped.

    ## Why it breaks production
    In catalog 10.2 the postmortem of a bad deployment ended in blame instead of fixes: no
    follow-ups were tracked, and the same incident repeated a month later. An action item nobody
    owns and no tracker holds is a wish: it is never scheduled and never checked.

    ## Bad
    ```markdown docs/postmortems/2024-05-20-checkout.md
    # Postmortem: checkout outage

    ### Root cause
    The feature flag default was "on" in the production config.

    ### Action items
    - [ ] Add feature flag validation in CI
    ```

    ## Good
    ```markdown docs/postmortems/2024-05-20-checkout.md
    # Postmortem: checkout outage

    ### Root cause
    The feature flag default was "on" in the production config.

    ### Action items
    - [ ] Add feature flag validation in CI (@priya, PLAT-412)
    - [x] Roll back the flag default
    ```

    ## Fix
    Turn each action item into a ticket in the team's tracker, link it from the postmortem,
    and name one owner; review open postmortem items in a recurring meeting until they close.
    """
    require = str(ctx.options.get("require") or "either").lower()
    require = require if require in REQUIRE else "either"
    for i, item in enumerate(resource.data.get("actions") or ()):
        if item.get("done") or item.get("placeholder"):
            continue
        owner, ticket = item.get("owner"), item.get("tracking")
        ok = {"either": owner or ticket, "owner": owner, "ticket": ticket, "both": owner and ticket}[require]
        if ok:
            continue
        missing = " and ".join(w for w, have in (("no owner", owner), ("no tracking link", ticket)) if not have)
        text = " ".join(str(item.get("text") or "").split("\n")[0].split())
        shown = text if len(text) <= 70 else text[:69] + "…"
        yield Hit(path=("actions", i),
                  message=f"action item \"{shown}\" has {missing} (an @owner or Owner column; an issue URL or key "
                          f"like OPS-123): nobody is accountable for it and no tracker shows it open, so the fix is "
                          f"never done and the incident repeats")
