"""PM912 (R11, 9.3): a deploy job holds a cluster-admin kubeconfig or identity."""
import os
import re

from ...k8s import awsauth
from ...model import Severity, Source
from ...project import same_ns
from ..delivery._deploys import commands, deploy_action, flag_value, subcommand, tool, words
from ..registry import Hit, rule
from . import _rbac

ADMIN_WORDS = ["admin", "administrator", "clusteradmin", "superadmin", "superuser", "kubeadmin", "masters"]
KUBE_WORDS = ["kubeconfig", "kube", "k8s", "kubernetes", "kubectl", "eks", "gke", "aks", "openshift", "ocp"]
KUBE_TOOLS = {"kubectl", "oc", "helm", "helmfile", "kustomize", "argocd", "skaffold", "kapp"}
# names that are cluster-admin by construction: the role itself, kubeadm's admin.conf user, OpenShift's admins
_CLEAR = [("cluster", "admin"), ("clusteradmin",), ("kubernetes", "admin"), ("system", "admin"), ("system", "masters"),
          ("kubeadmin",), ("admin", "conf")]
_REF = re.compile(r"\$\{\{\s*(?:secrets|vars|env|inputs)\.([\w-]+)\s*\}\}|\$\{?(?:env\.|params\.)?([A-Za-z_]\w*)"
                  r"|credentials\(\s*['\"]([^'\"]+)['\"]")
_N = "\x00"  # where a description names the credential
_KUBE_FLAGS = ("--kubeconfig", "--token", "--context", "--user", "--kube-token", "--kube-context", "--kube-as-user",
               "--kube-as-group", "--as", "--as-group")


def _named(desc: str, names, sink: bool, opts: dict) -> list:
    """[(desc, clear, ())] for the first of `names` that is an admin Kubernetes credential: cluster-admin by
    name (clear), or `admin` as a whole word plus a kube word or a kubeconfig `sink` it lands in."""
    for name in names:
        ws = _rbac.words(os.path.basename(name) if "/" in name else name)
        if any(tuple(ws[k:k + len(p)]) == p for p in _CLEAR for k in range(len(ws))):
            return [(desc.replace(_N, name), True, ())]
        if any(w in opts.get("admin_words", ADMIN_WORDS) for w in ws) and (
                sink or any(w in opts.get("kube_words", KUBE_WORDS) for w in ws)):
            return [(desc.replace(_N, name), False, ())]
    return []


def _refs(value: str) -> list:
    """Names a value references (`${{ secrets.X }}`, `$X`, `credentials('x')`), or the value if it is a path."""
    refs = [next(g for g in m.groups() if g) for m in _REF.finditer(str(value))]
    return refs or ([str(value)] if "/" in str(value) or str(value).endswith(".conf") else [])


def _kube_key(key: str) -> bool:
    return any(w in ("kubeconfig", "kube", "k8s") for w in _rbac.words(key))


def _identity(ctx, kind: str, name: str, ns: str = "") -> tuple:
    """(description, related) when a ClusterRoleBinding of the scan gives this identity cluster-admin (or a
    ClusterRole equal to it), else None."""
    if kind == "Group" and name == "system:masters":
        return "the group system:masters (cluster-admin, bypassing RBAC)", ()
    idx = _rbac.index(ctx.project)
    found = [b for b in idx.bindings if b.cluster and b.ref_kind == "ClusterRole"
             and (b.ref_name == "cluster-admin" or _rbac.full_admin(idx.effective_rules(b.ref_name)))
             and any((s.sa is not None and s.sa[1] == name and same_ns(s.sa[0], ns)) if kind == "ServiceAccount"
                     else (s.kind == kind and s.name == name) for s in b.subjects)]
    who = f"ServiceAccount {ns or '-'}/{name}" if kind == "ServiceAccount" else f"{kind} {name}"
    return (f"{who}, bound to {found[0].ref_name} by {found[0].label}",
            tuple((b.ref_at, f"{b.label} binds {b.ref_name} to {who}") for b in found)) if found else None


def _role(ctx, arn: str) -> list:
    """[(description, True, related)] when aws-auth in the scan maps this IAM role to a cluster-admin group/user."""
    for e in (e for e in ctx.project.of_kind("ConfigMap") if e.name == "aws-auth"):
        for m in awsauth.mappings((e.facts.get("data") or {}).get("mapRoles"), "mapRoles")[0]:
            hits = [(g, _identity(ctx, "Group", g)) for g in m.groups if m.arn == arn]
            for g, hit in hits + ([(m.username, _identity(ctx, "User", m.username))] if m.arn == arn else []):
                if hit:
                    return [(f"IAM role {arn}, which aws-auth maps to {hit[0]}", True,
                             ((Source(e.file, e.line), f"aws-auth maps {arn} to {g}"),) + hit[1])]
    return []


