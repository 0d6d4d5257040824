"""Content rows of tables joined by a foreign key: written parents first and deleted children
first, and a plan whose rows would break a foreign key is refused before anything is written
(`backends.postgres.references`)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from reconciler.errors import PlanError
from reconciler.project.loader import load_project
from reconciler.session import Session
from tests.postgres.projects import _env, apply, make_project, plan

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


def _table(name: str, key: str, columns: str, source: str, fields: str) -> str:
    return (f"columns:\n  {key}: {{type: text, primary_key: true}}\n{columns}"
            f"  content_hash: {{type: text}}\ncontent:\n  key: {key}\n  hash: content_hash\n"
            f"  source:\n    markdown: {source}\n    fields: {{{key}: {key}, {fields}}}\n")


def test_a_referenced_value_is_not_changed_while_rows_reference_it(tmp_path: Path,
                                                                   database_url: str,
                                                                   schema: str):
    """`slug` is referenced and not the key: Postgres refuses to change it in any order while a
    row references its old value, so the plan says how to do it in two applies."""
    ref = f"{{table: parents, column: slug, schema: {schema}}}"
    root = make_project(tmp_path, {
        "schemas/supabase/parents.yaml": _table(
            "parents", "code", "  slug: {type: text, unique: true}\n", "content/p/*.md",
            "slug: slug"),
        "schemas/supabase/children.yaml": _table(
            "children", "name", f"  parent_slug: {{type: text, references: {ref}}}\n",
            "content/c/*.md", "parent_slug: parent"),
        "content/p/p1.md": "---\ncode: P1\nslug: one\n---\n",
        "content/c/c1.md": "---\nname: C1\nparent: one\n---\n"}, schema=schema)
    apply(root, database_url)
    (root / "content/p/p1.md").write_text("---\ncode: P1\nslug: uno\n---\n")
    (root / "content/c/c1.md").write_text("---\nname: C1\nparent: uno\n---\n")
    with pytest.raises(PlanError) as refused:
        plan(root, database_url)
    assert f"parents.row[\"P1\"]: changes slug from 'one', which 1 row(s) of " \
           f"supabase.{schema}.children still reference" in str(refused.value)


def _cycle(root: Path, schema: str, files: dict[str, str]) -> Path:
    """Tables `ta` and `tb`, each with an `other` column referencing the other's `code`."""
    def ref(other: str) -> str:
        return f"  other: {{type: text, references: {{table: {other}, column: code, " \
               f"schema: {schema}}}}}\n"
    return make_project(root, {
        "schemas/supabase/ta.yaml": _table("ta", "code", ref("tb"), "content/a/*.md",
                                           "other: other"),
        "schemas/supabase/tb.yaml": _table("tb", "code", ref("ta"), "content/b/*.md",
                                           "other: other"), **files}, schema=schema)


def test_rows_of_two_tables_that_reference_each_other(tmp_path: Path, database_url: str,
                                                      schema: str):
    """A cycle of tables: a row referencing a row written only after it is refused with the
    way out (two applies); written that way, both converge."""
    root = _cycle(tmp_path, schema, {"content/a/a1.md": "---\ncode: A1\nother: B1\n---\n",
                                     "content/b/b1.md": "---\ncode: B1\nother: A1\n---\n"})
    with pytest.raises(PlanError, match="reference each other"):
        plan(root, database_url)
    with psycopg.connect(database_url) as conn:  # nothing written, not even the tables
        assert conn.execute("SELECT to_regclass(%s)", [f"{schema}.ta"]).fetchone()[0] is None
    (root / "content/b/b1.md").write_text("---\ncode: B1\n---\n")
    apply(root, database_url)
    (root / "content/b/b1.md").write_text("---\ncode: B1\nother: A1\n---\n")
    apply(root, database_url)
    assert not plan(root, database_url).has_changes


