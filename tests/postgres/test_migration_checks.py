"""Every migration checked before it runs (issue 12, points 7 and 8): the dev database, the
analyzers' codes counted in the live data, and apply's order (Postgres first)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from reconciler.errors import ApplyError, PlanError
from reconciler.project.loader import load_project
from reconciler.session import Session
from tests.databases import embedded_server_folder, fresh_database
from tests.postgres.projects import _env, apply, make_project, plan

pytestmark = pytest.mark.postgres

ITEMS = """\
columns:
  id: {type: bigint, identity: always, primary_key: true}
  name: {type: text}
"""


@pytest.fixture
def items(tmp_path: Path, database_url: str, schema: str) -> Path:
    root = make_project(tmp_path / "p", {"schemas/supabase/items.yaml": ITEMS}, schema)
    apply(root, database_url)
    return root


def add_column(root: Path, line: str) -> None:
    spec = root / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text() + line)


def rows(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.mark.parametrize("line, server_says", [
    ("  price: {type: numeric, check: 'price >'}\n", "syntax error"),
    ("  qty: {type: integer, default: many}\n", 'invalid input syntax for type integer: "many"'),
    ("  at: {type: date, default_sql: now() + 1}\n", "operator does not exist"),
])
def test_a_migration_the_server_refuses_is_a_plan_error_at_its_spec_line(
        items, database_url, line, server_says):
    add_column(items, line)
    with pytest.raises(PlanError) as info:
        plan(items, database_url)
    message = str(info.value)
    assert message.startswith("schemas/supabase/items.yaml:5:"), message
    assert "DV101" in message and server_says in message and "SQL: ALTER TABLE" in message


def test_a_bad_column_in_a_new_table_points_at_that_column(tmp_path, database_url, schema):
    root = make_project(tmp_path / "p", {"schemas/supabase/t.yaml": """\
columns:
  id: {type: uuid, primary_key: true}
  a: {type: text}
  n: {type: integer, default_sql: "'x' || 1"}
