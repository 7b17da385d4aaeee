"""PM632 (9.1): an IAM policy allows every action on every resource, or a CI/CD identity gets AdministratorAccess."""
from ..access import _rbac
from ..registry import Hit, rule
from . import _tfcloud as tc

POLICY_KINDS = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy")
# attachment type -> [(attribute, IAM kind it names, list?)]
ATTACH = {
    "aws_iam_role_policy_attachment": [("role", "aws_iam_role", False)],
    "aws_iam_user_policy_attachment": [("user", "aws_iam_user", False)],
    "aws_iam_group_policy_attachment": [("group", "aws_iam_group", False)],
    "aws_iam_policy_attachment": [("roles", "aws_iam_role", True), ("users", "aws_iam_user", True),
                                  ("groups", "aws_iam_group", True)],
}


@rule(id="PM632", name="iam-wildcard-admin-policy", severity="high",
      severity_reason="`*` on `*` is the AWS account's root in all but name: one leaked credential of whoever "
                      "holds it reads every secret and deletes every database.",
      incidents=["9.1", "R11"], title="IAM policy grants every action on every resource",
      formats=("terraform",), kinds=POLICY_KINDS + tuple(ATTACH) + (
          "aws_iam_role", "data.aws_iam_policy_document", "aws_iam_role_policy_attachments_exclusive", "module"),
      options={"admin_actions": ["*", "*:*", "iam:*"], **_rbac.DEPLOYER_OPTIONS},
      fix="List the actions and resource ARNs the workload uses (IAM Access Analyzer can generate them from "
          "CloudTrail); give CI roles a deploy policy scoped to the stacks they ship, never AdministratorAccess.")
def check(resource, ctx):
    """## What it checks
    Allow statements whose `Action` is `*` (or `*:*`, or `iam:*`, which grants itself the rest;
    option `admin_actions`) on `Resource` `*`:
    - the `policy` of `aws_iam_policy`, `aws_iam_role_policy`, `aws_iam_user_policy`,
      `aws_iam_group_policy` and `aws_iam_role` `inline_policy` blocks, written with
      `jsonencode({...})` or as a heredoc of JSON;
    - `data "aws_iam_policy_document"` `statement` blocks (`actions = ["*"]`,
      `resources = ["*"]`; `effect` defaults to Allow), reported once at the data source.
    And `arn:aws:iam::aws:policy/AdministratorAccess` attached (`aws_iam_*_policy_attachment`,
    `aws_iam_policy_attachment`, `managed_policy_arns`, `..._policy_attachments_exclusive`, the
    `policies` of an `iam-github-oidc-role` module) to a role, user or group that is CI/CD: its
    name carries ci, cd, deploy, github, gitlab, jenkins, pipeline... (as PM910), or its trust
    policy lets GitHub Actions, GitLab or Terraform Cloud assume it through OIDC. Not reported:
    Deny statements, `NotAction`, statements with a `Principal` (resource policies), `s3:*` on
    one bucket, AdministratorAccess for human roles, policies Terraform only knows after apply.

    ## Why it breaks production
    In incident 9.1 a compromised pod ran as a service account with cluster-admin and the
    attacker took the whole cluster. An IAM `*:*` policy is the same mistake one level up, and
    given to a pipeline it is R11's "rogue Jenkins runner with cluster-admin privileges".

    ## Bad
    ```hcl main.tf
    resource "aws_iam_policy" "deployer" {
      name = "deployer"
      policy = jsonencode({
        Version   = "2012-10-17"
        Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
      })
    }
    ```

    ## Good
    ```hcl main.tf
    resource "aws_iam_policy" "deployer" {
      name = "deployer"
      policy = jsonencode({
        Version   = "2012-10-17"
        Statement = [{ Effect = "Allow", Action = ["ecs:UpdateService", "ecs:DescribeServices"], Resource = "*" }]
      })
    }
    ```

    ## Fix
    Grant the actions the job needs on the ARNs it touches; for CI, one role per pipeline with
    a policy scoped to its stacks, assumed through OIDC with a `sub` condition on the repository
    and branch.
    """
    v = resource.data.get("values") or {}
    kind = resource.kind
    if kind in POLICY_KINDS:
        yield from _document(resource, ("values", "policy"), tc.statements(v.get("policy")), ctx)
    elif kind == "aws_iam_role":
        for i, inline in tc.blocks(v, "inline_policy"):
            yield from _document(resource, ("values", "inline_policy", i, "policy"),
                                 tc.statements(inline.get("policy")), ctx)
        arns = v.get("managed_policy_arns") if isinstance(v.get("managed_policy_arns"), list) else []
        name = v.get("name") if isinstance(v.get("name"), str) else resource.data.get("name")
        yield from _admin(resource, ("values", "managed_policy_arns"), arns, [(name, "aws_iam_role")], ctx)
    elif kind == "data.aws_iam_policy_document":
        for i, st in tc.document_statements(v):
            yield from _document(resource, ("values", "statement", i, "actions"), [(i, st)], ctx, doc=True)
    elif kind in ATTACH:
        who = [(w, iam_kind) for attr, iam_kind, many in ATTACH[kind]
               for w in ((v.get(attr) if isinstance(v.get(attr), list) else []) if many else [v.get(attr)])]
        yield from _admin(resource, ("values", "policy_arn"), [v.get("policy_arn")], who, ctx)
    elif kind == "aws_iam_role_policy_attachments_exclusive":
        arns = v.get("policy_arns") if isinstance(v.get("policy_arns"), list) else []
        yield from _admin(resource, ("values", "policy_arns"), arns, [(v.get("role_name"), "aws_iam_role")], ctx)
    elif kind == "module" and any(s in str(resource.data.get("source") or "") for s in tc.CI_MODULE_SOURCES):
        policies = v.get("policies")
        if any(tc.managed_policy(ctx.project, resource, arn) == "AdministratorAccess"
               for arn in (policies.values() if isinstance(policies, dict) else [])):
            ci = next(ci for s, ci in tc.CI_MODULE_SOURCES.items() if s in resource.data["source"])
            yield Hit(path=("values", "policies"),
                      message=f"{resource.name} attaches AdministratorAccess to the role {ci} workflows assume "
                              f"through OIDC: every workflow run its trust condition admits is administrator "
                              f"of the AWS account")


