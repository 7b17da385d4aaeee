"""PM051: a runbook link to a repository file that is not there (10.1)."""
from ...parse.prometheus import alerts_of
from ..registry import Hit, rule
from ._alerts import RULE_FORMATS, RULE_KINDS, RUNBOOK_ANNOTATIONS, missing_target, runbook


@rule(id="PM051", name="runbook-link-missing-file", severity="medium",
      severity_reason="The page links to a 404: the engineer loses the minutes the runbook was written to save.",
      incidents=["10.1"], title="Runbook link points at a file missing from the repository",
      formats=RULE_FORMATS, kinds=RULE_KINDS, production_only=False,
      options={"annotations": RUNBOOK_ANNOTATIONS, "repository": ""},
      fix="Point the annotation at the runbook's current path (or restore the file), and check runbook links "
          "in CI so a moved or renamed runbook fails the build instead of the on-call engineer.")
def check(resource, ctx):
    """## What it checks
    The runbook annotation of every alerting rule (`runbook_url` and the names in the option
    `annotations`) when it points into a repository:
    - a relative path (`../runbooks/high-error-rate.md`, `docs/runbooks/x.md`), resolved against
      the rule file's folder and against the scan root;
    - a forge link (`https://github.com/<org>/<repo>/blob/<ref>/<path>`, GitLab's `/-/blob/`,
      `tree`, `raw`): when the option `repository` (`org/repo`) names this repository, links to it
      must resolve; without the option, a link is judged when its folder is part of the scan
      (the folder's other runbooks are there, this one is not).
    Links to web pages, other repositories and templated values are not judged. Reported at the
    annotation.

    ## Why it breaks production
    In catalog 10.1 the on-call engineer had no runbook and took three hours to recover. A
    runbook that was moved or renamed while the alert kept the old link is the same night: the
    link in the page opens a 404.

    ## Bad
    ```yaml
    groups:
      - name: payments
        rules:
          - alert: PaymentsHighErrorRate
            expr: sum(rate(http_requests_total{job="payments", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="payments"}[5m])) > 0.05
            for: 5m
            labels: {severity: critical}
            annotations:
              runbook_url: runbooks/payments-high-error-rate.md
    ```
    ```markdown runbooks/payments-latency.md
    # PaymentsHighLatency
    ```

    ## Good
    ```yaml
    groups:
      - name: payments
        rules:
          - alert: PaymentsHighErrorRate
            expr: sum(rate(http_requests_total{job="payments", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="payments"}[5m])) > 0.05
            for: 5m
            labels: {severity: critical}
            annotations:
              runbook_url: runbooks/payments-high-error-rate.md
    ```
    ```markdown runbooks/payments-high-error-rate.md
    # PaymentsHighErrorRate
    ```

    ## Fix
    Fix the link (or restore the runbook). Links relative to the repository keep working across
    forks and branches; a link with a branch name (`blob/main/...`) breaks when the file moves.
    """
    names = list(ctx.options.get("annotations") or [])
    repository = str(ctx.options.get("repository") or "")
    for alert in alerts_of(resource):
        key, value = runbook(alert.annotations, names)
        if not key:
            continue
        target = missing_target(value, resource.file, ctx.project, repository)
        if target is None:
            continue
        yield Hit(path=alert.at("annotations", key), identity=alert.name,
                  message=f"alert '{alert.name}' links its runbook to '{target}', which is not in the repository: "
                          f"the engineer it pages opens a 404")
