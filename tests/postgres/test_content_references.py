"""Content rows of tables joined by a foreign key: written parents first and deleted children
first, and a plan whose rows would break a foreign key is refused before anything is written
(`backends.postgres.references`)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from reconciler.errors import PlanError
from tests.postgres.projects import apply, make_project, plan

pytestmark = pytest.mark.postgres

PARENTS = """columns:
  id: {type: uuid, primary_key: true, default_sql: gen_random_uuid()}
  code: {type: text, nullable: false, unique: true}
  title: {type: text}
  content_hash: {type: text}
content:
  key: code
  hash: content_hash
  source:
    markdown: content/p/*.md
    fields: {code: code, title: title}
"""
#: `children` sorts before `parents`: only the foreign key puts the parents first.
CHILDREN = """columns:
  id: {type: uuid, primary_key: true, default_sql: gen_random_uuid()}
  name: {type: text, nullable: false, unique: true}
  parent_code: {type: text, references: {table: parents, column: code, schema: %s%s}}
  content_hash: {type: text}
content:
  key: name
  hash: content_hash
  source:
    markdown: content/c/*.md
    fields: {name: name, parent_code: parent}
"""


def _project(root: Path, schema: str, on_delete: str = "") -> Path:
    return make_project(root, {
        "schemas/supabase/parents.yaml": PARENTS,
        "schemas/supabase/children.yaml": CHILDREN % (schema, on_delete),
        "content/p/p1.md": "---\ncode: P1\ntitle: One\n---\n",
        "content/p/p2.md": "---\ncode: P2\ntitle: Two\n---\n",
        "content/c/c1.md": "---\nname: C1\nparent: P1\n---\n"}, schema=schema)


def _rows(url: str, schema: str) -> tuple[list, list]:
    with psycopg.connect(url) as conn:
        parents = conn.execute(sql.SQL("SELECT code FROM {} ORDER BY 1").format(
            sql.Identifier(schema, "parents"))).fetchall()
        children = conn.execute(sql.SQL("SELECT name, parent_code FROM {} ORDER BY 1").format(
            sql.Identifier(schema, "children"))).fetchall()
    return [p for (p,) in parents], children


def test_parents_are_written_first_and_deleted_last(tmp_path: Path, database_url: str,
                                                    schema: str):
    root = _project(tmp_path, schema)
    apply(root, database_url)  # children's rows need the parents' rows of the same apply
    assert _rows(database_url, schema) == (["P1", "P2"], [("C1", "P1")])
    (root / "content/c/c1.md").write_text("---\nname: C1\nparent: P2\n---\n")
    (root / "content/p/p1.md").unlink()
    apply(root, database_url, allow_destroy=True, prune=True)  # re-pointed, then deleted
    assert _rows(database_url, schema) == (["P2"], [("C1", "P2")])
    (root / "content/c/c1.md").unlink()
    (root / "content/c/c9.md").write_text("---\nname: C9\nparent: P3\n---\n")
    (root / "content/p/p2.md").write_text("---\ncode: P3\ntitle: Three\n---\n")
    apply(root, database_url, allow_destroy=True, prune=True)  # C1 goes before P2
    assert _rows(database_url, schema) == (["P3"], [("C9", "P3")])
    assert not plan(root, database_url, prune=True).has_changes


def test_a_plan_that_would_break_a_foreign_key_is_refused(tmp_path: Path, database_url: str,
                                                          schema: str):
    root = _project(tmp_path, schema)
    apply(root, database_url)
    (root / "content/p/p1.md").unlink()  # C1 still points at P1
    with pytest.raises(PlanError) as refused:
        plan(root, database_url, prune=True)
    assert f'supabase.{schema}.parents.row["P1"]: 1 row(s) of supabase.{schema}.children ' \
           "still reference it" in str(refused.value)
    (root / "content/p/p1.md").write_text("---\ncode: P1\ntitle: One\n---\n")
    (root / "content/c/c2.md").write_text("---\nname: C2\nparent: P9\n---\n")
    with pytest.raises(PlanError) as refused:
        plan(root, database_url)
    assert f'supabase.{schema}.children.row["C2"] (content/c/c2.md:1): parent_code \'P9\' ' \
           "references no row" in str(refused.value)
    (root / "content/p/p9.md").write_text("---\ncode: P9\ntitle: Nine\n---\n")
    apply(root, database_url)  # a parent written by the same plan counts
    assert _rows(database_url, schema) == (["P1", "P2", "P9"], [("C1", "P1"), ("C2", "P9")])


def test_a_cascading_foreign_key_lets_the_parent_go(tmp_path: Path, database_url: str,
                                                     schema: str):
    root = _project(tmp_path, schema, ", on_delete: cascade")
    apply(root, database_url)
    (root / "content/p/p1.md").unlink()
    (root / "content/c/c1.md").unlink()
    (root / "content/c/c0.md").write_text("---\nname: C0\nparent: P2\n---\n")
    apply(root, database_url, allow_destroy=True, prune=True)
    assert _rows(database_url, schema) == (["P2"], [("C0", "P2")])