def _admin_action(actions, options) -> str:
    admin = options.get("admin_actions", ["*"])
    return next((a for a in tc.strs(actions) if a in admin), "")


def _document(resource, path, statements, ctx, doc=False):
    """One finding per policy attribute (or statement block) naming each Allow `*`-on-`*` statement."""
    found = []
    for i, st in statements:
        effect = st.get("Effect")
        action = _admin_action(st.get("Action"), ctx.options)
        if not (isinstance(effect, str) and effect.lower() == "allow") or not action:
            continue
        if "*" not in tc.strs(st.get("Resource")) or any(st.get(k) for k in ("NotAction", "Principal", "NotPrincipal")):
            continue
        sid = st.get("Sid")
        where = (f"statement '{sid}'" if isinstance(sid, str) and sid else
                 f"statement block #{i + 1}" if doc else f"Statement[{i}]")
        found.append((where, action))
    if not found:
        return
    full = [w for w, a in found if a != "iam:*"]
    grant = ("every action on every resource: administrator of the whole AWS account" if full else
             "every IAM action on every resource: it can attach AdministratorAccess to itself")
    what = " and ".join(f"{w} allows Action '{a}'" for w, a in found)
    yield Hit(path=path, message=f"{resource.name} {what} on Resource '*', {grant}; whoever holds it (a leaked CI "
                                 f"token, a compromised pod) owns every database, bucket and key — incident 9.1's "
                                 f"cluster-admin service account, one level up")


def _admin(resource, path, arns, who, ctx):
    """AdministratorAccess among `arns`, attached to identities of which some are CI/CD: one finding."""
    if not any(tc.managed_policy(ctx.project, resource, arn) == "AdministratorAccess" for arn in arns):
        return
    found, related = [], []
    for w, iam_kind in who:
        name, why, rel = tc.ci_identity(ctx.project, resource, w, ctx.options, (iam_kind,))
        if name:
            found.append(f"IAM {iam_kind.split('_')[-1]} '{name}', a CI/CD identity ({why})")
            related.extend(rel)
    if found:
        yield Hit(path=path, related=tuple(related),
                  message=f"AdministratorAccess is attached to {'; '.join(found)}: every pipeline run holding it is "
                          f"administrator of the AWS account — R11's deployer with cluster-admin, for the whole "
                          f"cloud account")
