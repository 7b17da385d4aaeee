"""One way through: discover → parse → project index → rules → suppress → (report).

Two phases over the units: the first parses every unit and builds the project index; the second
judges every resource with the complete index. Parsed resources are kept between phases while
they fit a memory budget; past it, units are parsed again in the second phase, so a 100k-object
scan holds only the compact index. With --jobs > 1 both phases run in worker processes.
"""
from __future__ import annotations

import datetime as _dt
import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from . import discover as disc
from .config import Config
from .model import Finding, Resource, ScanError, Severity, Source, fingerprint, redact
from .project import Project
from .rules.registry import Hit, Rule, load_rules
from .suppress import SuppressionIndex, annotation_suppression, comment_suppressions, read_baseline

CACHE_BUDGET_BYTES = 8 * 1024 * 1024  # scans up to this much input are parsed once and kept
# (parsed YAML takes ~20x its size in memory: 8 MB of input is ~160 MB of objects)
PARALLEL_MIN_BYTES = 24 * 1024 * 1024  # below this, worker start-up and pickling cost more than they save


@dataclass
class ScanOptions:
    jobs: int = 0  # 0 = automatic
    helm_values: list = field(default_factory=list)
    baseline: str = ""
    select: list = field(default_factory=list)  # only these rule IDs
    ignore: list = field(default_factory=list)  # never these rule IDs
    today: _dt.date | None = None
    history: bool = False  # also run the secret rules over every commit of the git repository (history.py)


@dataclass
class ScanResult:
    root: str
    files: int = 0
    resources: int = 0
    errors: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    suppressed: list = field(default_factory=list)
    baselined: int = 0
    rules: dict = field(default_factory=dict)
    project: Project | None = None
    not_scanned: list = field(default_factory=list)  # (file, why): other files skipped on purpose (size)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)


@dataclass
class Context:
    """What a rule may look at besides the resource: the index, config, its options, production evidence."""

    project: Project
    config: Config
    options: dict
    production: str  # evidence, '' when not production

    @property
    def is_production(self) -> bool:
        return bool(self.production)


@dataclass
class Loaded:
    resources: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    consumed: set = field(default_factory=set)  # abs paths of files this unit read
    suppressions: list = field(default_factory=list)
    skip: bool = False  # not a top-level unit (e.g. a Kustomize component)