"""}, schema)
    with pytest.raises(PlanError) as info:
        plan(root, database_url)
    assert str(info.value).startswith(
        f'schemas/supabase/t.yaml:5:3: supabase.{schema}.t.column["n"]: DV101')


def test_a_not_null_column_added_to_a_table_with_rows_fails_at_plan_time(items, database_url,
                                                                          schema):
    rows(database_url, f"INSERT INTO {schema}.items (name) VALUES ('a'), ('b')")
    add_column(items, "  sku: {type: text, nullable: false}\n")
    with pytest.raises(PlanError) as info:
        plan(items, database_url)
    message = str(info.value)
    assert message.startswith(f'schemas/supabase/items.yaml:5:3: '
                              f'supabase.{schema}.items.column["sku"]: MF103'), message
    assert "2 row(s)" in message and "give the column a default" in message
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("nullable: false}", "nullable: false, "
                                             "default: unknown}"))
    apply(items, database_url)
    assert not plan(items, database_url).has_changes


@pytest.mark.parametrize("setup, change, code, count", [
    ("(NULL), ('y')", ("name: {type: text}", "name: {type: text, nullable: false}"), "MF104", 1),
    ("('x'), ('x'), ('y')", ("name: {type: text}", "name: {type: text, unique: true}"),
     "MF101", 2),
    ("('12'), ('twelve')", ("name: {type: text}", "name: {type: integer}"), "MF105", 1),
    ("('a'), ('bad'), ('bad'), (NULL)",
     ("name: {type: text}", "name: {type: text, check: \"name <> 'bad'\"}"), "MF107", 2),
    ("('To Do'), ('Done'), ('Later')",
     ("name: {type: text}", "name: {type: enum, values: [To Do, Done]}"), "MF107", 1),
])
def test_data_dependent_changes_are_counted_and_refused(items, database_url, schema, setup,
                                                        change, code, count):
    rows(database_url, f"INSERT INTO {schema}.items (name) VALUES {setup}")
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace(*change))
    with pytest.raises(PlanError, match=f"^schemas/supabase/items.yaml:4:.* {code} .*: {count} "):
        plan(items, database_url)


def test_a_type_change_over_values_that_do_not_fit_names_a_few(items, database_url, schema):
    rows(database_url, f"INSERT INTO {schema}.items (name) VALUES ('12'), ('twelve'), ('six'), "
                       "('one'), ('two'), ('two')")
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("name: {type: text}", "name: {type: integer}"))
    with pytest.raises(PlanError) as info:
        plan(items, database_url)
    assert "5 value(s) cannot be cast to integer, e.g. 'one', 'six', 'twelve'" in str(info.value)
    spec.write_text(spec.read_text().replace("type: integer}", "type: integer, sensitive: true}"))
    with pytest.raises(PlanError) as info:
        plan(items, database_url)
    assert "5 value(s) cannot be cast to integer;" in str(info.value)
    assert "twelve" not in str(info.value)


def test_a_foreign_key_over_rows_that_reference_nothing_fails_at_plan_time(items, database_url,
                                                                            schema):
    (items / "schemas/supabase/owners.yaml").write_text(
        f"schema: {schema}\ncolumns:\n  id: {{type: bigint, primary_key: true}}\n")
    add_column(items, "  owner: {type: bigint}\n")
    apply(items, database_url)
    rows(database_url, f"INSERT INTO {schema}.owners VALUES (1); INSERT INTO {schema}.items "
                       "(name, owner) VALUES ('a', 1), ('b', 2), ('c', 3), ('d', NULL)")
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("owner: {type: bigint}",
                                             "owner: {type: bigint, references: owners}"))
    with pytest.raises(PlanError) as info:
        plan(items, database_url)
    message = str(info.value)
    assert message.startswith("schemas/supabase/items.yaml:5:"), message
    assert "MF108" in message and "2 row(s) have (owner) with no match in owners (id)" in message
    rows(database_url, f"UPDATE {schema}.items SET owner = NULL WHERE owner > 1")
    apply(items, database_url)
    assert not plan(items, database_url).has_changes


def test_integer_to_serial_is_not_called_a_rewrite(items, database_url, schema):
    """QA: PG102 warned "the table is rewritten" where the SQL only adds a sequence and a
    default; a longer varchar is no rewrite either."""
    add_column(items, "  seq: {type: integer}\n  code: {type: 'varchar(5)'}\n")
    apply(items, database_url)
    rows(database_url, f"INSERT INTO {schema}.items (seq) SELECT g FROM generate_series(1, 10000) g")
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("seq: {type: integer}", "seq: {type: serial}")
                    .replace("'varchar(5)'", "'varchar(9)'"))
    planned = plan(items, database_url)
    assert {c.address.rsplit("[", 1)[1] for c in planned.changes} == {'"seq"]', '"code"]'}
    assert [d.code for c in planned.changes for d in c.lint] == []
    apply(items, database_url)
    assert not plan(items, database_url).has_changes


def test_narrowing_a_column_that_holds_no_value_is_not_destructive(items, database_url, schema):
    """QA: timestamptz → timestamp over a column of NULLs asked for --allow-destroy."""
    add_column(items, "  at: {type: timestamptz}\n")
    apply(items, database_url)
    rows(database_url, f"INSERT INTO {schema}.items (name) VALUES ('a')")
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("at: {type: timestamptz}", "at: {type: timestamp}"))
    (change,) = plan(items, database_url).changes
    assert not change.destructive and change.rows_affected == 0
    assert "none is lost" in change.note
    apply(items, database_url)  # no --allow-destroy
    assert not plan(items, database_url).has_changes
    rows(database_url, f"UPDATE {schema}.items SET at = now()")
    spec.write_text(spec.read_text().replace("at: {type: timestamp}", "at: {type: date}"))
    (change,) = plan(items, database_url).changes
    assert change.destructive and change.rows_affected == 1


def test_warnings_carry_codes_and_counts(items, database_url, schema):
    rows(database_url, f"INSERT INTO {schema}.items (name) SELECT 'n' || g "
                       "FROM generate_series(1, 10000) g")
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("  name: {type: text}\n", """\
  title: {type: 'varchar(3)', renamed_from: name}