def test_a_cascade_may_not_take_rows_the_source_keeps(tmp_path: Path, database_url: str,
                                                      schema: str):
    ref = f"{{table: g, column: code, schema: {schema}, on_delete: cascade}}"
    root = make_project(tmp_path, {
        "schemas/supabase/g.yaml": _table("g", "code", "  title: {type: text}\n",
                                          "content/g/*.md", "title: title"),
        "schemas/supabase/p.yaml": _table("p", "code", f"  g: {{type: text, references: {ref}}}\n",
                                          "content/p/*.md", "g: g"),
        "content/g/g1.md": "---\ncode: G1\n---\n", "content/g/g2.md": "---\ncode: G2\n---\n",
        "content/p/p1.md": "---\ncode: P1\ng: G1\n---\n"}, schema=schema)
    apply(root, database_url)
    (root / "content/g/g1.md").unlink()
    with pytest.raises(PlanError) as refused:
        plan(root, database_url, prune=True)
    assert "the foreign key would delete them, yet their source keeps them" in str(refused.value)


def test_apply_checks_the_foreign_keys_again_before_its_first_write(tmp_path: Path,
                                                                    database_url: str,
                                                                    schema: str):
    """A row of a table the plan never read, inserted by hand between plan and apply, that
    references a row the plan deletes: apply refuses before writing anything."""
    from reconciler.project.loader import load_project
    from reconciler.session import Session
    from tests.postgres.projects import _env

    root = _project(tmp_path, schema)
    apply(root, database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (n int, code text REFERENCES {} (code))").format(
            sql.Identifier(schema, "by_hand"), sql.Identifier(schema, "parents")))
    (root / "content/p/p2.md").unlink()
    project = load_project(root, _env(database_url, {}))
    with Session(project, _env(database_url, {})) as session:
        the_plan = session.plan(prune=True)
    with psycopg.connect(database_url) as conn:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1, 'P2')").format(
            sql.Identifier(schema, "by_hand")))
    with Session(load_project(root, _env(database_url, {})), _env(database_url, {})) as session, \
            session.locked(the_plan):
        with pytest.raises(PlanError, match=r"foreign key \(checked again before the first"):
            session.apply(the_plan, allow_destroy=True)
    assert _rows(database_url, schema)[0] == ["P1", "P2"]


def test_every_tables_rows_are_one_transaction(tmp_path: Path, database_url: str, schema: str,
                                               monkeypatch: pytest.MonkeyPatch):
    """When a table's rows fail at apply (here the children's write is made to fail after the
    parents' rows were written), the rows of the tables before it are rolled back with them."""
    import reconciler.backends.postgres.content as content
    from reconciler.errors import ApplyError

    root = _project(tmp_path, schema)
    write_rows = content.write_rows

    def failing(conn, table, *args, **kwargs):
        if table.name == "children":
            conn.execute("SELECT 1/0")
        return write_rows(conn, table, *args, **kwargs)

    monkeypatch.setattr(content, "write_rows", failing)
    with pytest.raises(ApplyError, match="division by zero"):
        apply(root, database_url)
    assert _rows(database_url, schema) == ([], [])  # the parents' rows went back too


def _sql(url: str, statement: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement)


def test_values_compare_as_their_columns_type(tmp_path: Path, database_url: str, schema: str):
    """`numeric(10,2)` holds 8 as 8.00: a row referencing 8 is no orphan, and pruning 7.5 while
    a row references it is refused."""
    ref = f"{{table: p, column: n, schema: {schema}}}"
    root = make_project(tmp_path, {
        "schemas/supabase/p.yaml": (
            "columns:\n  n: {type: \"numeric(10,2)\", primary_key: true}\n  h: {type: text}\n"
            "content:\n  key: n\n  hash: h\n  source:\n    markdown: content/p/*.md\n"
            "    fields: {n: n}\n"),
        "schemas/supabase/c.yaml": _table("c", "code", f"  pn: {{type: \"numeric(10,2)\", "
                                          f"references: {ref}}}\n", "content/c/*.md", "pn: pn"),
        "content/p/a.md": "---\nn: 8\n---\n", "content/p/b.md": "---\nn: 7.5\n---\n",
        "content/c/c1.md": "---\ncode: C1\npn: 7.5\n---\n"}, schema=schema)
    apply(root, database_url)
    (root / "content/c/c2.md").write_text("---\ncode: C2\npn: 8\n---\n")
    apply(root, database_url)
    (root / "content/p/b.md").unlink()
    with pytest.raises(PlanError, match="still reference it"):
        plan(root, database_url, prune=True)


