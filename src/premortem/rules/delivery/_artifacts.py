"""What a pipeline does with the artifact: builds, pushes, scans, verifies and deploys an image.

Shared by PM105 (production rebuilds instead of promoting), PM106 (deploy without digest or
signature verification) and PM502 (image pushed without a vulnerability scan). Tools are given as
*specs*, lists the rules expose as options:

    "docker buildx build --push"   program, then words that must follow in order. The first word
                                   is the subcommand (the first non-flag argument, or the second
                                   when the first may be a flag's value: `trivy --cache-dir d image`);
                                   for goal tools (mvn, gradle, make) any argument. A later word
                                   matches an argument equal to it, `x=word` or `word=x`.
    "kaniko !--no-push"            `!word`: no such argument (nor `word=...`).
    "docker/build-push-action push" (actions) a `uses:` prefix, then `with:` inputs that must be truthy
                                   (`!input`: not set to false).

Order inside a job is (step, command) with a `uses:` step at command -1.
"""
from __future__ import annotations

import functools
import os
import re

from ._deploys import deploy_action, deploy_target, flag_value, is_dry_run, subcommand, tool, words

GOAL_TOOLS = {"mvn", "gradle", "make", "bazel", "sbt"}
_ALIASES = {"mvnw": "mvn", "gradlew": "gradle", "docker-compose": "docker compose", "podman-compose": "podman compose"}

BUILDS = ["docker build", "docker buildx build", "docker image build", "docker buildx bake", "docker compose build",
          "podman build", "buildah bud", "buildah build", "nerdctl build", "kaniko", "img build", "pack build",
          "ko build", "ko publish", "jib build", "mvn package", "mvn install", "mvn deploy", "mvn jib:build",
          "gradle build", "gradle assemble", "gradle bootJar", "gradle jib", "npm run build", "yarn build",
          "yarn run build", "pnpm build", "pnpm run build", "gcloud builds submit", "az acr build"]
BUILD_ACTIONS = ["docker/build-push-action", "docker/bake-action", "redhat-actions/buildah-build",
                 "mr-smithers-excellent/docker-build-push"]
# pushes that build the image themselves / pushes of an image built before them
SELF_PUSHES = ["docker buildx build --push", "docker buildx build type=registry", "docker buildx bake --push",
               "kaniko !--no-push", "ko build !--local !-L", "ko publish !--local !-L", "jib build", "mvn jib:build",
               "gradle jib", "pack build --publish", "gcloud builds submit", "az acr build", "crane push"]
PUSHES = ["docker push", "docker image push", "docker compose push", "podman push", "buildah push", "nerdctl push"]
PUSH_ACTIONS = ["docker/build-push-action push", "docker/bake-action push", "redhat-actions/push-to-registry",
                "mr-smithers-excellent/docker-build-push !pushImage"]
SCANNERS = ["trivy image", "trivy i", "trivy fs", "trivy filesystem", "trivy rootfs", "trivy sbom", "trivy repo",
            "grype", "snyk container", "docker scout", "docker scan", "anchore-cli", "clair-scanner", "clairctl",
            "twistcli", "jf docker scan", "jf scan", "wizcli docker scan"]
SCANNER_ACTIONS = ["aquasecurity/trivy-action", "anchore/scan-action", "snyk/actions/docker", "docker/scout-action",
                   "crazy-max/ghaction-container-scan", "azure/container-scan", "sysdiglabs/scan-action",
                   "lacework/lw-scanner-action", "grypeScan", "prismaCloudScanImage", "aquaMicroscanner"]
SCANNER_IMAGES = ["aquasec/trivy", "anchore/grype", "snyk/snyk", "docker/scout-cli"]
SCANNING_TEMPLATES = ["Container-Scanning", "Auto-DevOps"]
VERIFIERS = ["cosign verify", "cosign verify-attestation", "notation verify", "gh attestation verify",
             "slsa-verifier verify-image", "ratify verify"]

# environment words of pre-production; `stage` alone is ambiguous (a build/pipeline stage, `stage-2`)
PREPROD = re.compile(r"(?<![a-z0-9])(staging|stg|qa|uat|pre-?prod|preproduction|test|testing|dev|develop|development|"
                     r"sandbox|non-?prod)(?![a-z0-9])", re.IGNORECASE)
_STAGE_SUFFIX = re.compile(r"(?:^|[-_.])(stage)$", re.IGNORECASE)
_STAGE_TOKEN = re.compile(r"(?<![a-z0-9])(stage)(?![a-z0-9])", re.IGNORECASE)
_VARS = re.compile(r"\$\{\{.*?\}\}|\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_]\w*")
_DIGEST = re.compile(r"@sha256:|digest", re.IGNORECASE)
_SET = ("--set", "--set-string", "--helm-set", "--helm-set-string", "-p", "--parameter")


