"""Patterns a spec supplies are bounded in time: one that backtracks catastrophically fails the
load at its spec line, naming the text it ran on, within seconds (never a hang of plan or CI)."""

from __future__ import annotations

import time

import pytest

from content_helpers import DB, notion_files
from reconciler.errors import SpecError
from reconciler.project import load_project
from reconciler.project import patterns

SLOW = "(a|aa)+$"  # exponential on 'aaa…b' in re and in the regex package
TEXT = "a" * 40 + "b"
#: The per-search bound the tests use (the product's is 1 s: each timeout here would cost one).
TIME_LIMIT = 0.2


@pytest.fixture(autouse=True)
def _short_bound(monkeypatch):
    monkeypatch.setattr(patterns, "TIME_LIMIT", TIME_LIMIT)


def sections(heading: str = r"^## (\w+)$", end: str | None = None, notes: str = "'^N: (.*)$'",
             until: str | None = None) -> str:
    """A markdown_sections content: (content 17, key 18, hash 19, source 20, kind 21, files 22,
    heading 23, [end 24,] [until …,] fields, Module, Notes)."""
    extra = (f"      end: '{end}'\n" if end else "") + (f"      until: ['{until}']\n" if until else "")
    return ("content:\n  key: Module\n  hash: SHA\n  source:\n    markdown_sections:\n"
            f"      files: a.md\n      heading: '{heading}'\n{extra}      fields:\n"
            f"        Module: $heading.1\n        Notes: {notes}\n")


def fields(notes: str) -> str:
    """A json content whose Notes/Labels field is `notes` (fields 22, Module 23, field 24)."""
    return ("content:\n  key: Module\n  hash: SHA\n  source:\n    json: m/*.json\n    fields:\n"
            f"      Module: name\n      {notes}\n")


DOC = f"## one\nN: {TEXT}\n\n## {TEXT}\n"
CASES = [
    ("section-field", sections(notes=f"'^N: ({SLOW})'"), {"a.md": DOC}, 26, 9, "a.md:2"),
    ("heading", sections(heading=f"^## ({SLOW})"), {"a.md": DOC}, 23, 7, "a.md:4"),
    ("end", sections(end=SLOW), {"a.md": DOC}, 24, 7, "a.md:2"),
    ("until", sections(until=SLOW, notes="'^N:(.*)$'"), {"a.md": "## one\nN:\nx\n" + TEXT + "\n"},
     24, 15, "a.md:4"),
    ("strip", fields(f"Notes: {{path: n, strip: '{SLOW}'}}"),
     {"m/a.json": f'{{"name": "a",\n "n": "{TEXT}"}}'}, 24, 24, "m/a.json:2"),
    ("split-regex", fields(f"Labels: {{path: n, split: {{regex: '{SLOW}'}}}}"),
     {"m/a.json": f'{{"name": "a",\n "n": "{TEXT}"}}'}, 24, 33, "m/a.json:2"),
]


@pytest.mark.parametrize("case,content,files,line,col,at", CASES, ids=[c[0] for c in CASES])
def test_a_pattern_that_backtracks_fails_at_its_spec_line_in_seconds(make_project, case, content,
                                                                     files, line, col, at):
    root = make_project(notion_files(content, files))
    began = time.monotonic()
    with pytest.raises(SpecError) as err:
        load_project(root, env={})
    assert time.monotonic() - began < 10 * TIME_LIMIT
    where = [f"{p.file}:{p.line}:{p.col}" for p in err.value.problems]
    messages = [p.message for p in err.value.problems]
    assert where == [f"{DB}:{line}:{col}"], messages
    pattern = {"section-field": f"^N: ({SLOW})", "heading": f"^## ({SLOW})"}.get(case, SLOW)
    assert messages == [f"pattern {pattern!r} took longer than {TIME_LIMIT:g} s on {at}: it "
                        "backtracks; simplify it (no nested repetition such as (a+)+, no alternatives that "
                        "match the same text such as (a|aa)+)"]


def test_one_slow_pattern_stops_the_source_rather_than_waiting_on_every_row(make_project):
    many = {f"m/{i}.json": f'{{"name": "r{i}", "n": "{TEXT}"}}' for i in range(20)}
    root = make_project(notion_files(fields(f"Notes: {{path: n, strip: '{SLOW}'}}"), many))
    began = time.monotonic()
    with pytest.raises(SpecError) as err:
        load_project(root, env={})
    assert time.monotonic() - began < 10 * TIME_LIMIT
    assert len(err.value.problems) == 1


def test_the_documented_patterns_match_as_python_re_does(make_project):
    """The docs' patterns (heading groups, markers, split, strip, map) read as before."""
    doc = ("### Entry #12: Properties first\n**Tags**: Architecture, Perf\n**Related**: #13, #14\n"
           "**Msg**: " + "a" * 34 + "b\n")
    content = ("content:\n  key: Module\n  hash: SHA\n  source:\n    markdown_sections:\n"
               "      files: a.md\n      heading: '^### Entry #(\\d+): (.+)$'\n      fields:\n"
               "        Module: $heading.2\n"
               "        Labels: {path: '^\\*\\*Tags\\*\\*:\\s*(.*)$', split: ',', map: {Perf: Performance}}\n"
               "        Notes: {path: '^\\*\\*Related\\*\\*:\\s*(.*)$', strip: '#'}\n"
               "        Site: '^\\*\\*Msg\\*\\*: ((a+)+)$'\n")
    project = load_project(make_project(notion_files(content, {"a.md": doc})), env={})
    (rows,) = [c.rows for c in project.content]
    assert [(r.key, r.values["Labels"], r.values["Notes"], r.values.get("Site")) for r in rows] == [
        ("Properties first", ("Architecture", "Performance"), "13, 14", None)]


def test_a_pattern_slow_on_every_line_is_bounded_in_total(make_project, monkeypatch):
    """Just under the per-call bound on every line of a long file would still hang: all the
    searches of one pattern share a budget (patterns.TOTAL_LIMIT; lowered here)."""
    monkeypatch.setattr(patterns, "TOTAL_LIMIT", 0.5)
    doc = "## one\n" + ("N: " + "a" * 24 + "b\n") * 200
    root = make_project(notion_files(sections(notes=f"'^N: ({SLOW})'"), {"a.md": doc}))
    began = time.monotonic()
    with pytest.raises(SpecError) as err:
        load_project(root, env={})
    assert time.monotonic() - began < 10 * TIME_LIMIT
    (problem,) = err.value.problems
    assert (problem.file, problem.line) == (DB, 26)
    assert problem.message.startswith(f"pattern '^N: ({SLOW})' took longer than 0.5 s in all "
                                      "(the last search on a.md:")
