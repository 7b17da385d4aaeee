"""PM910 (R11): a CI/CD deployer identity is bound to cluster-admin (or a ClusterRole equal to it)."""
from ...model import Source
from ..registry import Hit, rule
from . import _rbac


@rule(id="PM910", name="ci-deployer-cluster-admin", severity="critical",
      severity_reason="The CI system runs whatever is pushed to it: cluster-admin for its identity makes every "
                      "pipeline edit, leaked runner token or compromised build step a full cluster takeover.",
      incidents=["R11", "9.1"], title="CI/CD deployer identity bound to cluster-admin",
      kinds=["ClusterRoleBinding"], production_only=False, options=dict(_rbac.DEPLOYER_OPTIONS),
      fix="Bind the deployer with a RoleBinding, per target namespace, to a Role that can patch the workloads it "
          "ships; better, let a GitOps controller in the cluster pull the change (Argo CD, Flux).")
def check(resource, ctx):
    """## What it checks
    A ClusterRoleBinding to `cluster-admin`, or to a ClusterRole of the scan whose rules
    (aggregated ones included) grant `*` verbs on `*` resources in `*` API groups, with a subject
    recognised as a CI/CD deployer:
    - its name carries a CI product (jenkins, gitlab, github, spinnaker, tekton, circleci,
      buildkite, argo-workflows, tiller, ...: option `deployer_substrings`) or a whole CI word
      (ci, cd, cicd, deploy, deployer, pipeline, runner, ...: option `deployer_words`);
    - it is a service account in a CI namespace (jenkins, ci, cicd, gitlab-runner,
      actions-runner-system, arc-runners, arc-systems, tekton-pipelines, ...: option
      `ci_namespaces`);
    - or it is the service account the pods of a CI runner run as: a workload in the scan whose
      image is jenkins/inbound-agent, gitlab/gitlab-runner, actions-runner, Tekton, Buildkite,
      Argo Workflows' argoexec, ... (option `runner_images`), found through the project index.
    Identities Kubernetes ships (`system:*`) are not judged. A deployer bound to a namespaced
    Role, or to cluster-admin through a RoleBinding (one namespace), is not reported; a deployer
    bound cluster-wide to `admin`/`edit` is reported by PM901. Fires everywhere.

    ## Why it breaks production
    In the on-call narrative deploys ran as "Kyle-Ops": `helm upgrade` from a laptop or a rogue
    Jenkins runner with cluster-admin privileges, which pushed an untested `:latest` image
    straight into production past every gate (R11). The same identity could as well have read
    every Secret or deleted every namespace.

    ## Bad
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: jenkins-deployer}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    subjects:
      - kind: ServiceAccount
        name: jenkins
        namespace: jenkins
    ```

    ## Good
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: jenkins-deployer, namespace: production}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - kind: ServiceAccount
        name: jenkins
        namespace: jenkins
    ```

    ## Fix
    Give the deployer a Role in each namespace it deploys to (get/list/patch on Deployments,
    Services, ConfigMaps), bound by RoleBindings; keep cluster-admin for break-glass humans.
    Moving to pull-based GitOps removes cluster credentials from CI altogether.
    """
    if resource.get(("roleRef", "kind")) != "ClusterRole" or resource.labels.get("kubernetes.io/bootstrapping"):
        return
    role = str(resource.get(("roleRef", "name")) or "")
    idx = _rbac.index(ctx.project)
    related = []
    if role == "cluster-admin":
        what = "cluster-admin"
    elif _rbac.full_admin(idx.effective_rules(role)):
        e = idx.clusterroles[role]
        own = _rbac.full_admin(e.facts.get("rules") or [])
        what = (f"ClusterRole '{role}', which grants * on * in every API group{'' if own else ' through aggregation'} "
                f"(cluster-admin under another name)")
        related.append((Source(e.file, e.line), f"ClusterRole {role} grants every verb on every resource"))
    else:
        return
    for i, s in enumerate(_rbac.subjects_of(resource.get(("subjects",)), "")):
        if s.system:
            continue
        evidence, rel = idx.deployer_evidence(s, ctx.options)
        if not evidence:
            continue
        yield Hit(path=("subjects", i, "name"),
                  message=f"{s.identity} is a CI/CD deployer identity ({evidence}) and ClusterRoleBinding "
                          f"'{resource.name}' gives it {what}: anyone who can edit a pipeline or steal the runner's "
                          f"token owns every namespace — the rogue Jenkins runner with cluster-admin privileges that "
                          f"ran `helm upgrade` straight into production (R11)",
                  related=tuple(rel + related), identity=s.identity)
