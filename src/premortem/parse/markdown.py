"""Markdown postmortems into Resources (format "markdown", kind "Postmortem"), read with markdown-it-py.

A Markdown file is a postmortem when its path or first heading says so — strongly (postmortem,
post-mortem, post-incident, retro(spective), RCA, PIR) or weakly (incident) — and its structure
agrees: a strong one needs a root-cause or action-items section, a weak one a root-cause section
and an action-items, timeline or impact section. Templates and index pages (file or title with
"template"; README, index, CONTRIBUTING) are not postmortems.

Sections are headings, or paragraphs that are a known section name alone or in bold ("Root cause:",
"**Action items:** ..." — the rest of such a paragraph belongs to the section). `data`:
- title, sections [{title, kind, line}] with kind root_cause | actions | timeline | impact | summary |
  lessons | other;
- actions: the action items, one per top-level list item or table row of an actions section:
  {text, done (`[x]`, struck through, a done status), owner (an @mention, `Owner:`/`Assignee:`/`DRI:`
  text or the table's owner column; '' when none), tracking (an issue/ticket URL, a key like OPS-123,
  `#123`, `org/repo#123` or the table's ticket column; '' when none), placeholder (template filler)};
- root_cause: the text blocks of root-cause sections {text (code spans replaced by `CODE`), lines}
  where `lines[k]` is the source position of the text's k-th line;
- people: names the document itself gives people (Authors, Owner, Incident commander, On-call,
  Responders, Participants... lines, and action-item owners), @handles without the @.
Positions: ("title",), ("sections", i), ("actions", i), ("root_cause", i, "lines", k).
"""
from __future__ import annotations

import os
import re

from ..model import Origin, Resource

STRONG = re.compile(r"(?i)post[-_ ]?mortem|post[-_ ]?incident|retrospective|(?<![a-z])(retro|rca|pir)s?(?![a-z])")
WEAK = re.compile(r"(?i)(?<![a-z])incidents?(?![a-z])")
NOT_POSTMORTEM = {"readme", "index", "_index", "contributing", "guidelines", "process", "howto", "how-to"}
SECTION_KINDS = [
    ("root_cause", re.compile(r"(?i)^(\d+[.)]\s*)?(root[- ]?causes?(\s+analysis)?|(the\s+)?causes?|"
                              r"causes? and contributing factors|contributing factors?|triggers?|(five|5) whys)\b")),
    ("actions", re.compile(r"(?i)^(\d+[.)]\s*)?(action[- ]?items?|actions?(?! taken)( plan)?|follow[- ]?ups?|"
                           r"follow[- ]?up (actions|items|tasks)|corrective( and preventive)? actions?|"
                           r"preventive actions?|remediations?( items| actions| tasks)?|next steps|to-?dos?|"
                           r"tasks)\b")),
    ("timeline", re.compile(r"(?i)^(\d+[.)]\s*)?timeline\b")),
    ("impact", re.compile(r"(?i)^(\d+[.)]\s*)?(impact|customer impact|user impact)\b")),
    ("summary", re.compile(r"(?i)^(\d+[.)]\s*)?(summary|overview|executive summary|what happened)\b")),
    ("lessons", re.compile(r"(?i)^(\d+[.)]\s*)?(lessons? learn(ed|t)|what went (well|wrong)|detection|resolution)\b")),
]
_PSEUDO = re.compile(r"^\s*(?:\*\*|__)?\s*([A-Z0-9][\w &/()'.-]{2,60}?)\s*(?::\s*(?:\*\*|__)?|(?:\*\*|__)\s*:?)\s*(.*)$", re.S)
_PEOPLE_LINE = re.compile(r"(?im)^\s*[-*]?\s*(?:\*\*|__)?(authors?|owners?|incident commanders?|ic|on-?call|responders?|"
                          r"participants?|attendees?|reviewers?|reviewed by|scribe|reported by|comms? lead|"
                          r"communications lead|written by|prepared by)(?:\*\*|__)?\s*[:=]\s*(?:\*\*|__)?\s*(.+)$")
MENTION = re.compile(r"(?<![\w.@/])@([A-Za-z0-9][\w.-]*[A-Za-z0-9_]|[A-Za-z0-9])")
OWNER_TEXT = re.compile(r"(?i)\b(?:(?:owners?|assignees?|dri|responsible|poc)\s*[:=]|assigned to)\s*(?:\*\*|__)?\s*"
                        r"([^,;|)\]\n]+)")
