"""`--debug` logs every SQL statement the reconciler sends, on every connection it opens: the
target database's, the dev database's (the migration check) and the COPY of content rows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.postgres.projects import SOT_TABLE, apply, make_project, plan, sot_entry

pytestmark = pytest.mark.postgres


def test_debug_logs_the_dev_database_and_the_copy(tmp_path: Path, database_url: str, schema: str,
                                                  caplog):
    root = make_project(tmp_path, {"schemas/supabase/sot_entries.yaml": SOT_TABLE,
                                   "content/sot/a.md": sot_entry("A-1", "First"),
                                   "content/sot/b.md": sot_entry("B-1", "Second")},
                        schema=schema)
    caplog.set_level(logging.DEBUG, logger="reconciler.sql")
    plan(root, database_url)
    logged = [r.getMessage() for r in caplog.records if r.name == "reconciler.sql"]
    assert any(m.startswith("SQL CREATE TABLE") and "sot_entries" in m for m in logged), logged
    caplog.clear()
    apply(root, database_url)
    logged = [r.getMessage() for r in caplog.records if r.name == "reconciler.sql"]
    assert any(m.startswith("SQL COPY") and " ok, " in m for m in logged), logged
    assert not any("First" in m or "Body of" in m for m in logged)  # statements, never values