def test_cascades_through_tables_without_content_are_followed(tmp_path: Path, database_url: str,
                                                              schema: str):
    """g ← q (no content, ON DELETE CASCADE) ← c (content, NO ACTION): pruning g's row would
    delete q's row, which c's row still references. And SET NULL into a NOT NULL column."""
    root = make_project(tmp_path, {
        "schemas/supabase/g.yaml": _table("g", "code", "  title: {type: text}\n",
                                          "content/g/*.md", "title: title"),
        "schemas/supabase/q.yaml": (
            "columns:\n  id: {type: integer, primary_key: true}\n"
            f"  g: {{type: text, references: {{table: g, column: code, schema: {schema}, "
            "on_delete: cascade}}\n"),
        "schemas/supabase/c.yaml": _table("c", "code", f"  q: {{type: integer, references: "
                                          f"{{table: q, column: id, schema: {schema}}}}}\n",
                                          "content/c/*.md", "q: q"),
        "content/g/g1.md": "---\ncode: G1\n---\n", "content/g/g2.md": "---\ncode: G2\n---\n",
        "content/c/c1.md": "---\ncode: C1\n---\n"}, schema=schema)
    apply(root, database_url)
    _sql(database_url, f"INSERT INTO {schema}.q VALUES (1, 'G1')")
    (root / "content/c/c1.md").write_text("---\ncode: C1\nq: 1\n---\n")
    apply(root, database_url)
    (root / "content/g/g1.md").unlink()
    with pytest.raises(PlanError) as refused:
        plan(root, database_url, prune=True)
    assert f'g.row["G1"] (deleting it deletes rows of supabase.{schema}.q): 1 row(s) of ' \
           f"supabase.{schema}.c still reference it" in str(refused.value)


def test_set_null_into_a_not_null_column_is_refused(tmp_path: Path, database_url: str,
                                                    schema: str):
    root = make_project(tmp_path, {
        "schemas/supabase/g.yaml": _table("g", "code", "  title: {type: text}\n",
                                          "content/g/*.md", "title: title"),
        "schemas/supabase/q.yaml": (
            "columns:\n  id: {type: integer, primary_key: true}\n"
            f"  g: {{type: text, nullable: false, references: {{table: g, column: code, "
            f"schema: {schema}, on_delete: set null}}}}\n"),
        "content/g/g1.md": "---\ncode: G1\n---\n", "content/g/g2.md": "---\ncode: G2\n---\n"},
        schema=schema)
    apply(root, database_url)
    _sql(database_url, f"INSERT INTO {schema}.q VALUES (1, 'G1')")
    (root / "content/g/g1.md").unlink()
    with pytest.raises(PlanError, match="would set NULL in a NOT NULL column"):
        plan(root, database_url, prune=True)


def test_two_rows_that_reference_each_other_are_not_pruned_together(
        tmp_path: Path, database_url: str, schema: str):
    root = _cycle(tmp_path, schema, {
        "content/a/a0.md": "---\ncode: A0\n---\n", "content/b/b0.md": "---\ncode: B0\n---\n",
        "content/a/a1.md": "---\ncode: A1\n---\n", "content/b/b1.md": "---\ncode: B1\n---\n"})
    apply(root, database_url)
    (root / "content/a/a1.md").write_text("---\ncode: A1\nother: B1\n---\n")
    (root / "content/b/b1.md").write_text("---\ncode: B1\nother: A1\n---\n")
    apply(root, database_url)
    (root / "content/a/a1.md").unlink()
    (root / "content/b/b1.md").unlink()
    with pytest.raises(PlanError, match="neither deletes them first"):
        plan(root, database_url, prune=True)


