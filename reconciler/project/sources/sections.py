"""A markdown document with repeated sections: each line matching `heading` starts a row.

```yaml
markdown_sections:
  files: content/learning/*.md
  heading: '^## (LP-\\d+): (.+)$'
  fields: {Key: '$heading.1', Name: '$heading.2', Category: '\\*\\*Category\\*\\*: (.+)', Body: '$body'}
```
A section runs from its heading to the next matching heading (or the end of the file). Field
paths: `$heading` (the heading line), `$heading.N` (its group N), `$body` (the section's lines
after the heading, stripped), `$stem`, `$path`; anything else is a regex searched line by line
in the section: the first match gives its group 1 (or the whole match when it has no group),
stripped. A regex that matches nothing leaves the field absent (its `default` applies).
"""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.errors import SpecProblem
from reconciler.project.content_docs import FieldDoc
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.markdown import file_specials
from reconciler.project.sources.paths import MISSING, Record


def read_sections(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """Every section of every file matching `files`; see the module docstring."""
    doc = ctx.doc.markdown_sections
    heading, problems = _compile(ctx, doc.heading, ("markdown_sections", "heading"))
    for name, spec in ctx.doc.field_specs().items():
        path = spec.path if isinstance(spec, FieldDoc) else spec
        if not path.startswith("$"):
            problems += _compile(ctx, path, ("markdown_sections", "fields", name))[1]
    if problems:
        return [], problems
    files, problems = ctx.glob(doc.files, ("markdown_sections", "files"))
    records: list[Record] = []
    for path in files:
        text, more = ctx.text(path)
        problems += more
        if text is not None:
            found = _sections(path, ctx.rel(path), text.lstrip("\ufeff").splitlines(), heading)
            records += found
            if not found:
                problems.append(SpecProblem(ctx.rel(path), 1, 1, f"no line matches the heading "
                                            f"pattern {doc.heading!r}: no rows in this file"))
    return records, problems


def _compile(ctx: ReadContext, pattern: str, loc: tuple) -> tuple[re.Pattern | None, list]:
    try:
        return re.compile(pattern), []
    except re.error as exc:
        return None, [ctx.spec_problem(loc, f"invalid regular expression {pattern!r}: {exc}")]


def _sections(path: Path, file: str, lines: list[str], heading: re.Pattern) -> list[Record]:
    starts = [(i, m) for i, line in enumerate(lines) if (m := heading.search(line))]
    records = []
    for n, (start, match) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        body = lines[start + 1:end]
        specials = file_specials(path, file) | {"$heading": lines[start].strip(),
                                                "$body": "\n".join(body).strip() or None}
        specials |= {f"$heading.{g}": match.group(g) for g in range(1, (heading.groups or 0) + 1)}
        records.append(Record(data={}, file=file, line=start + 1, specials=specials,
                              finder=_finder(body, start + 2)))
    return records


def _finder(body: list[str], first_line: int):
    """Search a regex in the section's lines: `(value or MISSING, line)`."""
    def find(pattern: str):
        regex = re.compile(pattern)
        for offset, line in enumerate(body):
            m = regex.search(line)
            if m:
                value = m.group(1) if regex.groups else m.group(0)
                return (value.strip() if value is not None else MISSING), first_line + offset
        return MISSING, None
    return find