def _uses(ctx, step: dict, opts: dict) -> list:
    """A GitHub action step given an admin identity: `azure/k8s-set-context` with an admin kubeconfig,
    `azure/aks-set-context` with `admin: true`, `configure-aws-credentials` with a role aws-auth makes admin."""
    uses, out = str(step.get("uses") or ""), []
    kube = bool(re.search(r"(?i)k8s|kube|aks|eks|gke|helm", uses))
    for key, value in (step.get("with") or {}).items() if uses and isinstance(step.get("with"), dict) else ():
        if "aks" in uses.lower() and key == "admin" and str(value).lower() == "true":
            out.append((f"`{uses}` with admin: true (AKS's clusterAdmin certificate)", True, ()))
        out += _role(ctx, str(value)) if key == "role-to-assume" else []
        out += _named(f"`{uses}` with {key}: {_N}", _refs(str(value)), _kube_key(key), opts) if kube else []
    return out


def _own(ctx, argv: list, text: str, opts: dict) -> list:
    """(description, clear, related) for admin identities a command names in its own arguments."""
    out, w, t, sub = [], words(argv), tool(argv), subcommand(argv)
    arn = flag_value(argv, ("--role-arn",)) if t == "aws" and "update-kubeconfig" in w else None
    if arn:
        out += _role(ctx, arn) or _named(f"`aws eks update-kubeconfig --role-arn {arn}`", [arn.rsplit("/", 1)[-1]],
                                         True, opts)
    if t == "az" and "get-credentials" in w and ("--admin" in w or "-a" in w):
        out.append(("`az aks get-credentials --admin` (AKS's clusterAdmin certificate, skipping Azure AD)", True, ()))
    user = flag_value(argv, ("-u", "--username")) if t == "oc" and sub == "login" else None
    out += _named(f"`oc login -u {_N}`", [user], True, opts) if user else []
    if t == "kubectl" and sub == "config" and any(a in w for a in ("use-context", "set-credentials", "set-context")):
        out += _named(f"`{' '.join(w[:3])} {_N}`", [w[-1]], True, opts)
    for flag, value in ((f, flag_value(argv, (f,))) for f in (_KUBE_FLAGS if t in KUBE_TOOLS else ())):
        sa = str(value).split(":") if str(value).startswith("system:serviceaccount:") and value.count(":") == 3 \
            else None
        hit = (_identity(ctx, "ServiceAccount", sa[3], sa[2]) if sa else _identity(
            ctx, "Group" if flag.endswith("group") else "User", value)) if value and "-as" in flag else None
        out += [(f"`{flag}={value}`: {hit[0]}", True, hit[1])] if hit else _named(
            f"`{flag}={value}`", ([] if "token" in flag else [value]) + _refs(value) if "$" in str(value) or
            "token" not in flag else [], True, opts) if value else []  # never a literal token into a message
    sink = "kube" in text.lower()  # `echo "$X" | base64 -d > ~/.kube/config`
    for ref in (r for a in w[1:] if "$" in a for r in _refs(a) if not any(r in d for d, _, _ in out)):
        out += _named(f"the credential {_N} passed to `{t}`", [ref], sink, opts)
    return out


@rule(id="PM912", name="ci-deploy-cluster-admin-kubeconfig", severity="critical",
      severity_reason="Whoever can change the pipeline or read its secrets owns every namespace, and each deploy is "
                      "recorded as the shared admin, not as a person.",
      incidents=["9.3", "R11"], title="Deploy job holds a cluster-admin kubeconfig or identity",
      formats=("pipeline",), kinds=("PipelineJob",), production_only=False,
      options={"admin_words": ADMIN_WORDS, "kube_words": KUBE_WORDS},
      fix="Give the deploy job a kubeconfig for a deployer ServiceAccount bound by RoleBindings to a Role in the "
          "namespaces it ships to (or let Argo CD/Flux pull); keep admin credentials out of CI.")
