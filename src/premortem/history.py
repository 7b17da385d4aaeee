"""`premortem scan --history`: the secret rules over every blob reachable in the git repository.

A secret removed from the working tree is still in every clone: it fails the gate until it is rotated
(and baselined). Git is run with fixed argument lists, never through a shell:

1. `git rev-parse` finds the repository around the scan root (exit 2 when there is none, or when the
   clone is shallow: a history that was not read cannot pass a gate);
2. `git log --all --reverse -m --raw` lists, oldest first, every blob each commit added or changed,
   with the commit and its author date; a blob is scanned once, under the first commit that had it;
3. `git cat-file --batch` streams those blobs; text ones become TextFile resources judged by the
   history rules (PM401) with the scan's config, so severity overrides, options and inline
   suppressions written in that version apply;
4. one finding per secret and path, at the oldest commit that has it. When the working tree still
   has it at the same place, the working-tree finding gets the commit instead of a second finding;
   otherwise the finding says whether HEAD has it elsewhere or no longer has it.
"""
from __future__ import annotations

import datetime as _dt
import fnmatch
import os
import re
import subprocess
from dataclasses import dataclass

from . import discover as disc
from .engine import MAX_SNIPPET, Judge
from .model import Resource, ScanError, fingerprint
from .project import Project
from .suppress import SuppressionIndex, comment_suppressions

