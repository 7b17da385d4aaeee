"""Dockerfiles through BuildKit's own parser (the `dockerfile` package): continuation lines,
heredocs, JSON and shell forms. One Resource per build stage, kind `DockerStage`.

The data of a stage:
    {"from": image with ARG defaults substituted (an unresolvable `$VAR` stays as written),
     "from_raw": as written, "from_args": {ARG: default or None} the ARGs `from` used,
     "from_pos": (line, column) of the image token, "base_stage": the earlier stage it builds on
     ("" for an image), "name": stage name (lower case),
     "index", "final", "platform", "env": {k: v}, "entrypoint": [...], "cmd": [...], "labels": {},
     "ancestors": [data of the parent stage, its parent, ...] (`FROM build AS final`),
     "instructions": [{"cmd", "value", "flags", "line", "end_line", "column",
                       "commands": [shell commands of a RUN, see parse.shell, with "column"]}]}
Positions: ("from",) at the image token, ("name",), ("args", ARG) at its declaration, ("env", KEY),
("entrypoint",), ("cmd",), ("instructions", i). A stage built FROM an earlier stage inherits its
ENV, LABELs, ENTRYPOINT and CMD (with their positions), as `docker build` does; ENTRYPOINT resets
an inherited CMD. ARGs follow BuildKit's scoping: `FROM` sees the ARGs declared before the first
`FROM`; ENV values see the stage's ARGs (global defaults when redeclared bare) and earlier ENVs.
`${VAR:-default}` takes its default when VAR has none (the value a build without --build-arg gets).
"""
from __future__ import annotations

import re
import shlex

import dockerfile

from ..model import Origin, Resource, ScanError
from .shell import commands

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_SHELLS = {"sh", "bash", "ash", "dash", "zsh"}


def substitute(text: str, values: dict) -> str:
    """Expand `$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:+a}` with `values` (name -> str, or None when
    only a build argument would give it one). What cannot be resolved stays as written."""

    def sub(m):
        name, op, word = m.group(1) or m.group(4), m.group(2), m.group(3)
        value = values.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return substitute(word or "", values)
            return value
        if op in (":+", "+"):
            if value is None:
                return m.group(0)
            return substitute(word or "", values) if value != "" or op == "+" else ""
        return m.group(0) if value is None else value

    return _VAR.sub(sub, text)


def _unquote(v: str) -> str:
    try:
        parts = shlex.split(v, posix=True)
        return " ".join(parts) if parts else ""
    except ValueError:
        return v.strip("\"'")


def _argv(cmd) -> list:
    if cmd.json:
        return list(cmd.value)
    text = " ".join(cmd.value)
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _pairs(values: tuple) -> list:
    return [(values[i], values[i + 1]) for i in range(0, len(values) - 1, 2)]


def _column(line: str, token: str, after: int = 0) -> int:
    at = line.find(token, after) if token else -1
    return at + 1 if at >= 0 else len(line) - len(line.lstrip()) + 1


def _blank_head(raw: str) -> str:
    """The instruction keyword and its `--flags` replaced by spaces (columns kept), across
    continuation lines; what is left is the shell text as written."""
    out = list(raw)
    m = re.match(r"\s*\w+", raw)
    i = m.end() if m else 0
    for j in range(i):
        if out[j] != "\n":
            out[j] = " "
    while i < len(raw):
        if raw[i] in " \t\r\n" or raw.startswith("\\\n", i):
            if raw[i] == "\\":
                out[i] = " "
            i += 1
            continue
        if not raw.startswith("--", i):
            break
        while i < len(raw) and raw[i] not in " \t\r\n":
            out[i] = " "
            i += 1
    return "".join(out)


def _shell_text(raw_lines: list) -> str:
    """A shell-form body as bash reads it: comment and empty lines inside a continuation are
    dropped by BuildKit, so they become a bare `\\` (the line count and columns stay)."""
    out = []
    for i, ln in enumerate(raw_lines):
        prev = out[-1].rstrip() if out else ""
        if i and prev.endswith("\\") and (not ln.strip() or ln.lstrip().startswith("#")):
            out.append(" " * (len(ln) - len(ln.lstrip())) + "\\")
        else:
            out.append(ln)
    return "\n".join(out)


