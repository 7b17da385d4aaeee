"""Jenkinsfiles (declarative and scripted) through the tree-sitter Groovy grammar.

One Resource (format "pipeline", kind "PipelineJob", see pipelines.py for the `data` shape) per
`stage(...)`: `when {}` expressions become `conditions` in source form (`params.X` vs `env.X` kept),
`branch 'x'` in `when` (directly or under `allOf`) becomes `branches`, `environment name: .., value:`
in `when` the `environment`; an `input` directive, or an `input` step before a shell step of the stage,
or an unconditional earlier sequential stage that asks for input, sets `gate`. `parameters {}` /
`properties([parameters([...])])` give `params`; `sh`/`bat`/`powershell`/`pwsh` steps give `steps`
whose script is the string's text (GString `${...}` kept) parsed by parse.shell.commands. Extra keys:
`env` (pipeline + stage `environment {}` assignments, source text) and, per step, `credentials`
(`withCredentials` bindings around it). `catchError`/`warnError`, and `returnStatus: true` whose status
is dropped (not `def rc = sh(...)`, which may check it), mark a step `continue_on_error`. Scripted
`if (cond) { stage(..) }` adds `cond` (or `!(cond)` in the else) to the conditions. Syntax errors
(ERROR / MISSING nodes) become ScanErrors; what parsed is still emitted.
"""
from __future__ import annotations

import contextvars
import functools
import re
import shlex

from ..model import Origin, Resource, ScanError

SHELL_STEPS = ("sh", "bat", "powershell", "pwsh")
PARAM_KINDS = ("booleanParam", "string", "choice", "text", "password", "stringParam", "choiceParam")
CALLS = ("method_invocation", "juxt_function_call")
# wrappers whose credentialsId puts a credential in the environment of the steps inside
CREDENTIAL_WRAPPERS = ("withKubeConfig", "withKubeCredentials", "withAWS", "withDockerRegistry", "withVault",
                       "withAzureCLI", "withGCP", "sshagent", "withSonarQubeEnv", "configFileProvider")
# calls inside a stage that are not steps of their own (directives, values, Groovy helpers)
NOT_STEPS = {"echo", "error", "println", "print", "string", "booleanParam", "choice", "text", "password", "return",
             "timeout", "retry", "skipDefaultCheckout", "buildDiscarder", "logRotator", "disableConcurrentBuilds",
             "timestamps", "ansiColor", "label", "branch", "expression", "environment", "tag", "changelog",
             "changeRequest", "anyOf", "allOf", "not", "equals", "buildingTag", "triggeredBy", "message", "ok",
             "submitter", "parameters", "readFile", "readYaml", "readJSON", "fileExists", "env", "params",
             "currentBuild", "toString", "trim", "split", "contains", "startsWith", "endsWith", "matches", "each",
             "collect", "find", "findAll", "put", "get", "format", "replace", "replaceAll", "toLowerCase",
             "toUpperCase", "size", "isEmpty", "sleep", "input", "agent", "docker", "dockerfile", "kubernetes",
             "node", "any", "none", "steps", "script", "post", "always", "success", "failure", "unstable",
             "cleanup", "options", "tools", "stages", "stage", "when", "pipeline", "library", "properties",
             "pipelineTriggers", "cron", "pollSCM", "upstream", "githubPush", "scm", "usernamePassword", "file",
             "sshUserPrivateKey", "certificate", "dockerCert", "withCredentials", "catchError", "warnError",
             "credentials", "lock", "milestone", "stash", "unstash", "deleteDir", "cleanWs", "archiveArtifacts",
             "writeFile", "writeYaml", "writeJSON", "dir", "parallel", "failFast", "beforeAgent", "beforeInput"}
_QUOTES = ('"""', "'''", '"', "'", "$/", "/")
_ESC = re.compile(r"\\([\\'\"$])")


@functools.lru_cache(maxsize=1)
def _parser():
    import tree_sitter_groovy
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_groovy.language()))


def _commands(script: str, line: int) -> list:
    try:
        from .shell import commands
    except ImportError:  # shell.py not available: one command per line, plain split
        out = []
        for i, raw in enumerate(script.split("\n")):
            if raw.strip() and not raw.strip().startswith("#"):
                try:
                    argv = shlex.split(raw)
                except ValueError:
                    argv = raw.split()
                out.append({"argv": argv, "env": {}, "line": line + i, "text": raw.strip()})
        return out
    return commands(script, line)