NOT_A_PERSON = re.compile(r"(?i)\b(team|squad|guild|group|eng|engineering|ops|sre|on-?call|platform|infra|"
                          r"infrastructure|devops|backend|frontend|security|dba|support|tbd)\b|/")
PLACEHOLDER = re.compile(r"(?i)^\s*(|-+|—|–|\?+|tbd|tba|todo|n/?a|none|nobody|unassigned|unknown|\.\.\.|…|x|<[^>]*>|"
                         r"\[[^\]]*\]|\{[^}]*\}|_+)\s*$")
TICKET_URL = re.compile(r"(?i)https?://[^\s)>\]]+(/(issues?|browse|tickets?|pull|merge_requests|workitems?|_workitems|"
                        r"cards?|c|tasks?|bugs?|show_bug\.cgi|story|stories|epic|items?|incidents?)(/|\?|=|$)|"
                        r"atlassian\.net|linear\.app|app\.shortcut\.com|youtrack|trello\.com|app\.asana\.com|"
                        r"clickup\.com|service-now\.com)[^\s)>\]]*")
TICKET_KEY = re.compile(r"(?<![\w-])(?!(?:CVE|RFC|ISO|SHA|UTF|TLS|SSL|HTTP|PEP|GPT|AES|RSA|MD|X|IPV|CIS|SOC|PCI)-)"
                        r"[A-Z][A-Z0-9]{1,9}-\d+(?![\w-])|(?<![\w&#])#\d+\b|\b[\w.-]+/[\w.-]+#\d+\b")
DONE_STATUS = re.compile(r"(?i)^\s*(done|closed|complete(d)?|fixed|resolved|merged|shipped|✅|✔️?|\[x\])\s*$")
OWNER_COLUMN = re.compile(r"(?i)owner|assignee|assigned|responsible|\bwho\b|\bdri\b|\bpoc\b|\blead\b")
TICKET_COLUMN = re.compile(r"(?i)ticket|issue|jira|link|tracking|tracker|\bbug\b|\bpr\b|\bid\b|reference")
STATUS_COLUMN = re.compile(r"(?i)status|state|done")
TEXT_COLUMN = re.compile(r"(?i)action|item|task|description|what|remediation|follow")


def is_candidate(text: str, file: str) -> str:
    """'strong', 'weak' or '' from the path and first heading, before any parsing."""
    base = os.path.basename(file).lower()
    stem = base.rsplit(".", 1)[0]
    if not base.endswith((".md", ".markdown")) or stem in NOT_POSTMORTEM or "template" in file.lower():
        return ""
    m = re.search(r"(?m)^\s{0,3}#{1,2}\s+(.+)$|^(.+)\n[=-]{3,}\s*$|^title:\s*(.+)$", text[:4096])
    title = next((g for g in m.groups() if g), "") if m else ""
    if "template" in title.lower():
        return ""
    where = f"{file} {title}"
    return "strong" if STRONG.search(where) else "weak" if WEAK.search(where) else ""


def parse_postmortem(text: str, file: str) -> tuple[list, list]:
    strength = is_candidate(text, file)
    if not strength:
        return [], []
    from markdown_it import MarkdownIt

    front = re.match(r"---[ \t]*\n(?:.*\n)*?---[ \t]*(\n|$)", text)
    if front:  # YAML front matter: blank lines (positions stay), its title a heading on its own line
        lines = [re.sub(r"^title:\s*['\"]?(.+?)['\"]?\s*$", r"# \1", ln) if ln.startswith("title:") else ""
                 for ln in front.group(0).split("\n")]
        text = "\n".join(lines) + text[front.end():]
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)
    doc = _Reader(text.split("\n"))
    doc.read(tokens)
    kinds = {s["kind"] for s in doc.sections}
    if strength == "strong" and not kinds & {"root_cause", "actions"}:
        return [], []
    if strength == "weak" and not ("root_cause" in kinds and kinds & {"actions", "timeline", "impact"}):
        return [], []
    people = set(doc.people)
    for a in doc.actions:
        for n in re.findall(r"@?[\w.-]+(?:\s+[A-Z][\w'-]+)?", a["owner"]):
            if n[:1].isupper() or n.startswith("@"):
                people.update({n.lstrip("@"), n.lstrip("@").split()[0]})
    data = {"title": doc.title, "sections": doc.sections, "actions": doc.actions, "root_cause": doc.root_cause,
            "people": sorted(p for p in people if len(p) > 1 and not p.isupper() and not NOT_A_PERSON.search(p))}
    return [Resource(format="markdown", kind="Postmortem", name=file, namespace="", data=data, file=file,
                     line=doc.positions.get(("title",), (1, 1))[0], positions=doc.positions,
                     origin=Origin("file", file))], []


