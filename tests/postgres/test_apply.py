"""Plan and apply against a real PostgreSQL: converge, re-plan empty, change, refuse to interleave."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import sql

from reconciler.backends.postgres.compile import statements
from reconciler.backends.postgres.reader import read_tables
from reconciler.errors import ApplyError
from reconciler.model.postgres import Check, Column, Grant, Index, Policy, Unique

from .conftest import apply_changes, converge, kinds, plan

pytestmark = pytest.mark.postgres


def test_create_from_empty_then_replan_is_empty(conn, make_table):
    tasks = make_table(
        "tasks", Column(name="title", type="text", nullable=False),
        Column(name="state", type="text", default="'todo'"),
        Column(name="tags", type="text[]", default="'{}'"),
        Column(name="meta", type="jsonb", default="'{\"a\": 1}'"),
        Column(name="price", type="numeric(10,2)", default="0"),
        Column(name="due", type="date"), Column(name="n", type="int8", default="-1"),
        Column(name="updated_at", type="timestamptz", nullable=False, default="now()"),
        uniques=(Unique(name="tasks_title_key", columns=("title",)),),
        checks=(Check(name="tasks_c", expression="state IN ('todo', 'done')"),
                Check(name="tasks_p", expression="price >= 0")),
        indexes=(Index(name="tasks_lower_idx", columns=("(lower(title))",),
                       where="state = 'todo'"),),
        comment="Tasks", touch_updated_at=True, rls=True,
        policies=(Policy(name="read", command="select", roles=("anon", "authenticated"),
                         using="state <> 'secret'"),),
        grants=(Grant(role="anon", privileges=("select",)),))
    created = converge(conn, [tasks])
    # a new table's grants are part of its creation, not an update of it
    assert [k for k, _ in kinds(created)] == ["create_table", "add_index", "add_policy"]
    assert any("GRANT SELECT" in s and '"anon"' in s for s in statements(created[0]))
    assert plan(conn, [tasks]) == []
    conn.execute(sql.SQL("INSERT INTO {} (title) VALUES ('x')").format(
        sql.Identifier(tasks.schema_name, "tasks")))
    first = conn.execute(sql.SQL("SELECT updated_at FROM {}").format(
        sql.Identifier(tasks.schema_name, "tasks"))).fetchone()[0]
    conn.commit()
    conn.execute(sql.SQL("UPDATE {} SET state = 'done'").format(
        sql.Identifier(tasks.schema_name, "tasks")))
    later = conn.execute(sql.SQL("SELECT updated_at FROM {}").format(
        sql.Identifier(tasks.schema_name, "tasks"))).fetchone()[0]
    assert later > first, "the trigger keeps updated_at current"


def test_add_rename_retype_drop_column(conn, make_table, schema):
    v1 = make_table("notes", ("body", "text"), ("n", "integer"), ("old", "text"))
    converge(conn, [v1])
    conn.execute(sql.SQL("INSERT INTO {} (body, n, old) VALUES ('hello', 7, 'x'), ('bye', 8, NULL)"
                         ).format(sql.Identifier(schema, "notes")))
    conn.commit()
    v2 = make_table("notes", Column(name="text", type="text", renamed_from=("body",)),
                    ("n", "bigint"), ("added", "boolean"))
    changes = plan(conn, [v2])
    assert kinds(changes) == [
        ("rename_column", f'supabase.{schema}.notes.column["text"]'),
        ("add_column", f'supabase.{schema}.notes.column["added"]'),
        ("modify_column", f'supabase.{schema}.notes.column["n"]'),
        ("drop_column", f'supabase.{schema}.notes.column["old"]'),
    ]
    drop = changes[3]
    assert drop.destructive and drop.rows_affected == 1
    assert not changes[2].destructive  # integer → bigint widens
    apply_changes(conn, changes)
    rows = conn.execute(sql.SQL("SELECT text, n FROM {} ORDER BY n").format(
        sql.Identifier(schema, "notes"))).fetchall()
    assert rows == [("hello", 7), ("bye", 8)], "a rename keeps the data"
    assert plan(conn, [v2]) == []
    v3 = make_table("notes", ("text", "text"), ("n", "smallint"), ("added", "boolean"))
    narrow = plan(conn, [v3])
    assert kinds(narrow) == [("modify_column", f'supabase.{schema}.notes.column["n"]')]
    assert narrow[0].destructive and narrow[0].rows_affected == 2


def test_drop_table_counts_rows(conn, make_table, schema):
    keep, gone = make_table("keep"), make_table("gone")
    converge(conn, [keep, gone])
    conn.execute(sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(schema, "gone")))
    conn.commit()
    [drop] = plan(conn, [keep])
    assert (drop.kind, drop.destructive, drop.rows_affected) == ("drop_table", True, 1)


def test_index_and_policy_changes(conn, make_table, schema):
    v1 = make_table("items", ("owner", "text"), ("state", "text"), rls=True,
                    indexes=(Index(name="items_owner_idx", columns=("owner",)),),
                    policies=(Policy(name="mine", using="owner = current_user"),))
    converge(conn, [v1])
    v2 = v1.model_copy(update={
        "indexes": (Index(name="items_state_idx", columns=("state", "owner"), unique=True),),
        "policies": (Policy(name="mine", command="select", roles=("authenticated",),
                            using="owner = current_user"),
                     Policy(name="open", command="insert", with_check="state = 'new'"))})
    changes = plan(conn, [v2])
    assert [k for k, _ in kinds(changes)] == [
        "drop_index", "add_index", "modify_policy", "add_policy"]
    apply_changes(conn, changes)
    assert plan(conn, [v2]) == []


def test_names_with_quotes_spaces_and_semicolons_round_trip(conn, make_table, schema):
    name, col = 'we"ird; DROP TABLE x; --', 'col "a"; b'
    table = make_table(name, Column(name=col, type="text", comment="it's; fine"),
                       indexes=(Index(name='idx "q"; x', columns=(col,)),),
                       uniques=(Unique(name="u", columns=(col,)),),
                       policies=(Policy(name='p "1"; x', using="true"),),
                       comment="a 'quoted'; comment")
    changes = converge(conn, [table])
    assert changes[0].address == 'supabase.%s.table["we\\"ird; DROP TABLE x; --"]' % schema
    assert plan(conn, [table]) == []
    live, _ = read_tables(conn, [table])
    assert live[0].name == name and live[0].column(col).comment == "it's; fine"
    renamed = table.model_copy(update={"columns": (table.columns[0], Column(
        name="plain", type="text", renamed_from=(col,), comment="it's; fine")),
        "uniques": (Unique(name="u", columns=("plain",)),),
        "indexes": (Index(name='idx "q"; x', columns=("plain",)),)})
    changes = plan(conn, [renamed])
    assert [c.kind for c in changes] == ["rename_column"]
    apply_changes(conn, changes)
    assert plan(conn, [renamed]) == []


def test_grants_to_present_and_absent_roles(conn, make_table):
    table = make_table("g", grants=(
        Grant(role="authenticated", privileges=("insert", "select")),
        Grant(role="service_role", privileges=("delete", "insert", "select", "update")),
        Grant(role="reconciler_no_such_role", privileges=("select",))))
    converge(conn, [table])
    live, _ = read_tables(conn, [table])
    got = {g.role: g.privileges for g in live[0].grants}
    assert got["authenticated"] == ("select", "insert")
    assert plan(conn, [table]) == [], "absent roles count as satisfied; no endless diff"
    fewer = table.model_copy(update={"grants": (Grant(role="authenticated",
                                                      privileges=("select",)),)})
    changes = plan(conn, [fewer])
    assert [(c.kind, c.sql[0].split(" THEN ")[1][:6]) for c in changes] == [("revoke", "REVOKE")]
    apply_changes(conn, changes)
    assert plan(conn, [fewer]) == []


def test_failure_rolls_everything_back(conn, make_table, schema):
    good = make_table("good")
    bad = make_table("bad", Column(name="x", type="integer", default="'not a number'"))
    changes = plan(conn, [good, bad])
    with pytest.raises(ApplyError) as info:
        apply_changes(conn, changes)
    assert info.value.address == f"supabase.{schema}.bad" and info.value.applied == 0
    assert kinds(plan(conn, [good])) == [("create_table", f"supabase.{schema}.good")]


def test_apply_notifies_postgrest(conn, make_table, database_url):
    got: list[str] = []
    listener = psycopg.connect(database_url, autocommit=True)
    listener.execute("LISTEN pgrst")
    apply_changes(conn, plan(conn, [make_table("notify")]))
    thread = threading.Thread(target=lambda: got.extend(
        n.payload for n in listener.notifies(timeout=5, stop_after=1)))
    thread.start()
    thread.join()
    listener.close()
    assert got == ["reload schema"]


def test_expressions_of_many_tables_are_probed_together_without_mixing_them_up(
        conn, make_table, schema):
    """The server prints every table's expressions in one batch (`canonical.probe_all`): two
    schemas' indexes of one name, and a check holding the batch's own quoting tag, still plan
    nothing once applied."""
    other = f"{schema}_b"
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(other)))
    conn.commit()

    def spelled(table_schema: str, expression: str) -> object:
        return make_table(
            "notes", ("title", "text"), ("n", "int4"),
            checks=(Check(name="notes_tag", expression="title <> '$probe$ $probe1$'"),
                    Check(name="notes_n", expression="n IN (1, 2)"),),
            indexes=(Index(name="by_title", columns=(expression,), where="n IN (1, 2)"),),
        ).model_copy(update={"schema_name": table_schema})

    tables = [spelled(schema, "(lower(title))"), spelled(other, "(upper(title))")]
    converge(conn, tables)
    assert plan(conn, tables) == []
    swapped = [tables[0], spelled(other, "(lower(title))")]
    assert [(c.kind, c.address.split(".")[1]) for c in plan(conn, swapped)] == [
        ("drop_index", other), ("add_index", other)]


def test_a_table_whose_text_cannot_be_sent_leaves_the_others_probed(conn, make_table, schema):
    """A NUL in one table's check (psycopg cannot send it) costs that table its probe, not
    every table's: the others' expressions still compare as declared."""
    from reconciler.backends.postgres.canonical import probe_all

    good = make_table("good", ("price", "numeric"),
                      checks=(Check(name="good_price", expression="price >= 0"),))
    bad = make_table("bad", ("t", "text"), checks=(Check(name="bad_t", expression="t <> 'x\0y'"),))
    forms = probe_all(conn, [bad, good])
    assert forms[id(good)]["checks"] == {"(price >= (0)::numeric)": "price >= 0"}
    assert forms[id(bad)]["checks"] == {}