_SOURCE: contextvars.ContextVar = contextvars.ContextVar("jenkinsfile_source", default=b"")


def _text(node) -> str:
    """The node's text in the original file (the parsed buffer may carry inserted `;`)."""
    src = _SOURCE.get()
    raw = src[node.start_byte:node.end_byte] if src else node.text
    return raw.decode("utf-8", "replace")


def _line(node) -> int:
    return node.start_point[0] + 1


def _pos(node) -> tuple:
    return (node.start_point[0] + 1, node.start_point[1] + 1)


def _literal(node):
    """The value of a string/boolean/number literal, else None."""
    if node.type in ("string_literal", "character_literal"):
        raw = _text(node)
        for q in _QUOTES:
            if raw.startswith(q) and raw.endswith(q[::-1] if q == "$/" else q) and len(raw) >= 2 * len(q):
                return _ESC.sub(r"\1", raw[len(q):len(raw) - len(q)])
        return raw
    if node.type in ("true", "false"):
        return node.type == "true"
    if node.type.endswith("integer_literal"):
        return int(_text(node)) if _text(node).isdigit() else _text(node)
    return None


def _call(node):
    """(name, args-node, body-closure) for a call node, else None."""
    if node.type not in CALLS:
        return None
    name = node.child_by_field_name("name")
    args = node.child_by_field_name("arguments") or node.child_by_field_name("args")
    body = node.child_by_field_name("body")
    return (_text(name) if name is not None else ""), args, body


def _args(args) -> tuple[list, dict]:
    """Positional argument nodes and named (map_item) value nodes."""
    pos, named = [], {}
    if args is None:
        return pos, named
    for c in args.named_children:
        if c.type == "map_item":
            k, v = c.child_by_field_name("key"), c.child_by_field_name("value")
            if k is not None and v is not None:
                named[_text(k).strip("'\"")] = v
        elif c.type not in ("comment",):
            pos.append(c)
    return pos, named


def _clean(text: str) -> str:
    return " ".join(text.split())