# ---- loading ----------------------------------------------------------------------------------
def load_unit(unit: disc.Unit, root: str, config: Config, helm_values: list) -> Loaded:
    out = Loaded()
    texts: list = []  # (rel, text) of every file read: each is also a TextFile (secret scanning)
    try:
        if unit.kind in FILE_KINDS:
            try:
                text = disc.read_text(unit.path)
            except ValueError as exc:
                if unit.kind not in ("text", "javascript"):  # a .png or an MPEG-TS .ts is not text; a binary .yaml is an error
                    out.errors.append(ScanError(unit.rel, 0, str(exc)))
                return out
            except OSError as exc:
                out.errors.append(ScanError(unit.rel, 0, disc._os_message(exc)))
                return out
            out.consumed.add(unit.path)
            out.suppressions = comment_suppressions(text, unit.rel)
            texts.append((unit.rel, text))
            if unit.kind == "text":  # Markdown postmortems get a structured kind beside their TextFile
                from .parse.markdown import parse_postmortem
                from .parse.tfplan import looks_like_plan, parse_json

                if text.lstrip()[:1] == "{" and looks_like_plan(text[:65536]):  # a plan saved as `tfplan`, `plan.out.txt`
                    out.resources, out.errors = parse_json(text, unit.rel)
                else:
                    out.resources, out.errors = parse_postmortem(text, unit.rel)
            elif unit.kind == "dockerfile":
                from .parse.dockerfile import parse_dockerfile

                out.resources, out.errors = parse_dockerfile(text, unit.rel)
            elif unit.kind == "repofile":
                from .parse.repo import parse_repo_file

                out.resources, out.errors = parse_repo_file(text, unit.rel)
            elif unit.kind in PIPELINE_KINDS:
                from .parse.pipelines import parse_pipeline

                read = _include_reader(unit, root, out) if is_gitlab_root(unit) else None
                out.resources, out.errors = parse_pipeline(unit.kind, text, unit.rel, read)
            elif unit.kind == "tfstate":
                from .parse.tfstate import parse_state

                out.resources, out.errors = parse_state(text, unit.rel)
            elif unit.kind in ("python", "javascript"):  # application code, summarized
                from .parse.appcode import parse_code

                out.resources, out.errors = parse_code(unit.kind, text, unit.rel)
            elif unit.kind == "package":  # manifests and lockfiles
                from .parse.packages import parse_package

                out.resources, out.errors = parse_package(text, unit.rel)
            elif unit.kind == "json":  # a Grafana dashboard or a Terraform plan by content, else Kubernetes objects
                from .parse import grafana
                from .parse.tfplan import parse_json

                dash = grafana.parse_dashboard_file(text, unit.rel) if grafana.looks_like_dashboard(text) else None
                out.resources, out.errors = dash if dash is not None else parse_json(text, unit.rel)
            else:
                from .parse.kubernetes import parse_manifest

                out.resources, errs = parse_manifest(text, unit.rel)
                out.errors.extend(errs)
        elif unit.kind == "helm":
            from .parse import helm

            res = helm.load_chart(unit, root, config, helm_values)
            out.resources, out.errors, out.consumed = res.resources, res.errors, res.consumed
        elif unit.kind == "terraform":
            from .parse import terraform

            out.resources, out.errors, out.consumed = terraform.load_directory(
                unit.path, root, disc.read_text, config.terraform_workspace)
            if not out.resources and not out.errors and unit.members and all(
                    terraform.is_tfvars(os.path.basename(m)) for m in unit.members):
                out.consumed = set(unit.members)  # variable files alone: read with the module that uses them
        elif unit.kind == "kustomize":
            from .parse import kustomize

            res = kustomize.build(unit, root, config)
            out.resources, out.errors, out.consumed, out.skip = res.resources, res.errors, res.consumed, res.skip
        if unit.kind in ("helm", "kustomize", "terraform"):
            for path in sorted(out.consumed):
                if path.endswith((".yaml", ".yml", ".json", ".tpl", ".txt", ".tf", ".tfvars")) or os.path.basename(path).startswith("Dockerfile"):
                    try:
                        text = disc.read_text(path)
                    except (OSError, ValueError):
                        continue
                    out.suppressions.extend(comment_suppressions(text, disc.rel_of(path, root)))
                    texts.append((disc.rel_of(path, root), text))
        from .parse import alertmanager, prometheus  # PromQL and embedded Alertmanager files that do not parse

        out.resources.extend(prometheus.embedded_rule_files(out.resources))  # rule files in ConfigMaps
        out.errors.extend(prometheus.expr_errors(out.resources) + alertmanager.config_errors(out.resources))
        from .parse.grafana import embedded_dashboards  # dashboards in ConfigMaps and grafana-operator CRs

        dashboards, errors = embedded_dashboards(out.resources, dict(texts))
        out.resources.extend(dashboards)
        out.errors.extend(errors)
    except Exception as exc:  # a parser bug must not end the scan: report it against the unit
        out.errors.append(ScanError(unit.rel, 0, f"internal error while reading ({type(exc).__name__}: {exc})"))
    if not out.skip:
        out.resources.extend(Resource(format="text", kind="TextFile", name=rel, namespace="", data={"text": t},
                                      file=rel, line=1) for rel, t in texts)
    return out


def is_gitlab_root(unit: disc.Unit) -> bool:
    return unit.kind == "gitlab" and os.path.basename(unit.path).lower() in (".gitlab-ci.yml", ".gitlab-ci.yaml")


def _include_reader(unit: disc.Unit, root: str, out: Loaded):
    """Reads GitLab `include: local` files for the parser: paths (globs too) relative to the directory
    of `.gitlab-ci.yml`, never outside it; each file read is consumed (not judged again alone)."""
    import glob

    base = os.path.dirname(unit.path)
    real_base = os.path.realpath(base)

    def read(value: str):
        pattern = value.lstrip("/")
        if any(ch in pattern for ch in "*?["):
            paths = sorted(glob.glob(os.path.join(base, pattern), recursive=True))
            if not paths:
                return [], "no file matches"
        else:
            paths = [os.path.join(base, pattern)]
        found = []
        for path in paths:
            real = os.path.realpath(path)
            if os.path.commonpath([real, real_base]) != real_base:
                return found, "points outside the repository; not read"
            if not os.path.isfile(path):
                return found, "file not found"
            try:
                text = disc.read_text(path)
            except (OSError, ValueError) as exc:
                return found, disc._os_message(exc) if isinstance(exc, OSError) else str(exc)
            out.consumed.add(path)
            found.append((disc.rel_of(path, root), text))
        return found, ""

    return read


