"""YAML → Table: the bundled seed-001 tables, shorthands, mirror:, and located problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.model.notion import Database, NotionDatabases, Property
from reconciler.project.mirror import column_name
from reconciler.project.supabase import load_supabase

from .conftest import REPO

SEED_001 = (
    "business_entities", "contacts_profiles", "community_members", "products_services",
    "workflow_instances", "marketing_campaigns", "feedback_surveys", "rewards_bounties", "tasks",
    "agent_communication_patterns", "agents", "api_integrations", "data_transformations",
    "notification_templates", "use_cases", "workflows",
)


def write(root: Path, name: str, text: str) -> None:
    path = root / "schemas" / "supabase" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def notion(*props: Property) -> NotionDatabases:
    return NotionDatabases(databases=(Database(name="tasks", title="Tasks", properties=props),))


def test_bundled_seed_001_tables_load_cleanly(bundled_project):
    ws = bundled_project
    tables, problems = load_supabase(REPO, {}, ws.notion)
    assert problems == []
    tables = [t for t in tables if t.name != "sot_entries"]  # seed 002's table, not a mirror
    assert sorted(t.name for t in tables) == sorted(SEED_001)
    for table in tables:
        names = [c.name for c in table.columns]
        assert names[:4] == ["id", "notion_page_id", "created_at", "updated_at"]
        assert table.primary_key == ("id",) and table.touch_updated_at
        assert ("notion_page_id",) in [u.columns for u in table.uniques]
        # every bundled table mirrors its seed-001 Notion database
        db = ws.notion.database(table.mirror)
        assert db is not None and table.comment == f"Mirror of the Notion database {db.title!r}"


def test_bundled_tables_mirror_every_notion_property(bundled_project):
    """Seed 001: each table holds all fields of its Notion database; relations to another
    mirrored database are the related page's id (an FK to its notion_page_id) or a uuid[]."""
    ws = bundled_project
    for table in (t for t in ws.supabase if t.mirror):
        db = ws.notion.database(table.mirror)
        for prop in db.properties:
            column = table.column(column_name(prop.name))
            assert column is not None, (table.name, prop.name)
            if prop.type == "relation":
                assert column.type in ("uuid", "uuid[]"), (table.name, prop.name)
    tasks = next(t for t in ws.supabase if t.name == "tasks")
    assert tasks.mirror == "master_tasks"
    fks = {f.columns: (f.ref_table, f.ref_columns) for f in tasks.foreign_keys}
    assert fks[("related_business_entity",)] == ("business_entities", ("notion_page_id",))
    assert [c.name for c in next(t for t in ws.supabase if t.name == "business_entities").columns
            if c.comment and "secret" in c.comment] == ["api_keys_reference"]


def test_shorthands_resolve(tmp_path: Path):
    write(tmp_path, "parents", "columns:\n  id: {type: int4, primary_key: true}\n")
    write(tmp_path, "kids", """
columns:
  id: {type: bigint, primary_key: true}
  parent: {type: integer, references: parents}
  state: {type: enum, values: [a, "it's"], default: a}
  tags: {type: "text ARRAY", default: []}
  price: {type: "decimal(10, 2)", check: price >= 0}
grants: {anon: select, service_role: all}
""")
    tables, problems = load_supabase(tmp_path, {}, NotionDatabases())
    assert problems == []
    kids = next(t for t in tables if t.name == "kids")
    assert [c.type for c in kids.columns] == ["bigint", "integer", "text", "text[]", "numeric(10,2)"]
    assert kids.column("state").default == "'a'"
    assert kids.foreign_keys[0].ref_table == "parents" and kids.foreign_keys[0].ref_columns == ("id",)
    assert len(kids.checks) == 2 and "'it''s'" in kids.checks[0].expression
    assert kids.grants[0].role == "anon" and kids.grants[0].privileges == ("select",)
    assert len(kids.grants[1].privileges) == 7


@pytest.mark.parametrize("text, line, message", [
    ("columns:\n  a: {type: text, colour: red}\n", 2, "unknown key 'colour'"),
    ("columns:\n  a: {nullable: false}\n", 2, "missing required key 'type'"),
    ("columns:\n  a: {type: uuid, references: nowhere}\n", 2, "not declared"),
    ("mirror: nothing\n", 1, "no Notion database named 'nothing'"),
    ("columns:\n  a: {type: text}\nindexes:\n  - columns: [b]\n", 3, "unknown column 'b'"),
    ("columns:\n  a: {type: enum}\n", 2, "`values` goes with `type: enum`"),
    ("grants: {anon: [fly]}\n", 1, "unknown privilege(s) fly"),
    ("columns:\n  lvl:\n    type: enum\n    values: [lo, hi]\n    default: mid\n", 5,
     "the default 'mid' is not one of its values (lo, hi)"),
], ids=["unknown-key", "no-type", "bad-reference", "bad-mirror", "bad-index", "enum", "grant",
        "enum-default"])
def test_problems_are_located(tmp_path: Path, text: str, line: int, message: str):
    write(tmp_path, "things", text)
    _, problems = load_supabase(tmp_path, {}, NotionDatabases())
    assert problems, "expected a problem"
    assert problems[0].file == "schemas/supabase/things.yaml"
    assert problems[0].line == line and message in problems[0].message


def test_mirror_derives_columns_and_explicit_columns_override(tmp_path: Path):
    write(tmp_path, "tasks", """
mirror: {database: tasks, dates: date}
columns:
  status: {nullable: false, default: Todo}
  extra: {type: jsonb}
""")
    ws = notion(Property(name="Name", type="title"), Property(name="Status", type="status"),
                Property(name="Due", type="date"), Property(name="Tags", type="multi_select"),
                Property(name="Blocked by", type="relation", renamed_from=("Depends on",)),
                Property(name="Owner", type="people"), Property(name="Go", type="button"))
    tables, problems = load_supabase(tmp_path, {}, ws)
    assert problems == []
    table = tables[0]
    assert [(c.name, c.type) for c in table.columns] == [
        ("id", "uuid"), ("notion_page_id", "uuid"), ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"), ("name", "text"), ("status", "text"), ("due", "date"),
        ("tags", "text[]"), ("blocked_by", "uuid[]"), ("owner", "jsonb"), ("extra", "jsonb")]
    status = table.column("status")
    assert not status.nullable and status.default == "'Todo'" and "Status" in status.comment
    assert table.column("blocked_by").renamed_from == ("depends_on",)
    assert table.mirror == "tasks" and table.touch_updated_at and table.primary_key == ("id",)


@pytest.mark.parametrize("name, column", [
    ("Duration (min)", "duration_min"), ("SLA p95", "sla_p95"), ("2nd try", "p_2nd_try"),
    ("Created At", "notion_created_at"), ("ID", "notion_id"), ("!!!", "property"),
])
def test_column_names(name: str, column: str):
    assert column_name(name) == column


def test_a_type_that_is_not_a_type_is_refused(tmp_path: Path):
    write(tmp_path, "bad", 'columns:\n  a: {type: "text; DROP TABLE x"}\n')
    _, problems = load_supabase(tmp_path, {}, NotionDatabases())
    assert [(p.line, "not a plain type name" in p.message) for p in problems] == [(2, True)]
