"""Batched content writes, reads and fingerprints against a real table."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import psycopg
import pytest
from psycopg import sql

from reconciler.backends.postgres.activity import ensure_activity_table, record_run
from reconciler.backends.postgres.content import (
    content_fingerprint,
    fingerprint_pairs,
    read_rows,
    write_rows,
)
from reconciler.errors import ApplyError, ReadError
from reconciler.model.postgres import Column, Table

pytestmark = pytest.mark.postgres


class CountingCursor(psycopg.Cursor):
    """Counts every statement sent through `execute` (conn.execute goes through here too)."""

    statements = 0

    def execute(self, *args, **kwargs):
        type(self).statements += 1
        return super().execute(*args, **kwargs)


@pytest.fixture
def entries(conn, schema) -> Table:
    """Seed 002's sot_entries, keyed by a unique `entry_id`, plus a touch trigger on updated_at."""
    conn.execute(sql.SQL("""
        CREATE TABLE {t} (
            id serial PRIMARY KEY,
            entry_id text NOT NULL UNIQUE,
            title text,
            content text,
            metadata jsonb,
            updated_at timestamptz DEFAULT now(),
            content_hash text)""").format(t=sql.Identifier(schema, "sot_entries")))
    conn.commit()
    return Table(schema_name=schema, name="sot_entries", columns=(
        Column(name="id", type="integer"), Column(name="entry_id", type="text"),
        Column(name="title", type="text"), Column(name="content", type="text"),
        Column(name="metadata", type="jsonb"), Column(name="updated_at", type="timestamptz"),
        Column(name="content_hash", type="text")))


def _rows(n: int, prefix: str = "e") -> list[dict]:
    return [{"entry_id": f"{prefix}{i:05d}", "title": f"Title {i}", "metadata": {"n": i},
             "content_hash": f"h{i}"} for i in range(n)]


class CountingCopy(CountingCursor):
    """Counts statements and COPY streams separately."""

    copies = 0

    def copy(self, *args, **kwargs):
        type(self).copies += 1
        return super().copy(*args, **kwargs)


@pytest.mark.parametrize("n", [1, 5_000])
def test_any_number_of_rows_is_one_copy_and_a_few_statements(conn, entries, n):
    """Rows to create and rows to update go through one COPY into a staging table, then one
    statement per set of columns (issue 15 point 3): the count does not grow with the rows."""
    conn.cursor_factory = CountingCopy
    CountingCopy.statements = CountingCopy.copies = 0
    assert write_rows(conn, entries, "entry_id", _rows(n)) == n
    # the catalog query, the staging table, the INSERT … SELECT, its DROP (COPY is not an
    # `execute`)
    assert (CountingCopy.statements, CountingCopy.copies) == (4, 1)
    changed = [{"entry_id": r["entry_id"], "title": "changed"} for r in _rows(n)]
    CountingCopy.statements = CountingCopy.copies = 0
    assert write_rows(conn, entries, "entry_id", _rows(n, "new"), updates=changed) == 2 * n
    assert (CountingCopy.statements, CountingCopy.copies) == (5, 1)  # + the UPDATE … FROM
    CountingCopy.statements = 0
    assert len(read_rows(conn, entries, "entry_id", ["title"])) == 2 * n
    assert content_fingerprint(conn, entries, "entry_id", "content_hash").startswith("sha256:")
    assert CountingCopy.statements == 2


def test_rows_setting_different_columns_keep_the_others(conn, entries):
    """One COPY, one statement per set of columns: a row that does not set a column leaves it at
    its default (created) or its value (updated), never NULL because another row set it."""
    write_rows(conn, entries, "entry_id", [{"entry_id": "a", "title": "A", "content": "body"}])
    conn.commit()
    assert write_rows(conn, entries, "entry_id", [{"entry_id": "b", "title": "B"}],
                      updates=[{"entry_id": "a", "content_hash": "h"}]) == 2
    rows = read_rows(conn, entries, "entry_id", ["title", "content", "content_hash", "updated_at"])
    assert {k: (v["title"], v["content"], v["content_hash"]) for k, v in rows.items()} == {
        "a": ("A", "body", "h"), "b": ("B", None, None)}
    assert rows["b"]["updated_at"] is not None  # its default, not a NULL from the stage


