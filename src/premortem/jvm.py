"""JVM memory flags as the JVM reads them: from the command line, the environment variables the
`java` launcher and start scripts read, a Kubernetes container and the Dockerfile that built its
image. Shared by the workload rules (R3) and the Dockerfile family.

Flags: `-Xmx`/`-XX:MaxHeapSize`, `-Xms`/`-XX:InitialHeapSize`, `-XX:MaxRAM`,
`-XX:MaxRAMPercentage`, `-XX:InitialRAMPercentage`; sizes in bytes or with k/K, m/M, g/G, t/T
(powers of 1024). The last occurrence wins, like the JVM's argument processing. Order, weakest
first: `JAVA_TOOL_OPTIONS`, `JDK_JAVA_OPTIONS` (prepended by the launcher), the command line with
`$VAR`/`${VAR}`/`$(VAR)` references expanded in place, then `_JAVA_OPTIONS` (overrides all).
`JAVA_OPTS`/`CATALINA_OPTS` are conventions of start scripts, not of `java`: they count where the
command line references them, or before it when the entrypoint is a script we cannot read, and
not at all when the command runs `java` directly without them. A value that is not a literal
(`valueFrom`) is unknown and contributes nothing: never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

UNITS = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}
FIRST_VARS = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")
SCRIPT_VARS = ("JAVA_OPTS", "CATALINA_OPTS")
LAST_VARS = ("_JAVA_OPTIONS",)
OPTION_VARS = FIRST_VARS + SCRIPT_VARS + LAST_VARS
DEFAULT_MAX_RAM_PERCENTAGE = 25.0

_SIZE = r"(\d+)([kKmMgGtT]?)"
_PCT = r"(\d+(?:\.\d+)?)"
_FLAGS = [
    ("max_heap", re.compile(r"(?<![\w-])(?:-Xmx|-XX:MaxHeapSize=)" + _SIZE + r"(?![\w.])")),
    ("initial_heap", re.compile(r"(?<![\w-])(?:-Xms|-XX:InitialHeapSize=)" + _SIZE + r"(?![\w.])")),
    ("max_ram", re.compile(r"(?<![\w-])-XX:MaxRAM=" + _SIZE + r"(?![\w.])")),
    ("max_ram_percentage", re.compile(r"(?<![\w-])-XX:MaxRAMPercentage=" + _PCT + r"(?![\w.])")),
    ("initial_ram_percentage", re.compile(r"(?<![\w-])-XX:InitialRAMPercentage=" + _PCT + r"(?![\w.])")),
]
_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def parse_size(text: str) -> int | None:
    """A JVM size (`2g`, `2048m`, `512M`, `1073741824`) in bytes, or None."""
    m = re.fullmatch(_SIZE, str(text).strip())
    return int(m.group(1)) * UNITS[m.group(2).lower()] if m else None


@dataclass(frozen=True)
class Flag:
    name: str  # max_heap | initial_heap | max_ram | max_ram_percentage | initial_ram_percentage
    value: float  # bytes, or percent for *_percentage
    text: str  # as written: "-Xmx2g"
    origin: Any  # the caller's handle for where it is written (a path inside a resource, a Source)
    where: str  # for people: "env JAVA_OPTS", "args", "Dockerfile ENTRYPOINT"


def find_flags(text: str, origin: Any = None, where: str = "") -> list:
    """Every memory flag in `text`, in the order written."""
    found = []
    for name, rx in _FLAGS:
        for m in rx.finditer(text):
            if name.endswith("percentage"):
                value = float(m.group(1))
            else:
                value = int(m.group(1)) * UNITS[m.group(2).lower()]
            found.append((m.start(), Flag(name, value, m.group(0), origin, where)))
    return [f for _, f in sorted(found, key=lambda x: x[0])]


@dataclass(frozen=True)
class Heap:
    bytes: int
    how: str  # "-Xmx2g (env JAVA_OPTS)" / "-XX:MaxRAMPercentage=95 of the 1Gi limit"
    flags: tuple  # the flags it comes from (for related locations)


@dataclass
class JvmSettings:
    flags: dict = field(default_factory=dict)  # name -> Flag, last one wins

    def get(self, name: str) -> Flag | None:
        return self.flags.get(name)

    def _sized(self, fixed: str, pct_name: str, memory: int | None, default_pct: float | None) -> Heap | None:
        f = self.flags.get(fixed)
        if f is not None:
            return Heap(int(f.value), f"{f.text} ({f.where})", (f,))
        pct, ram = self.flags.get(pct_name), self.flags.get("max_ram")
        if pct is None and (ram is None or default_pct is None):
            return None
        base = ram.value if ram is not None else memory
        if base is None:
            return None
        p = pct.value if pct is not None else default_pct
        used = tuple(x for x in (pct, ram) if x is not None)
        how = " with ".join(f"{x.text} ({x.where})" for x in used)
        if pct is None:
            how = f"the default {default_pct:g}% of {how}"
        return Heap(int(base * p / 100), how, used)

    def max_heap(self, memory: int | None = None) -> Heap | None:
        """The largest heap the JVM may grow to in `memory` bytes (None: only the default applies).
        An initial heap larger than the maximum raises the maximum, as HotSpot does."""
        mx = self._sized("max_heap", "max_ram_percentage", memory, DEFAULT_MAX_RAM_PERCENTAGE)
        ms = self._sized("initial_heap", "initial_ram_percentage", memory, None)
        if ms is not None and (mx is None or ms.bytes > mx.bytes):
            return ms
        return mx


def settings_from(env: dict, argv: list) -> JvmSettings:
    """`env`: name -> (value or None when unknown, origin, where); `argv`: [(token, origin, where)],
    the process's command line. Returns the flags in force (last wins)."""
    chunks: list = []

    def var(name: str) -> None:
        value, origin, where = env.get(name, (None, None, ""))
        if value is not None:
            chunks.append((str(value), origin, where or f"env {name}"))

    for name in FIRST_VARS:
        var(name)
    referenced: set = set()
    line: list = []
    for token, origin, where in argv:
        token = str(token)
        pos = 0
        for m in _VAR.finditer(token):
            line.append((token[pos:m.start()], origin, where))
            name = m.group(1) or m.group(2) or m.group(3)
            referenced.add(name)
            value, vorigin, vwhere = env.get(name, (None, None, ""))
            if value is not None:
                line.append((str(value), vorigin, vwhere or f"env {name}"))
            pos = m.end()
        line.append((token[pos:], origin, where))
    runs_java = any(re.search(r"(?:^|[\s/])java(?:\s|$)", t) for t, _, _ in line)
    if not runs_java:  # an unknown start script: the convention variables are read before the line
        for name in SCRIPT_VARS:
            if name not in referenced:
                var(name)
    chunks.extend(line)
    for name in LAST_VARS:
        var(name)
    out = JvmSettings()
    for text, origin, where in chunks:
        for f in find_flags(text, origin, where):
            out.flags[f.name] = f
    return out