def program(argv: list) -> list:
    """argv from its program on, with aliases resolved (`./mvnw` -> mvn, `/kaniko/executor` -> kaniko)."""
    return list(_program(tuple(argv)))


@functools.lru_cache(maxsize=8192)
def _program(argv: tuple) -> tuple:
    w = tuple(words(list(argv)))
    if not w:
        return w
    base = os.path.basename(w[0])
    if base == "executor" and ("kaniko" in w[0] or any(a.startswith(("--destination", "--context")) for a in w)):
        base = "kaniko"
    return tuple(_ALIASES.get(base, base).split()) + w[1:]


def _later(word: str, a: str) -> bool:
    return a == word or a.endswith("=" + word) or a.startswith(word + "=")


def matches(argv: list, spec: str) -> bool:
    """Whether a command is the one `spec` describes (see the module doc)."""
    args, want = program(argv), spec.split()
    if not args or not want or args[0] != want[0]:
        return False
    rest = args[1:]
    need = [x for x in want[1:] if not x.startswith("!")]
    for x in want[1:]:
        if x.startswith("!") and any(a == x[1:] or a.startswith(x[1:] + "=") for a in rest):
            return False
    if not need:
        return True
    if want[0] not in GOAL_TOOLS:
        free = [k for k, a in enumerate(rest) if not a.startswith("-")]
        after_flag = bool(free) and free[0] > 0 and rest[free[0] - 1].startswith("-") and "=" not in rest[free[0] - 1]
        heads = free[:2] if after_flag else free[:1]  # the first word may be a flag's value
        head = next((k for k in heads if rest[k] == need[0]), None)
        if head is None:
            return False
        rest, need = rest[head + 1:], need[1:]
    k = 0
    for word in need:
        while k < len(rest) and not _later(word, rest[k]):
            k += 1
        if k == len(rest):
            return False
        k += 1
    return True


def first_match(argv: list, specs) -> str:
    return next((s for s in specs if matches(argv, s)), "")


def _truthy(v) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() not in ("", "false", "0", "no"))


def action_match(step: dict, specs) -> str:
    """The spec whose action (and truthy `with:` inputs) the step `uses:` ('' when none)."""
    uses = (step.get("uses") or "").split("@")[0].lower()
    for spec in specs:
        name, *inputs = spec.split()
        if uses and (uses == name.lower() or uses.startswith(name.lower() + "/")):
            given = step.get("with") or {}
            if all(_truthy(given.get(i)) if not i.startswith("!") else
                   i[1:] not in given or _truthy(given[i[1:]]) for i in inputs):
                return name
    return ""


def events(data: dict):
    """((step, command), path, step, command or None) of a job, in order; a `uses:` step at command -1."""
    for i, step in enumerate(data.get("steps") or []):
        if step.get("uses"):
            yield (i, -1), ("steps", i), step, None
        for j, cmd in enumerate(step.get("commands") or []):
            if cmd.get("argv"):
                yield (i, j), ("steps", i, "commands", j), step, cmd


def find(data: dict, specs=(), actions=(), images=()) -> list:
    """[(order, path, what, command or None)] for the steps of a job matching a spec, an action, or a
    `docker run` of one of `images` (a scanner run from its container)."""
    out = []
    for order, path, step, cmd in events(data):
        if cmd is None:
            what = action_match(step, actions)
        else:
            what = first_match(cmd["argv"], specs)
            argv = program(cmd["argv"])
            if not what and images and argv[:1] in (["docker"], ["podman"]) and subcommand(argv) == "run":
                what = next((f"docker run {i}" for i in images for a in argv if a.split(":")[0].endswith(i)), "")
        if what:
            out.append((order, path, " ".join(w for w in what.split() if not w.startswith("!")), cmd))
    return out


def pushed_image(argv: list, step: dict | None = None) -> str:
    """The image a push writes, as written ('' when not visible)."""
    if step is not None:
        tags = str((step.get("with") or {}).get("tags") or (step.get("with") or {}).get("image") or "")
        return re.split(r"[\n,]", tags.strip())[0].strip() if tags.strip() else ""
    args = program(argv)
    value = flag_value(args, ("--destination", "-t", "--tag", "--image", "-Dimage", "-Djib.to.image"))
    if value:
        return value
    rest = [a for a in args[1:] if not a.startswith("-")]
    return rest[-1] if len(rest) > 1 and rest[0] == "push" or args[:2] == ["docker", "image"] else ""


