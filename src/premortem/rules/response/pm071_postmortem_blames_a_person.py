"""PM071: a postmortem whose root cause names a person instead of what let the failure through."""
from ..registry import Hit, rule
from ._postmortem import blame, quote


@rule(id="PM071", name="postmortem-blames-a-person", severity="low",
      severity_reason="Blame does not break a system; it stops people reporting what really happened, so the "
                      "next postmortem has less to go on.",
      incidents=["10.2"], title="Postmortem root cause names a person",
      formats=("markdown",), kinds=["Postmortem"], production_only=False,
      fix="Rewrite the root cause around the system: what allowed the change through (no CI gate, no staging "
          "soak, a default that was unsafe), and turn that into action items.")
def check(resource, ctx):
    """## What it checks
    The root-cause sections of a postmortem ("Root cause", "Causes", "Contributing factors",
    "Trigger", "Five whys", as a heading or a `**Root cause:**` paragraph). Conservative on
    purpose; a finding needs one of:
    1. a blame phrase: human/operator/engineer/developer error, negligence, carelessness,
       incompetence, recklessness, "X's fault", "at fault", "to blame", "blamed", "screwed up",
       "should have known", "didn't bother" — not when a negation stands just before it ("this
       was not human error", "rather than blaming") or the sentence says "blameless";
    2. an `@mention`, or a name the postmortem itself gives a person (its Authors, Owner,
       Incident commander, On-call, Responders... lines and action-item owners);
    3. a capitalised name as the actor of something people do, at the start of a sentence or
       clause or after because/when/after/since: "John deployed ...", "because Sarah forgot to
       ...", or "John's change"; the verbs are deployed, pushed, merged, ran, executed, applied,
       committed, approved, skipped, misconfigured, typed, edited, forgot, neglected, overlooked,
       ignored, bypassed, overrode, decided, chose, missed. Determiners, pronouns, roles ("an
       engineer", "the reviewer"), weekdays, months, common tools and vendors (Terraform,
       Renovate, Postgres...) and words found in lower case in the root cause or anywhere in the
       title or section titles (a service: "Billing deployed" beside "billing") are not names.
    Anonymous roles are how blameless postmortems are written and never count; code spans never
    count. One finding per paragraph or list item, at the line of the name.

    ## Why it breaks production
    In catalog 10.2 the postmortem focused on who broke it: the junior developer who pushed the
    code was blamed in Slack, the missing safeguards stayed missing, and the same incident
    repeated a month later from someone else. A root cause that names a person ends the
    analysis where the system's gap begins.

    ## Bad
    ```markdown docs/postmortems/2024-06-02-payments.md
    # Postmortem: payment-api 504s

    ### Root cause
    John deployed the new connection string without testing it in staging.

    ### Action items
    - [ ] Add a staging soak to the pipeline (PLAT-77)
    ```

    ## Good
    ```markdown docs/postmortems/2024-06-02-payments.md
    # Postmortem: payment-api 504s

    ### Root cause
    The deploy pipeline lacked a staging gate, so a connection string without timeouts reached
    production untested. An engineer applied it during a routine change; nothing flagged it.

    ### Action items
    - [ ] Add a staging soak to the pipeline (PLAT-77)
    ```

    ## Fix
    Ask "what made this possible?" until the answer is a system property (a missing gate, an
    unsafe default, an alert that did not exist), write that as the root cause with the person
    left anonymous ("an engineer"), and turn each answer into an action item.
    """
    data = resource.data
    context = "\n".join([str(data.get("title") or "")] + [str(s.get("title") or "") for s in data.get("sections") or ()])
    people = [str(p) for p in data.get("people") or ()]
    for i, block in enumerate(data.get("root_cause") or ()):
        text = str(block.get("text") or "")
        found = blame(text, people, context)
        if not found:
            continue
        start, _words, why = found
        k = text[:start].count("\n")
        yield Hit(path=("root_cause", i, "lines", k),
                  message=f"root cause {why}: \"{quote(text, start)}\"; a root cause that stops at a "
                          f"person leaves the gap that let the change through open, and people stop reporting "
                          f"honestly, so the incident repeats")