class _Walk:
    def __init__(self, text: str, rel: str):
        self.rel, self.lines = rel, text.split("\n")
        self.jobs: list = []
        self.params: list = []
        self.env: dict = {}
        self.triggers: list = []
        self.loose = None  # implicit job for shell steps outside any stage

    # -- jobs -------------------------------------------------------------------------------
    def new_job(self, name: str, node, ctx) -> Resource:
        data = {"system": "jenkins", "name": name, "workflow": self.rel, "pipeline": self.rel, "triggers": self.triggers,
                "branches": list(ctx["branches"]), "conditions": [c for c, _ in ctx["conds"]],
                "environment": ctx["environment"], "gate": dict(ctx["gate"]),
                "needs": [ctx["seq"]["prev"]] if ctx["seq"].get("prev") else [],
                "allow_failure": False, "params": self.params, "steps": [], "env": dict(self.env)}
        res = Resource(format="pipeline", kind="PipelineJob", name=name, namespace="", data=data,
                       file=self.rel, line=_line(node), positions={(): _pos(node), ("name",): _pos(node)},
                       origin=Origin("file", self.rel))
        for k, (_, at) in enumerate(ctx["conds"]):
            res.positions[("conditions", k)] = at
        for key in ("gate", "environment"):
            if ctx.get(key + "_at"):
                res.positions[(key,)] = ctx[key + "_at"]
        self.jobs.append(res)
        return res

    def set_gate(self, job: Resource, node, message: str):
        job.data["gate"] = {"manual": True, "blocking": True, "approval": f"input: {message}".strip()}
        job.positions[("gate",)] = _pos(node)

    # -- walking ----------------------------------------------------------------------------
    def walk(self, node, ctx):
        call = _call(node)
        if call is not None and self.handle(node, *call, ctx):
            return
        if call is not None and call[2] is None and ctx["job"] is not None and call[0] not in NOT_STEPS:
            self.plugin_step(node, call[0], call[1], ctx)
            return
        if node.type == "if_statement":
            cond = node.child_by_field_name("condition")
            src = _clean(_text(cond)) if cond is not None else ""
            for field, text in (("consequence", src), ("alternative", f"!{src}")):
                part = node.child_by_field_name(field)
                if part is not None:
                    self.walk(part, dict(ctx, conds=ctx["conds"] + [(text, _pos(cond or node))]))
            return
        for c in node.children:
            self.walk(c, ctx)

    def handle(self, node, name, args, body, ctx) -> bool:
        pos, named = _args(args)
        job = ctx["job"]
        if name == "stage" and (body is not None or any(p.type == "closure" for p in pos)):
            self.stage(node, pos, named, body, ctx)
            return True
        if name in ("stages", "parallel"):
            seq = {"prev": None, "gate": None, "parallel": name == "parallel", "carry": ctx["seq"]}
            inner = dict(ctx, seq=seq)
            for c in node.children:
                if c is not node.child_by_field_name("name"):
                    self.walk(c, inner)
            if not seq["parallel"] and seq["prev"]:
                ctx["seq"]["prev"] = seq["prev"]
            return True
        if name == "parameters":  # collected up front by parse_jenkinsfile
            return True
        if name == "triggers" and body is not None:
            self.triggers.extend(sorted({n for n in self.call_names(body)} - {"triggers"}))
            return True
        if name == "environment" and body is not None:
            target = job.data["env"] if job is not None else self.env
            for c in body.named_children:
                if c.type == "expression_statement" and c.named_children:
                    c = c.named_children[0]  # several assignments: each is wrapped in a statement
                if c.type == "assignment_expression":
                    left, right = c.child_by_field_name("left"), c.child_by_field_name("right")
                    if left is not None and right is not None:
                        value = _literal(right)
                        target[_text(left)] = value if isinstance(value, str) else _text(right)
            return True
        if name == "when" and body is not None and job is not None:
            self.when(job, body)
            return True
        if name == "input" and job is not None:
            msg = named.get("message") or (pos[0] if pos else None)
            if msg is None and body is not None:
                for c in body.named_children:
                    sub = _call(c)
                    if sub and sub[0] == "message":
                        p, _ = _args(sub[1])
                        msg = p[0] if p else None
            text = _literal(msg) if msg is not None else ""
            self.set_gate(job, node, str(text if text is not None else _text(msg)))
            job.data["_input_at_step"] = len(job.data["steps"])
            return True
        if name in SHELL_STEPS and (pos or "script" in named):
            self.shell(node, name, pos, named, ctx)
            return True
        if name == "withCredentials":
            creds = list(ctx["creds"])
            for b in (args.named_children if args is not None else []):
                for inner in self.calls(b):
                    _, kw = _args(inner.child_by_field_name("arguments") or inner.child_by_field_name("args"))
                    cid = kw.get("credentialsId")
                    if cid is not None:
                        creds.append({"id": str(_literal(cid) or _text(cid)), "kind": _call(inner)[0],
                                      "variables": [str(_literal(v)) for k, v in kw.items()
                                                    if k.lower().endswith("variable") and _literal(v)]})
            if body is not None:
                self.walk(body, dict(ctx, creds=creds))
            return True
        if name in CREDENTIAL_WRAPPERS and body is not None:  # withKubeConfig([credentialsId: 'prod-admin']) {..}
            creds = list(ctx["creds"])
            for kw in self.maps(args):
                cid = kw.get("credentialsId") or kw.get("credentials")
                if cid is not None:
                    creds.append({"id": str(_literal(cid) or _text(cid)), "kind": name, "variables": []})
            self.walk(body, dict(ctx, creds=creds))
            return True
        if name == "dir" and body is not None and pos:
            value = _literal(pos[0])
            where = str(value if isinstance(value, str) else _text(pos[0]))
            self.walk(body, dict(ctx, dir="/".join(x for x in (ctx.get("dir"), where) if x)))
            return True
        if name in ("catchError", "warnError") and body is not None:
            self.walk(body, dict(ctx, soft=True))
            return True
        return False

    def maps(self, args):
        """The named arguments of a call, and of every map literal inside it (`[credentialsId: 'x']`)."""
        out = []
        if args is None:
            return out
        _, kw = _args(args)
        out.append(kw)
        stack = list(args.named_children)
        while stack:
            n = stack.pop()
            if n.type == "map_item":
                continue
            if any(c.type == "map_item" for c in n.named_children):
                out.append(_args(n)[1])
            stack.extend(n.named_children)
        return out

    def plugin_step(self, node, name: str, args, ctx) -> None:
        """A step other than a shell step (`grypeScan`, `docker.build`, `kubernetesDeploy`): kept as a
        step with `uses` = the call as written up to its arguments, so rules can see plugin steps."""
        job = ctx["job"]
        callee = _text(node)[:node.child_by_field_name("arguments").start_byte - node.start_byte].strip() \
            if node.child_by_field_name("arguments") is not None else name
        i = len(job.data["steps"])
        job.data["steps"].append({"name": callee, "run": None, "uses": callee, "line": _line(node), "commands": [],
                                  "with": {"args": _clean(_text(args))[:200] if args is not None else ""},
                                  "continue_on_error": ctx.get("soft", False), "credentials": list(ctx["creds"]),
                                  "dir": ctx.get("dir", "")})
        job.positions[("steps", i)] = _pos(node)

    def calls(self, node):
        if node.type in CALLS:
            yield node
        for c in node.children:
            yield from self.calls(c)

    def call_names(self, node):
        return [_call(c)[0] for c in self.calls(node)]

    def parameters(self, node):
        for c in self.calls(node):
            name, args, _ = _call(c)
            if name not in PARAM_KINDS:
                continue
            _, kw = _args(args)
            if "name" in kw:
                default = kw.get("defaultValue") or kw.get("choices")
                if default is not None and default.type == "array_literal" and default.named_children:
                    default = default.named_children[0]  # a choice parameter defaults to its first choice
                value = _literal(default) if default is not None else None
                self.params.append({"name": str(_literal(kw["name"]) or _text(kw["name"])), "kind": name,
                                    "default": value if value is not None or default is None else _text(default),
                                    "line": _line(c)})

    def stage(self, node, pos, named, body, ctx):
        label = pos[0] if pos and pos[0].type != "closure" else named.get("name")
        value = _literal(label) if label is not None else None
        name = str(value) if value is not None else (_text(label) if label is not None else "stage")
        seq = ctx["seq"]
        inherited = dict(ctx)
        if seq.get("gate") and not inherited["gate"]["manual"]:
            inherited["gate"], inherited["gate_at"] = seq["gate"]
        job = self.new_job(name, node, inherited)
        if body is None:
            body = next(p for p in pos if p.type == "closure")
        # `when`, `input`, `environment` first, so that conditions/gates apply to nested stages too
        directives = {"when", "input", "environment", "options", "agent"}
        rest = []
        for c in body.named_children:
            target = c.named_children[0] if c.type == "expression_statement" and c.named_children else c
            sub = _call(target)
            if sub and sub[0] in directives and sub[2] is not None:
                self.handle(target, *sub, dict(ctx, job=job))
            else:
                rest.append(c)
        inner = dict(ctx, job=job, conds=list(ctx["conds"]) + [(c, job.positions[("conditions", k)])
                                                                for k, c in enumerate(job.data["conditions"])
                                                                if k >= len(ctx["conds"])],
                     branches=job.data["branches"], environment=job.data["environment"],
                     gate=job.data["gate"], gate_at=job.positions.get(("gate",)),
                     environment_at=job.positions.get(("environment",)),
                     seq={"prev": None, "gate": None, "parallel": False})
        for c in rest:
            self.walk(c, inner)
        at = job.data.pop("_input_at_step", None)
        if at is not None and at >= len(job.data["steps"]) and job.data["steps"]:
            # the `input` step comes after every shell step: it gates nothing in this stage
            job.data["gate"] = {"manual": False, "blocking": False, "approval": ""}
            job.positions.pop(("gate",), None)
        own_conditions = len(job.data["conditions"]) > len(ctx["conds"])
        if at is not None and not seq["parallel"] and not own_conditions:
            # an unconditional approval stage pauses every later stage of the sequence
            seq["gate"] = ({"manual": True, "blocking": True, "approval": f"input in stage '{name}'"},
                           job.positions.get(("name",)))
        if not seq["parallel"]:
            seq["prev"] = name

    def when(self, job: Resource, body):
        for c in body.named_children:
            if c.type == "comment":
                continue
            target = c.named_children[0] if c.type == "expression_statement" and c.named_children else c
            k = len(job.data["conditions"])
            job.data["conditions"].append(_clean(_text(target)))
            job.positions[("conditions", k)] = _pos(target)
            self.when_filters(job, target)

    def when_filters(self, job: Resource, node):
        sub = _call(node)
        if sub is None:
            return
        name, args, body = sub
        pos, named = _args(args)
        if name == "branch" and (pos or "pattern" in named):
            v = _literal(pos[0] if pos else named["pattern"])
            if isinstance(v, str):
                job.data["branches"].append(v)
        elif name == "environment" and "value" in named:
            v = _literal(named["value"])
            if isinstance(v, str):
                job.data["environment"] = v
                job.positions[("environment",)] = _pos(node)
        elif name == "allOf" and body is not None:
            for c in body.named_children:
                self.when_filters(job, c.named_children[0] if c.type == "expression_statement" and c.named_children else c)

    def shell(self, node, name, pos, named, ctx):
        job = ctx["job"]
        if job is None:
            if self.loose is None:
                self.loose = self.new_job("(no stage)", node, ctx)
            job = self.loose
        arg = named.get("script") or pos[0]
        value = _literal(arg)
        script = value if isinstance(value, str) else _text(arg)
        quote = next((q for q in _QUOTES if _text(arg).startswith(q)), "") if isinstance(value, str) else ""
        first, col0 = arg.start_point[0] + 1, arg.start_point[1] + 1 + len(quote)
        # `returnStatus: true` ignores the failure only when the status is dropped (`def rc = sh(..)` may check it)
        dropped = node.parent is None or node.parent.type in ("expression_statement", "closure", "block", "program")
        soft = ctx.get("soft", False) or (dropped and "returnStatus" in named and _literal(named["returnStatus"]) is True)
        i = len(job.data["steps"])
        cmds = _commands(script, first)
        step = {"name": name, "run": script, "uses": None, "line": _line(node), "commands": cmds,
                "continue_on_error": soft, "credentials": list(ctx["creds"]), "dir": ctx.get("dir", "")}
        job.data["steps"].append(step)
        job.positions[("steps", i)] = (first, col0)
        for j, cmd in enumerate(cmds):
            ln = cmd.get("line", first)
            src = self.lines[ln - 1] if 0 < ln <= len(self.lines) else ""
            head = cmd.get("text", "").split("\n")[0][:30]
            col = src.find(head) + 1 if head and head in src else (col0 if ln == first else 1)
            job.positions[("steps", i, "commands", j)] = (ln, col)


