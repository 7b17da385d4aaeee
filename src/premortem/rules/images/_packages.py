"""Package managers inside Dockerfile RUNs (apt, apk, yum/dnf/microdnf, pip): what a RUN installs,
what it removes again, and which download caches it leaves in its layer.

A layer keeps what its own RUN leaves behind: a package removed or a cache cleaned by a later
RUN still ships in the earlier layer. So everything here is judged per RUN instruction.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

APT, APK, YUM, PIP = "apt", "apk", "yum", "pip"
_TOOLS = {"apt-get": APT, "apt": APT, "apk": APK, "yum": YUM, "dnf": YUM, "microdnf": YUM, "tdnf": YUM,
          "pip": PIP, "pip3": PIP}
_VALUED = {"-o", "-t", "--target-release", "--virtual", "-X", "--repository", "--setopt", "--enablerepo",
           "--disablerepo", "-c", "--config", "-r", "--requirement", "-e", "--editable", "-i", "--index-url",
           "--extra-index-url", "-f", "--find-links", "--root", "--prefix", "--target"}
# where each manager keeps what a download leaves behind, and how a RUN gets rid of it
CACHE_DIRS = {APT: ("/var/lib/apt/lists",), APK: ("/var/cache/apk",), YUM: ("/var/cache/yum", "/var/cache/dnf"),
              PIP: ("/.cache", "/.cache/pip")}
CACHE_WHAT = {APT: "the apt package lists (/var/lib/apt/lists, tens of MB)",
              APK: "the apk index cache (/var/cache/apk)",
              YUM: "the yum/dnf metadata and package cache (/var/cache/yum, /var/cache/dnf, often 100+ MB)",
              PIP: "pip's download and wheel cache (~/.cache/pip, as large as the packages)"}
CACHE_FIX = {APT: "end the same RUN with `rm -rf /var/lib/apt/lists/*`",
             APK: "use `apk add --no-cache`",
             YUM: "end the same RUN with `yum clean all` (or `dnf clean all`)",
             PIP: "use `pip install --no-cache-dir` (or ENV PIP_NO_CACHE_DIR=1)"}


@dataclass
class Install:
    manager: str
    packages: list  # names without version or architecture
    command: dict  # the shell command (argv, line, column)
    virtual: str = ""  # apk add --virtual NAME: removed together by `apk del NAME`


@dataclass
class Run:
    installs: list = field(default_factory=list)
    removed: set = field(default_factory=set)  # package names, "*" for an apt autoremove of all marked auto
    caches: list = field(default_factory=list)  # (manager, command) caches this RUN leaves in its layer

    def kept(self, install: Install) -> list:
        """The packages of `install` still there when this RUN ends."""
        if "*" in self.removed or (install.virtual and install.virtual in self.removed):
            return []
        return [p for p in install.packages if p not in self.removed]


def _program(argv: list) -> tuple[str, list]:
    argv = list(argv)
    while argv and argv[0].rsplit("/", 1)[-1] in ("sudo", "env", "command", "exec", "nice"):
        argv = argv[1:]
        while argv and (argv[0].startswith("-") or "=" in argv[0]):
            argv = argv[1:]
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1].startswith("python") and argv[1:3] == ["-m", "pip"]:
        return "pip", argv[3:]
    return (argv[0].rsplit("/", 1)[-1], argv[1:]) if argv else ("", [])


def _split(args: list) -> tuple[str, list, dict]:
    """(subcommand, package words, option -> value) of a package manager call."""
    words, opts, skip = [], {}, None
    for a in args:
        if skip:
            opts[skip] = a
            skip = None
        elif a in _VALUED:
            skip = a
        elif a.startswith("-"):
            k, _, v = a.partition("=")
            opts[k] = v or True
        else:
            words.append(a)
    return (words[0] if words else ""), words[1:], opts


def _name(pkg: str) -> str:
    for sep in ("=", ">", "<", "~", "@"):
        pkg = pkg.split(sep, 1)[0]
    return pkg.split(":", 1)[0].lower()


def _mount_targets(flags: list) -> list:
    out = []
    for f in flags:
        if f.startswith("--mount="):
            for kv in f[len("--mount="):].split(","):
                k, _, v = kv.partition("=")
                if k in ("target", "dst", "destination") and v:
                    out.append(v.rstrip("/"))
    return out


def _cleans(paths: list) -> set:
    """Managers whose cache a `rm`/cache mount of `paths` covers."""
    out = set()
    for m, dirs in CACHE_DIRS.items():
        if any(d in p or (p and d.startswith(p + "/")) for p in paths for d in dirs):
            out.add(m)
    if any(p.startswith("/var/lib/apt") for p in paths):
        out.add(APT)
    return out


def analyse(instruction: dict, env: dict) -> Run:
    """The package facts of one RUN instruction; `env` is the ENV in force (PIP_NO_CACHE_DIR)."""
    run = Run()
    cleaned = _cleans(_mount_targets(instruction.get("flags") or []))
    leftovers: list = []
    auto_mark = False
    for cmd in instruction.get("commands") or []:
        prog, args = _program(cmd.get("argv") or [])
        manager = _TOOLS.get(prog)
        if prog == "rm":
            cleaned |= _cleans([a for a in args if not a.startswith("-")])
        elif prog == "apt-mark" and args[:1] == ["auto"]:
            auto_mark = True
        if manager is None:
            continue
        sub, pkgs, opts = _split(args)
        no_cache = "--no-cache" in opts or "--no-cache-dir" in opts
        if manager == PIP:
            if sub == "cache" and pkgs[:1] == ["purge"]:
                cleaned.add(PIP)
            elif sub == "install" and not no_cache and env.get("PIP_NO_CACHE_DIR") in (None, ""):
                leftovers.append((PIP, cmd))
        elif sub in ("install", "add", "groupinstall"):
            names = [" ".join(pkgs).lower()] if sub == "groupinstall" else [_name(p) for p in pkgs if "$" not in p]
            virtual = opts.get("--virtual") or opts.get("-t") if manager == APK else ""
            run.installs.append(Install(manager, names, cmd, str(virtual or "")))
            if manager != APT and not no_cache:
                leftovers.append((manager, cmd))
        elif sub in ("update", "upgrade", "makecache") and not no_cache and (manager != APT or sub == "update"):
            leftovers.append((manager, cmd))
        elif sub == "clean" and manager == YUM:
            cleaned.add(YUM)
        elif sub in ("remove", "purge", "del", "erase", "autoremove"):
            run.removed.update(_name(p) for p in pkgs)
            if manager == APT and ("--auto-remove" in opts or sub == "autoremove") and auto_mark:
                run.removed.add("*")
    for manager, cmd in leftovers:
        if manager not in cleaned and all(m != manager for m, _ in run.caches):
            run.caches.append((manager, cmd))
    return run


def matching(packages: list, patterns: list) -> list:
    return [p for p in packages if any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]
