"""A markdown document with repeated sections: each line matching `heading` starts a row.

```yaml
markdown_sections:
  files: content/learning/*.md
  heading: '^### Entry #(\\d+): (.+)$'
  end: '^---\\s*$'                         # optional: a line that also ends a section
  until: [marker, blank, heading]         # optional: where a multi-line field ends (default)
  fields: {Key: '$heading.1', Tags: {path: '^\\*\\*Tags\\*\\*: (.*)$', split: ','}, Body: '$body'}
```

**Sections.** A section runs from its heading to the first of: the next matching heading, the
next markdown heading of the same or a higher level (`##` ends a `###` section; headings are
found by markdown-it, so `# comments` in code fences are not headings), a line matching `end`,
or the end of the file. Lines inside ``` / ~~~ code fences never start a section nor end one:
neither the heading pattern nor `end` is tried on them. `$body` is the section's own text: its lines after the heading, stripped.

**Fields.** `$heading` (the heading line), `$heading.N` (its group N), `$body`, `$stem`, `$path`;
anything else is a regex searched line by line in the section: the first match gives its group 1
(or the whole match when it has no group). When that value runs to the end of its line, the
field goes on over the next lines until one of `until`: `marker` (a line matching `marker`,
default `**Label**:` / `**Label:**`, or any field's regex), `blank` (a blank line; but a field
whose first line is empty goes on into a list after blank lines, and a list goes on over blank
lines between its items), `heading` (a markdown heading), `line` (no continuation), or a regex.
Continuation lines are dedented; the value is stripped. A regex that matches nothing leaves the
field absent (its `default` applies). Values carry the line and column where they start.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import SpecProblem
from reconciler.project.content_docs import UNTIL_WORDS, FieldDoc
from reconciler.project.markdown_text import outline
from reconciler.project.patterns import Pattern, PatternTimeout, bounded
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.markdown import file_specials
from reconciler.project.sources.paths import MISSING, Record

#: Where a field's text ends unless `until` says otherwise.
DEFAULT_UNTIL = ("marker", "blank", "heading")
#: A field marker line: `**Label**:` or `**Label:**` at the start of a line.
DEFAULT_MARKER = r"^\s*\*\*[^*\n]+?(?:\*\*\s*:|:\*\*)"
_ATX = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)")


@dataclass(frozen=True)
class _Field:
    """A regex field: its pattern and where its text ends (words and regexes)."""

    regex: Pattern
    words: frozenset[str]
    stops: tuple[Pattern, ...]


@dataclass(frozen=True)
class _Layout:
    heading: Pattern
    end: Pattern | None
    markers: tuple[Pattern, ...]
    fields: dict[str, _Field]


def read_sections(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """Every section of every file matching `files`; see the module docstring."""
    layout, problems = _layout(ctx)
    if layout is None:
        return [], problems
    doc = ctx.doc.markdown_sections
    files, problems = ctx.glob(doc.files, ("markdown_sections", "files"))
    records: list[Record] = []
    for path in files:
        text, more = ctx.text(path)
        problems += more
        if text is not None:
            text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
            try:
                found = _sections(path, ctx.rel(path), text, layout)
            except PatternTimeout as exc:  # at the pattern's spec line; other files would
                problems.append(ctx.spec_problem(exc.loc[1:], exc.message))  # wait as long
                break
            records += found
            if not found:
                problems.append(SpecProblem(ctx.rel(path), 1, 1, f"no line matches the heading "
                                            f"pattern {doc.heading!r}: no rows in this file"))
    return records, problems


def _layout(ctx: ReadContext) -> tuple[_Layout | None, list[SpecProblem]]:
    """The compiled patterns of the source, or None and every problem of the spec."""
    doc = ctx.doc.markdown_sections
    loc = ("markdown_sections",)
    heading, problems = _compile(ctx, doc.heading, loc + ("heading",))
    end, more = _compile(ctx, doc.end, loc + ("end",)) if doc.end else (None, [])
    marker, more2 = _compile(ctx, doc.marker or DEFAULT_MARKER, loc + ("marker",))
    problems += more + more2
    default = doc.until or list(DEFAULT_UNTIL)
    problems += _until(ctx, default, loc + ("until",))[1]
    fields: dict[str, _Field] = {}
    for name, spec in ctx.doc.field_specs().items():
        path = spec.path if isinstance(spec, FieldDoc) else spec
        if path.startswith("$"):
            continue
        at = loc + ("fields", name) + (("path",) if isinstance(spec, FieldDoc) else ())
        regex, more = _compile(ctx, path, at)
        own = isinstance(spec, FieldDoc) and spec.until is not None
        (words, stops), more2 = _until(ctx, spec.until if own else default,
                                       loc + (("fields", name, "until") if own else ("until",)))
        problems += more + more2
        if regex is not None:
            fields[path] = _Field(regex, words, stops)
    if problems:
        return None, problems
    markers = (marker,) + tuple(f.regex for f in fields.values())
    return _Layout(heading, end, markers, fields), []


def _until(ctx: ReadContext, until: list[str], loc: tuple
           ) -> tuple[tuple[frozenset[str], tuple[Pattern, ...]], list[SpecProblem]]:
    """`until` as its words and its regexes; a regex that does not compile is a problem."""
    words = frozenset(u for u in until if u in UNTIL_WORDS)
    stops, problems = [], []
    for n, item in enumerate(until):
        if item not in UNTIL_WORDS:
            regex, more = _compile(ctx, item, loc + (n,))
            problems += more
            stops += [regex] if regex is not None else []
    return (words, tuple(stops)), problems


def _compile(ctx: ReadContext, pattern: str, loc: tuple) -> tuple[Pattern | None, list]:
    """`pattern` bounded in time (`patterns.bounded`), located at `loc` under `content.source`
    (its `PatternTimeout.loc` is relative to `content`)."""
    try:
        return bounded(pattern, ("source",) + loc), []
    except re.error as exc:
        return None, [ctx.spec_problem(loc, f"invalid regular expression {pattern!r}: {exc}")]


def _sections(path: Path, file: str, text: str, layout: _Layout) -> list[Record]:
    lines = text.split("\n")
    levels, fenced = outline(text)
    starts = []
    for i, line in enumerate(lines):
        if i in fenced:  # a heading in a code fence is an example, not a row
            continue
        try:
            if m := layout.heading.search(line):
                starts.append((i, m))
        except PatternTimeout as exc:
            raise exc.located(f"{file}:{i + 1}") from None
    records = []
    for n, (start, match) in enumerate(starts):
        stop = _stop(lines, levels, start, starts[n + 1][0] if n + 1 < len(starts) else
                     len(lines), layout.end, file, fenced)
        body = lines[start + 1:stop]
        specials = file_specials(path, file) | {"$heading": lines[start].strip(),
                                                "$body": "\n".join(body).strip() or None}
        groups = range(1, (layout.heading.groups or 0) + 1)
        specials |= {f"$heading.{g}": match.group(g) for g in groups}
        where = {(f"$heading.{g}",): (start + 1, match.start(g) + 1) for g in groups
                 if match.start(g) >= 0}
        records.append(Record(data={}, file=file, line=start + 1, specials=specials,
                              positions=where, finder=_finder(body, start + 2, layout, file)))
    return records


def _stop(lines: list[str], levels: dict[int, int], start: int, limit: int,
          end: Pattern | None, file: str, fenced: frozenset[int]) -> int:
    """Index of the first line after `start` that is not in its section (an `end` line in a
    code fence does not end it)."""
    level = levels.get(start)
    for j in range(start + 1, limit):
        if level is not None and levels.get(j, 7) <= level:
            return j
        try:
            if end is not None and j not in fenced and end.search(lines[j]):
                return j
        except PatternTimeout as exc:
            raise exc.located(f"{file}:{j + 1}") from None
    return limit


def _finder(body: list[str], first_line: int, layout: _Layout, file: str):
    """Search a field's regex in the section's lines: `(value or MISSING, line, col)`.

    Raises `PatternTimeout` (located at `file:line`) when a pattern runs too long."""
    def find(pattern: str):
        at = [0]
        try:
            return search(pattern, at)
        except PatternTimeout as exc:
            raise exc.located(f"{file}:{first_line + at[0]}") from None

    def search(pattern: str, at: list[int]):
        field = layout.fields.get(pattern)
        if field is None:  # compiled once per source, sharing one time budget
            field = layout.fields[pattern] = _Field(bounded(pattern), frozenset({"line"}), ())
        regex = field.regex
        for offset, line in enumerate(body):
            at[0] = offset
            m = regex.search(line)
            if not m:
                continue
            group = 1 if regex.groups else 0
            value = m.group(group)
            if value is None:
                return MISSING, first_line + offset, 1
            col = m.start(group) + 1
            if m.end(group) >= len(line.rstrip()):
                more = _continuation(body, offset + 1, field, layout.markers, not value.strip(),
                                     at)
                value = "\n".join([value, *more]) if more else value
            return value.strip(), first_line + offset, col
        return MISSING, None, 1
    return find


def _continuation(body: list[str], start: int, field: _Field, markers: tuple[Pattern, ...],
                  empty: bool, at: list[int]) -> list[str]:
    """The lines after a field's first line that still belong to it, dedented (`at[0]`: the
    line being read, for a `PatternTimeout`)."""
    if "line" in field.words:
        return []
    out: list[str] = []
    in_list = False
    j = start
    while j < len(body):
        line = body[j]
        if not line.strip():
            k = next((i for i in range(j, len(body)) if body[i].strip()), None)
            into_list = k is not None and _ITEM.match(body[k]) and \
                (in_list or (empty and not out))
            if into_list or "blank" not in field.words:
                out += body[j:k] if k is not None else []
                j = k if k is not None else len(body)
                continue
            break
        at[0] = j
        if _ends(line, field, markers):
            break
        in_list = bool(_ITEM.match(line)) or (in_list and line[:1].isspace())
        out.append(line)
        j += 1
    while out and not out[-1].strip():
        out.pop()
    return textwrap.dedent("\n".join(out)).split("\n") if out else []


def _ends(line: str, field: _Field, markers: tuple[Pattern, ...]) -> bool:
    if "heading" in field.words and _ATX.match(line):
        return True
    if "marker" in field.words and any(m.search(line) for m in markers):
        return True
    return any(r.search(line) for r in field.stops)
