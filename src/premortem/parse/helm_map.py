"""From a rendered Helm object back to its sources: the template line that produced a node
(`locate`) and the values-file line that set its value (`relate`). Used by parse/helm.py.

Locate: for the rendered node at path P, walk from the deepest key up. The candidate template
lines are those with that key (`key:`) in the template document (`---` segment) the object came
from, and — below a list item — only the lines of that item (`containers[1]` is not
`containers[0]`). A candidate must be compatible with the rendered value (a static value must
equal it; a templated one, with each `{{ }}` read as "anything", must match it), and is ranked by
how many of its enclosing template keys (by indentation) equal P's ancestor keys, then by how
specific its text is, then by whether its `.Values` references resolve to values found in the
rendered value. Keys that come from `toYaml`/`include` are not in the template: the nearest
ancestor key wins (`resources:` for `resources.limits.memory`), then the document's `kind:` line.
The document an object came from is chosen by kind, by its `metadata.name` line, and by order.

Relate: references on the located line (and on the `{{ }}`-only lines of its block) are resolved
against the render's values: `{{ .Values.image.tag }}`, several refs in one string, `index
.Values "a" "b"`, `.Chart.AppVersion` (the Chart.yaml line), refs inside `include`d named
templates (3 levels), `toYaml .Values.resources | nindent` (values path = the ref plus the rendered
sub-path: `resources.limits.memory`), and `.`/`.x` inside `with .Values.x`. A ref counts when its
value appears in the rendered value. Not followed: `range` bodies (`.` is an element), template
variables (`$x := ...`), `tpl`, whole objects emitted by a named template (they point at the
`include` line), `import-values`/`exports`.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

from ..model import Source, redact

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_ABS_REF = re.compile(r"(?:\$\w*)?\.Values((?:\.\w+)+)")
_INDEX_REF = re.compile(r"index\s+\(?\s*(?:\$\w*)?\.Values((?:\.\w+)*)\s*\)?((?:\s+\"[^\"]*\")+)")
_CHART_REF = re.compile(r"\.Chart\.(AppVersion|Version|Name)\b")
_REL_REF = re.compile(r"(?<![\w\])$.\"'])\.(\w+(?:\.\w+)*)")
_DOT = re.compile(r"(?<![\w\])$.\"'])\.(?=$|[\s|)])")
_INCLUDE = re.compile(r"\b(?:include|template)\s+\"([^\"]+)\"")
_TOYAML = re.compile(r"\b(?:toYaml|toJson|toPrettyJson|toRawJson)\b")
_SECRETISH = re.compile(r"(?i)pass|secret|token|cred|auth|private|api_?key|access_?key|signing|cert")
_BUILTINS = {"Values", "Release", "Chart", "Capabilities", "Template", "Files", "Subcharts"}
MISSING = object()


def fmt(v) -> str:
    """A scalar as Go's template engine prints it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def get(data, path):
    for step in path:
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return MISSING
    return data


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return set(map(str, a)) == set(map(str, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b)
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return fmt(a) == fmt(b)


def _static_equal(text: str, node, quoted: bool) -> bool:
    if text == fmt(node):
        return True
    if quoted:
        return False
    low = text.lower()
    if node is None:
        return low in ("null", "~")
    if isinstance(node, bool):
        return low in (("true", "yes", "on") if node else ("false", "no", "off"))
    if isinstance(node, (int, float)):
        try:
            return float(text.replace("_", "")) == float(node)
        except ValueError:
            return False
    return False


def _dotted(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


def _shown(v, secret: bool = False) -> str:
    """A value for a message; redacted when its path or object looks like it holds a secret."""
    text = fmt(v) if not isinstance(v, (dict, list)) else json.dumps(v, separators=(",", ":"), default=str)
    if secret and text:
        return redact(text)
    text = text.replace("\n", "\\n")
    return text if len(text) <= 60 else text[:57] + "..."


# ---- template analysis ----------------------------------------------------------------------
@dataclass(slots=True)
class _Line:
    no: int
    indent: int  # structural indent: the dash of a list item, else the key
    keycol: int  # 0-based column of the key (or of the item's text)
    key: object  # str, None for a scalar list item, "*" for a templated key
    value: str  # text after `key:` (or the item), comment stripped
    vcol: int  # 1-based column of the value (of the key when there is none)
    item: bool
    parent: int = 0  # line number of the enclosing key line
    seg: int = 0


@dataclass(slots=True)
class _Ref:
    kind: str  # values | chart
    path: tuple
    toyaml: bool = False


def _strip_comment(s: str) -> str:
    if "#" not in s:
        return s.rstrip()
    quote, depth = "", 0
    for i, ch in enumerate(s):
        if s.startswith("{{", i):
            depth += 1
        elif s.startswith("}}", i) and depth:
            depth -= 1
        elif depth:
            continue
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'" and (i == 0 or s[i - 1] in " :[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


def _split_key(s: str):
    """'key: value' -> (key, value, offset of value); (None, s, 0) when the text is not a key."""
    if s[:1] in "\"'":
        end = s.find(s[0], 1)
        rest = s[end + 1:] if end > 0 else ""
        if end < 0 or not rest.lstrip().startswith(":"):
            return None, s, 0
        key, after_at = s[1:end], end + 1 + rest.index(":") + 1
    else:
        m = re.match(r"([^\s#:][^:#]*?)\s*:(?=\s|$)", s)
        if not m:
            return None, s, 0
        key, after_at = m.group(1), m.end()
        if "{{" in key:
            key = "*"
    after = s[after_at:]
    value = after.strip()
    return key, value, after_at + (len(after) - len(after.lstrip()))


def _value_regex(value: str):
    v = value
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        v = v[1:-1]
    parts = _ACTION.split(v)
    statics = parts[0::2]
    return re.compile("(?s)" + ".*?".join(re.escape(p) for p in statics)), sum(len(p.strip()) for p in statics)


class Template:
    """One template file: its YAML-ish structure by indentation and its `{{ }}` references."""

    def __init__(self, display: str, text: str):
        self.display = display
        self.text = text
        self.lines: list = []  # structural _Line objects, in order
        self.by_no: dict = {}
        self.control: set = set()  # lines made only of actions
        self.segments: list = []  # (first line, last line)
        self.refs: dict = {}  # line -> [_Ref]
        self.includes: dict = {}  # line -> [named template]
        self.defines: dict = {}  # name -> (first line, last line)
        self._regex: dict = {}
        self._chains: dict = {}
        self._segs: dict = {}
        self._structure()
        self._actions()

    def _structure(self) -> None:
        stack: list = []  # enclosing key lines
        seg_start, block_indent = 1, -1
        raw_lines = self.text.split("\n")
        for no, raw in enumerate(raw_lines, start=1):
            s = raw.rstrip()
            body = s.lstrip(" ")
            indent = len(s) - len(body)
            if block_indent >= 0:  # inside a block scalar (`key: |`): text, not structure
                if not body or indent > block_indent:
                    continue
                block_indent = -1
            if not body or body.startswith("#"):
                continue
            if body.startswith("---") and body.strip("-").strip() == "":
                if no > seg_start:
                    self.segments.append((seg_start, no - 1))
                seg_start, stack = no + 1, []
                continue
            if re.fullmatch(r"(?:\{\{.*?\}\}\s*)+", body, re.S):
                self.control.add(no)
                continue
            rest, col, item = body, indent, False
            while rest == "-" or rest.startswith("- "):
                item, stripped = True, rest[1:].lstrip(" ")
                col, rest = col + len(rest) - len(stripped), stripped
            key, value, vat = _split_key(rest) if rest else (None, "", 0)
            value = _strip_comment(value)
            line = _Line(no, indent if item else col, col, key, value, col + vat + 1 if value else col + 1, item)
            while stack:
                top = stack[-1]
                if top.keycol < line.indent or (top.keycol == line.indent and item and not top.value):
                    break  # a list may sit at its key's column
                stack.pop()
            line.parent = stack[-1].no if stack else 0
            line.seg = len(self.segments)
            self.lines.append(line)
            self.by_no[no] = line
            if key is not None:
                stack.append(line)
            if value[:1] and value[0] in "|>":
                block_indent = indent
        self.segments.append((seg_start, max(seg_start, len(raw_lines))))

    def _actions(self) -> None:
        """References per line, resolving `.`/`.x` inside `with .Values.x` (range bodies are not followed)."""
        starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        stack: list = []  # [word, scope, outer scope, define name, line]; scope: "ROOT" | values path | None
        for m in _ACTION.finditer(self.text):
            raw = m.group(1)
            lead = re.match(r"-?\s*", raw).end()
            body = re.sub(r"\s*-?\s*$", "", raw[lead:]) if raw.rstrip().endswith("-") else raw[lead:].rstrip()
            if not body or body.startswith("/*"):
                continue
            line = bisect.bisect_right(starts, m.start())
            word = body.split(None, 1)[0]
            scope = stack[-1][1] if stack else "ROOT"
            if word in ("if", "with", "range", "define", "block"):
                arg = body[len(word):].strip()
                new = (scope if word == "if" else self._scope_of(arg, scope) if word == "with"
                       else None if word == "range" else "ROOT")
                name = re.match(r"\"([^\"]+)\"", arg) if word in ("define", "block") else None
                stack.append([word, new, scope, name.group(1) if name else "", line])
                continue
            if word == "else":
                if stack and stack[-1][0] == "with":
                    rest = body[4:].strip()
                    outer = stack[-1][2]
                    stack[-1][1] = self._scope_of(rest[4:], outer) if rest.startswith("with") else outer
                continue
            if word == "end":
                if stack:
                    frame = stack.pop()
                    if frame[3]:
                        self.defines[frame[3]] = (frame[4], line)
                continue
            toyaml = bool(_TOYAML.search(body))
            for pos, ref in self._refs_in(body, scope):
                ref.toyaml = toyaml and ref.kind == "values"
                self.refs.setdefault(bisect.bisect_right(starts, m.start(1) + lead + pos), []).append(ref)
            for im in _INCLUDE.finditer(body):
                self.includes.setdefault(line, []).append(im.group(1))

    @staticmethod
    def _scope_of(arg: str, scope):
        tok = re.split(r"[\s|)]", arg.strip("( "), maxsplit=1)[0]
        m = re.fullmatch(r"(?:\$\w*)?\.Values((?:\.\w+)*)", tok)
        if m:
            return tuple(p for p in m.group(1).split(".") if p)
        if isinstance(scope, tuple):
            if tok == ".":
                return scope
            m = re.fullmatch(r"\.(\w+(?:\.\w+)*)", tok)
            if m and m.group(1).split(".")[0] not in _BUILTINS:
                return scope + tuple(m.group(1).split("."))
        return None

    @staticmethod
    def _refs_in(body: str, scope) -> list:
        out, masked = [], body
        for m in _INDEX_REF.finditer(body):
            path = tuple(p for p in m.group(1).split(".") if p) + tuple(re.findall(r"\"([^\"]*)\"", m.group(2)))
            out.append((m.start(), _Ref("values", path)))
            masked = masked[:m.start()] + " " * (m.end() - m.start()) + masked[m.end():]
        for m in _ABS_REF.finditer(masked):
            out.append((m.start(), _Ref("values", tuple(m.group(1).split(".")[1:]))))
        for m in _CHART_REF.finditer(masked):
            key = m.group(1)
            out.append((m.start(), _Ref("chart", (key[0].lower() + key[1:],))))
        if isinstance(scope, tuple):
            for m in _REL_REF.finditer(masked):
                parts = tuple(m.group(1).split("."))
                if parts[0] not in _BUILTINS:
                    out.append((m.start(), _Ref("values", scope + parts)))
            for m in _DOT.finditer(masked):
                out.append((m.start(), _Ref("values", scope)))
        return out

    # -- matching a rendered node to a template line --
    def value_score(self, line: _Line, node):
        """None when the line cannot have produced `node`, else how specific the match is."""
        v = line.value
        if not v or v[:1] in "|>" or (v.count("{{") != v.count("}}")):
            return 0
        if "{{" not in v:
            if isinstance(node, (dict, list)):
                return 0 if v[:1] in "{[&*!" else None
            text = v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'" else v
            return len(text) + 1 if v[:1] in "&*!" or _static_equal(text, node, v != text) else None
        if isinstance(node, (dict, list)):
            return 0
        if line.no not in self._regex:
            self._regex[line.no] = _value_regex(v)
        rx, static = self._regex[line.no]
        return static if rx.fullmatch(fmt(node)) else None

    def chain(self, line: _Line) -> list:
        """The keys enclosing a line, nearest first ('*' for a templated key)."""
        if line.no not in self._chains:
            parent = self.by_no.get(line.parent)
            self._chains[line.no] = ([parent.key] + self.chain(parent)) if parent else []
        return self._chains[line.no]

    def segment_lines(self, seg: int) -> list:
        if seg not in self._segs:
            self._segs[seg] = [ln for ln in self.lines if ln.seg == seg]
        return self._segs[seg]

    def top_value(self, seg: int, key: str, under: str = ""):
        for ln in self.segment_lines(seg):
            if ln.key == key and not ln.item:
                ch = self.chain(ln)
                if (not under and not ch) or ch == [under]:
                    return ln
        return None

    def guess_line(self, rendered: str) -> int:
        """The template line that most likely produced a rendered line (for YAML errors)."""
        target = rendered.strip()
        for i, raw in enumerate(self.text.split("\n"), start=1):
            body = raw.strip()
            if body and _value_regex(body)[0].fullmatch(target):
                return i
        return 0


# ---- the locator / relator for one rendered object -----------------------------------------
def line_refs(tpl: Template, lines, named: dict, depth: int = 0) -> list:
    """References on these lines, and (3 levels deep) in the named templates they include."""
    refs = []
    for no in lines:
        refs.extend(tpl.refs.get(no, ()))
        for name in tpl.includes.get(no, ()) if depth < 3 else ():
            if name in named:
                other, (a, b) = named[name]
                refs.extend(r for r in line_refs(other, range(a, b + 1), named, depth + 1) if not r.toyaml)
    return refs


class Links:
    """Maps paths of one rendered object to template lines (locate) and values lines (relate)."""

    def __init__(self, tpl: Template, seg: int, data, chart, render, named: dict):
        self.tpl, self.seg, self.data, self.chart, self.render, self.named = tpl, seg, data, chart, render, named
        self._lines = tpl.segment_lines(seg)
        self._cache: dict = {}

    def _bonus(self, line_no: int, node) -> int:
        if isinstance(node, (dict, list)) or node is MISSING:
            return 0
        text = fmt(node)
        eff = self.render.eff(self.chart)
        for ref in self.tpl.refs.get(line_no, ()):
            if ref.kind == "values":
                v = get(eff, ref.path)
                if v is not MISSING and not isinstance(v, (dict, list)) and fmt(v) and fmt(v) in text:
                    return 1
        return 0

    def find(self, path: tuple):
        """(template line, depth of the path it stands for) or (None, 0)."""
        path = tuple(path)
        if path in self._cache:
            return self._cache[path]
        found, lines, stop = (None, 0), self._lines, 0
        # below a list item, look only inside the template lines of that item (containers[1] is not containers[0])
        j = max((k for k in range(len(path) - 1) if isinstance(path[k], int)), default=-1)
        if j >= 0:
            item, depth = self.find(path[:j + 1])
            if item is not None and item.item and depth == j + 1:
                end = self._end(item, item.indent, False)
                lines, stop = [ln for ln in self._lines if item.no <= ln.no <= end], j + 1
        for i in range(len(path), stop, -1):
            last, node = path[i - 1], get(self.data, path[:i])
            pchain = [p for p in reversed(path[:i - 1]) if isinstance(p, str)]
            if isinstance(last, str):
                cands = [(ln, node) for ln in lines if ln.key == last]
            elif isinstance(node, dict):
                cands = [(ln, node.get(ln.key, MISSING)) for ln in lines if ln.item and isinstance(ln.key, str) and ln.key in node]
            else:
                cands = [(ln, node) for ln in lines if ln.item and ln.key is None]
            scored = []
            for ln, sub in cands:
                vs = self.tpl.value_score(ln, sub) if sub is not MISSING else 0
                if vs is None:
                    continue
                lchain = self.tpl.chain(ln)
                s = 0
                while s < min(len(lchain), len(pchain)) and lchain[s] in (pchain[s], "*"):
                    s += 1
                if s == 0 and (lchain or pchain):
                    continue
                full = s == len(lchain) == len(pchain)
                scored.append(((full, s, -abs(len(lchain) - len(pchain)), vs, self._bonus(ln.no, sub)), ln))
            if scored:
                best = max(sc for sc, _ in scored)
                group = [ln for sc, ln in scored if sc == best]
                ints = [p for p in path[:i] if isinstance(p, int)]
                found = (group[min(ints[-1] if ints else 0, len(group) - 1)], i)
                break
        if found[0] is None and stop:
            found = self.find(path[:stop])
        self._cache[path] = found
        return found

    def locate(self, path, key: bool = False) -> Source:
        """The template line of a rendered node: at its value, or at its key when `key`."""
        line, _ = self.find(tuple(path))
        if line is None:
            line = self.tpl.top_value(self.seg, "kind")
        if line is None:
            a, b = self.tpl.segments[self.seg]
            first = next((no for no in range(a, b + 1) if no in self.tpl.by_no or no in self.tpl.control), a)
            return Source(self.tpl.display, first, 1)
        return Source(self.tpl.display, line.no, line.keycol + 1 if key else line.vcol)

    def _end(self, line: _Line, col: int, same_col_items: bool) -> int:
        """The last line of the block below `line` (lines indented past `col`)."""
        last = self.tpl.segments[line.seg][1]
        for no in range(line.no + 1, last + 1):
            nxt = self.tpl.by_no.get(no)
            if nxt is not None and not (nxt.indent > col or (same_col_items and nxt.item and nxt.indent == col)):
                return no - 1
        return last

    def _block(self, line: _Line) -> list:
        """The line and the `{{ }}`-only lines of its value's block (where toYaml/include usually sit)."""
        end = self._end(line, line.keycol, not line.value)
        text = line.value[:1] in ("|", ">")  # a block scalar: every line of it is the value
        return [line.no] + [no for no in range(line.no + 1, end + 1) if text or no in self.tpl.control]

    def relate(self, path) -> list:
        path = tuple(path)
        line, depth = self.find(path)
        node = get(self.data, path)
        if line is None or node is MISSING:
            return []
        sub = path[depth:]
        exact = depth == len(path)
        eff = self.render.eff(self.chart)
        holder = get(self.data, path[:-1])
        hint = [self.data.get("kind") == "Secret" and "secret", *path,
                holder.get("name") if isinstance(holder, dict) else ""]
        out, seen = [], set()
        lines = self._block(line) if (not line.value or not exact or line.value[0] in "|>") else [line.no]
        for ref in line_refs(self.tpl, lines, self.named):
            if ref.kind == "chart":
                v = self.chart.meta.get(ref.path[0])
                if exact and v is not None and fmt(v) and fmt(v) in fmt(node) and self.chart.meta_doc:
                    pos = self.chart.meta_doc.positions.get(ref.path)
                    if pos and ref.path not in seen:
                        seen.add(ref.path)
                        out.append((Source(self.chart.path("Chart.yaml"), *pos),
                                    f"value set here: Chart.yaml {ref.path[0]} = {_shown(v)}"))
                continue
            vpath = ref.path + sub if ref.toyaml else ref.path
            if not ref.toyaml and not exact:
                continue
            v = get(eff, vpath)
            if v is MISSING:
                continue
            if ref.toyaml or isinstance(v, (dict, list)):
                if not _same(v, node):
                    continue
            elif not fmt(v) or isinstance(node, (dict, list)) or fmt(v) not in fmt(node):
                continue
            src = self.render.source(self.chart, vpath)
            secret = any(_SECRETISH.search(str(p)) for p in [*hint, *vpath] if p)
            if src and (src[0], src[1]) not in seen:
                seen.add((src[0], src[1]))
                out.append((Source(src[0], src[1], src[2]), f"value set here: {_dotted(src[3])} = {_shown(v, secret)}"))
        return out


def assign_segment(tpl: Template, data: dict, prev: int, render, chart) -> int:
    kind, name = str(data.get("kind", "")), get(data, ("metadata", "name"))
    best, best_score = 0, None
    for seg, (a, b) in enumerate(tpl.segments):
        kline = tpl.top_value(seg, "kind")
        ks = tpl.value_score(kline, kind) if kline is not None else -1
        if ks is None or (ks < 0 and not any(a <= no <= b for no in tpl.control)):
            continue  # another kind, or no `kind:` and no {{ }} line that could emit one
        nline = tpl.top_value(seg, "name", under="metadata")
        ns, vb = 0, 0
        if nline is not None and name is not MISSING:
            ns = tpl.value_score(nline, name)
            if ns is None:
                continue
            refs = [r for r in tpl.refs.get(nline.no, ()) if r.kind == "values"]
            vals = [get(render.eff(chart), r.path) for r in refs]
            vals = [v for v in vals if v is not MISSING and not isinstance(v, (dict, list))]
            if vals:
                vb = 1 if any(fmt(v) and fmt(v) in fmt(name) for v in vals) else -1
        order = 2 if seg > prev else (1 if seg == prev else 0)
        score = (min(ks, 1), vb, ns, order, -seg)
        if best_score is None or score > best_score:
            best, best_score = seg, score
    return best
