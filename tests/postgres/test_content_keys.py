"""Content rows keyed by a column of any allowed key type (`POSTGRES_KEY_TYPES`), and dates into
date and timestamp columns, through the CLI against a real Postgres.

A content row's key is a str (`SourceRow.key`); an update carries only the key and the changed
columns, so the key must be written as a value of the key column's type (QA: an integer key
failed every update with `integer: needs an integer, got str '1'`). Every key type is taken
through create, update, delete (`--prune`) and a next plan that is empty.

Dates into timestamp columns follow one rule, the same at validate, plan, apply and the next
plan: a date alone is midnight UTC for timestamptz and midnight for timestamp; a date-time
without a UTC offset is refused for timestamptz, one with an offset for timestamp, and any
date-time for a date column, at validate with the value's file:line (QA: a date into timestamptz
planned, then failed at apply; into timestamp it never converged).
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.conftest import fresh_database, write_files

pytestmark = pytest.mark.postgres
runner = CliRunner()

#: key type → (key of a.md as written in front matter, of b.md, the two as the table holds them)
KEYS = {
    "integer": ("1", "2", (1, 2)),
    "bigint": ("9007199254740993", "-5", (9007199254740993, -5)),
    "smallint": ("7", "'-3'", (7, -3)),
    "uuid": ("'6F9619FF-8B86-D011-B42D-00C04FC964FF'", "0d6a3c1e-5f2b-4c1a-9d1e-2f3a4b5c6d7e",
             (uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff"),
              uuid.UUID("0d6a3c1e-5f2b-4c1a-9d1e-2f3a4b5c6d7e"))),
    "date": ("2025-11-03", "'4. November 2025'", (dt.date(2025, 11, 3), dt.date(2025, 11, 4))),
    "numeric": ("1.0", "'2.50'", (1, 2.5)),
    "text": ("alpha", "2", ("alpha", "2")),
    "character varying(20)": ("alpha", "beta", ("alpha", "beta")),
}


def _table(key_type: str, source: str) -> str:
    return (f"columns:\n  n: {{type: {key_type}, primary_key: true}}\n  title: {{type: text}}\n"
            f"  sha: {{type: text}}\ncontent:\n  key: n\n  hash: sha\n  source:\n{source}")


MARKDOWN = "    markdown: content/*.md\n    fields: {n: n, title: title}\n"


def _sql(url: str, statement: str) -> list:
    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _converged(root: Path) -> None:
    """The next plan (with --prune) has nothing to do."""
    code, output = _cli("plan", "--dir", str(root), "--prune", "--detailed-exitcode")
    assert code == 0, output


@pytest.mark.parametrize("key_type", list(KEYS))
def test_rows_keyed_by_each_key_type_are_created_updated_deleted_and_converge(
        tmp_path, server_url, monkeypatch, key_type):
    a, b, (key_a, key_b) = KEYS[key_type]
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n",
            "schemas/supabase/things.yaml": _table(key_type, MARKDOWN),
            "content/a.md": f"---\nn: {a}\ntitle: one\n---\nA\n",
            "content/b.md": f"---\nn: {b}\ntitle: bee\n---\nB\n"})
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        assert sorted(_sql(url, "SELECT n, title FROM public.things"), key=str) == \
            sorted([(key_a, "one"), (key_b, "bee")], key=str)
        _converged(root)

        (root / "content/a.md").write_text(f"---\nn: {a}\ntitle: two\n---\nA\n")
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        assert "1 changed" in output, output
        assert sorted(_sql(url, "SELECT n, title FROM public.things"), key=str) == \
            sorted([(key_a, "two"), (key_b, "bee")], key=str)
        _converged(root)

        (root / "content/b.md").unlink()
        code, output = _cli("apply", "--dir", str(root), "--auto-approve", "--prune",
                            "--allow-destroy")
        assert code == 0, output
        assert "1 removed" in output, output
        assert _sql(url, "SELECT n, title FROM public.things") == [(key_a, "two")]
        _converged(root)


def test_a_section_heading_number_keys_an_integer_column(tmp_path, server_url, monkeypatch):
    source = ("    markdown_sections:\n      files: content/log.md\n"
              "      heading: '^## Entry (\\d+): (.+)$'\n"
              "    fields: {n: $heading.1, title: $heading.2}\n")
    log = "# Log\n\n## Entry 1: first\n\ntext\n\n## Entry 2: second\n\nmore\n"
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n",
            "schemas/supabase/things.yaml": _table("integer", source), "content/log.md": log})
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        (root / "content/log.md").write_text(log.replace("first", "premier"))
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        assert _sql(url, "SELECT n, title FROM public.things ORDER BY n") == \
            [(1, "premier"), (2, "second")]
        _converged(root)


EVENTS = """columns:
  n: {type: integer, primary_key: true}
  at: {type: timestamptz}
  local: {type: timestamp}
  day: {type: date}
  sha: {type: text}
content:
  key: n
  hash: sha
  source:
    markdown_sections:
      files: content/log.md
      heading: '^## (\\d+)$'
    fields:
      n: $heading.1
      at: '\\*\\*At\\*\\*: (.+)'
      local: '\\*\\*Local\\*\\*: (.+)'
      day: '\\*\\*Day\\*\\*: (.+)'