def dockerfile_launch(env: dict, entrypoint: list, cmd: list, origin_of: Callable) -> tuple[dict, list, list]:
    """A Dockerfile stage's ENV, ENTRYPOINT and CMD as (env, entrypoint argv, cmd argv) for
    `settings_from`; `origin_of(path)` turns ("env", KEY) / ("entrypoint",) / ("cmd",) into a handle."""
    e = {k: (v, origin_of(("env", k)), f"Dockerfile ENV {k}") for k, v in (env or {}).items()}
    ep = [(t, origin_of(("entrypoint",)), "Dockerfile ENTRYPOINT") for t in entrypoint or []]
    cm = [(t, origin_of(("cmd",)), "Dockerfile CMD") for t in cmd or []]
    return e, ep, cm


def container_launch(container, image: tuple | None = None) -> tuple[dict, list]:
    """The env and command line of a Kubernetes container (`k8s.workloads.Container`), over the
    image's (env, entrypoint, cmd) from `dockerfile_launch` when its Dockerfile is known.
    `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD; env overrides ENV."""
    env, entrypoint, cmd = image or ({}, [], [])
    env = dict(env)
    for i, e in enumerate(container.env):
        name = e.get("name")
        if not isinstance(name, str):
            continue
        value = e.get("value") if "valueFrom" not in e else None
        if value is None and "valueFrom" not in e:
            value = ""
        env[name] = (None if value is None else str(value), container.at("env", i, "value"), f"env {name}")
    command, args = container.data.get("command"), container.data.get("args")
    if isinstance(command, list):
        entrypoint = [(t, container.at("command", i), "command") for i, t in enumerate(command)]
        cmd = []
    if isinstance(args, list):
        cmd = [(t, container.at("args", i), "args") for i, t in enumerate(args)]
    return env, list(entrypoint) + list(cmd)