indexes:
  - columns: [title]
"""))
    found = {d.code: d for c in plan(items, database_url).changes for d in c.lint}
    assert set(found) == {"BC102", "MF106", "PG101", "PG102"}
    assert found["MF106"].count == 10000 - 99  # n1 … n99 fit in 3 characters
    assert found["PG101"].count == 10000 and "concurrently: true" in found["PG101"].message


def test_an_index_built_concurrently_runs_outside_the_transaction(items, database_url):
    spec = items / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text() + "indexes:\n  - {columns: [name], concurrently: true}\n")
    planned = apply(items, database_url)
    (change,) = planned.changes
    assert any("CREATE INDEX CONCURRENTLY" in s for s in change.sql)
    assert not plan(items, database_url).has_changes


TASKS_DB = "title: Tasks\nproperties:\n  Name: {type: title}\n"


def test_a_failing_postgres_change_leaves_notion_untouched(tmp_path, database_url, schema):
    """Apply runs Postgres's transaction first: when it fails, no Notion change has been made."""
    root = make_project(tmp_path / "p", {"schemas/notion/tasks.yaml": TASKS_DB,
                                         "schemas/supabase/items.yaml": ITEMS}, schema)
    apply(root, database_url)
    (root / "schemas/notion/tasks.yaml").write_text(TASKS_DB + "  Due: {type: date}\n")
    add_column(root, "  sku: {type: text, nullable: false}\n")
    env = _env(database_url, {})
    project = load_project(root, env)
    with Session(project, env) as session:
        planned = session.plan()  # the table is empty: the new NOT NULL column is fine
    assert {c.kind for c in planned.changes} == {"add_property", "add_column"}
    rows(database_url, f"INSERT INTO {schema}.items (name) VALUES ('arrived meanwhile')")
    with Session(project, env) as session, session.locked():
        with pytest.raises(ApplyError) as info:
            session.apply(planned, allow_destroy=False)
    assert "Of the plan's 2 change(s): none; 1 failed" in str(info.value)
    assert "; 1 not attempted" in str(info.value)
    with Session(project, env) as session:
        with pytest.raises(PlanError, match="MF103"):  # the row is there now: refused early
            session.plan()
    (root / "schemas/supabase/items.yaml").write_text(f"schema: {schema}\n{ITEMS}")
    left = plan(root, database_url)
    assert [c.kind for c in left.changes] == ["add_property"], "Notion was not changed"


def test_supabase_auth_is_stood_in_for_when_the_live_database_has_it(tmp_path, database_url,
                                                                    schema):
    """The live database has Supabase's auth schema (outside the declared ones); the dev database
    does not: `auth.uid()` in a policy is checked against a stand-in, and refused when misused."""
    rows(database_url, "CREATE SCHEMA IF NOT EXISTS auth")
    rows(database_url, "CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE "
                       "AS 'SELECT NULL::uuid'")
    policy = ("rls: true\npolicies:\n  own: {command: select, roles: [authenticated], "
              "using: \"owner = auth.uid()\"}\n")
    table = ITEMS + "  owner: {type: uuid}\n" + policy
    root = make_project(tmp_path / "p", {"schemas/supabase/items.yaml": table}, schema)
    apply(root, database_url)
    assert not plan(root, database_url).has_changes
    spec = root / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("owner = auth.uid()", "name = auth.uid()"))
    with pytest.raises(PlanError, match=r"items.yaml:\d+:\d+: .*policy\[\"own\"\]: DV101 "
                                        r".*operator does not exist: text = uuid"):
        plan(root, database_url)