def set_values(argv: list) -> list:
    """(key, value) of every `--set k=v[,k=v]` (helm, argocd --helm-set, -p)."""
    args, out = words(argv), []
    for k, a in enumerate(args):
        for flag in _SET:
            if a == flag and k + 1 < len(args):
                text = args[k + 1]
            elif a.startswith(flag + "="):
                text = a[len(flag) + 1:]
            else:
                continue
            out += [tuple(v.partition("=")[::2]) for v in text.split(",") if "=" in v]
    return out


def tag_of(ref: str) -> str:
    last = ref.split("@")[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def deployed_images(argv: list) -> list:
    """(shown, tag, pinned) for each image a deploy command sets: helm/argocd `--set *tag=`,
    `--set *image*=repo:tag`, `*digest*=`, `kubectl set image c=ref`, `--image ref` (gcloud run deploy)."""
    t, args, out = tool(argv), words(argv), []
    for key, val in set_values(argv):
        if re.search(r"(^|\.)tag$", key, re.IGNORECASE):
            out.append((f"{key}={val}", val, bool(_DIGEST.search(val))))
        elif re.search(r"digest", key, re.IGNORECASE):
            out.append((f"{key}={val}", "", True))
        elif "image" in key.lower() and (tag_of(val) or "@" in val):
            out.append((f"{key}={val}", tag_of(val), bool(_DIGEST.search(val))))
    if t in ("kubectl", "oc") and "set" in args and "image" in args:
        for a in args[args.index("image") + 1:]:
            if not a.startswith("-") and "=" in a:
                ref = a.split("=", 1)[1]
                tag = tag_of(ref) or ("" if "@" in ref or "$" in ref else "latest")
                out.append((a, tag, bool(_DIGEST.search(ref))))
    ref = flag_value(args, ("--image",))
    if ref:
        out.append((f"--image {ref}", tag_of(ref), bool(_DIGEST.search(ref))))
    return out


def preprod_tag(tag: str) -> str:
    """The pre-production word a tag carries ('' when none): `staging`, `v2.1-staging`, `1.0-dev`,
    `staging-hotfix`; `stage` only as the whole tag or its suffix (`stage-2` is not)."""
    text = _VARS.sub("", tag)  # `$STAGING_TAG` names a variable; `${VERSION}-staging` is a staging tag
    m = PREPROD.search(text) or _STAGE_SUFFIX.search(text)
    return m.group(1) if m else ""


class _Job:  # what _deploys/_flow read of a job: its name, data and file
    def __init__(self, name, data, file=""):
        self.name, self.data, self.file = name, data, file


def deploys(name: str, data: dict, config, file: str = "") -> list:
    """[(order, path, action, 'production'|'staging'|'', evidence, command)] of a job's deploy commands."""
    out, job = [], _Job(name, data, file)
    for order, path, _, cmd in events(data):
        action = deploy_action(cmd["argv"]) if cmd else ""
        if action and not is_dry_run(cmd["argv"]):
            verdict, evidence = deploy_target(job, path, cmd, config)
            out.append((order, path, action, {"production": "production", "non-production": "staging"}.get(verdict, ""),
                        evidence, cmd))
    return out


def pr_only(data: dict) -> bool:
    """A job that runs only for pull/merge requests (it never ships)."""
    trig = set(data.get("triggers") or [])
    if trig and trig <= {"pull_request", "pull_request_target", "merge_request"}:
        return True
    conds = [str(c) for c in data.get("conditions") or []]
    pr = re.compile(r"merge_request_event|changeRequest|event_name\s*==\s*['\"]pull_request")
    return bool(conds) and all(pr.search(c) and "!=" not in c and "!" + "change" not in c for c in conds)


def cluster_verification(project, kinds, images) -> str:
    """Evidence that the cluster itself verifies signatures ('' when none in the scan): a policy of
    one of `kinds` (sigstore `ClusterImagePolicy`), a Kyverno policy with `verifyImages`, or an
    admission controller workload whose image names one of `images` (Connaisseur, policy-controller)."""
    for e in project.of_kind(*kinds):
        return f"{e.kind} '{e.name}' ({e.file})"
    for e in project.of_kind("ClusterPolicy", "Policy"):
        facts = e.facts or {}
        if facts.get("verify_images"):
            return f"Kyverno {e.kind} '{e.name}' ({e.file})"
    for e in project.workloads():
        for img in e.facts.get("images") or []:
            if any(i in str(img) for i in images):
                return f"{e.kind} '{e.name}' running {img} ({e.file})"
    return ""