class _Reader:
    def __init__(self, lines: list):
        self.lines = lines
        self.title, self.sections, self.actions, self.root_cause, self.people = "", [], [], [], []
        self.positions: dict = {(): (1, 1)}
        self.kind = "other"

    def col(self, line: int, text: str = "") -> int:
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        head = re.split(r"CODE|`|\n", text.strip())[0][:12].strip()
        at = src.find(head) if head else -1
        if at < 0 and re.match(r"\W*(\w+)", text):  # markup inside the text: its first word
            at = src.find(re.match(r"\W*(\w+)", text).group(1))
        return at + 1 if at >= 0 else len(src) - len(src.lstrip()) + 1

    def section(self, title: str, line: int) -> None:
        kind = next((k for k, rx in SECTION_KINDS if rx.match(title.strip())), "other")
        self.kind = kind
        self.positions[("sections", len(self.sections))] = (line, self.col(line, title))
        self.sections.append({"title": title.strip(), "kind": kind, "line": line})
        if not self.title:
            self.title = title.strip()
            self.positions[("title",)] = (line, self.col(line, title))

    def read(self, tokens: list) -> None:
        i, n, depth = 0, len(tokens), 0
        while i < n:
            t = tokens[i]
            if t.type == "heading_open":
                self.section(_text(tokens[i + 1])[0], t.map[0] + 1)
                i += 3
                continue
            if t.type in ("bullet_list_open", "ordered_list_open"):
                depth += 1
            elif t.type in ("bullet_list_close", "ordered_list_close"):
                depth -= 1
            elif t.type == "list_item_open" and depth == 1 and self.kind == "actions":
                end = _closing(tokens, i)
                self.item(tokens[i:end + 1], t.map[0] + 1)
                i = end
            elif t.type == "table_open":
                end = _closing(tokens, i)
                self.table(tokens[i:end + 1])
                i = end
            elif t.type == "inline" and t.map:
                self.inline(t, depth, tokens[i - 1].type if i else "")
            i += 1

    def inline(self, t, depth: int, opener: str) -> None:
        text, _links = _text(t, "CODE")
        line = t.map[0] + 1
        self.people_in(text)
        if opener == "paragraph_open" and depth == 0:
            m = _PSEUDO.match(text)
            if m and any(rx.match(m.group(1)) for _, rx in SECTION_KINDS):
                self.section(m.group(1), line)
                text = m.group(2)
                if not text.strip():
                    return
        if self.kind == "root_cause" and text.strip():
            k = len(self.root_cause)
            first = t.map[0] + 1 + (t.content.count("\n") - text.count("\n"))
            for j, part in enumerate(text.split("\n")):
                self.positions[("root_cause", k, "lines", j)] = (first + j, self.col(first + j, part))
            self.positions[("root_cause", k)] = self.positions[("root_cause", k, "lines", 0)]
            self.root_cause.append({"text": text, "line": first})

    def people_in(self, text: str) -> None:
        for m in _PEOPLE_LINE.finditer(text):
            for part in re.split(r",|;|/|\band\b|\s&\s", re.sub(r"\([^)]*\)", "", m.group(2))):
                name = part.strip().strip("*_`").lstrip("@").strip()
                if name and not PLACEHOLDER.match(name) and len(name) <= 40:
                    self.people.append(name)
                    if " " in name:
                        self.people.append(name.split()[0])

    def item(self, toks: list, line: int) -> None:
        parts, links, struck, words = [], [], True, 0
        for t in toks:
            if t.type == "inline":
                text, hrefs = _text(t)
                parts.append(text)
                links.extend(hrefs)
                for c in t.children or ():
                    if c.type == "text" and c.content.strip():
                        words += 1
                        struck = struck and _inside_strike(t.children, c)
        text = "\n".join(parts).strip()
        done = bool(re.match(r"^\[[xX]\]", text)) or (struck and words > 0)
        text = re.sub(r"^\[[ xX]?\]\s*", "", text)
        self.add_action(text, line, done, _owner(text), _tracking(text, links))

    def table(self, toks: list) -> None:
        rows, row, head = [], None, True
        for t in toks:
            if t.type == "tr_open":
                row = {"line": t.map[0] + 1, "cells": [], "links": []}
            elif t.type == "tr_close":
                rows.append((head, row))
            elif t.type == "tbody_open":
                head = False
            elif t.type == "inline" and row is not None:
                text, hrefs = _text(t)
                row["cells"].append(text.strip())
                row["links"].extend(hrefs)
        header = next((r["cells"] for h, r in rows if h), [])
        body = [r for h, r in rows if not h]
        if self.kind != "actions":
            for r in body:  # a people table ("Role | Name") or a root-cause table
                self.people_in("\n".join(f"{a}: {b}" for a, b in zip(r["cells"], r["cells"][1:])))
                if self.kind == "root_cause":
                    text = " | ".join(r["cells"])
                    k = len(self.root_cause)
                    self.positions[("root_cause", k, "lines", 0)] = (r["line"], self.col(r["line"], r["cells"][0] if r["cells"] else ""))
                    self.positions[("root_cause", k)] = self.positions[("root_cause", k, "lines", 0)]
                    self.root_cause.append({"text": text, "line": r["line"]})
            return

        def column(rx, default=None):
            return next((j for j, h in enumerate(header) if rx.search(h)), default)

        owner_col, ticket_col, status_col = column(OWNER_COLUMN), column(TICKET_COLUMN), column(STATUS_COLUMN)
        text_col = column(TEXT_COLUMN, 0)
        for r in body:
            cells = r["cells"]
            get = lambda j: cells[j] if j is not None and j < len(cells) else ""  # noqa: E731
            all_text = " | ".join(cells)
            owner = get(owner_col) if owner_col is not None and not PLACEHOLDER.match(get(owner_col)) else ""
            ticket = get(ticket_col) if ticket_col is not None and not PLACEHOLDER.match(get(ticket_col)) else ""
            done = bool(status_col is not None and DONE_STATUS.match(get(status_col)))
            text = get(text_col) or all_text
            self.add_action(text, r["line"], done, owner or _owner(all_text), ticket or _tracking(all_text, r["links"]))

    def add_action(self, text: str, line: int, done: bool, owner: str, tracking: str) -> None:
        k = len(self.actions)
        self.positions[("actions", k)] = (line, self.col(line, text))
        self.actions.append({"text": text, "line": line, "done": done, "owner": owner, "tracking": tracking,
                             "placeholder": bool(PLACEHOLDER.match(text))})