REPO_ANCHORS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", "README.md", "README", ".premortem.yaml")


def repository_resource(root: str, paths: list, units: list) -> Resource | None:
    """One `Repository` resource per scan of a directory, for rules about the repository as a whole.
    It points at the first of REPO_ANCHORS that exists (else the first scanned file), line 1."""
    if not any(os.path.isdir(p) for p in paths) or not units:
        return None
    anchor = next((a for a in REPO_ANCHORS if os.path.isfile(os.path.join(root, a))), None)
    if anchor is None:  # the first scanned file (never a chart or overlay directory)
        first = next((u for u in units if u.kind in FILE_KINDS), None)
        anchor = first.rel if first is not None else next(
            (disc.rel_of(m, root) for u in units for m in sorted(u.members)), disc.rel_of(units[0].path, root))
    from .model import Origin

    name = os.path.basename(os.path.abspath(root))
    data = {"root": name, "git": os.path.exists(os.path.join(root, ".git")), "anchor": anchor}
    return Resource(format="repository", kind="Repository", name=name,
                    namespace="", data=data, file=anchor, line=1,
                    positions={(): (1, 1)}, origin=Origin("repository", ""))


def index_resources(resources: list) -> tuple[Project, list]:
    """Index a unit's resources; an object too malformed to index is an error, never a traceback."""
    proj, errors = Project(), []
    for r in resources:
        try:
            proj.add(r)
        except Exception as exc:
            errors.append(ScanError(r.file, r.line, f"internal error while indexing {r.id} "
                                                    f"({type(exc).__name__}: {exc})"))
    return proj, errors


def annotations_of(resources: list) -> list:
    out = []
    for r in resources:
        try:
            s = annotation_suppression(r)
        except Exception:  # a malformed annotation block: nothing to honour
            s = None
        if s:
            out.append(s)
    return out


# ---- judging ----------------------------------------------------------------------------------
class Judge:
    def __init__(self, rules: list, config: Config, project: Project, root: str):
        self.rules = rules
        self.config = config
        self.project = project
        self.root = root
        self._lines: dict = {}
        self._by_kind: dict = {}  # (format, kind) -> the rules that apply, in rule order

    def rules_for(self, r: Resource) -> list:
        key = (r.format, r.kind)
        if key not in self._by_kind:
            self._by_kind[key] = [rule for rule in self.rules if rule.applies(r)]
        return self._by_kind[key]

    def _snippet(self, file: str, line: int) -> str:
        if file not in self._lines:
            if len(self._lines) >= 8:  # findings come file by file: keep a few, not the whole tree
                self._lines.pop(next(iter(self._lines)))
            try:
                text = disc.read_text(os.path.join(self.root, file))
                self._lines[file] = text.splitlines()
            except (OSError, ValueError):
                self._lines[file] = []
        lines = self._lines[file]
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        # a minified or one-line document (a plan, a dashboard) is no snippet, and may hold values
        # no rule reported (sensitive ones): leave it out rather than print the whole file
        return text if len(text) <= MAX_SNIPPET else ""

    def judge(self, r: Resource) -> tuple[list, list]:
        findings, errors = [], []
        secrets: set = set()
        paths = [r.file, r.origin.unit, r.origin.detail]
        evidence = self.config.production_evidence(r.namespace, paths)
        if not evidence and r.origin.environment:  # an environment the parser found (Terraform)
            name, how = r.origin.environment
            evidence = how if self.config.production_evidence(name, []) else ""
        for rule in self.rules_for(r):
            if rule.production_only and not evidence:
                continue
            rc = self.config.rule(rule.id)
            ctx = Context(self.project, self.config, {**rule.options, **rc.options}, evidence)
            try:
                for hit in rule.check(r, ctx) or ():
                    findings.append(self.finding(rule, r, hit, evidence))
                    secrets.update(x for x in hit.secrets if x)
            except Exception as exc:  # never a traceback: the scan is marked incomplete
                errors.append(ScanError(r.file, r.line, f"internal error in rule {rule.id} on {r.id} "
                                                        f"({type(exc).__name__}: {exc})"))
        if secrets:  # a secret one rule found must not show in another rule's snippet or message
            for f in findings:
                for secret in secrets:
                    f.snippet = f.snippet.replace(secret, redact(secret))
                    f.message = f.message.replace(secret, redact(secret))
                    for rel in f.related:
                        rel.message = rel.message.replace(secret, redact(secret))
        return findings, errors

    def finding(self, rule: Rule, r: Resource, hit: Hit, evidence: str) -> Finding:
        src = hit.at if isinstance(hit.at, Source) else r.locate(hit.path, key=hit.key)
        evidence = hit.production or evidence
        related = []
        for where, msg in hit.related:
            s = where if isinstance(where, Source) else r.locate(tuple(where))
            related.append(_related(s, msg))
        for s, msg in r.related(hit.path):
            related.append(_related(s, msg))
        rc = self.config.rule(rule.id)
        severity = rc.severity if rc.severity is not None else (hit.severity if hit.severity is not None else rule.severity)
        path_s = ".".join(str(p) for p in hit.path)
        message = hit.message
        snippet = self._snippet(src.file, src.line)
        if src.column == 0:  # a line-only position (inside a block string): the line's first character
            src = Source(src.file, src.line, len(snippet) - len(snippet.lstrip()) + 1)
        for secret in hit.secrets:
            if secret:
                message = message.replace(secret, redact(secret))
                snippet = snippet.replace(secret, redact(secret))
                for rel in related:
                    rel.message = rel.message.replace(secret, redact(secret))
        if evidence and (rule.production_only or hit.production):
            message = f"{message} [production: {evidence}]"
        return Finding(
            rule_id=rule.id, rule=rule.name, severity=severity, title=rule.title, message=message,
            incidents=list(rule.incidents), file=src.file, line=src.line, column=src.column,
            resource=r.id, fix=rule.fix,
            fingerprint=fingerprint(rule.id, r.origin.unit or r.file, r.id, path_s, hit.identity),
            production=evidence, related=related, snippet=snippet)