def test_renames_in_the_same_plan_are_read_by_their_live_names(tmp_path: Path,
                                                               database_url: str, schema: str):
    """A referencing column renamed while its rows move to another parent, and a referenced
    table renamed while a new row references one of its rows: neither is refused."""
    root = _project(tmp_path, schema)
    apply(root, database_url)
    children = (root / "schemas/supabase/children.yaml").read_text()
    (root / "schemas/supabase/children.yaml").write_text(
        children.replace("  parent_code: {type: text,",
                         "  parent: {type: text, renamed_from: [parent_code],")
        .replace("parent_code: parent}", "parent: parent}"))
    (root / "content/c/c1.md").write_text("---\nname: C1\nparent: P2\n---\n")
    (root / "content/p/p1.md").unlink()
    apply(root, database_url, allow_destroy=True, prune=True)
    with psycopg.connect(database_url) as conn:
        assert conn.execute(sql.SQL("SELECT name, parent FROM {}").format(
            sql.Identifier(schema, "children"))).fetchall() == [("C1", "P2")]
    parents = (root / "schemas/supabase/parents.yaml").read_text()
    (root / "schemas/supabase/parents.yaml").write_text("name: folks\nrenamed_from: [parents]\n"
                                                         + parents)
    (root / "schemas/supabase/children.yaml").write_text(
        (root / "schemas/supabase/children.yaml").read_text().replace("table: parents",
                                                                      "table: folks"))
    (root / "content/c/c2.md").write_text("---\nname: C2\nparent: P2\n---\n")
    apply(root, database_url)
    assert not plan(root, database_url).has_changes


def test_a_sensitive_reference_is_checked_by_apply_and_never_shown(tmp_path: Path,
                                                                  database_url: str,
                                                                  schema: str):
    """The plan holds a sensitive column's values as digests, so apply compares them before
    its first write, and says which row without the value."""
    root = _project(tmp_path, schema)
    children = (root / "schemas/supabase/children.yaml").read_text()
    (root / "schemas/supabase/children.yaml").write_text(
        children.replace("parent_code: {type: text,", "parent_code: {type: text, sensitive: true,"))
    apply(root, database_url)
    (root / "content/c/c2.md").write_text("---\nname: C2\nparent: P9\n---\n")
    with pytest.raises(PlanError) as refused:
        apply(root, database_url)
    assert 'children.row["C2"] (content/c/c2.md:1): parent_code (sensitive) references no ' \
        "row" in str(refused.value)
    assert "P9" not in str(refused.value)
    assert _rows(database_url, schema)[1] == [("C1", "P1")]


def test_a_renamed_key_column_is_read_by_its_live_name(tmp_path: Path, database_url: str,
                                                       schema: str):
    """`slug: {renamed_from: [code]}` as the content key: the plan reads the rows by `code`
    while the rename is pending, renames the column and changes no row."""
    root = _project(tmp_path, schema)
    apply(root, database_url)
    parents = (root / "schemas/supabase/parents.yaml").read_text()
    (root / "schemas/supabase/parents.yaml").write_text(
        parents.replace("  code: {type: text,", "  slug: {type: text, renamed_from: [code],")
        .replace("key: code", "key: slug").replace("{code: code,", "{slug: code,"))
    children = (root / "schemas/supabase/children.yaml").read_text()
    (root / "schemas/supabase/children.yaml").write_text(children.replace("column: code",
                                                                          "column: slug"))
    first = apply(root, database_url)
    assert [c.kind for c in first.changes if c.phase.name == "CONTENT"] == []
    assert not plan(root, database_url).has_changes


