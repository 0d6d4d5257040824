"""Markdown files with YAML front matter (seed 002's source-of-truth entries): a file is a row.

Front matter is the block between a first line `---` and the next line `---` (or `...`), as Jekyll
and Hugo read it. Fields map to front-matter keys (dotted paths) or to the specials `$body` (the
text after the front matter, stripped; None when empty), `$stem` (file name without its last
extension) and `$path` (path relative to the root). Files without front matter have no keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.errors import SpecProblem
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.paths import Record
from reconciler.project.yaml import parse_yaml

_FENCE, _ENDS = "---", ("---", "...")


def read_markdown(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """Every file matching `markdown:`, one record each; see the module docstring."""
    files, problems = ctx.glob(ctx.doc.markdown, ("markdown",))
    records = []
    for path in files:
        text, more = ctx.text(path)
        problems += more
        if text is None:
            continue
        file = ctx.rel(path)
        data, positions, body, more = front_matter(text.lstrip("\ufeff"), file)
        problems += more
        if not more:
            records.append(Record(data=data, file=file, line=1, positions=positions,
                                  specials=file_specials(path, file) | {"$body": body}))
    return records, problems


def file_specials(path: Path, file: str) -> dict[str, Any]:
    """`$stem` and `$path` of a source file."""
    return {"$stem": path.stem, "$path": file}


def front_matter(text: str, file: str) -> tuple[Any, dict, str | None, list[SpecProblem]]:
    """`(data, positions, body, problems)` of a markdown text; see the module docstring.

    Positions are file lines (the front matter starts on line 2). The front matter must be a
    mapping (or empty); broken YAML is a problem located in `file`.
    """
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != _FENCE:
        return {}, {}, _strip(text), []
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _ENDS), None)
    if end is None:
        return None, {}, None, [SpecProblem(file, 1, 1, "front matter opened with '---' is "
                                            "never closed: add a line '---' after it")]
    data, positions, problems = _parse_yaml("\n".join(lines[1:end]), file, offset=1)
    if not problems and not isinstance(data, dict):
        problems = [SpecProblem(file, 2, 1, "front matter must be a mapping of keys to values")]
    return data, positions, _strip("\n".join(lines[end + 1:])), problems


def _parse_yaml(text: str, file: str, offset: int) -> tuple[Any, dict, list[SpecProblem]]:
    """Front matter through `project.yaml.parse_yaml` (one parse, hostile YAML refused)."""
    doc, problems = parse_yaml(text, file, None, line_offset=offset)
    if doc is None:
        return None, {}, problems
    return ({} if doc.data is None else doc.data), doc.positions, problems


def _strip(text: str) -> str | None:
    text = text.strip()
    return text or None
