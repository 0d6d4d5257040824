"""Bugs found against a real PostgreSQL server (issue 12, points 1-4), each through the whole
path a user takes: YAML → plan → apply → the database."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.postgres.projects import SOT_TABLE, apply, kinds, make_project, plan, sot_entry

pytestmark = pytest.mark.postgres


@pytest.fixture
def sot(tmp_path: Path, schema: str) -> Path:
    return make_project(tmp_path / "sot", {
        "schemas/supabase/sot.yaml": SOT_TABLE,
        "content/sot/a.md": sot_entry("BUILD-001", "First"),
        "content/sot/b.md": sot_entry("BUILD-002", "Second"),
    }, schema)


def test_editing_a_row_of_a_table_with_not_null_columns_updates_it(sot, database_url, schema):
    """Bug 1: an update sends only the changed fields; as `INSERT … ON CONFLICT` Postgres checked
    NOT NULL on the proposed row (project_id missing) and the apply failed."""
    apply(sot, database_url)
    (sot / "content/sot/a.md").write_text(sot_entry("BUILD-001", "First, retitled"))
    planned = apply(sot, database_url)
    assert [c.kind for c in planned.changes] == ["update_row"]
    assert planned.changes[0].after.values == {"title": "First, retitled"}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT entry_id, project_id, title FROM {schema}.sot "
                            "ORDER BY entry_id").fetchall()
    assert rows == [("BUILD-001", "autopack", "First, retitled"),
                    ("BUILD-002", "autopack", "Second")]
    assert not plan(sot, database_url).has_changes


def test_a_hand_edit_of_a_synced_value_is_planned_back(sot, database_url, schema):
    """Bug 2: the stored content hash still matched, so the plan said "unchanged"."""
    apply(sot, database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute(f"UPDATE {schema}.sot SET project_id = 'x' WHERE entry_id = 'BUILD-002'")
    again = plan(sot, database_url)
    assert kinds(again.changes) == [("update_row", f'supabase.{schema}.sot.row["BUILD-002"]')]
    assert again.changes[0].after.values == {"project_id": "autopack"}
    assert again.content[f"supabase.{schema}.sot"].unchanged == 1
    apply(sot, database_url)
    assert not plan(sot, database_url).has_changes


def test_serial_and_identity_columns_get_their_sequences(tmp_path, database_url, schema):
    """Bug 3: `serial` was a plain alias of integer: the column had no sequence, so an insert
    without an id failed."""
    root = make_project(tmp_path / "p", {"schemas/supabase/counters.yaml": """\
columns:
  id: {type: serial, primary_key: true}
  big: {type: bigserial}
  ident: {type: bigint, identity: always}
  soft: {type: integer, identity: by default}
  label: {type: text}
"""}, schema)
    apply(root, database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute(f"INSERT INTO {schema}.counters (label) VALUES ('a'), ('b')")
        rows = conn.execute(f"SELECT id, big, ident, soft FROM {schema}.counters "
                            "ORDER BY id").fetchall()
    assert rows == [(1, 1, 1, 1), (2, 2, 2, 2)]
    assert not plan(root, database_url).has_changes


def test_a_disabled_or_rewritten_touch_trigger_is_planned_back(tmp_path, database_url, schema):
    """Bug 4: the updated_at trigger was checked by name only, so a disabled trigger or a
    rewritten trigger function planned nothing and updated_at silently stopped updating."""
    root = make_project(tmp_path / "p", {"schemas/supabase/notes.yaml": """\
columns:
  id: {type: bigint, identity: always, primary_key: true}
  body: {type: text}
  updated_at: {type: timestamptz, nullable: false, default_sql: now()}
"""}, schema)
    apply(root, database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE {schema}.notes DISABLE TRIGGER reconciler_touch_updated_at")
        disabled = plan(root, database_url)
        assert kinds(disabled.changes) == [("modify_table", f"supabase.{schema}.notes")]
        apply(root, database_url)
        assert not plan(root, database_url).has_changes
        conn.execute(f"CREATE OR REPLACE FUNCTION {schema}.reconciler_touch_updated_at() "
                     "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        rewritten = plan(root, database_url)
        assert kinds(rewritten.changes) == [("modify_table", f"supabase.{schema}.notes")]
        apply(root, database_url)
        assert not plan(root, database_url).has_changes
        conn.execute(f"INSERT INTO {schema}.notes (body, updated_at) VALUES ('a', now() - "
                     "interval '1 day')")
        conn.execute(f"UPDATE {schema}.notes SET body = 'b'")
        fresh = conn.execute("SELECT updated_at > now() - interval '1 minute' "
                             f"FROM {schema}.notes").fetchone()[0]
    assert fresh, "the repaired trigger keeps updated_at current"


@pytest.mark.parametrize("column, message", [
    ("{type: 'varchr(20)'}", "unknown type 'varchr(20)': did you mean varchar(20)?"),
    ("{type: txet}", "unknown type 'txet': did you mean text?"),
    ("{type: 'timestmptz'}", "did you mean timestamptz?"),
])
def test_a_misspelt_type_fails_validate_with_a_suggestion(tmp_path, column, message):
    """Bug 6: a misspelt type passed `validate` and failed mid-apply after the Notion writes."""
    from reconciler.errors import SpecError
    from reconciler.project.loader import load_project

    root = make_project(tmp_path / "p", {"schemas/supabase/t.yaml": f"""\
columns:
  id: {{type: uuid, primary_key: true}}
  name: {column}
"""})
    with pytest.raises(SpecError) as info:
        load_project(root, {})
    assert "schemas/supabase/t.yaml:3:" in str(info.value) and message in str(info.value)


def test_a_failed_apply_says_what_was_applied_and_what_was_not(sot, database_url, schema):
    """Bug 6: the message said "(0 change(s) were applied before it)" after other changes had
    been applied; it must say exactly what was and was not. A trigger refuses one row, which
    no check before apply can foresee: the table, its function and trigger are applied, the
    three rows (written together) are not."""
    from reconciler.errors import ApplyError

    (sot / "content/sot/c.md").write_text(sot_entry("BUILD-003", "Third", project="x" * 5))
    (sot / "schemas/supabase/sot_guard.yaml").write_text(f"""\
schema: {schema}
kind: function
returns: trigger
language: plpgsql
body: "BEGIN IF NEW.project_id = 'xxxxx' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END"
""")
    spec = sot / "schemas/supabase/sot.yaml"
    spec.write_text(spec.read_text() + "triggers:\n  guard: {function: sot_guard, "
                                       "events: [insert]}\n")
    with pytest.raises(ApplyError) as info:
        apply(sot, database_url)
    message = str(info.value)
    assert "0 change(s) were applied" not in message and "refused" in message
    assert (f"Of the plan's 6 change(s): 3 applied; failed at supabase.{schema}.sot; 3 not "
            "applied") in message, message
