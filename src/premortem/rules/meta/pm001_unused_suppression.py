"""PM001: a suppression that matches no finding."""
from ..registry import rule


@rule(id="PM001", name="unused-suppression", severity="low",
      severity_reason="Dead suppressions hide nothing today but will silently hide a real finding later.",
      incidents=[], title="Suppression matches no finding", formats=("suppression",),
      fix="Delete the `premortem:ignore` comment or annotation, or correct the rule ID it names.")
def check(resource, ctx):
    """Reported by the engine after suppressions are matched, not by inspecting a resource.

    ## What it checks
    Every `# premortem:ignore` comment, `premortem:ignore-file` comment and
    `premortem.dev/ignore` annotation must silence at least one finding in the scan.

    ## Why it breaks production
    A suppression left behind after the problem was fixed stays armed: the next time someone
    reintroduces the same mistake on that line (a `:latest` tag, a missing probe) it is hidden and
    ships, which is how suppressions turn into the incident they were meant to track.

    ## Bad
    ```yaml
    # premortem:ignore PM501 reason=temporary until the registry migration
    image: registry.example.com/api:1.4.2
    ```

    ## Good
    ```yaml
    image: registry.example.com/api:1.4.2
    ```

    ## Fix
    Remove the suppression, or fix the rule ID it names.
    """
    return ()
