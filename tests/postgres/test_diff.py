"""The pure diff: (desired, live) tables → changes, checked as (kind, address) pairs and SQL."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.backends.postgres.compile import COMPILERS, statements
from reconciler.backends.postgres.migrations import write_migration
from reconciler.diff.postgres import diff_tables, is_narrowing
from reconciler.model.postgres import (
    Check, Column, ForeignKey, Grant, Index, Policy, Table, Unique, normalise_type, object_name,
)
from reconciler.model.changes import (CHANGE_CLASSES, ManualChange, NotionChange, RowChange,
                                      SyncChange)

GOLDEN = Path(__file__).parent / "golden"


def table(name: str = "tasks", *columns: Column, **fields) -> Table:
    cols = (Column(name="id", type="uuid", nullable=False),) + columns
    return Table(name=name, columns=cols, primary_key=("id",), **fields)


def kinds(changes):
    return [(c.kind, c.address) for c in changes]


def test_every_postgres_schema_change_has_a_compiler():
    postgres = {c for c in CHANGE_CLASSES
                if not issubclass(c, (NotionChange, ManualChange, RowChange, SyncChange))}
    assert postgres == set(COMPILERS)


def test_equal_tables_give_no_changes_despite_spelling():
    want = table("t", Column(name="n", type="int4", default="'0'::integer"))
    have = table("t", Column(name="n", type="integer", default="0"))
    assert diff_tables([want], [have]) == []


def test_renames_are_renames_and_run_first():
    want = table("tasks", Column(name="title", type="text", nullable=False,
                                 renamed_from=("name",)), renamed_from=("todo",))
    have = table("todo", Column(name="name", type="text"))
    changes = diff_tables([want], [have])
    assert kinds(changes) == [
        ("rename_table", "supabase.public.tasks"),
        ("rename_column", 'supabase.public.tasks.column["title"]'),
        ("modify_column", 'supabase.public.tasks.column["title"]'),
    ]
    assert statements(changes[1]) == ('ALTER TABLE "public"."tasks" RENAME COLUMN "name" TO "title";',)
    assert statements(changes[2]) == ('ALTER TABLE "public"."tasks" ALTER COLUMN "title" SET NOT NULL;',)


@pytest.mark.parametrize("old, new, narrowing", [
    ("integer", "bigint", False), ("bigint", "integer", True), ("varchar(10)", "varchar(20)", False),
    ("varchar(20)", "varchar(10)", True), ("numeric(10,2)", "numeric", False),
    ("numeric(10,2)", "numeric(8,2)", True), ("integer", "text", False), ("text", "integer", True),
    ("timestamptz", "date", True),
])
def test_narrowing(old: str, new: str, narrowing: bool):
    assert is_narrowing(old, new) is narrowing


def test_drops_and_narrowing_are_destructive():
    want = table("t", Column(name="n", type="smallint"))
    have = table("t", Column(name="n", type="integer"), Column(name="gone", type="text"))
    changes = {c.kind: c for c in diff_tables([want], [have] + [table("old")])}
    assert changes["modify_column"].destructive and changes["drop_column"].destructive
    assert changes["drop_table"].destructive


def test_constraints_and_indexes_match_by_definition_not_name():
    common = dict(uniques=(Unique(name="a", columns=("id",)),),
                  checks=(Check(name="c1", expression="id IS NOT NULL"),))
    want = table("t", indexes=(Index(name="t_id_idx", columns=("id",)),), **common)
    have = table("t", indexes=(Index(name="whatever", columns=("id",)),), **{
        **common, "uniques": (Unique(name="t_id_key", columns=("id",)),)})
    assert diff_tables([want], [have]) == []


def test_policy_and_grant_changes():
    want = table("t", rls=True, policies=(Policy(name="read", command="select",
                                                 roles=("anon",), using="true"),),
                 grants=(Grant(role="anon", privileges=("select",)),))
    have = table("t", policies=(Policy(name="read", using="false"), Policy(name="old")),
                 grants=(Grant(role="anon", privileges=("insert", "select")),))
    assert kinds(diff_tables([want], [have])) == [
        ("modify_table", "supabase.public.t"),
        ("drop_policy", 'supabase.public.t.policy["old"]'),
        ("modify_policy", 'supabase.public.t.policy["read"]'),
        ("revoke", 'supabase.public.t.grant["anon"]'),
    ]


def test_dropping_a_referenced_table_drops_the_foreign_keys_first():
    fk = ForeignKey(name="kids_parent_fkey", columns=("parent",), ref_schema="public",
                    ref_table="parents", ref_columns=("id",))
    kids = table("kids", Column(name="parent", type="uuid"), foreign_keys=(fk,))
    drop = diff_tables([kids], [kids, table("parents")])[0]
    assert statements(drop) == ('ALTER TABLE "public"."kids" DROP CONSTRAINT IF EXISTS "kids_parent_fkey";',
                        'DROP TABLE "public"."parents";')


@pytest.mark.parametrize("text, canonical", [
    ("INT4", "integer"), ("decimal(10, 2)", "numeric(10,2)"), ("timestamp with time zone",
                                                                "timestamptz"),
    ("_text", "text[]"), ("character varying(5)", "character varying(5)"), ('"My Type"', '"My Type"'),
    # how the catalog prints a precision (format_type): it crashed the next plan
    ("timestamp(0) with time zone", "timestamptz(0)"), ("time(3) without time zone", "time(3)"),
])
def test_type_spellings(text: str, canonical: str):
    assert normalise_type(text) == canonical


def test_migration_file_matches_golden_sql(tmp_path: Path):
    """Golden SQL: the Supabase CLI migration for a new table and a change to another one.
    Regenerate with `UPDATE_GOLDEN=1 pytest tests/postgres/test_diff.py`."""
    parents = table("parents", Column(name="name", type="text", nullable=False, comment="Name"),
                    touch_updated_at=False)
    fk = ForeignKey(name="kids_parent_fkey", columns=("parent",), ref_schema="public",
                    ref_table="parents", ref_columns=("id",), on_delete="cascade")
    kids = table("kids", Column(name="parent", type="uuid"),
                 Column(name="state", type="text", default="'new'"),
                 Column(name="updated_at", type="timestamptz", nullable=False, default="now()"),
                 foreign_keys=(fk,), checks=(Check(name="kids_state_check",
                                                   expression="state IN ('new', 'done')"),),
                 indexes=(Index(name="kids_parent_idx", columns=("parent",)),), rls=True,
                 touch_updated_at=True,
                 policies=(Policy(name="own rows", command="select", roles=("authenticated",),
                                  using="parent = auth.uid()"),),
                 grants=(Grant(role="authenticated", privileges=("select",)),))
    live_parents = table("parents", Column(name="label", type="varchar(20)"))
    changes = diff_tables([parents.model_copy(update={"columns": parents.columns[:1] + (
        parents.columns[1].model_copy(update={"renamed_from": ("label",)}),)}), kids],
        [live_parents])
    now = datetime(2026, 11, 23, 12, 0, 5, tzinfo=timezone.utc)
    changes = [c.model_copy(update={"sql": statements(c)}) for c in changes]
    path = write_migration(changes, tmp_path / "supabase" / "migrations", "Add kids!", now)
    assert path.name == "20261123120005_add_kids.sql"
    golden = GOLDEN / "add_kids.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(path.read_text())
    assert path.read_text() == golden.read_text()


def test_foreign_keys_follow_a_renamed_table():
    fk = ForeignKey(name="kids_parent_fkey", columns=("parent",), ref_schema="public",
                    ref_table="parents", ref_columns=("id",))
    kids = table("kids", Column(name="parent", type="uuid"), foreign_keys=(fk,))
    want_kids = kids.model_copy(update={"foreign_keys": (fk.model_copy(
        update={"ref_table": "folks"}),)})
    folks = table("folks", renamed_from=("parents",))
    assert kinds(diff_tables([want_kids, folks], [kids, table("parents")])) == [
        ("rename_table", "supabase.public.folks")]


@given(st.text(min_size=1, max_size=80), st.lists(st.text(min_size=1, max_size=40), max_size=4))
def test_generated_names_fit_postgres_identifiers(table_name: str, parts: list[str]):
    name = object_name(table_name, parts, "key")
    assert len(name.encode()) <= 63 and name.endswith("_key")


@given(st.sampled_from(["int4", "INTEGER", "decimal(10,2)", "timestamp with time zone", "_int8",
                        "varchar(3)", "text[]", "bool"]))
def test_normalise_type_is_idempotent(text: str):
    assert normalise_type(normalise_type(text)) == normalise_type(text)