def _related(s: Source, msg: str):
    from .model import Related

    return Related(s.file, s.line, s.column, msg)


# ---- worker plumbing ---------------------------------------------------------------------------
# Workers come from a forkserver, not a plain fork: Helm runs a Go runtime in-process, which is not
# fork-safe once started, so chart and Kustomize units always stay in the main process and only
# plain files go to workers. The state a worker needs is handed over once, by its initializer.
_STATE: dict = {}
MAX_SNIPPET = 300
IN_PROCESS_KINDS = ("helm", "kustomize")
PIPELINE_KINDS = ("github", "gitlab", "jenkins", "script", "make")
FILE_KINDS = ("yaml", "json", "dockerfile", "repofile", "tfstate", "text", "python", "javascript", "package") + PIPELINE_KINDS


def _init_worker(state: dict) -> None:
    _STATE.clear()
    _STATE.update(state)


def _counted(resources: list) -> int:
    """Resources the summary counts: objects, jobs, Terraform blocks; not the TextFile of each file."""
    return sum(1 for r in resources if r.format != "text")


def _phase1(unit: disc.Unit):
    st = _STATE
    loaded = load_unit(unit, st["root"], st["config"], st["helm_values"])
    proj, errors = index_resources(loaded.resources)
    return proj, loaded.errors + errors, loaded.consumed, loaded.suppressions, annotations_of(loaded.resources), \
        _counted(loaded.resources), loaded.skip


def _phase2(unit: disc.Unit):
    st = _STATE
    loaded = load_unit(unit, st["root"], st["config"], st["helm_values"])
    judge = Judge(st["rules"], st["config"], st["project"], st["root"])
    findings, errors = [], []
    for r in loaded.resources:
        f, e = judge.judge(r)
        findings.extend(f)
        errors.extend(e)
    return findings, errors


def _pool(jobs: int, state: dict) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(state,))


# ---- the scan ---------------------------------------------------------------------------------
def active_rules(config: Config, options: ScanOptions) -> tuple[dict, list]:
    registry = load_rules()
    select = {s.upper() for s in options.select}
    ignore = {s.upper() for s in options.ignore}
    rules = [r for r in registry.values()
             if config.rule(r.id).enabled and (not select or r.id in select) and r.id not in ignore
             and "suppression" not in (r.applies_to.get("formats") or [])]
    return registry, rules


