"""JSON and YAML manifests (seed 004's `<module>.module.manifest.json`): a file is a row, or with
`items: path.to.list` each element of that list is a row.

Line numbers: JSON is parsed by `json` (errors carry its line/column) and positions come from
ruamel.yaml reading the same text (JSON is YAML 1.2 flow syntax); when ruamel cannot, rows are
located by file only. YAML files go through `project.yaml.load_yaml` (positions of every node).
"""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reconciler.errors import SpecProblem
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.paths import MISSING, PathSyntaxError, Record, lookup, parse_path
from reconciler.project.yaml import _MEMO_CHARS, _plain, load_yaml
from reconciler.safe_yaml import MAX_CONTENT_BYTES, load_text


def read_json(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """Every file matching `json:`; see the module docstring."""
    return _read_all(ctx, ctx.doc.json_, ("json",), _load_json)


def read_yaml(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """Every file matching `yaml:`; see the module docstring."""
    return _read_all(ctx, ctx.doc.yaml, ("yaml",), _load_yaml)


def _read_all(ctx: ReadContext, pattern: str, loc: tuple, load) -> tuple[list[Record], list]:
    items: tuple = ()
    if ctx.doc.items is not None:
        try:
            items = parse_path(ctx.doc.items)
        except PathSyntaxError as exc:
            return [], [ctx.spec_problem(("items",), f"items: {exc}")]
    files, problems = ctx.glob(pattern, loc)
    records: list[Record] = []
    for path in files:
        data, positions, more = load(ctx, path)
        problems += more
        if not more:
            recs, more = _records(ctx.rel(path), data, positions, items, ctx.doc.items)
            records += recs
            problems += more
    return records, problems


def _records(file: str, data: Any, positions: dict, items: tuple, items_text: str | None
             ) -> tuple[list[Record], list[SpecProblem]]:
    """The file as one record, or one record per element of its `items` list."""
    if not items:
        return [Record(data=data, file=file, positions=positions)], []
    found = lookup(data, items)
    if not isinstance(found, list):
        line, col = positions.get(items, (1, 1))
        what = "absent" if found is MISSING else f"a {type(found).__name__}, not a list"
        return [], [SpecProblem(file, line, col, f"items: {items_text!r} is {what}")]
    depth = len(items)
    by_item: dict[Any, dict] = {}  # one pass over the positions: linear in the file's size
    for k, v in positions.items():
        if len(k) > depth and k[:depth] == items:
            by_item.setdefault(k[depth], {})[k[depth + 1:]] = v
    out = []
    for i, element in enumerate(found):
        sub = by_item.get(i, {})
        out.append(Record(data=element, file=file, line=sub.get((), (None,))[0],
                          positions=sub))
    return out, []


def _load_json(ctx: ReadContext, path: Path) -> tuple[Any, dict, list[SpecProblem]]:
    text, problems = ctx.text(path)
    if text is None:
        return None, {}, problems
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, {}, [SpecProblem(ctx.rel(path), exc.lineno, exc.colno,
                                      f"invalid JSON: {exc.msg}")]
    except RecursionError:
        return None, {}, [SpecProblem(ctx.rel(path), 1, 1, "invalid JSON: nested too deeply")]
    except ValueError:  # not a JSONDecodeError: an integer beyond Python's 4,300-digit limit
        limit = sys.get_int_max_str_digits()
        found = re.search(rf"\d{{{limit + 1},}}", text)
        line = text.count("\n", 0, found.start()) + 1 if found else 1
        col = found.start() - text.rfind("\n", 0, found.start()) if found else 1
        return None, {}, [SpecProblem(ctx.rel(path), line, col, "invalid JSON: a number has "
                                      f"more than {limit:,} digits")]
    return data, _json_positions(text), []


def _json_positions(text: str) -> dict[tuple, tuple[int, int]]:
    """Node positions of a JSON text read as YAML; `{}` when ruamel cannot read it. Callers only
    read the mapping: a text of at most `_MEMO_CHARS` is read once per process (the round-trip
    parse costs ten times the `json` one, and a process that loads a project again, as the
    Python API and the tests do, reads the same manifests)."""
    return _remembered(text) if len(text) <= _MEMO_CHARS else _positions(text)


@lru_cache(maxsize=256)
def _remembered(text: str) -> dict[tuple, tuple[int, int]]:
    return _positions(text)


def _positions(text: str) -> dict[tuple, tuple[int, int]]:
    positions: dict[tuple, tuple[int, int]] = {}
    try:
        parsed = load_text(YAML(typ="rt"), text)
        if parsed.fatal:
            return {}
        _plain(parsed.data, (), positions, None, [], "")
    except Exception:  # noqa: BLE001 - positions are a nicety; json.loads already accepted it
        return {}
    return positions


def _load_yaml(ctx: ReadContext, path: Path) -> tuple[Any, dict, list[SpecProblem]]:
    try:
        stat = path.stat()
    except OSError as exc:
        return None, {}, [SpecProblem(ctx.rel(path), 1, 1, f"cannot read the file: {exc.strerror}")]
    data, positions, problems = _parsed_yaml(str(path), ctx.rel(path), stat.st_mtime_ns, stat.st_size)
    return data, positions, list(problems)


@lru_cache(maxsize=64)
def _parsed_yaml(path: str, rel: str, mtime_ns: int, size: int
                 ) -> tuple[Any, dict, tuple[SpecProblem, ...]]:
    """One parse per file version (path, modification time, size): a two-way sync's seed file
    is read by its Notion side and its Supabase side (issue 15: each YAML text parsed once)."""
    try:
        doc, problems = load_yaml(Path(path), rel, None, max_bytes=MAX_CONTENT_BYTES)
    except OSError as exc:
        return None, {}, (SpecProblem(rel, 1, 1, f"cannot read the file: {exc.strerror}"),)
    except RecursionError:
        return None, {}, (SpecProblem(rel, 1, 1, "invalid YAML: nested too deeply"),)
    if doc is None or problems:
        return None, {}, tuple(problems)
    return doc.data, doc.positions, ()