def test_upsert_updates_only_the_given_columns(conn, entries):
    write_rows(conn, entries, "entry_id", [
        {"entry_id": "a", "title": "A", "content": "body a", "content_hash": "1"},
        {"entry_id": "b", "title": "B", "content": "body b", "content_hash": "2"}])
    conn.commit()
    written = write_rows(conn, entries, "entry_id", [
        {"entry_id": "a", "title": "A2", "content_hash": "1b"},  # content not given: kept
        {"entry_id": "c", "title": "C"}])
    assert written == 2
    rows = read_rows(conn, entries, "entry_id", ["title", "content", "content_hash"])
    assert rows == {
        "a": {"title": "A2", "content": "body a", "content_hash": "1b"},
        "b": {"title": "B", "content": "body b", "content_hash": "2"},
        "c": {"title": "C", "content": None, "content_hash": None}}


def test_unchanged_rows_are_not_rewritten(conn, entries):
    write_rows(conn, entries, "entry_id", _rows(3))
    conn.commit()
    before = conn.execute(sql.SQL("SELECT xmin::text FROM {} ORDER BY entry_id").format(
        sql.Identifier(entries.schema_name, entries.name))).fetchall()
    rows = _rows(3)
    rows[1]["title"] = "changed"
    assert write_rows(conn, entries, "entry_id", rows) == 1
    conn.commit()
    after = conn.execute(sql.SQL("SELECT xmin::text FROM {} ORDER BY entry_id").format(
        sql.Identifier(entries.schema_name, entries.name))).fetchall()
    assert [b == a for b, a in zip(before, after)] == [True, False, True]


def test_deletes_by_key_in_the_same_call(conn, entries):
    write_rows(conn, entries, "entry_id", _rows(5))
    written = write_rows(conn, entries, "entry_id", [{"entry_id": "new", "title": "N"}],
                         deletes=["e00001", "e00003", "missing"])
    assert written == 1 + 2
    assert sorted(read_rows(conn, entries, "entry_id", [])) == ["e00000", "e00002", "e00004",
                                                               "new"]


def test_write_does_not_commit(conn, entries, database_url):
    write_rows(conn, entries, "entry_id", _rows(2))
    with psycopg.connect(database_url) as other:
        assert read_rows(other, entries, "entry_id", []) == {}
    conn.rollback()
    assert read_rows(conn, entries, "entry_id", []) == {}


def test_integer_and_uuid_keys_are_strings(conn, make_table):
    from tests.postgres.conftest import converge

    table = make_table("things", ("n", "integer"), ("label", "text"),
                       uniques=(), primary_key=("id",))
    converge(conn, [table])
    conn.execute(sql.SQL("ALTER TABLE {} ADD UNIQUE (n)").format(
        sql.Identifier(table.schema_name, table.name)))
    write_rows(conn, table, "n", [{"n": 1, "label": "one"}, {"n": 2, "label": "two"}])
    assert read_rows(conn, table, "n", ["label"]) == {"1": {"label": "one"},
                                                     "2": {"label": "two"}}
    write_rows(conn, table, "n", [], deletes=["2"])
    by_id = read_rows(conn, table, "id", ["n"])
    (only,) = by_id
    assert only == only.lower() and len(only) == 36 and by_id[only] == {"n": 1}
    assert write_rows(conn, table, "id", [], deletes=[only]) == 1


def test_a_key_without_a_unique_constraint_is_refused(conn, schema):
    conn.execute(sql.SQL("CREATE TABLE {} (k text, v text)").format(
        sql.Identifier(schema, "loose")))
    conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (k) WHERE v IS NOT NULL").format(
        sql.Identifier(schema, "loose")))  # partial: ON CONFLICT (k) cannot use it
    table = Table(schema_name=schema, name="loose",
                  columns=(Column(name="k", type="text"), Column(name="v", type="text")))
    with pytest.raises(ApplyError, match="no unique constraint or unique index"):
        write_rows(conn, table, "k", [{"k": "a", "v": "b"}])


