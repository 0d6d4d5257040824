"""Bugs found against a real PostgreSQL server (issue 12, points 1-4), each through the whole
path a user takes: YAML → plan → apply → the database."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.postgres.projects import SOT_TABLE, apply, kinds, make_project, plan, sot_entry

pytestmark = pytest.mark.postgres


@pytest.fixture
def sot(tmp_path: Path) -> Path:
    return make_project(tmp_path / "sot", {
        "schemas/supabase/sot.yaml": SOT_TABLE,
        "content/sot/a.md": sot_entry("BUILD-001", "First"),
        "content/sot/b.md": sot_entry("BUILD-002", "Second"),
    })


def test_editing_a_row_of_a_table_with_not_null_columns_updates_it(sot, example_database):
    """Bug 1: an update sends only the changed fields; as `INSERT … ON CONFLICT` Postgres checked
    NOT NULL on the proposed row (project_id missing) and the apply failed."""
    apply(sot, example_database)
    (sot / "content/sot/a.md").write_text(sot_entry("BUILD-001", "First, retitled"))
    planned = apply(sot, example_database)
    assert [c.kind for c in planned.changes] == ["update_row"]
    assert planned.changes[0].after.values == {"title": "First, retitled"}
    with psycopg.connect(example_database) as conn:
        rows = conn.execute("SELECT entry_id, project_id, title FROM public.sot "
                            "ORDER BY entry_id").fetchall()
    assert rows == [("BUILD-001", "autopack", "First, retitled"),
                    ("BUILD-002", "autopack", "Second")]
    assert not plan(sot, example_database).has_changes


def test_a_hand_edit_of_a_synced_value_is_planned_back(sot, example_database):
    """Bug 2: the stored content hash still matched, so the plan said "unchanged"."""
    apply(sot, example_database)
    with psycopg.connect(example_database) as conn:
        conn.execute("UPDATE public.sot SET project_id = 'x' WHERE entry_id = 'BUILD-002'")
    again = plan(sot, example_database)
    assert kinds(again.changes) == [("update_row", 'supabase.public.sot.row["BUILD-002"]')]
    assert again.changes[0].after.values == {"project_id": "autopack"}
    assert again.content["supabase.public.sot"].unchanged == 1
    apply(sot, example_database)
    assert not plan(sot, example_database).has_changes


def test_serial_and_identity_columns_get_their_sequences(tmp_path, example_database):
    """Bug 3: `serial` was a plain alias of integer: the column had no sequence, so an insert
    without an id failed."""
    root = make_project(tmp_path / "p", {"schemas/supabase/counters.yaml": """\
columns:
  id: {type: serial, primary_key: true}
  big: {type: bigserial}
  ident: {type: bigint, identity: always}
  soft: {type: integer, identity: by default}
  label: {type: text}
"""})
    apply(root, example_database)
    with psycopg.connect(example_database) as conn:
        conn.execute("INSERT INTO public.counters (label) VALUES ('a'), ('b')")
        rows = conn.execute("SELECT id, big, ident, soft FROM public.counters "
                            "ORDER BY id").fetchall()
    assert rows == [(1, 1, 1, 1), (2, 2, 2, 2)]
    assert not plan(root, example_database).has_changes


def test_a_disabled_or_rewritten_touch_trigger_is_planned_back(tmp_path, example_database):
    """Bug 4: the updated_at trigger was checked by name only, so a disabled trigger or a
    rewritten trigger function planned nothing and updated_at silently stopped updating."""
    root = make_project(tmp_path / "p", {"schemas/supabase/notes.yaml": """\
columns:
  id: {type: bigint, identity: always, primary_key: true}
  body: {type: text}
  updated_at: {type: timestamptz, nullable: false, default_sql: now()}
"""})
    apply(root, example_database)
    with psycopg.connect(example_database, autocommit=True) as conn:
        conn.execute("ALTER TABLE public.notes DISABLE TRIGGER reconciler_touch_updated_at")
        disabled = plan(root, example_database)
        assert kinds(disabled.changes) == [("modify_table", "supabase.public.notes")]
        apply(root, example_database)
        assert not plan(root, example_database).has_changes
        conn.execute("CREATE OR REPLACE FUNCTION public.reconciler_touch_updated_at() "
                     "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        rewritten = plan(root, example_database)
        assert kinds(rewritten.changes) == [("modify_table", "supabase.public.notes")]
        apply(root, example_database)
        assert not plan(root, example_database).has_changes
        conn.execute("INSERT INTO public.notes (body, updated_at) VALUES ('a', now() - "
                     "interval '1 day')")
        conn.execute("UPDATE public.notes SET body = 'b'")
        fresh = conn.execute("SELECT updated_at > now() - interval '1 minute' "
                             "FROM public.notes").fetchone()[0]
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
    assert f"schemas/supabase/t.yaml:3:" in str(info.value) and message in str(info.value)


def test_a_failed_apply_says_what_was_applied_and_what_was_not(sot, example_database):
    """Bug 6: the message said "(0 change(s) were applied before it)" after other changes had
    been applied; it must say exactly what was and was not."""
    from reconciler.errors import ApplyError

    (sot / "content/sot/c.md").write_text(sot_entry("BUILD-003", "Third", project="x" * 5))
    spec = sot / "schemas/supabase/sot.yaml"
    spec.write_text(spec.read_text().replace(
        "project_id: {type: text, nullable: false}",
        "project_id: {type: text, nullable: false, check: \"project_id <> 'xxxxx'\"}"))
    with pytest.raises(ApplyError) as info:
        apply(sot, example_database, allow_destroy=True)
    message = str(info.value)
    assert "0 change(s) were applied" not in message
    assert "1 change(s) applied before the failure" in message
    assert "3 not applied" in message