def _closing(tokens: list, i: int) -> int:
    """Index of the token closing the one opened at i."""
    level, want = tokens[i].level, tokens[i].type.replace("_open", "_close")
    for j in range(i + 1, len(tokens)):
        if tokens[j].type == want and tokens[j].level == level:
            return j
    return len(tokens) - 1


def _text(inline, code: str = "") -> tuple[str, list]:
    """An inline token's text (code spans as written, or as `code` when given; breaks as newlines) and
    its link targets."""
    out, links = [], []
    for c in inline.children or ():
        if c.type == "text":
            out.append(c.content)
        elif c.type == "code_inline":
            out.append(code or f"`{c.content}`")
        elif c.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif c.type == "link_open":
            links.append(str(c.attrs.get("href", "")))
        elif c.type == "image":
            out.append(c.content)
    return "".join(out), links


def _inside_strike(children: list, target) -> bool:
    depth = 0
    for c in children:
        if c is target:
            return depth > 0
        depth += 1 if c.type == "s_open" else -1 if c.type == "s_close" else 0
    return False


def _owner(text: str) -> str:
    m = MENTION.search(text)
    if m:
        return m.group(0)
    for m in OWNER_TEXT.finditer(text):
        value = m.group(1).strip().strip("*_`")
        if value and not PLACEHOLDER.match(value):
            return value
    return ""


def _tracking(text: str, links: list) -> str:
    for href in links:
        if TICKET_URL.search(href) or TICKET_KEY.search(href):
            return href
    m = TICKET_URL.search(text) or TICKET_KEY.search(text)
    return m.group(0) if m else ""