@pytest.mark.parametrize("rows, message", [
    ([{"title": "no key"}], "no value for the key column"),
    ([{"entry_id": "a"}, {"entry_id": "a"}], "appears twice"),
    ([{"entry_id": "a", "nope": 1}], "'nope'"),
    ([{"entry_id": "a", "metadata": {"x": math.inf}}], "row 'a': jsonb"),
])
def test_bad_rows_raise_apply_error(conn, entries, rows, message):
    with pytest.raises(ApplyError, match=message) as info:
        write_rows(conn, entries, "entry_id", rows)
    assert info.value.address == entries.address


def test_missing_table_raises(conn, schema):
    ghost = Table(schema_name=schema, name="ghost", columns=(Column(name="k", type="text"),))
    with pytest.raises(ApplyError, match="does not exist"):
        write_rows(conn, ghost, "k", [{"k": "a"}])
    with pytest.raises(ReadError, match="cannot read content rows"):
        read_rows(conn, ghost, "k", [])


def test_server_errors_become_apply_errors(conn, entries):
    conn.execute(sql.SQL("ALTER TABLE {} ADD CHECK (title <> 'bad')").format(
        sql.Identifier(entries.schema_name, entries.name)))
    with pytest.raises(ApplyError, match="check constraint"):
        write_rows(conn, entries, "entry_id", [{"entry_id": "x", "title": "bad"}])


WEIRD = 'we"ird; DROP TABLE x; --'


def test_identifiers_with_quotes_spaces_and_semicolons_are_safe(conn, schema):
    table_name, key, col = f'{WEIRD} table', f'{WEIRD} key', 'a "col"; --'
    conn.execute(sql.SQL("CREATE TABLE {} ({} text PRIMARY KEY, {} text, {} text)").format(
        sql.Identifier(schema, table_name), sql.Identifier(key), sql.Identifier(col),
        sql.Identifier("h")))
    table = Table(schema_name=schema, name=table_name, columns=(
        Column(name=key, type="text"), Column(name=col, type="text"),
        Column(name="h", type="text")))
    rows = [{key: "'); DROP TABLE x; --", col: "v1", "h": "1"}, {key: "b", col: "v2", "h": "2"}]
    assert write_rows(conn, table, key, rows) == 2
    assert write_rows(conn, table, key, [{key: "b", col: "v3"}], deletes=["'); DROP TABLE x; --"]) \
        == 2
    assert read_rows(conn, table, key, [col]) == {"b": {col: "v3"}}
    assert content_fingerprint(conn, table, key, "h") == fingerprint_pairs({"b": "2"})


def test_fingerprint_changes_with_hashes_and_keys_only(conn, entries):
    write_rows(conn, entries, "entry_id", _rows(4))
    first = content_fingerprint(conn, entries, "entry_id", "content_hash")
    assert first == fingerprint_pairs({f"e{i:05d}": f"h{i}" for i in range(4)})
    write_rows(conn, entries, "entry_id", [{"entry_id": "e00001", "title": "retitled"}])
    assert content_fingerprint(conn, entries, "entry_id", "content_hash") == first
    write_rows(conn, entries, "entry_id", [{"entry_id": "e00001", "content_hash": "other"}])
    second = content_fingerprint(conn, entries, "entry_id", "content_hash")
    assert second != first
    write_rows(conn, entries, "entry_id", [{"entry_id": "e00001", "content_hash": None}])
    third = content_fingerprint(conn, entries, "entry_id", "content_hash")
    assert third not in (first, second)
    write_rows(conn, entries, "entry_id", [], deletes=["e00002"])
    assert content_fingerprint(conn, entries, "entry_id", "content_hash") != third


def test_fingerprint_of_an_empty_table(conn, entries):
    assert content_fingerprint(conn, entries, "entry_id", "content_hash") == \
        fingerprint_pairs({})