def test_keys_and_values_that_are_awkward_in_sql(tmp_path: Path, database_url: str, schema: str):
    """A pruned key holding `%`, a value longer than the referenced `varchar(3)` (a cast would
    cut it to a match), and one activity-log row per table for inserts and deletes together."""
    root = _project(tmp_path, schema)
    parents = (root / "schemas/supabase/parents.yaml").read_text()
    (root / "schemas/supabase/parents.yaml").write_text(
        parents.replace("code: {type: text,", "code: {type: \"varchar(3)\","))
    (root / "content/p/pct.md").write_text("---\ncode: 5%\ntitle: Percent\n---\n")
    apply(root, database_url)
    (root / "content/p/pct.md").unlink()
    (root / "content/p/p3.md").write_text("---\ncode: P3\ntitle: Three\n---\n")
    apply(root, database_url, allow_destroy=True, prune=True)
    assert _rows(database_url, schema)[0] == ["P1", "P2", "P3"]
    with psycopg.connect(database_url) as conn:
        runs = conn.execute("SELECT target, rows_created, rows_deleted FROM "
                            "reconciler.sync_activity "
                            "WHERE target = %s ORDER BY id", [f"supabase.{schema}.parents"]
                            ).fetchall()
    assert runs[-1][1:] == (1, 1)  # the last apply: one row for its insert and its delete
    (root / "content/c/c2.md").write_text("---\nname: C2\nparent: P1X\n---\n")
    with pytest.raises(PlanError, match="parent_code 'P1X' references no row"):
        plan(root, database_url)


def test_a_value_the_live_type_cannot_read(tmp_path: Path, database_url: str, schema: str):
    """Keys that become text in the same plan: a new value the live integer column cannot read
    is a row that references nothing, not a crash."""
    ref = f"{{table: parents, column: code, schema: {schema}}}"
    root = make_project(tmp_path, {
        "schemas/supabase/parents.yaml": PARENTS.replace("code: {type: text,",
                                                         "code: {type: integer,"),
        "schemas/supabase/children.yaml": CHILDREN.replace(
            "{table: parents, column: code, schema: %s%s}", ref).replace(
            "parent_code: {type: text,", "parent_code: {type: integer,"),
        "content/p/p1.md": "---\ncode: 1\ntitle: One\n---\n",
        "content/c/c1.md": "---\nname: C1\nparent: 1\n---\n"}, schema=schema)
    apply(root, database_url)
    for name in ("parents", "children"):
        spec = root / f"schemas/supabase/{name}.yaml"
        spec.write_text(spec.read_text().replace("{type: integer,", "{type: text,"))
    (root / "content/c/c2.md").write_text("---\nname: C2\nparent: x9\n---\n")
    with pytest.raises(PlanError, match="parent_code 'x9' references no row"):
        plan(root, database_url)


def test_a_renamed_table_keeps_its_rows(tmp_path: Path, database_url: str, schema: str):
    """`name: folks, renamed_from: [parents]`: its rows are read under the live name while the
    rename is pending (unchanged, not planned again), and a prune is checked against them."""
    root = _project(tmp_path, schema)
    apply(root, database_url)
    parents = root / "schemas/supabase/parents.yaml"
    parents.write_text("name: folks\nrenamed_from: [parents]\n" + parents.read_text())
    children = root / "schemas/supabase/children.yaml"
    children.write_text(children.read_text().replace("table: parents", "table: folks"))
    (root / "content/p/p3.md").write_text("---\ncode: P3\ntitle: Three\n---\n")
    (root / "content/p/p1.md").unlink()  # C1 still references P1
    with pytest.raises(PlanError, match=r'folks.row\["P1"\]: 1 row\(s\) of .*children still'):
        plan(root, database_url, prune=True)
    first = apply(root, database_url)
    assert [c.address for c in first.changes if c.phase.name == "CONTENT"] == \
        [f'supabase.{schema}.folks.row["P3"]']
    assert not plan(root, database_url).has_changes


def test_content_only_leaves_rows_whose_key_column_is_not_there_yet(tmp_path: Path,
                                                                  database_url: str,
                                                                  schema: str):
    """The key column renamed in the spec, `apply --content-only`: the rows wait for the rename
    (not written, not counted as added), and a full apply then writes them."""
    from reconciler.project.loader import load_project
    from reconciler.session import Session
    from tests.postgres.projects import _env

    root = _project(tmp_path, schema)
    apply(root, database_url)
    parents = root / "schemas/supabase/parents.yaml"
    parents.write_text(parents.read_text().replace("  code: {type: text,",
                                                   "  slug: {type: text, renamed_from: [code],")
                       .replace("key: code", "key: slug").replace("{code: code,", "{slug: code,"))
    children = root / "schemas/supabase/children.yaml"
    children.write_text(children.read_text().replace("column: code", "column: slug"))
    (root / "content/p/p3.md").write_text("---\ncode: P3\ntitle: Three\n---\n")
    env = _env(database_url, {})
    with Session(load_project(root, env), env) as session, session.locked():
        result = session.apply(session.plan(), allow_destroy=False, content_only=True)
    assert result.counts.get("waiting") == 1 and "applied" not in result.counts
    assert _rows(database_url, schema)[0] == ["P1", "P2"]
    apply(root, database_url)
    assert not plan(root, database_url).has_changes


