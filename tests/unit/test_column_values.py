"""Content values against a Postgres column and its CHECKs, before any write (issue 9)."""

from __future__ import annotations

import pytest

from reconciler.diff.preflight import content_problems
from reconciler.model.column_values import row_problems, unset_required, value_problem
from reconciler.model.content import ContentSet, SourceRow
from reconciler.model.postgres import Check, Column, Table
from reconciler.model.sql_check import compile_check


@pytest.mark.parametrize(("type_", "value", "phrase"), [
    ("character varying(4)", "abcde", "is 5 characters long"),
    ("character(2)", "abc", "is 3 characters long"),
    ("smallint", 40_000, "outside the smallint range"),
    ("integer", -2 ** 31 - 1, "outside the integer range"),
    ("bigint", 10 ** 400, "401-digit number, outside the bigint range"),
    ("numeric(3,1)", 99.96, "holds at most 2 digit(s)"),  # rounds to 100.0 first
    ("numeric(5,2)", 10 ** 40, "holds at most 3 digit(s)"),
    ("real", 1e39, "beyond the real range"),
    ("text", "a\x00b", "NUL character"),
    ("jsonb", {"k": ["\x00"]}, "NUL character"),
    ("text[]", ["ok", "a\x00"], "item 2 holds a NUL"),
])
def test_values_the_column_refuses(type_, value, phrase):
    assert phrase in value_problem(Column(name="c", type=type_), value)


@pytest.mark.parametrize(("type_", "value"), [
    ("character varying(4)", "abcd"), ("character(4)", "ab    "), ("integer", 2 ** 31 - 1),
    ("numeric(3,1)", 99.94), ("numeric", 10 ** 400), ("text", "x" * 10 ** 6), ("json", "\x00"),
    ("mood", "happy"), ("uuid", "not checked here"),
])
def test_values_the_column_takes(type_, value):
    assert value_problem(Column(name="c", type=type_), value) is None


def test_not_null_and_enum_labels():
    assert "NOT NULL" in value_problem(Column(name="c", type="text", nullable=False), None)
    mood = Column(name="c", type="mood", enum_values=("sad", "ok"))
    assert "not a value of the enum type mood (its values: sad, ok)" in value_problem(mood, "happy")
    assert value_problem(mood, "ok") is None
    assert "enum_values" not in mood.model_dump()  # never in plans or fingerprints


@pytest.mark.parametrize(("expression", "row", "result"), [
    ("\"kind\" IN ('build', 'debug')", {"kind": "release"}, False),
    ("\"kind\" IN ('build', 'debug')", {"kind": None}, None),  # NULL passes a CHECK
    ("\"kind\" IN ('build', 'debug')", {}, None),  # not written: unknown, never failed
    ("((kind = ANY (ARRAY['build'::text, 'debug'::text])))", {"kind": "x"}, False),
    ("price >= 0 AND price <= 100", {"price": 101}, False),
    ("rate BETWEEN 0 AND 1", {"rate": 0.5}, True),
    ("x NOT IN (1, 2)", {"x": 3}, True),
    ("char_length(code) <= 4", {"code": "abcde"}, False),
    ("a IS NOT NULL OR b > 1", {"a": None, "b": 0}, False),
    ("price >= 0", {"price": "text"}, None),  # different kinds: unknown, not false
])
def test_simple_checks_are_evaluated(expression, row, result):
    assert compile_check(expression)(row) is result


@pytest.mark.parametrize("expression", ["a ~ 'x'", "f(a) > 1", "a @> b", "CASE WHEN a THEN b END"])
def test_other_sql_is_left_to_the_server(expression):
    assert compile_check(expression) is None


def test_row_problems_and_unset_required_columns():
    table = Table(name="t", columns=(
        Column(name="code", type="character varying(4)", nullable=False),
        Column(name="kind", type="text"), Column(name="owner", type="text", nullable=False),
        Column(name="id", type="uuid", nullable=False, default="gen_random_uuid()")),
        checks=(Check(name="k", expression="\"kind\" IN ('build', 'debug')"),))
    problems = row_problems(table, {"code": "abcde", "kind": "release"})
    assert [c for c, _ in problems] == ["code", "kind"]
    assert "kind 'release' breaks the check" in problems[1][1]
    assert unset_required(table, ["code", "kind"]) == ["owner"]


def test_plan_time_preflight_checks_live_enum_labels_only_where_the_type_stays():
    live = Table(name="moods", columns=(Column(name="code", type="text"),
                                        Column(name="mood", type="mood", enum_values=("sad", "ok"))))
    rows = (SourceRow(key="a", values={"code": "a", "mood": "ok"}, source="content/m.json:2"),
            SourceRow(key="b", values={"code": "b", "mood": "happy"}, source="content/m.json:7"),
            SourceRow(key="c", values={"code": "c", "mood": None}, source="content/n.json"))
    content = [ContentSet(address="supabase.public.moods", key="code", hash_field="sha", rows=rows)]
    problems = content_problems(content, [live], [live])
    assert [(p.file, p.line) for p in problems] == [("content/m.json", 7)]
    assert "row 'b': mood 'happy' is not a value of the enum type mood" in problems[0].message
    retyped = live.model_copy(update={"columns": (Column(name="code", type="text"),
                                                  Column(name="mood", type="text"))})
    assert content_problems(content, [live], [retyped]) == []  # the plan makes it text first
    assert content_problems(content, [], [live]) == []  # not live yet: nothing to check
