"""Dockerfiles through BuildKit's own parser (the `dockerfile` package): continuation lines,
heredocs, JSON and shell forms. One Resource per build stage, kind `DockerStage`.

The data of a stage: {"from": image, "name": stage name, "env": {k: v}, "entrypoint": [...],
"cmd": [...], "labels": {}, "instructions": [{"cmd", "value", "line"}]}; positions map
("from",), ("env", KEY), ("entrypoint",), ("cmd",), ("instructions", i) to lines.
"""
from __future__ import annotations

import shlex

import dockerfile

from ..model import Origin, Resource, ScanError


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


def parse_dockerfile(text: str, file: str) -> tuple[list, list]:
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        return [], [ScanError(file, 1, f"invalid Dockerfile: {exc}")]
    stages: list = []
    args: dict = {}
    current = None
    for cmd in commands:
        if cmd.cmd == "ARG" and current is None:
            for v in cmd.value:
                k, _, d = v.partition("=")
                args[k] = _unquote(d)
            continue
        if cmd.cmd == "FROM":
            image = cmd.value[0] if cmd.value else ""
            for k, v in args.items():
                image = image.replace("${" + k + "}", v).replace("$" + k, v)
            name = cmd.value[2] if len(cmd.value) >= 3 and cmd.value[1].upper() == "AS" else ""
            current = Resource(
                format="dockerfile", kind="DockerStage", name=name or f"stage{len(stages)}",
                namespace="", file=file, line=cmd.start_line,
                data={"from": image, "name": name, "env": {}, "entrypoint": [], "cmd": [],
                      "labels": {}, "instructions": [], "index": len(stages)},
                positions={(): (cmd.start_line, 1), ("from",): (cmd.start_line, 1)},
                origin=Origin("file", file))
            stages.append(current)
            continue
        if current is None:
            continue
        data, pos = current.data, current.positions
        pos[("instructions", len(data["instructions"]))] = (cmd.start_line, 1)
        data["instructions"].append({"cmd": cmd.cmd, "value": list(cmd.value), "line": cmd.start_line,
                                     "flags": list(cmd.flags)})
        if cmd.cmd == "ENV":
            for k, v in _pairs(cmd.value):
                data["env"][k] = _unquote(v)
                pos[("env", k)] = (cmd.start_line, 1)
        elif cmd.cmd == "LABEL":
            for k, v in _pairs(cmd.value):
                data["labels"][_unquote(k)] = _unquote(v)
        elif cmd.cmd in ("ENTRYPOINT", "CMD"):
            key = cmd.cmd.lower()
            data[key] = _argv(cmd)
            pos[(key,)] = (cmd.start_line, 1)
    if not stages and text.strip():
        return [], [ScanError(file, 1, "invalid Dockerfile: no FROM instruction")]
    for i, st in enumerate(stages):
        st.data["final"] = i == len(stages) - 1
    return stages, []
