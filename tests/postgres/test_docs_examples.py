"""The examples in docs/supabase.md plan and apply on a real Postgres as documented (QA: the
trigger example's WHEN used OLD in an INSERT trigger, which Postgres refuses)."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from reconciler.backends.postgres.devdb import AUTH_SHIM
from tests.databases import fresh_database
from tests.postgres.projects import apply, make_project, plan

pytestmark = pytest.mark.postgres

DOCS = Path(__file__).resolve().parents[2] / "docs" / "supabase.md"

#: What the file format example refers to and declares elsewhere.
BESIDE = {
    "schemas/supabase/business_entities.yaml": "columns:\n  id: {type: uuid, primary_key: true}\n",
    "schemas/supabase/mood.yaml": "kind: enum\nvalues: [happy, meh]\n",
    "schemas/supabase/pg_trgm.yaml": "kind: extension\n",
    "schemas/supabase/audit_tasks.yaml": "kind: function\nreturns: trigger\nlanguage: plpgsql\n"
                                         "body: BEGIN RETURN NEW; END\n",
}


def file_format_example() -> str:
    """The first YAML block under "## File format" of docs/supabase.md."""
    text = DOCS.read_text()
    section = text[text.index("## File format"):]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)


def test_the_file_format_example_applies_and_converges(tmp_path, server_url):
    example = file_format_example()
    assert "tasks_audit" in example and "when:" in example
    with fresh_database(server_url) as url:
        with psycopg.connect(url, autocommit=True) as conn:  # Supabase's auth schema
            for statement in AUTH_SHIM:
                conn.execute(statement)
        root = make_project(tmp_path / "p", {"schemas/supabase/tasks.yaml": example, **BESIDE})
        applied = apply(root, url)
        assert "supabase.public.tasks.trigger[\"tasks_audit\"]" in {
            c.address for c in applied.changes}
        again = plan(root, url)
        assert not again.has_changes, [(c.address, c.note) for c in again.changes]