def _run_commands(cmd, lines: list) -> list:
    """The simple commands of a RUN, each with its file line and column; a heredoc body counts when
    a shell runs it (`RUN <<EOF`, `RUN bash <<EOF`), not when it feeds another program."""
    start, end = cmd.start_line, cmd.end_line
    if cmd.json:
        return [{"argv": list(cmd.value), "env": {}, "line": start, "text": " ".join(cmd.value), "pipeline": 0,
                 "or_true": False, "fallback": False, "column": _column(lines[start - 1], cmd.value[0] if cmd.value else "")}]
    raw = lines[start - 1:end]
    head = len(raw)
    if cmd.heredocs:  # the command part ends at the first line not continued with a backslash
        head = next((i + 1 for i, ln in enumerate(raw) if not ln.rstrip().endswith("\\")), len(raw))
    text = _blank_head("\n".join(raw[:head]))
    found = []
    first = _HEREDOC.sub(lambda m: " " * len(m.group(0)), text)
    if first.strip():
        found.extend(commands(_shell_text(first.split("\n")), start))
    words = first.split()
    runner = words[0].rsplit("/", 1)[-1] if words else ""
    body_line = start + head
    for doc in cmd.heredocs:
        content = doc.content or ""
        shebang = content.startswith("#!") and not any(s in content.split("\n", 1)[0] for s in _SHELLS)
        if (not words or runner in _SHELLS) and not shebang and content.strip():
            found.extend(commands(_shell_text(content.split("\n")), body_line))
        body_line += content.count("\n") + 1  # the body, then its terminator line
    _place(found, lines)
    return found


def _place(found: list, lines: list) -> None:
    """The column of each command: where its text starts on its line, after the previous command
    found on the same line (`RUN <<A bash && <<B bash`)."""
    after: dict = {}
    for c in found:
        text = lines[c["line"] - 1] if 0 < c["line"] <= len(lines) else ""
        start = after.get(c["line"], 0)
        head = c["text"][:24]
        at = text.find(head, start) if head else -1
        if at < 0 and c["argv"]:
            at = text.find(c["argv"][0], start)
        c["column"] = at + 1 if at >= 0 else len(text) - len(text.lstrip()) + 1
        if at >= 0:
            after[c["line"]] = at + max(1, len(head))


def _instruction(cmd, lines: list) -> dict:
    line = lines[cmd.start_line - 1] if 0 < cmd.start_line <= len(lines) else ""
    item = {"cmd": cmd.cmd, "value": list(cmd.value), "flags": list(cmd.flags), "line": cmd.start_line,
            "end_line": cmd.end_line, "column": _column(line, line.lstrip()[:1])}
    if cmd.cmd == "RUN":
        item["commands"] = _run_commands(cmd, lines)
    return item


def _declare(cmd, lines: list, into: dict, scope: dict, pos: dict | None = None) -> None:
    """ARG NAME[=default] ...: `into` gets name -> value (None: no default); a bare ARG in a stage
    takes the global default (`scope`)."""
    line = lines[cmd.start_line - 1] if 0 < cmd.start_line <= len(lines) else ""
    for v in cmd.value:
        k, eq, d = v.partition("=")
        into[k] = substitute(_unquote(d), {**scope, **into}) if eq else scope.get(k)
        if pos is not None:
            pos[("args", k)] = (cmd.start_line, _column(line, k, 3))


def parse_dockerfile(text: str, file: str) -> tuple[list, list]:
    try:
        parsed = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        if "no instructions" in str(exc):  # empty or only comments: nothing to build, nothing wrong
            return [], []
        return [], [ScanError(file, 1, f"invalid Dockerfile: {exc}")]
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    stages: list = []
    by_name: dict = {}
    global_args: dict = {}
    arg_pos: dict = {}
    current = None
    stage_args: dict = {}
    for cmd in parsed:
        cmd = cmd._replace(cmd=cmd.cmd.upper())  # instructions are case-insensitive: `from x as build`
        if cmd.cmd == "ARG" and current is None:
            _declare(cmd, lines, global_args, {}, arg_pos)
            continue
        if cmd.cmd == "FROM":
            current = _stage(cmd, lines, file, len(stages), global_args, arg_pos, by_name)
            stages.append(current)
            if current.data["name"]:
                by_name[current.data["name"]] = current
            stage_args = {}
            continue
        if current is None:
            continue
        _apply(cmd, lines, current, stage_args, global_args)
    if not stages and text.strip():
        return [], [ScanError(file, 1, "invalid Dockerfile: no FROM instruction")]
    for i, st in enumerate(stages):
        st.data["final"] = i == len(stages) - 1
    return stages, []


