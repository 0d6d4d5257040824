"""What Supabase projects use beyond tables (issue 12, point 9), as code: each kind plans,
applies, plans empty; drift made by hand is planned back; and the plan's SQL, written as a
Supabase CLI migration (`plan --sql-out`), builds the same catalog in an empty database."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from reconciler.backends.postgres.migrations import write_migration
from tests.conftest import fresh_database
from tests.postgres.projects import apply, kinds, make_project, plan

pytestmark = pytest.mark.postgres

FILES = {
    "schemas/supabase/citext.yaml": "kind: extension\n",
    "schemas/supabase/mood.yaml": "kind: enum\nvalues: [happy, sad]\n",
    "schemas/supabase/ticket_numbers.yaml": "kind: sequence\nas: integer\nstart: 100\n",
    "schemas/supabase/entries.yaml": """\
columns:
  id: {type: bigserial, primary_key: true}
  email: {type: citext, comment: Who wrote it}
  mood: {type: mood, nullable: false, default: happy}
  code: {type: text}
  ticket: {type: integer, default_sql: "nextval('ticket_numbers')"}
rls: true
force_rls: true
realtime: true
triggers:
  entries_code:
    function: entries_set_code
    events: [insert, update]
    when: "NEW.code IS NULL"
policies:
  read own: {command: select, roles: [authenticated], using: "email = current_user"}
""",
    "schemas/supabase/entries_set_code.yaml": """\
kind: function
returns: trigger
language: plpgsql
body: |
  BEGIN
    NEW.code := upper(left(NEW.email::text, 3));
    RETURN NEW;
  END
""",
    "schemas/supabase/search_entries.yaml": """\
kind: function
arguments: "query text, max_rows int DEFAULT 10"
returns: setof entries
volatility: stable
search_path: public
body: select * from entries where email::text ilike '%' || query || '%' limit max_rows
comment: Full-text-ish search, called as /rest/v1/rpc/search_entries
""",
    "schemas/supabase/happy_entries.yaml": """\
kind: view
security_invoker: true
query: SELECT id, email FROM entries WHERE mood = 'happy'
""",
    "schemas/supabase/public_defaults.yaml": """\