def scan(paths: list, root: str, config: Config, options: ScanOptions | None = None) -> ScanResult:
    # Parsing allocates millions of small containers that live until their file is judged; the
    # cyclic GC's default thresholds spend half the scan re-walking them. Collect less often.
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        return _scan(paths, root, config, options)
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _scan(paths: list, root: str, config: Config, options: ScanOptions | None = None) -> ScanResult:
    options = options or ScanOptions()
    today = options.today or _dt.date.today()
    registry, rules = active_rules(config, options)
    result = ScanResult(root=root, rules=registry)
    found = disc.discover(paths, root, config.exclude, config.max_file_size)
    result.errors.extend(found.errors)
    result.not_scanned = list(found.not_scanned)
    helm_values = list(options.helm_values or config.helm_values)

    # Kustomize first, so files it consumed are not judged again as raw files.
    order = sorted(found.units, key=lambda u: (u.kind != "kustomize", u.kind != "helm", u.rel))
    total_bytes = sum(u.size for u in order)
    jobs = options.jobs or (min(os.cpu_count() or 1, 4) if total_bytes >= PARALLEL_MIN_BYTES else 1)
    parallel = jobs > 1 and len(order) > 1
    # A scan whose input fits the budget is parsed once and kept; a larger one keeps only the
    # compact index and parses each file again when judging it, so memory stays flat with size.
    keep_parsed = total_bytes <= CACHE_BUDGET_BYTES

    project = Project()
    sup = SuppressionIndex(today=today)
    consumed: set = set()
    consumed_by_kustomize: set = set()
    cache: dict = {}
    live_units: list = []

    unit_index: dict = {}  # unit path -> (Project, resource count); merged once nested units are known

    def take(unit, proj, errors, used, comment_sups, ann_sups, n_res, skip):
        consumed.update(used)
        if unit.kind == "kustomize":
            # a Component's patch files are fragments: never judge them as raw objects
            own = set() if skip else {os.path.join(unit.path, n) for n in disc.KUSTOMIZATION_NAMES}
            consumed_by_kustomize.update(used - own)
        elif is_gitlab_root(unit):  # its local includes are judged as part of it, not alone
            consumed_by_kustomize.update(used - {unit.path})
        if skip:
            return
        result.errors.extend(errors)
        unit_index[unit.path] = (proj, n_res)
        for s in comment_sups:
            sup.by_file.setdefault(s.file, [])
            if not any(x.line == s.line for x in sup.by_file[s.file]):
                sup.by_file[s.file].append(s)
        for s in ann_sups:
            sup.add_resource(s)
        live_units.append(unit)

    kustomize_units = [u for u in order if u.kind == "kustomize"]
    gitlab_roots = [u for u in order if is_gitlab_root(u)]
    other_units = [u for u in order if u.kind != "kustomize" and not is_gitlab_root(u)]

    def run_phase1(units):
        pooled = [u for u in units if u.kind not in IN_PROCESS_KINDS] if parallel else []
        results = {}
        if len(pooled) > 1:
            state = dict(root=root, config=config, helm_values=helm_values)
            with _pool(jobs, state) as pool:
                for unit, res in zip(pooled, pool.map(_phase1, pooled, chunksize=16)):
                    results[unit.path] = res
        for unit in units:
            if unit.path in results:
                take(unit, *results.pop(unit.path))
                continue
            loaded = load_unit(unit, root, config, helm_values)
            proj, errors = index_resources(loaded.resources)
            take(unit, proj, loaded.errors + errors, loaded.consumed, loaded.suppressions,
                 annotations_of(loaded.resources), _counted(loaded.resources), loaded.skip)
            if not loaded.skip and (unit.kind in IN_PROCESS_KINDS or keep_parsed):
                cache[unit.path] = loaded.resources

    if kustomize_units:
        from .parse import kustomize

        kustomize.prefetch(kustomize_units)
    run_phase1(kustomize_units)
    # a kustomization used as another's base is judged through the overlay only
    nested = [u for u in live_units if u.kind == "kustomize"
              and any(os.path.join(u.path, n) in consumed_by_kustomize for n in disc.KUSTOMIZATION_NAMES)]
    if nested:
        nested_paths = {u.path for u in nested}
        live_units[:] = [u for u in live_units if u.path not in nested_paths]
    run_phase1(gitlab_roots)
    run_phase1([u for u in other_units if u.path not in consumed_by_kustomize])
    for u in live_units:  # nested bases were dropped above, so their objects are not indexed twice
        proj, n_res = unit_index[u.path]
        project.merge(proj)
        result.resources += n_res
    result.files = len(consumed) + sum(1 for u in live_units if u.kind in FILE_KINDS and u.kind != "text"
                                       and u.path not in consumed)  # a binary .png was never read
    result.project = project
    # phase 2: judge every resource with the complete index
    findings: list = []
    judge = Judge(rules, config, project, root)
    repo = repository_resource(root, paths, live_units)
    if repo is not None:  # repository-wide rules (no CODEOWNERS, no secret scanning) judge this one
        f, e = judge.judge(repo)
        findings.extend(f)
        result.errors.extend(e)
    todo = [u for u in live_units if u.path not in cache]
    for u in live_units:
        for r in cache.get(u.path, []):
            f, e = judge.judge(r)
            findings.extend(f)
            result.errors.extend(e)
    if parallel and len(todo) > 1:
        state = dict(root=root, config=config, helm_values=helm_values, rules=rules, project=project)
        with _pool(jobs, state) as pool:
            for f, e in pool.map(_phase2, todo, chunksize=16):
                findings.extend(f)
                result.errors.extend(e)
    else:
        for u in todo:
            for r in load_unit(u, root, config, helm_values).resources:
                f, e = judge.judge(r)
                findings.extend(f)
                result.errors.extend(e)

    findings = _dedupe(findings)
    past: list = []
    if options.history:  # secrets in every commit; working-tree findings of the same secret get the commit
        from .history import scan_history

        past, errs = scan_history(root, config, rules, findings, today)
        result.errors.extend(errs)
    from .rules.secrets.pm401_hardcoded_secret import redact_errors, superseded

    findings = superseded(findings) + past  # one literal, one finding: PM402/PM6xx before the generic PM401
    redact_errors(result.errors, root)  # a parser quoting the line it failed on must not print a secret
    # suppressions
    baseline = set()
    if options.baseline:
        baseline = read_baseline(options.baseline)
    kept = []
    for f in findings:
        s = sup.match(f)
        if s is not None:
            f.suppressed = s.reason
            result.suppressed.append(f)
            continue
        if f.fingerprint in baseline:
            result.baselined += 1
            continue
        kept.append(f)
    kept.extend(_suppression_findings(sup, registry, config, today, {r.id for r in rules}))
    kept.sort(key=lambda f: (f.file, f.line, f.column, f.rule_id))
    result.findings = kept
    result.errors.sort(key=lambda e: (e.file, e.line))
    return result