def _stage(cmd, lines, file, index, global_args, arg_pos, by_name) -> Resource:
    raw = cmd.value[0] if cmd.value else ""
    name = cmd.value[2].lower() if len(cmd.value) >= 3 and cmd.value[1].upper() == "AS" else ""
    image = substitute(raw, global_args)
    used = {m.group(1) or m.group(4) for m in _VAR.finditer(raw)}
    line = lines[cmd.start_line - 1] if 0 < cmd.start_line <= len(lines) else ""
    after = len(line) - len(line.lstrip()) + 4
    for f in cmd.flags:  # `--platform=...` before the image
        after = max(after, line.find(f, after) + len(f))
    at = _column(line, raw, after)
    pos = {(): (cmd.start_line, 1), ("from",): (cmd.start_line, at)}
    if name:
        pos[("name",)] = (cmd.start_line, _column(line, cmd.value[2], at + len(raw) - 1))
    pos.update({k: v for k, v in arg_pos.items() if k[1] in used})
    parent = by_name.get(image.lower())
    platform = next((f.split("=", 1)[1] for f in cmd.flags if f.startswith("--platform=")), "")
    data = {"from": image, "from_raw": raw, "from_args": {k: global_args.get(k) for k in sorted(used)},
            "base_stage": parent.data["name"] if parent else "", "name": name, "index": index,
            "from_pos": (cmd.start_line, at), "platform": platform, "env": {}, "entrypoint": [], "cmd": [],
            "labels": {}, "instructions": [], "ancestors": []}
    if parent is not None:  # FROM an earlier stage: its image config carries over
        p = parent.data
        data.update(env=dict(p["env"]), entrypoint=list(p["entrypoint"]), cmd=list(p["cmd"]),
                    labels=dict(p["labels"]), ancestors=[p] + p["ancestors"])
        pos.update({k: v for k, v in parent.positions.items() if k[:1] in (("env",), ("entrypoint",), ("cmd",))})
    return Resource(format="dockerfile", kind="DockerStage", name=name or f"stage{index}", namespace="",
                    file=file, line=cmd.start_line, data=data, positions=pos, origin=Origin("file", file))


def _apply(cmd, lines, stage: Resource, stage_args: dict, global_args: dict) -> None:
    data, pos = stage.data, stage.positions
    i = len(data["instructions"])
    item = _instruction(cmd, lines)
    pos[("instructions", i)] = (cmd.start_line, item["column"])
    data["instructions"].append(item)
    if cmd.cmd == "ARG":
        _declare(cmd, lines, stage_args, global_args)
    elif cmd.cmd == "ENV":
        scope = {**stage_args, **data["env"]}  # one ENV sees the values from before it
        for k, v in _pairs(cmd.value):
            data["env"][k] = substitute(_unquote(v), scope)
            pos[("env", k)] = (cmd.start_line, _column(lines[cmd.start_line - 1], k, item["column"] + 3))
    elif cmd.cmd == "LABEL":
        for k, v in _pairs(cmd.value):
            data["labels"][_unquote(k)] = _unquote(v)
    elif cmd.cmd in ("ENTRYPOINT", "CMD"):
        key = cmd.cmd.lower()
        data[key] = _argv(cmd)
        pos[(key,)] = (cmd.start_line, item["column"])
        if key == "entrypoint" and not any(x["cmd"] == "CMD" for x in data["instructions"][:-1]):
            data["cmd"] = []  # ENTRYPOINT resets a CMD inherited from the base
            pos.pop(("cmd",), None)
