"""Shell bodies of CI steps (`run:`, `script:`, `sh '...'`) into simple commands, with bashlex.

`commands(script, first_line)` returns one dict per simple command, in source order:

    {"argv": [str], "env": {str: str}, "line": int, "text": str,
     "pipeline": int,      # commands joined by `|` share this number
     "or_true": bool,      # followed by `|| true` / `|| :` / `|| exit 0` (its failure is ignored)
     "fallback": bool}     # True when bashlex could not parse the line and a plain split was used

`env` holds the `VAR=x` assignments written before the command and those of `export VAR=x`
earlier in the same body (what the command inherits). CI template expressions (`${{ ... }}`) are
replaced by placeholders while parsing and restored in argv/env/text. A body bashlex cannot parse
is split line by line on `&&`, `||`, `;` and `|` with shlex (never an exception).
"""
from __future__ import annotations

import functools
import re
import shlex


_EXPR = re.compile(r"\$\{\{.*?\}\}")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
_TRUE = {"true", ":", "/bin/true"}


def _mask(script: str) -> tuple[str, dict]:
    table: dict = {}

    def sub(m):
        key = f"__PMX{len(table)}__"
        table[key] = m.group(0)
        return key

    return _EXPR.sub(sub, script), table


def _unmask(text: str, table: dict) -> str:
    for k, v in table.items():
        if k in text:
            text = text.replace(k, v)
    return text


def _split_assign(words: list) -> tuple[dict, list]:
    env, argv = {}, []
    for w in words:
        m = _ASSIGN.match(w) if not argv else None
        if m:
            env[m.group(1)] = m.group(2)
        else:
            argv.append(w)
    return env, argv


class _Walker:
    def __init__(self):
        self.found = []  # (pos, words, pipeline_id, op_after)
        self.pipes = 0

    def walk(self, node, pipeline=None):
        kind = getattr(node, "kind", "")
        if kind == "command":
            words = [p.word for p in node.parts if p.kind in ("word", "assignment")]
            pid = pipeline if pipeline is not None else self._new()
            self.found.append([node.pos, words, pid, ""])
            for p in node.parts:  # command substitutions run too
                for sub in getattr(p, "parts", []) or []:
                    self.walk(sub)
            return
        if kind == "pipeline":
            pid = self._new()
            for p in node.parts:
                self.walk(p, pid)
            return
        if kind == "list":
            for p in node.parts:
                if p.kind == "operator" and self.found:
                    self.found[-1][3] = self.found[-1][3] or p.op
                else:
                    self.walk(p)
            return
        if kind == "commandsubstitution" or kind == "processsubstitution":
            self.walk(node.command)
            return
        for attr in ("parts", "list"):
            for p in getattr(node, attr, None) or []:
                if hasattr(p, "kind"):
                    self.walk(p)
        if kind == "function" and hasattr(node, "body"):
            self.walk(node.body)

    def _new(self):
        self.pipes += 1
        return self.pipes


def _bashlex(masked: str) -> list:
    w = _Walker()
    import bashlex  # imported on first use: it builds its LR tables at import (~0.1 s)

    for tree in bashlex.parse(masked):
        w.walk(tree)
    w.found.sort(key=lambda f: f[0][0])
    return w.found


def _fallback(masked: str) -> list:
    """Plain split of one line on control operators (quotes respected by shlex where possible)."""
    out, pid = [], 0
    offset = 0
    for part in re.split(r"(\|\||&&|;|\|)", masked):
        start = offset
        offset += len(part)
        if part in ("||", "&&", ";", "|"):
            if out:
                out[-1][3] = out[-1][3] or part
            if part != "|":
                pid += 1
            continue
        if not part.strip():
            continue
        try:
            words = shlex.split(part, comments=True)
        except ValueError:
            words = part.split()
        if words:
            lead = len(part) - len(part.lstrip())
            out.append([(start + lead, start + len(part.rstrip())), words, 1000 + pid, ""])
    return out


def _logical_lines(masked: str) -> list:
    """(offset, text) of each line, joining backslash continuations."""
    out, start, buf = [], 0, ""
    pos = 0
    for raw in masked.splitlines(keepends=True):
        if not buf:
            start = pos
        buf += raw
        pos += len(raw)
        if raw.rstrip("\r\n").endswith("\\"):
            continue
        out.append((start, buf))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


@functools.lru_cache(maxsize=4096)
def _parse(masked: str) -> tuple:
    """(found, fallback flags) of a body; cached, since CI files repeat the same bodies (`npm ci`, ...).
    Callers only read the result."""
    try:
        found = _bashlex(masked)
        return found, [False] * len(found)
    except Exception:  # bashlex raises its own errors, and occasionally others, on odd input
        found, fallback_flags = [], []
        for off, text in _logical_lines(masked):
            try:
                part = _bashlex(text)
                flag = False
            except Exception:
                part = _fallback(text)
                flag = True
            for f in part:
                f[0] = (f[0][0] + off, f[0][1] + off)
            found.extend(part)
            fallback_flags.extend([flag] * len(part))
        return found, fallback_flags


def commands(script: str, first_line: int = 1) -> list[dict]:
    """Simple commands of a shell body; `first_line` is the file line of the body's first line."""
    if not isinstance(script, str) or not script.strip():
        return []
    masked, table = _mask(script)
    found, fallback_flags = _parse(masked)
    out: list = []
    exported: dict = {}
    for i, (pos, words, pid, op) in enumerate(found):
        words = [_unmask(w, table) for w in words]
        env, argv = _split_assign(words)
        if argv[:1] == ["export"]:
            e2, rest = _split_assign(argv[1:])
            exported.update(e2)
            env.update(e2)
            argv = ["export"] + rest
        nxt = found[i + 1] if i + 1 < len(found) else None
        or_true = op == "||" and nxt is not None and bool(nxt[1]) and (
            nxt[1][0] in _TRUE or nxt[1][:2] == ["exit", "0"])
        out.append({
            "argv": argv,
            "env": {**exported, **env},
            "line": first_line + masked.count("\n", 0, pos[0]),
            "text": _unmask(masked[pos[0]:pos[1]], table).strip(),
            "pipeline": pid,
            "or_true": or_true,
            "fallback": fallback_flags[i],
        })
    return out


def block_commands(value: str, pos: tuple, lines: list) -> tuple[list, list]:
    """Commands of a YAML scalar body at `pos` (line, column of the value) in a file of `lines`.

    Returns (commands, positions) with positions[j] = (line, column) of command j in the file:
    a block scalar (`|`, `>`) starts on the next line, a plain or quoted one on its own line."""
    line, col = pos
    src = lines[line - 1] if 0 < line <= len(lines) else ""
    first = line + 1 if src[col - 1:col] in ("|", ">") else line
    cmds = commands(value, first)
    return cmds, command_places(cmds, lines)


def command_places(cmds: list, lines: list) -> list:
    """(line, column) of each command in a file of `lines`: where its text starts on its line."""
    places = []
    for c in cmds:
        text = lines[c["line"] - 1] if 0 < c["line"] <= len(lines) else ""
        head = c["text"][:24]
        at = text.find(head) if head else -1
        if at < 0 and c["argv"]:
            at = text.find(c["argv"][0])
        places.append((c["line"], at + 1 if at >= 0 else len(text) - len(text.lstrip()) + 1))
    return places