def _errors(node, rel: str, out: list):
    if len(out) >= 5:
        return
    if node.is_missing and node.type == ";":  # the grammar wants `;` after `return x` in `{ }`
        return
    if node.type == "ERROR" or node.is_missing:
        leaves = [c for c in node.children if c.child_count == 0] or [node]
        bad = leaves[-1] if node.type == "ERROR" else node
        what = "missing " + node.type if node.is_missing else f"unexpected {_text(bad).split(chr(10))[0][:30]!r}"
        out.append(ScanError(rel, _line(bad), f"Jenkinsfile syntax error: {what}", bad.start_point[1] + 1))
        if node.is_missing:
            return
    if node.has_error:
        for c in node.children:
            _errors(c, rel, out)


# the grammar cannot end `{ return params.X }` without a `;`: put one in the blank before `}`
# (same length, so every line and column stays where it was)
_RETURN_CLOSE = re.compile(r"(\breturn\b[^\n{};]*[^\s{};])[ \t](\s*\})")


def parse_jenkinsfile(text: str, rel: str) -> tuple[list, list]:
    tree = _parser().parse(_RETURN_CLOSE.sub(r"\1;\2", text).encode("utf-8"))
    token = _SOURCE.set(text.encode("utf-8"))
    try:
        return _parse(tree, text, rel)
    finally:
        _SOURCE.reset(token)


def _parse(tree, text: str, rel: str) -> tuple[list, list]:
    errors: list = []
    if tree.root_node.has_error:
        _errors(tree.root_node, rel, errors)
    walk = _Walk(text, rel)
    # parameters/triggers/environment anywhere at pipeline level first, so every job sees them
    root = tree.root_node
    for c in walk.calls(root):
        sub = _call(c)
        if sub[0] == "parameters":
            walk.parameters(c)
    ctx = {"job": None, "conds": [], "branches": [], "environment": None,
           "gate": {"manual": False, "blocking": False, "approval": ""}, "creds": [],
           "seq": {"prev": None, "gate": None, "parallel": False}}
    walk.walk(root, ctx)
    if not walk.triggers:
        walk.triggers.append("push")
    return walk.jobs, errors