def check(resource, ctx):
    """## What it checks
    Jobs that deploy (helm/kubectl/argocd/terraform... see PM101) and hold an admin Kubernetes
    identity, reported where it enters the job:
    - a secret, variable or Jenkins credential whose name has `admin` as a whole word (option
      `admin_words`) and either a Kubernetes word (kubeconfig, kube, k8s, eks, ...: option
      `kube_words`) or lands in a kubeconfig (`KUBECONFIG`, `--kubeconfig`, `--token`, a
      `kubeconfigFile` binding, `> ~/.kube/config`): `${{ secrets.ADMIN_KUBECONFIG }}`,
      `withCredentials([file(credentialsId: 'prod-cluster-admin', variable: 'KUBECONFIG')])`;
    - `kubectl --as=system:admin`, `--as-group=system:masters`, `--context kubernetes-admin@...`,
      kubeadm's `/etc/kubernetes/admin.conf`, `oc login -u kubeadmin`, `az aks get-credentials
      --admin`, `aws eks update-kubeconfig --role-arn ...Admin...`;
    - an identity the job names (`--as=system:serviceaccount:ci:deployer`, `--as=<user>`, an IAM
      role mapped by aws-auth) that a ClusterRoleBinding of the scan binds to cluster-admin (the
      binding is named, as PM910 reports it from the RBAC side).
    Critical when the identity is cluster-admin by construction (the names above, `cluster-admin`
    in a name, or a binding in the scan), high for other admin names. `gcloud container clusters
    get-credentials` and names like `kubeconfig-deployer` or `sysadmin-notify` are not reported.

    ## Why it breaks production
    The on-call narrative's "Kyle-Ops" ran `helm upgrade` from a laptop or a rogue Jenkins runner
    with cluster-admin privileges and shipped an untested `:latest` image past every gate (R11).
    In catalog 9.3 nobody could tell who changed a production Deployment: a shared admin
    credential in CI leaves exactly that audit trail.

    ## Bad
    ```groovy Jenkinsfile
    pipeline {
      agent any
      stages {
        stage('Deploy') {
          steps {
            withCredentials([file(credentialsId: 'prod-cluster-admin', variable: 'KUBECONFIG')]) {
              sh 'helm upgrade --install api ./chart -n production'
            }
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
        stage('Deploy') {
          steps {
            withCredentials([file(credentialsId: 'kubeconfig-deployer', variable: 'KUBECONFIG')]) {
              sh 'helm upgrade --install api ./chart -n production'
            }
          }
        }
      }
    }
    ```

    ## Fix
    Create a deployer ServiceAccount per environment, bind it with RoleBindings to a Role that
    can update the workloads it ships, and put only its kubeconfig in CI; better, move deploys to
    a GitOps controller so CI holds no cluster credential at all.
    """
    data, opts = resource.data, ctx.options
    steps = data.get("steps") or []
    actions = [deploy_action(c["argv"]) for _, c in commands(resource)]
    action = next((a for a in actions if a), "") or next(
        (s["uses"] for s in steps if re.search(r"(?i)k8s-deploy|helm", str(s.get("uses") or ""))), "")
    if not action:
        return
    base_env = data.get("env") if data.get("system") == "jenkins" and isinstance(data.get("env"), dict) else {}
    texts: dict = {}  # each shell pipeline's text: `echo "$X" | base64 -d > ~/.kube/config` lands in a kubeconfig
    for path, cmd in commands(resource):
        texts.setdefault((path[1], cmd.get("pipeline")), []).append(str(cmd.get("text") or ""))
    found = [(("steps", i), _uses(ctx, step, opts)) for i, step in enumerate(steps)]
    for path, cmd in commands(resource):
        argv, step = cmd["argv"], steps[path[1]]
        text = " ".join(texts[(path[1], cmd.get("pipeline"))])
        kube_cmd = bool(deploy_action(argv)) or tool(argv) in KUBE_TOOLS
        own = _own(ctx, argv, text, opts)
        for key, value in {**base_env, **(cmd.get("env") or {})}.items():  # what the command inherits
            if kube_cmd or re.search(rf"\${{?{re.escape(key)}\b", text):
                own += _named(f"{key} from {_N}", _refs(value), _kube_key(key), opts) or _named(
                    f"the variable {_N}", [key] if value else [], False, opts)
        for cred in step.get("credentials") or []:  # Jenkins withCredentials around the step
            names = cred.get("variables") or []
            if kube_cmd or any(re.search(rf"\${{?{re.escape(v)}\b", text) for v in names):
                sink = str(cred.get("kind", "")).startswith("kubeconfig") or any(_kube_key(v) for v in names)
                into = f" bound to {', '.join(names)}" if names else ""
                own += _named(f"Jenkins credential '{_N}'{into}", [str(cred.get("id", ""))], sink, opts)
        found.append((path, own))
    seen = set()
    for path, evidence in found:
        for desc, clear, related in evidence:
            if desc in seen:
                continue
            seen.add(desc)
            yield Hit(path=path, related=related, severity=None if clear else Severity.HIGH,
                      message=f"{data.get('system', 'CI')} job '{resource.name}' deploys (`{action}`) holding an "
                              f"admin Kubernetes identity: {desc} — whoever edits the pipeline or reads its secrets "
                              "owns every namespace and each change is logged as the shared admin (R11's rogue "
                              "Jenkins runner with cluster-admin; 9.3's missing audit trail)")
