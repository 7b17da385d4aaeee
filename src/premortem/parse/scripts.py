"""Shell scripts (`*.sh`, `*.bash`) and Makefile recipes into PipelineJob resources (see pipelines.py).

What a human runs by hand goes through the same command model as CI, so `terraform apply
-lock=false` or `kubectl edit -n production` in `scripts/hotfix.sh` or in a `make deploy` target
is read like the same line in a pipeline. They are jobs of system "script" (one per file) or
"make" (one per rule's target), triggered "manual", with no gate, branches or environment: rules
about what CI does on push skip them, rules about what a command does to production do not.

Makefiles: a rule line `target [target...]: [prerequisites]` is followed by recipe lines that start
with a tab (or `.RECIPEPREFIX`); `@`, `-`, `+` prefixes are dropped, `$$` becomes `$`, and
`$(NAME)`/`${NAME}` are expanded from the file's simple assignments (`=`, `:=`, `::=`, `?=`, `+=`)
when they hold no make functions. Prerequisites are kept as `needs`. `include`, conditionals and
pattern rules' automatic variables are not evaluated (the text stays as written).
"""
from __future__ import annotations

import os
import re

from ..model import Resource
from .shell import command_places, commands

_RULE = re.compile(r"^([^\s:=#][^:=#]*?)\s*::?(?!=)\s*([^=#]*?)\s*(?:;.*)?(?:#.*)?$")
_ASSIGN = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(\?=|:=|::=|\+=|=)\s*(.*)$")
_REF = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]")


def _job(system: str, name: str, rel: str, line: int, cmds: list, places: list, needs: list, body: str) -> Resource:
    positions = {(): (line, 1), ("steps", 0): (line, 1)}
    for j, p in enumerate(places):
        positions[("steps", 0, "commands", j)] = p
    data = {"system": system, "name": name, "workflow": rel, "pipeline": rel, "triggers": ["manual"],
            "branches": [], "conditions": [], "environment": None,
            "gate": {"manual": False, "blocking": False, "approval": ""}, "needs": needs,
            "allow_failure": False, "params": [],
            "steps": [{"name": name, "run": body, "uses": None, "line": line, "commands": cmds, "env": {},
                       "with": {}, "continue_on_error": False}]}
    return Resource(format="pipeline", kind="PipelineJob", name=name, namespace="", data=data, file=rel,
                    line=line, positions=positions)


def parse_shell_script(text: str, rel: str) -> tuple[list, list]:
    cmds = commands(text, 1)
    if not cmds:
        return [], []
    lines = text.splitlines()
    return [_job("script", os.path.basename(rel), rel, 1, cmds, command_places(cmds, lines), [], text)], []


def _expand(value: str, variables: dict, depth: int = 0) -> str:
    if depth > 10 or "$" not in value:
        return value

    def sub(m):
        v = variables.get(m.group(1))
        return _expand(v, variables, depth + 1) if v is not None else m.group(0)

    return _REF.sub(sub, value)


def parse_makefile(text: str, rel: str) -> tuple[list, list]:
    lines = text.splitlines()
    prefix = "\t"
    variables: dict = {}
    rules: list = []  # [targets, line, needs, [(line, text)]]
    current = None
    k = 0
    while k < len(lines):
        raw, n = lines[k], k + 1
        while raw.endswith("\\") and k + 1 < len(lines):  # continuation: one logical line
            k += 1
            raw = raw[:-1] + " " + lines[k].lstrip("\t ")
        k += 1
        if raw.startswith(prefix) and current is not None:
            body = raw[len(prefix):].lstrip()
            if body and not body.startswith("#"):
                current[3].append((n, body))
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(".RECIPEPREFIX"):
            value = re.split(r"[:?+]?=", stripped, maxsplit=1)[-1].strip()
            prefix = value[:1] if value and "=" in stripped else "\t"
            continue
        m = _ASSIGN.match(stripped)
        if m:
            name, op, value = m.groups()
            if op == "+=" and name in variables:
                variables[name] += " " + value
            elif op != "?=" or name not in variables:
                variables[name] = value
            current = None
            continue
        m = _RULE.match(stripped)
        if m and not stripped.startswith(("include", "-include", "ifeq", "ifneq", "ifdef", "ifndef", "else", "endif",
                                          "define", "endef", "export", "unexport", "vpath", "override")):
            targets = [t for t in m.group(1).split() if not t.startswith(".")]
            current = [targets, n, m.group(2).split(), []]
            rules.append(current)
            continue
        current = None
    out = []
    for targets, line, needs, body in rules:
        if not targets or not body:
            continue
        cmds, text_lines = [], []
        for n, cmd_text in body:
            cmd_text = cmd_text.lstrip("@-+ \t")
            expanded = _expand(cmd_text, variables).replace("$$", "$")
            text_lines.append(expanded)
            for c in commands(expanded, n):
                c["line"] = n
                cmds.append(c)
        if not cmds:
            continue
        places = []
        for c in cmds:
            src = lines[c["line"] - 1] if 0 < c["line"] <= len(lines) else ""
            col = len(src) - len(src.lstrip("\t @-+")) + 1
            places.append((c["line"], col))
        for t in targets:
            out.append(_job("make", t, rel, line, cmds, places, needs, "\n".join(text_lines)))
    return out, []