def test_sync_activity_rows_are_recorded(conn, schema):
    ensure_activity_table(conn, schema)
    ensure_activity_table(conn, schema)  # idempotent
    started = datetime(2025, 12, 13, 10, 0, tzinfo=timezone.utc)
    run = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    record_run(conn, run_id=run, target="supabase.public.sot_entries",
               counts={"created": 3, "rows_updated": 2, "unchanged": 10}, status="ok",
               error=None, started_at=started, schema=schema)
    record_run(conn, run_id=run, target="notion.lukhas_modules", counts={"deferred": 4},
               status="failed", error="rate limited", started_at=started, schema=schema)
    rows = conn.execute(sql.SQL(
        "SELECT run_id::text, target, sync_type, rows_created, rows_updated, rows_deleted, "
        "rows_unchanged, rows_deferred, status, error_message, started_at, "
        "finished_at IS NOT NULL FROM {} ORDER BY id").format(
        sql.Identifier(schema, "sync_activity"))).fetchall()
    assert rows == [
        (run, "supabase.public.sot_entries", "content", 3, 2, 0, 10, 0, "ok", None, started,
         True),
        (run, "notion.lukhas_modules", "content", 0, 0, 0, 0, 4, "failed", "rate limited",
         started, True)]


def test_sync_activity_extends_seed_002s_table(conn, schema):
    conn.execute(sql.SQL("""CREATE TABLE {} (id SERIAL PRIMARY KEY, project_id TEXT,
        sync_type TEXT, entries_synced INTEGER, status TEXT, error_message TEXT,
        created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP)""").format(
        sql.Identifier(schema, "sync_activity")))
    ensure_activity_table(conn, schema)
    record_run(conn, run_id="1b4e28ba-2fa1-11d2-883f-0016d3cca427", target="t",
               counts={}, status="ok", error=None, started_at=datetime.now(timezone.utc),
               sync_type="content", schema=schema)
    assert conn.execute(sql.SQL("SELECT count(*), min(target) FROM {}").format(
        sql.Identifier(schema, "sync_activity"))).fetchone() == (1, "t")


@pytest.mark.parametrize("kwargs, message", [
    ({"counts": {"made": 1}}, "unknown outcome"),
    ({"counts": {"created": -1}}, "non-negative"),
    ({"started_at": datetime(2025, 1, 1)}, "timezone-aware"),
])
def test_record_run_rejects_bad_input(conn, schema, kwargs, message):
    ensure_activity_table(conn, schema)
    arguments = {"run_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "target": "t", "counts": {},
                 "status": "ok", "error": None, "started_at": datetime.now(timezone.utc),
                 "schema": schema, **kwargs}
    with pytest.raises(ValueError, match=message):
        record_run(conn, **arguments)


def test_an_apply_writes_rows_by_the_columns_as_they_are_when_it_runs(conn, entries, database_url):
    """`apply --auto-approve` reuses its plan's read: a column added since then is written,
    not deferred, because the executor reads the tables when it writes the first rows (and again
    only after its own DDL)."""
    from pathlib import Path

    from reconciler.backends.postgres.backend import PostgresBackend, PostgresLive
    from reconciler.backends.postgres.reader import read_catalog
    from reconciler.backends.postgres.steps import RowsStep
    from reconciler.model.changes import InsertRow, Phase
    from reconciler.model.content import RowState
    from reconciler.model.postgres import TableRef

    planned = read_catalog(conn, [entries.schema_name])
    conn.rollback()
    backend = PostgresBackend(Path("."), conn, "test", [entries])
    run = backend.executor(PostgresLive(planned))
    with psycopg.connect(database_url, autocommit=True) as other:  # a hand edit after the plan
        other.execute(sql.SQL("ALTER TABLE {} ADD COLUMN rating integer").format(
            sql.Identifier(entries.schema_name, "sot_entries")))
    ref = TableRef(schema_name=entries.schema_name, table="sot_entries")
    row = InsertRow(address=f"supabase.{entries.schema_name}.sot_entries.row.e1", table=ref,
                    phase=Phase.CONTENT,
                    after=RowState(key="e1", hash="h", values={"title": "T", "rating": 5}))
    reported = []
    run.run([RowsStep(ref, "entry_id", "content_hash", (row,))],
            lambda address, status, **detail: reported.append((status, detail.get("deferred"))))
    conn.commit()
    assert [(status, deferred or None) for status, deferred in reported] == [("applied", None)]
    assert conn.execute(sql.SQL("SELECT rating FROM {}").format(
        sql.Identifier(entries.schema_name, "sot_entries"))).fetchall() == [(5,)]