def _dedupe(findings: list) -> list:
    """The same rule at the same spot once (a base reached through several overlays, say)."""
    best: dict = {}
    for f in findings:
        key = (f.rule_id, f.file, f.line, f.column)
        cur = best.get(key)
        if cur is None or (f.severity, bool(f.production)) > (cur.severity, bool(cur.production)):
            best[key] = f
    return list(best.values())


def _suppression_findings(sup: SuppressionIndex, registry: dict, config: Config, today, ran: set) -> list:
    """PM001-PM003 findings. A suppression is 'unused' only when every rule it names ran."""
    out = []
    meta = {"malformed": "PM002", "unused": "PM001", "expired": "PM003"}
    scannable = {r.id for r in registry.values() if "suppression" not in r.applies_to["formats"]}
    for s in sup.all():
        unknown = [i for i in s.ids if i != "all" and i not in registry]
        if s.problem:
            kind, msg = "malformed", f"suppression {s.problem}; it silences nothing"
        elif unknown:
            kind, msg = "malformed", f"suppression names unknown rule {unknown[0]}"
        elif s.expired(today):
            kind, msg = "expired", f"suppression of {', '.join(s.ids)} expired on {s.until.isoformat()}: the findings it covered are reported again"
        elif not s.used and all(i in ran for i in s.ids if i != "all") and ("all" not in s.ids or scannable <= ran):
            kind, msg = "unused", f"suppression of {', '.join(s.ids)} matches no finding: remove it"
        else:
            continue
        rid = meta[kind]
        rule = registry.get(rid)
        if rule is None or not config.rule(rid).enabled:
            continue
        rc = config.rule(rid)
        out.append(Finding(rule_id=rid, rule=rule.name, severity=rc.severity or rule.severity, title=rule.title,
                           message=msg, incidents=list(rule.incidents), file=s.file, line=s.line, column=1,
                           resource=s.resource, fix=rule.fix,
                           fingerprint=fingerprint(rid, s.file, s.resource, ",".join(s.ids), s.reason)))
    return out