"""


def _entry(n: int, at: str, local: str, day: str) -> str:
    return f"## {n}\n\n**At**: {at}\n**Local**: {local}\n**Day**: {day}\n\n"


def test_a_date_alone_is_midnight_utc_in_timestamptz_and_midnight_in_timestamp(
        tmp_path, server_url, monkeypatch):
    log = "# Log\n\n" + _entry(1, "2025-11-03", "3. November 2025", "3. November 2025") + \
        _entry(2, "2025-11-03T10:00:00+02:00", "2025-11-03T10:00", "2025-11-04")
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        _sql(url, "ALTER DATABASE " + url.rsplit("/", 1)[1] + " SET timezone = 'Asia/Tokyo'")
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n", "schemas/supabase/events.yaml": EVENTS,
            "content/log.md": log})
        code, output = _cli("plan", "--dir", str(root))
        assert code == 0, output
        assert 'at = "2025-11-03T00:00:00+00:00"' in output, output
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        utc = dt.timezone.utc
        assert _sql(url, "SELECT n, at, local, day FROM public.events ORDER BY n") == [
            (1, dt.datetime(2025, 11, 3, tzinfo=utc), dt.datetime(2025, 11, 3),
             dt.date(2025, 11, 3)),
            (2, dt.datetime(2025, 11, 3, 8, tzinfo=utc), dt.datetime(2025, 11, 3, 10),
             dt.date(2025, 11, 4))]
        _converged(root)


@pytest.mark.parametrize("field, written, message", [
    ("at", "2025-11-03T10:00", "at expects a date-time with a UTC offset (the column is "
     "timestamptz), got '2025-11-03T10:00': add Z or +HH:MM"),
    ("local", "2025-11-03T10:00Z", "local expects a date-time without a UTC offset (the column "
     "is timestamp, which keeps none), got '2025-11-03T10:00Z'"),
    ("day", "2025-11-03 10:00", "day expects a date without a time of day (the column is date), "
     "got '2025-11-03 10:00'"),
])
def test_a_moment_its_column_cannot_keep_fails_validate_at_its_line_and_nothing_is_written(
        tmp_path, server_url, monkeypatch, field, written, message):
    values = {"at": "2025-11-03", "local": "2025-11-03", "day": "2025-11-03", field: written}
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n", "schemas/supabase/events.yaml": EVENTS,
            "content/log.md": "# Log\n\n" + _entry(1, **values)})
        line = {"at": 5, "local": 6, "day": 7}[field]
        for command in (["validate"], ["apply", "--auto-approve"]):
            code, output = _cli(*command, "--dir", str(root))
            assert code == 1, output
            assert f"content/log.md:{line}:" in output and f"row '1': {message}" in output, output
        assert _sql(url, "SELECT to_regclass('public.events')") == [(None,)]


def test_a_time_of_day_converges_and_one_that_is_none_fails_validate(
        tmp_path, server_url, monkeypatch):
    table = ("columns:\n  n: {type: integer, primary_key: true}\n  t: {type: time}\n"
             "  tz: {type: timetz}\n  sha: {type: text}\n"
             "content:\n  key: n\n  hash: sha\n  source:\n"
             "    markdown: content/*.md\n    fields: {n: n, t: t, tz: tz}\n")
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n", "schemas/supabase/clock.yaml": table,
            "content/a.md": "---\nn: 1\nt: '10:00'\ntz: '10:00+02:00'\n---\n"})
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        assert _sql(url, "SELECT t::text, tz::text FROM public.clock") == \
            [("10:00:00", "10:00:00+02")]
        _converged(root)  # was: t "10:00:00" -> "10:00" on every plan

        (root / "content/a.md").write_text("---\nn: 1\nt: 11:30\ntz: '10:00'\n---\n")
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 1, output
        assert "content/a.md:4:" in output and "row '1': tz expects a time of day with a UTC " \
            "offset (the column is timetz), got '10:00': add Z or +HH:MM" in output, output
        assert _sql(url, "SELECT t::text FROM public.clock") == [("10:00:00",)]


def test_a_table_whose_name_needs_quotes_gets_its_rows(tmp_path, database_url: str, schema: str):
    """`name: My Notes`: the content set's address is the table's own
    (`supabase.<schema>.table["My Notes"]`), so its rows are planned, written and then in step."""
    from tests.postgres.projects import apply, make_project, plan

    table = ("name: My Notes\ncolumns:\n  id: {type: uuid, primary_key: true, default_sql: "
             "gen_random_uuid()}\n  entry_id: {type: text, nullable: false, unique: true}\n"
             "  title: {type: text}\n  content_hash: {type: text}\ncontent:\n  key: entry_id\n"
             "  hash: content_hash\n  source:\n    markdown: content/notes/*.md\n"
             "    fields: {entry_id: entry_id, title: title}\n")
    root = make_project(tmp_path, {"schemas/supabase/notes.yaml": table,
                                   "content/notes/a.md": "---\nentry_id: A-1\ntitle: First\n---\n"},
                        schema=schema)
    first = apply(root, database_url)
    assert f'supabase.{schema}.table["My Notes"].row["A-1"]' in {c.address for c in first.changes}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(sql.SQL("SELECT entry_id, title FROM {}").format(
            sql.Identifier(schema, "My Notes"))).fetchall()
    assert rows == [("A-1", "First")]
    assert not plan(root, database_url).has_changes
