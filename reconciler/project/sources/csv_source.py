"""A CSV file with a header row (RFC 4180 as Python's `csv` module reads it): a line is a row.

Fields map to column names of the header (exactly as written; no dotted paths). Every value is
text, typed later by the field it fills (`"42"` → 42 for a number); an empty cell is absent, so a
field's `default` applies. Records carry the line the CSV row starts on.
"""

from __future__ import annotations

import csv
import io

from reconciler.errors import SpecProblem
from reconciler.project.content_docs import FieldDoc
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.paths import Record


def read_csv(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """The rows of `csv:` (one file; a glob matching several is read in order)."""
    files, problems = ctx.glob(ctx.doc.csv, ("csv",))
    records: list[Record] = []
    for path in files:
        text, more = ctx.text(path)
        problems += more
        if text is not None:
            recs, more = _rows(ctx, ctx.rel(path), text.lstrip("\ufeff"))
            records += recs
            problems += more
    return records, problems


def _rows(ctx: ReadContext, file: str, text: str) -> tuple[list[Record], list[SpecProblem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            return [], [SpecProblem(file, 1, 1, "the CSV file has no header row")]
        missing = [(n, s) for n, s in ctx.doc.field_specs().items()
                   if (s.path if isinstance(s, FieldDoc) else s) not in header]
        if missing:
            return [], [ctx.spec_problem(("fields", n), f"fields: {n!r} names column "
                                         f"{(s.path if isinstance(s, FieldDoc) else s)!r}, which "
                                         f"{file} does not have (columns: {', '.join(header)})")
                        for n, s in missing]
        return _records(reader, header, file)
    except csv.Error as exc:
        return [], [SpecProblem(file, reader.line_num or 1, 1, f"invalid CSV: {exc}")]


def _records(reader, header: list[str], file: str) -> tuple[list[Record], list[SpecProblem]]:
    records, problems = [], []
    start = reader.line_num + 1
    for cells in reader:
        if not any(c.strip() for c in cells):
            start = reader.line_num + 1
            continue
        if len(cells) > len(header):
            problems.append(SpecProblem(file, start, 1, f"this line has {len(cells)} cells, "
                                        f"the header {len(header)}"))
        data = {h: c for h, c in zip(header, cells) if c != ""}
        records.append(Record(data=data, file=file, line=start, flat=True))
        start = reader.line_num + 1
    return records, problems