def test_an_update_whose_fields_all_wait_keeps_its_rows_hash(tmp_path: Path, database_url: str,
                                                             schema: str):
    """A new column, `apply --content-only`: each row's update has only deferred fields; the
    rows keep their own stored hashes (not one hash of nothing for all)."""
    from reconciler.project.loader import load_project
    from reconciler.session import Session
    from tests.postgres.projects import _env

    root = _project(tmp_path, schema)
    apply(root, database_url)

    def hashes() -> list:
        with psycopg.connect(database_url) as conn:
            return conn.execute(sql.SQL("SELECT code, content_hash FROM {} ORDER BY 1").format(
                sql.Identifier(schema, "parents"))).fetchall()

    before = hashes()
    parents = root / "schemas/supabase/parents.yaml"
    parents.write_text(parents.read_text().replace("  title: {type: text}\n",
                                                   "  title: {type: text}\n  note: {type: text}\n")
                       .replace("{code: code, title: title}", "{code: code, title: title, "
                                                              "note: title}"))
    env = _env(database_url, {})
    with Session(load_project(root, env), env) as session, session.locked():
        session.apply(session.plan(), allow_destroy=False, content_only=True)
    assert hashes() == before
    apply(root, database_url)
    assert not plan(root, database_url).has_changes


def test_a_targeted_plan_says_to_target_the_other_table_too(tmp_path: Path, database_url: str,
                                                            schema: str):
    root = _project(tmp_path, schema)
    project = load_project(root, _env(database_url, {}))
    with Session(project, _env(database_url, {})) as session:
        with pytest.raises(PlanError, match="target its table too"):
            session.plan(only=(f"supabase.{schema}.children",))


def test_a_former_name_another_declared_table_or_column_holds_is_not_read(
        tmp_path: Path, database_url: str, schema: str):
    """`folks` renamed from `parents` while a new `parents` is declared too: the live `parents`
    is that table's (the diff pairs them by name), so `folks` starts empty and gets its rows;
    the same for a column renamed from a name a new column takes."""
    root = make_project(tmp_path, {"schemas/supabase/parents.yaml": PARENTS,
                                   "content/p/p1.md": "---\ncode: P1\ntitle: One\n---\n"},
                        schema=schema)
    apply(root, database_url)
    (root / "schemas/supabase/folks.yaml").write_text(
        f"schema: {schema}\nname: folks\nrenamed_from: [parents]\n" + PARENTS)
    (root / "schemas/supabase/parents.yaml").write_text(
        f"schema: {schema}\n" + PARENTS.split("content:")[0])
    apply(root, database_url)
    with psycopg.connect(database_url) as conn:
        assert conn.execute(sql.SQL("SELECT code, title FROM {}").format(
            sql.Identifier(schema, "folks"))).fetchall() == [("P1", "One")]
    folks = root / "schemas/supabase/folks.yaml"
    folks.write_text(folks.read_text().replace(
        "  title: {type: text}\n", "  label: {type: text, renamed_from: [title]}\n"
        "  title: {type: text}\n").replace("{code: code, title: title}",
                                          "{code: code, label: title, title: sub}"))
    (root / "content/p/p1.md").write_text("---\ncode: P1\ntitle: One\nsub: s1\n---\n")
    apply(root, database_url)
    with psycopg.connect(database_url) as conn:
        assert conn.execute(sql.SQL("SELECT code, label, title FROM {}").format(
            sql.Identifier(schema, "folks"))).fetchall() == [("P1", "One", "s1")]
    assert not plan(root, database_url).has_changes
