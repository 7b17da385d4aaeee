"""PM103: a production deploy that a skip-staging/skip-tests parameter or commit-message flag switches on."""
import re

from ..registry import Hit, rule
from ._deploys import production_deploys

# SKIP_STAGING, skipTests, BYPASS_QA, FORCE_DEPLOY, NO_STAGING, [skip-stage] in a commit message ...
FLAG = re.compile(r"(?i)\b(?:params\.|env\.|inputs\.|github\.event\.inputs\.|\$)?"
                  r"((?:skip|bypass|force|no)[-_ ]?(?:stag\w*|tests?|qa|checks?|gates?|verif\w*|approv\w*|deploy\w*))"
                  r"|(\[(?:skip|bypass|no)[-_ ]?[\w-]*\\*\])")
# the flag is negated: `== false`, `!= true`, `!params.X`, `not { ... }`
NEGATED = re.compile(r"(?i)^\s*not\s*\{|!\s*\(|!\s*(?:params|env|inputs)\.|==\s*['\"]?false\b|!=\s*['\"]?true\b")


def _enabling_flag(condition: str) -> str:
    m = FLAG.search(condition)
    if not m or NEGATED.search(condition):
        return ""
    return m.group(1) or m.group(2)


@rule(id="PM103", name="skip-staging-reaches-prod", severity="high",
      severity_reason="Anyone who can set a parameter or write a commit message can send an untested build to production.",
      incidents=["R2", "1.2"], title="Production deploy reachable through a skip-staging flag",
      formats=("pipeline",), kinds=["PipelineJob"],
      fix="Delete the skip/bypass parameter or commit-message flag; production must only follow a green "
          "staging stage of the same artifact, behind an approval.")
def check(resource, ctx):
    """## What it checks
    Pipeline jobs (Jenkins stages, GitHub/GitLab jobs) that deploy to production (helm, kubectl,
    terraform, argocd, deploy scripts with a production namespace, context, environment or
    branch) and whose run condition is switched on by a flag named like `SKIP_STAGING`,
    `skipTests`, `BYPASS_QA`, `FORCE_DEPLOY`, `NO_STAGING`, or a commit-message marker such as
    `changelog '.*\\[skip-stage\\].*'`. A condition that only runs when the flag is *off*
    (`== false`, `!params.X`, `not { ... }`) is fine. Reported at each production deploy command.

    ## Why it breaks production
    In the payment-api outage a `[skip-stage]` flag and `params.SKIP_STAGING == true` sent a
    `latest` image straight to production, bypassing the only environment that would have caught
    the OOMKilled JVM and the deleted CRD (catalog R2). The same shortcut is how skipped tests
    shipped a major bug in catalog 1.2.

    ## Bad
    ```groovy Jenkinsfile
    pipeline {
      agent any
      stages {
        stage('Deploy to Prod') {
          when { expression { return params.SKIP_STAGING == true } }
          steps {
            sh "helm upgrade --install payment-api ./charts/payment-api --namespace production"
          }
        }
      }
    }
    ```

    ## Good
    ```groovy Jenkinsfile
    pipeline {
      agent any
      stages {
        stage('Deploy to Staging') {
          when { expression { return params.SKIP_STAGING == false } }
          steps {
            sh "helm upgrade --install payment-api ./charts/payment-api --namespace staging"
          }
        }
        stage('Deploy to Prod') {
          when { branch 'main' }
          input { message 'Promote the build tested in staging?' }
          steps {
            sh "helm upgrade --install payment-api ./charts/payment-api --namespace production"
          }
        }
      }
    }
    ```

    ## Fix
    Remove the flag. If an emergency path is needed, make it a separate, audited hotfix
    pipeline that still runs the tests and asks for an approval, never a switch on the normal one.
    """
    flags = [(k, c, _enabling_flag(str(c))) for k, c in enumerate(resource.data.get("conditions") or [])]
    flags = [(k, c, f) for k, c, f in flags if f]
    if not flags:
        return
    k, cond, flag = flags[0]
    where = resource.locate(("conditions", k))
    for path, cmd, action, target in production_deploys(resource, ctx.config):
        yield Hit(path=path, message=(
            f"{resource.data.get('system', 'pipeline')} job '{resource.name}' runs `{action}` to production "
            f"({target}) when `{flag}` is set (condition `{' '.join(str(cond).split())[:80]}` at line {where.line}): "
            "one parameter or commit message ships an untested build past staging"))