def test_the_cli_shows_lint_codes_and_refuses_at_the_spec_line(tmp_path, database_url, schema,
                                                               dev_database, monkeypatch):
    from tests.cli_runner import CliRunner

    from reconciler.cli import app

    monkeypatch.setenv("DATABASE_URL", database_url)
    root = make_project(tmp_path / "p", {"schemas/supabase/items.yaml": ITEMS}, schema)
    runner = CliRunner()
    assert runner.invoke(app, ["apply", "--auto-approve", "--dir", str(root)]).exit_code == 0
    rows(database_url, f"INSERT INTO {schema}.items (name) VALUES ('a')")
    spec = root / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text().replace("  name: {type: text}\n",
                                             "  title: {type: text, renamed_from: name}\n"))
    shown = runner.invoke(app, ["plan", "--dir", str(root), "--out", str(root / "p.yaml")])
    assert shown.exit_code == 0, shown.output
    assert "# BC102 warning: renames a column: name becomes title" in shown.output
    markdown = runner.invoke(app, ["show", str(root / "p.yaml"), "--format", "markdown"])
    assert "### Lint" in markdown.output and "| `BC102` | warning |" in markdown.output
    spec.write_text(spec.read_text() + "  sku: {type: text, nullable: false}\n")
    refused = runner.invoke(app, ["plan", "--dir", str(root), "--dev-url", dev_database])
    assert refused.exit_code == 1
    assert (f'schemas/supabase/items.yaml:5:3: supabase.{schema}.items.column["sku"]: MF103'
            in refused.output)


def test_an_extension_only_the_embedded_dev_database_lacks_is_unchecked_not_refused(
        server_url, monkeypatch):
    """No dev database given (the embedded one, as for a Supabase user without a local server:
    pgserver's build bundles only plpgsql and vector) and a plan that adds an extension the
    live database offers: the plan says the migration was not checked (DV102, naming the
    extension) rather than refusing a spec that is right (DV101); one the live database lacks
    too is still refused (when it is the only one: one the dev database lacks leaves every
    change unchecked)."""
    with psycopg.connect(server_url) as conn:
        offered = {n for (n,) in conn.execute("SELECT name FROM pg_available_extensions")}
    if "citext" not in offered:
        pytest.skip("the session's server is the embedded one: it lacks what its dev database "
                    "lacks (citext)")
    monkeypatch.delenv("DEV_DATABASE_URL")
    with embedded_server_folder("reconciler-dev-") as folder, \
            fresh_database(server_url) as target:
        root = make_project(folder / "p", {
            "schemas/supabase/citext.yaml": "kind: extension\n",
            "schemas/supabase/people.yaml": "columns:\n  id: {type: uuid, primary_key: true}\n"
                                            "  email: {type: citext}\n"})
        (note,) = [d for c in plan(root, target).changes for d in c.lint if d.code == "DV102"]
        assert "citext" in note.message and "not checked" in note.message
        assert not (root / ".reconciler/postgres/postmaster.pid").exists(), "stopped after use"
        for rel in ("citext.yaml", "people.yaml"):
            (root / "schemas/supabase" / rel).unlink()
        (root / "schemas/supabase/nowhere.yaml").write_text("kind: extension\n")
        with pytest.raises(PlanError, match=r'nowhere.yaml:1:1: .*DV101 .*"nowhere" is not '
                                            r"available"):
            plan(root, target)


def test_a_project_without_an_id_gets_one_from_its_first_apply(tmp_path, database_url, schema):
    root = make_project(tmp_path / "p", {"schemas/supabase/items.yaml": ITEMS}, schema)
    env = _env(database_url, {})
    with Session(load_project(root, env), env) as session, session.locked():
        pass
    assert session.notices and "Commit it" in session.notices[0]
    project_id = load_project(root, env).config.project_id
    assert project_id and project_id in session.notices[0]
    with Session(load_project(root, env), env) as session, session.locked():
        pass
    assert session.notices == [] and load_project(root, env).config.project_id == project_id


def test_every_lint_code_is_documented_with_what_to_do():
    from reconciler.backends.postgres.lint_codes import CODES

    docs = (Path(__file__).resolve().parents[2] / "docs" / "supabase.md").read_text()
    table = docs[docs.index("## Lint codes"):]
    missing = [code for code in CODES if f"| {code} |" not in table]
    assert missing == []