HISTORY_RULES = ("PM401",)
_ENV = {"GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
_ZERO = "0" * 40


class HistoryError(Exception):
    pass


@dataclass(frozen=True)
class BlobOrigin:
    commit: str
    date: str  # author date, ISO 8601
    path: str  # relative to the repository's top level


def _git(top: str, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", top, "-c", "core.quotepath=false", *args], input=stdin,
                              capture_output=True, env={**os.environ, **_ENV}, check=False)
    except FileNotFoundError:
        raise HistoryError("--history needs git, and no `git` is on PATH") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise HistoryError(f"git {args[0]} failed: {err[-1] if err else 'exit ' + str(done.returncode)}")
    return done.stdout


def repository(root: str) -> tuple:
    """(top level, scan root's path inside it with a trailing '/', or '') — HistoryError when `root`
    is in no git repository or the clone is shallow."""
    try:
        out = _git(root, "rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository")
    except HistoryError as exc:
        raise HistoryError(f"--history reads git history, but {root} is not inside a git repository ({exc})") from None
    top, prefix, shallow = (out.decode("utf-8", "replace").splitlines() + ["", "", ""])[:3]
    if shallow.strip() == "true":
        raise HistoryError("--history: this is a shallow clone, so older commits (and the secrets in them) are "
                           "not here; fetch the whole history first (`git fetch --unshallow`, or `fetch-depth: 0` "
                           "in actions/checkout)")
    return top, prefix.strip()


def blobs(top: str) -> dict:
    """{blob sha: BlobOrigin} for every blob any commit reachable from a ref added or changed, keeping
    the oldest commit for each blob."""
    try:
        out = _git(top, "log", "--all", "--reverse", "-m", "--raw", "--no-renames", "--no-abbrev", "-z",
                   "--format=%x01%H%x00%aI")
    except HistoryError as exc:
        if "does not have any commits" in str(exc) or "bad default revision" in str(exc):
            return {}
        raise
    found: dict = {}
    for chunk in out.split(b"\x01")[1:]:
        fields = chunk.split(b"\x00")
        if len(fields) < 2:
            continue
        commit, date = fields[0].decode(), fields[1].decode().strip()
        rest = fields[2:]
        for meta, path in zip(rest[0::2], rest[1::2]):
            parts = meta.strip().split()
            if len(parts) < 5 or not parts[0].startswith(b":"):
                continue
            mode, sha = parts[1].decode(), parts[3].decode()
            if sha == _ZERO or not mode.startswith("100"):  # deletions, symlinks, submodules
                continue
            found.setdefault(sha, BlobOrigin(commit, date, path.decode("utf-8", "replace")))
    return found


def head_blobs(top: str) -> dict:
    """{blob sha: [paths]} of HEAD's tree ({} on an unborn branch)."""
    try:
        out = _git(top, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
    except HistoryError:
        return {}
    tree: dict = {}
    for entry in out.split(b"\x00"):
        meta, _, path = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            tree.setdefault(parts[2].decode(), []).append(path.decode("utf-8", "replace"))
    return tree


def read_blobs(top: str, shas: list, max_size: int):
    """Yield (sha, text) for every text blob under `max_size` bytes (binary and non-UTF-8 ones skipped)."""
    if not shas:
        return
    proc = subprocess.Popen(["git", "-C", top, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, **_ENV})
    try:
        for sha in shas:
            proc.stdin.write(sha.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:  # "<sha> missing"
                continue
            size = int(header[2])
            raw = proc.stdout.read(size)
            proc.stdout.read(1)
            if size > max_size or b"\x00" in raw[:disc.BINARY_SNIFF]:
                continue
            try:
                yield sha, raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
            except UnicodeDecodeError:
                continue
    finally:
        proc.stdin.close()
        proc.stdout.close()
        proc.wait()


def scan_history(root: str, config, rules: list, current: list, today: _dt.date | None = None) -> tuple:
    """(findings, errors) of the history rules over every blob reachable in the repository at `root`.
    `current` (the working-tree findings) are annotated in place when history finds the same secret there."""
    rules = [r for r in rules if r.id in HISTORY_RULES]
    if not rules:
        return [], []
    try:
        top, prefix = repository(root)
        origins = blobs(top)
        head = head_blobs(top)
    except HistoryError as exc:
        return [], [ScanError(".", 0, str(exc))]
    wanted = {sha: o for sha, o in origins.items() if _in_scope(o.path, prefix, config)}
    judge = BlobJudge(rules, config, Project(), root)
    per_blob: dict = {}  # sha -> [(finding, secret digest)]
    try:
        for sha, text in read_blobs(top, list(wanted), config.max_file_size):
            rel = wanted[sha].path[len(prefix):]
            judge.text = text
            r = Resource(format="text", kind="TextFile", name=rel, namespace="", data={"text": text}, file=rel, line=1)
            findings, _ = judge.judge(r)
            sups = SuppressionIndex(today=today or _dt.date.today())
            sups.add_file(rel, comment_suppressions(text, rel))
            per_blob[sha] = [f for f in findings if sups.match(f) is None]
    except (OSError, ValueError) as exc:
        return [], [ScanError(".", 0, f"--history: reading git objects failed ({exc})")]
    in_head: dict = {}  # secret -> HEAD paths that have it
    for sha, paths in head.items():
        for f in per_blob.get(sha, []):
            in_head.setdefault(_secret(f), set()).update(p[len(prefix):] for p in paths if p.startswith(prefix))
    first: dict = {}  # secret -> the oldest BlobOrigin that has it, at any path
    for sha, origin in wanted.items():  # oldest first
        for f in per_blob.get(sha, []):
            first.setdefault(_secret(f), origin)
    live = {f.fingerprint for f in current if f.rule_id in HISTORY_RULES}
    for f in current:  # still in the working tree: one finding, the working tree's, that knows when it came in
        o = first.get(_secret(f)) if f.rule_id in HISTORY_RULES else None
        if o is not None:
            moved = f", as {o.path[len(prefix):]}" if o.path[len(prefix):] != f.file else ""
            f.message += f" [in git history since commit {o.commit[:12]} ({o.date}){moved}]"
    out, seen = [], set()
    for sha, origin in wanted.items():  # the first commit that has a secret at a path reports it
        for f in per_blob.get(sha, []):
            if f.fingerprint in seen or f.fingerprint in live:
                continue
            seen.add(f.fingerprint)
            elsewhere = sorted(in_head.get(_secret(f), ()))
            status = (f"still in HEAD at {', '.join(elsewhere)}" if elsewhere else
                      "no longer in HEAD, but every clone and fork has it: removing it did not revoke it, rotate it")
            f.message += f" [git history: commit {origin.commit[:12]} ({origin.date}), {f.file}; {status}]"
            f.resource = f"{f.resource}@{origin.commit[:12]}"
            f.fingerprint = fingerprint("history", f.fingerprint)
            out.append(f)
    return out, []


_REDACTED = re.compile(r"\S{2,4}…\[redacted sha256:[0-9a-f]{8}\]")


def _secret(f) -> str:
    """The secret a history finding is about, by its redacted form (PM401 names it first in its message)."""
    m = _REDACTED.search(f.message)
    return m.group(0) if m else f.fingerprint


def _in_scope(path: str, prefix: str, config) -> bool:
    if prefix and not path.startswith(prefix):
        return False
    rel = path[len(prefix):]
    parts = rel.split("/")
    if any(p in disc.SKIP_DIRS for p in parts[:-1]):
        return False
    return not any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat.rstrip("/") + "/*") for pat in config.exclude)


class BlobJudge(Judge):
    """The engine's Judge, with snippets taken from the blob being judged instead of the file on disk."""

    text = ""

    def _snippet(self, file: str, line: int) -> str:
        lines = self.text.splitlines()
        s = lines[line - 1] if 0 < line <= len(lines) else ""
        return s if len(s) <= MAX_SNIPPET else ""