kind: default_privileges
tables: {anon: [select], authenticated: [select, insert]}
functions: {authenticated: [execute]}
""",
}


@pytest.fixture
def objects(tmp_path: Path, example_database: str) -> Path:
    root = make_project(tmp_path / "p", FILES)
    first = apply(root, example_database)
    assert {c.kind for c in first.changes} >= {
        "add_extension", "add_enum", "add_sequence", "create_table", "add_trigger",
        "add_function", "add_view", "modify_default_privileges", "add_policy"}
    return root


def sql(url: str, *statements: str) -> list:
    with psycopg.connect(url, autocommit=True) as conn:
        return [conn.execute(s).fetchall() if s.lstrip().upper().startswith("SELECT")
                else conn.execute(s) for s in statements]


def test_every_kind_applies_then_plans_empty_and_works(objects, example_database):
    assert not plan(objects, example_database).has_changes
    sql(example_database, "INSERT INTO public.entries (email) VALUES ('Ada@example.org')")
    (row,), (search,), (members,), (forced,) = (r for r in sql(
        example_database,
        "SELECT code, ticket, mood::text FROM public.entries",
        "SELECT count(*) FROM public.search_entries('ada')",
        "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'supabase_realtime' "
        "AND tablename = 'entries'",
        "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'public.entries'::regclass"))
    assert row == ("ADA", 100, "happy")
    assert search == (1,) and members == (1,) and forced == (True,)


def test_changes_to_each_kind_are_planned_applied_and_converge(objects, example_database):
    edits = {
        "schemas/supabase/mood.yaml": "kind: enum\nvalues: [happy, meh, {name: blue, "
                                      "renamed_from: sad}]\n",
        "schemas/supabase/ticket_numbers.yaml": "kind: sequence\nas: integer\nstart: 100\n"
                                                "increment: 10\n",
        "schemas/supabase/happy_entries.yaml": FILES["schemas/supabase/happy_entries.yaml"]
        .replace("SELECT id, email", "SELECT id, email, code"),
        "schemas/supabase/search_entries.yaml": FILES["schemas/supabase/search_entries.yaml"]
        .replace("limit max_rows", "order by id limit max_rows"),
    }
    for rel, text in edits.items():
        (objects / rel).write_text(text)
    changed = apply(objects, example_database)
    assert sorted(c.kind for c in changed.changes) == [
        "modify_enum", "modify_function", "modify_sequence", "modify_view"]
    enum = next(c for c in changed.changes if c.kind == "modify_enum")
    assert enum.sql == ("ALTER TYPE \"public\".\"mood\" RENAME VALUE 'sad' TO 'blue';",
                        "ALTER TYPE \"public\".\"mood\" ADD VALUE 'meh' AFTER 'happy';")
    assert not plan(objects, example_database).has_changes
    (labels,) = sql(example_database, "SELECT enum_range(NULL::public.mood)::text")
    assert labels == [("{happy,meh,blue}",)]


def test_drift_made_by_hand_is_planned_back(objects, example_database):
    sql(example_database,
        "ALTER TABLE public.entries DISABLE TRIGGER entries_code",
        "COMMENT ON COLUMN public.entries.email IS 'edited in the dashboard'",
        "ALTER PUBLICATION supabase_realtime DROP TABLE public.entries",
        "ALTER TABLE public.entries NO FORCE ROW LEVEL SECURITY",
        "CREATE OR REPLACE FUNCTION public.entries_set_code() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public REVOKE SELECT ON TABLES "
        "FROM anon")
    drift = plan(objects, example_database)
    assert kinds(drift.changes) == [
        ("modify_table", "supabase.public.entries"),
        ("modify_column", 'supabase.public.entries.column["email"]'),
        ("modify_function", 'supabase.public.function["entries_set_code"]'),
        ("modify_trigger", 'supabase.public.entries.trigger["entries_code"]'),
        ("modify_default_privileges",
         'supabase.public.default_privileges["postgres"].tables["anon"]'),
    ]
    assert "force_rls" in drift.changes[0].note and "realtime" in drift.changes[0].note
    apply(objects, example_database)
    assert not plan(objects, example_database).has_changes


def test_the_migration_file_builds_the_same_catalog_in_an_empty_database(
        tmp_path, example_database):
    """`plan --sql-out`: the migration, run by itself on an empty database, leaves nothing for
    the next plan to do."""
    root = make_project(tmp_path / "p", FILES)
    planned = plan(root, example_database)
    path = write_migration([c for c in planned.changes if c.sql], tmp_path / "migrations",
                           "objects", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    server = os.environ.get("DATABASE_URL") or example_database
    with fresh_database(server) as empty:
        with psycopg.connect(empty, autocommit=True) as conn:
            conn.execute(path.read_text().encode())
        assert not plan(root, empty).has_changes


def test_a_removed_enum_value_is_a_manual_step(objects, example_database):
    (objects / "schemas/supabase/mood.yaml").write_text("kind: enum\nvalues: [happy]\n")
    (manual,) = plan(objects, example_database).changes
    assert manual.kind == "manual" and "cannot remove the value 'sad'" in manual.manual


def test_objects_the_spec_no_longer_declares_are_dropped(objects, example_database):
    for name in ("happy_entries", "search_entries", "ticket_numbers"):
        (objects / f"schemas/supabase/{name}.yaml").unlink()
    spec = objects / "schemas/supabase/entries.yaml"
    spec.write_text(spec.read_text().replace(
        "  ticket: {type: integer, default_sql: \"nextval('ticket_numbers')\"}\n", ""))
    dropped = plan(objects, example_database)
    by_kind = {c.kind: c for c in dropped.changes}
    assert set(by_kind) == {"drop_view", "drop_function", "drop_sequence", "drop_column"}
    assert by_kind["drop_sequence"].destructive
    assert [d.code for d in by_kind["drop_view"].lint] == ["BC103"]
    apply(objects, example_database, allow_destroy=True)
    assert not plan(objects, example_database).has_changes
