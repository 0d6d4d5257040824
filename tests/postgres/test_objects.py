"""What Supabase projects use beyond tables (issue 12, point 9), as code: each kind plans,
applies, plans empty; drift made by hand is planned back; and the plan's SQL, written as a
Supabase CLI migration (`plan --sql-out`), builds the same catalog in an empty database."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from reconciler.backends.postgres.migrations import write_migration
from tests.conftest import fresh_database
from tests.postgres.projects import apply, kinds, make_project, plan

pytestmark = pytest.mark.postgres

#: The extension the projects here declare, and the type a column takes from it: citext
#: (Supabase offers it) where the server has it, else vector, the only one pgserver's build
#: bundles besides plpgsql (its pginstall/share/postgresql/extension/*.control), so that the
#: embedded server the tests fall back to runs every test here too.
EXTENSION_TYPES = {"citext": "citext", "vector": "vector(3)"}

TEMPLATES = {
    "schemas/supabase/{extension}.yaml": "kind: extension\n",
    "schemas/supabase/mood.yaml": "kind: enum\nvalues: [happy, sad]\n",
    "schemas/supabase/ticket_numbers.yaml": "kind: sequence\nas: integer\nstart: 100\n",
    "schemas/supabase/entries.yaml": """\
columns:
  id: {type: bigserial, primary_key: true}
  email: {type: text, comment: Who wrote it}
  label: {type: "{extension_type}"}
  mood: {type: "{schema}.mood", nullable: false, default: happy}
  code: {type: text}
  ticket: {type: integer, default_sql: "nextval('{schema}.ticket_numbers')"}
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
returns: setof {schema}.entries
volatility: stable
search_path: {schema}
body: select * from entries where email::text ilike '%' || query || '%' limit max_rows
comment: Full-text-ish search, called as /rest/v1/rpc/search_entries
""",
    "schemas/supabase/happy_entries.yaml": """\
kind: view
security_invoker: true
query: SELECT id, email FROM {schema}.entries WHERE mood = 'happy'
""",
    "schemas/supabase/public_defaults.yaml": """\
kind: default_privileges
tables: {anon: [select], authenticated: [select, insert]}
functions: {authenticated: [execute]}
""",
}


@pytest.fixture(scope="session")
def extensions(server_url: str) -> frozenset[str]:
    """The extensions the server offers (`pg_available_extensions`)."""
    with psycopg.connect(server_url) as conn:
        return frozenset(n for (n,) in conn.execute("SELECT name FROM pg_available_extensions"))


@pytest.fixture(scope="session")
def extension(extensions: frozenset[str]) -> str:
    """The extension of `EXTENSION_TYPES` the projects here declare."""
    offered = [name for name in EXTENSION_TYPES if name in extensions]
    assert offered, f"the server offers none of {sorted(EXTENSION_TYPES)}"
    return offered[0]


def files(schema: str, extension: str) -> dict[str, str]:
    """The project's files for objects in `schema` (names that tables and views refer to are
    schema-qualified: the test's schema is not on the search path), declaring `extension`."""
    fill = {"{schema}": schema, "{extension}": extension,
            "{extension_type}": EXTENSION_TYPES[extension]}
    return {_fill(rel, fill): _fill(text, fill) for rel, text in TEMPLATES.items()}


def _fill(text: str, fill: dict[str, str]) -> str:
    for placeholder, value in fill.items():
        text = text.replace(placeholder, value)
    return text


@pytest.fixture
def objects(tmp_path: Path, database_url: str, schema: str, extension: str) -> Path:
    root = make_project(tmp_path / "p", files(schema, extension), schema)
    first = apply(root, database_url)
    assert {c.kind for c in first.changes} >= {  # the extension is database-wide: added once
        "add_enum", "add_sequence", "create_table", "add_trigger", "add_function", "add_view",
        "modify_default_privileges", "add_policy"}
    return root


def sql(url: str, *statements: str) -> list:
    with psycopg.connect(url, autocommit=True) as conn:
        return [conn.execute(s).fetchall() if s.lstrip().upper().startswith("SELECT")
                else conn.execute(s) for s in statements]


def test_every_kind_applies_then_plans_empty_and_works(objects, database_url, schema):
    assert not plan(objects, database_url).has_changes
    sql(database_url, f"INSERT INTO {schema}.entries (email) VALUES ('Ada@example.org')")
    (row,), (search,), (members,), (forced,) = (r for r in sql(
        database_url,
        f"SELECT code, ticket, mood::text FROM {schema}.entries",
        f"SELECT count(*) FROM {schema}.search_entries('ada')",
        "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'supabase_realtime' "
        f"AND schemaname = '{schema}' AND tablename = 'entries'",
        f"SELECT relforcerowsecurity FROM pg_class WHERE oid = '{schema}.entries'::regclass"))
    assert row == ("ADA", 100, "happy")
    assert search == (1,) and members == (1,) and forced == (True,)


def test_changes_to_each_kind_are_planned_applied_and_converge(objects, database_url, schema,
                                                               extension):
    declared = files(schema, extension)
    edits = {
        "schemas/supabase/mood.yaml": "kind: enum\nvalues: [happy, meh, {name: blue, "
                                      "renamed_from: sad}]\n",
        "schemas/supabase/ticket_numbers.yaml": "kind: sequence\nas: integer\nstart: 100\n"
                                                "increment: 10\n",
        "schemas/supabase/happy_entries.yaml": declared["schemas/supabase/happy_entries.yaml"]
        .replace("SELECT id, email", "SELECT id, email, code"),
        "schemas/supabase/search_entries.yaml": declared["schemas/supabase/search_entries.yaml"]
        .replace("limit max_rows", "order by id limit max_rows"),
    }
    for rel, text in edits.items():
        (objects / rel).write_text(f"schema: {schema}\n{text}")
    changed = apply(objects, database_url)
    assert sorted(c.kind for c in changed.changes) == [
        "modify_enum", "modify_function", "modify_sequence", "modify_view"]
    enum = next(c for c in changed.changes if c.kind == "modify_enum")
    assert enum.sql == (f"ALTER TYPE \"{schema}\".\"mood\" RENAME VALUE 'sad' TO 'blue';",
                        f"ALTER TYPE \"{schema}\".\"mood\" ADD VALUE 'meh' AFTER 'happy';")
    assert not plan(objects, database_url).has_changes
    (labels,) = sql(database_url, f"SELECT enum_range(NULL::{schema}.mood)::text")
    assert labels == [("{happy,meh,blue}",)]


def test_drift_made_by_hand_is_planned_back(objects, database_url, schema):
    sql(database_url,
        f"ALTER TABLE {schema}.entries DISABLE TRIGGER entries_code",
        f"COMMENT ON COLUMN {schema}.entries.email IS 'edited in the dashboard'",
        f"ALTER PUBLICATION supabase_realtime DROP TABLE {schema}.entries",
        f"ALTER TABLE {schema}.entries NO FORCE ROW LEVEL SECURITY",
        f"CREATE OR REPLACE FUNCTION {schema}.entries_set_code() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA {schema} REVOKE SELECT ON TABLES "
        "FROM anon")
    drift = plan(objects, database_url)
    assert kinds(drift.changes) == [
        ("modify_table", f"supabase.{schema}.entries"),
        ("modify_column", f'supabase.{schema}.entries.column["email"]'),
        ("modify_function", f'supabase.{schema}.function["entries_set_code"]'),
        ("modify_trigger", f'supabase.{schema}.entries.trigger["entries_code"]'),
        ("modify_default_privileges",
         f'supabase.{schema}.default_privileges["postgres"].tables["anon"]'),
    ]
    assert "force_rls" in drift.changes[0].note and "realtime" in drift.changes[0].note
    apply(objects, database_url)
    assert not plan(objects, database_url).has_changes


def test_the_migration_file_builds_the_same_catalog_in_an_empty_database(
        tmp_path, server_url, extension, extensions):
    """`plan --sql-out`: the migration, planned on a database without the project's extension
    and run by itself on an empty one, leaves nothing for the next plan to do. Where the server
    offers pg_trgm (Supabase and the system PostgreSQL do, pgserver's build does not), the
    project also declares it in a schema of its own."""
    schema = f"t_{secrets.token_hex(4)}"
    declared = {extension, "pg_trgm"} if "pg_trgm" in extensions else {extension}
    root = make_project(tmp_path / "p", {
        **files(schema, extension),
        **({"schemas/supabase/pg_trgm.yaml": "kind: extension\nschema: extensions\n"}
           if "pg_trgm" in declared else {})}, schema)
    with fresh_database(server_url) as target, fresh_database(server_url) as empty:
        for url in (target, empty):  # the project's schema, as Supabase's public
            sql(url, f'CREATE SCHEMA "{schema}"')
        planned = plan(root, target)
        assert {c.address for c in planned.changes if c.kind == "add_extension"} == {
            f'supabase.extension["{name}"]' for name in declared}
        path = write_migration([c for c in planned.changes if c.sql], tmp_path / "migrations",
                               "objects", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
        with psycopg.connect(empty, autocommit=True) as conn:
            conn.execute(path.read_text().encode())
        assert not plan(root, empty).has_changes


def test_a_removed_enum_value_is_a_manual_step(objects, database_url, schema):
    (objects / "schemas/supabase/mood.yaml").write_text(f"schema: {schema}\nkind: enum\n"
                                                        "values: [happy]\n")
    (manual,) = plan(objects, database_url).changes
    assert manual.kind == "manual" and "cannot remove the value 'sad'" in manual.manual


def test_objects_the_spec_no_longer_declares_are_dropped(objects, database_url, schema):
    """Once a project declares an object of a kind, the undeclared ones of that kind in its
    schemas go (as undeclared tables do)."""
    for name in ("happy_entries", "search_entries", "ticket_numbers"):
        (objects / f"schemas/supabase/{name}.yaml").unlink()
    (objects / "schemas/supabase/one.yaml").write_text(f"schema: {schema}\nkind: view\n"
                                                       "query: SELECT 1 AS one\n")
    (objects / "schemas/supabase/counter.yaml").write_text(f"schema: {schema}\n"
                                                           "kind: sequence\n")
    spec = objects / "schemas/supabase/entries.yaml"
    spec.write_text(spec.read_text().replace(
        f"  ticket: {{type: integer, default_sql: \"nextval('{schema}.ticket_numbers')\"}}\n",
        ""))
    dropped = plan(objects, database_url)
    by_kind = {c.kind: c for c in dropped.changes}
    assert set(by_kind) == {"drop_view", "drop_function", "drop_sequence", "drop_column",
                            "add_view", "add_sequence"}
    assert by_kind["drop_sequence"].destructive
    assert [d.code for d in by_kind["drop_view"].lint] == ["BC103"]
    apply(objects, database_url, allow_destroy=True)
    assert not plan(objects, database_url).has_changes


def test_a_kind_the_project_does_not_declare_is_left_alone(tmp_path, database_url, schema):
    """Adopting the reconciler never drops what was made by hand: a project that declares no
    view or function leaves the live ones in its schemas alone."""
    root = make_project(tmp_path / "p", {"schemas/supabase/t.yaml":
                                         "columns:\n  id: {type: uuid, primary_key: true}\n"},
                        schema)
    apply(root, database_url)
    sql(database_url, f"CREATE VIEW {schema}.by_hand AS SELECT 1 AS one",
        f"CREATE FUNCTION {schema}.by_hand() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    assert not plan(root, database_url).has_changes


def test_import_keeps_identity_triggers_force_rls_and_realtime(tmp_path, database_url, schema):
    """`reconciler import` writes what this issue added to tables, so the next plan is empty."""
    from reconciler.importer.run import ImportRequest, import_into

    sql(database_url,
        f"CREATE FUNCTION {schema}.stamp() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN NEW; END $$",
        f"CREATE TABLE {schema}.events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "n serial, note text)",
        f"CREATE TRIGGER stamp AFTER INSERT OR DELETE ON {schema}.events FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {schema}.stamp()",
        f"ALTER TABLE {schema}.events DISABLE TRIGGER stamp",
        f"ALTER TABLE {schema}.events ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {schema}.events FORCE ROW LEVEL SECURITY",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = "
        "'supabase_realtime') THEN CREATE PUBLICATION supabase_realtime; END IF; END $$",
        f"ALTER PUBLICATION supabase_realtime ADD TABLE {schema}.events")
    root = make_project(tmp_path / "p", {})
    env = {"DATABASE_URL": database_url}
    result = import_into(root, env, ImportRequest(tables=(f"{schema}.events",)))
    assert not result.problems, result.problems
    text = (root / result.written[0]).read_text()
    assert "identity: by default" in text and "type: serial" in text and "force_rls: true" in text
    assert "realtime: true" in text and "enabled: false" in text
    assert not plan(root, database_url).has_changes


def _acl(url: str, schema: str, what: str) -> list[str]:
    """The ACL items of a function (`what` "function:name") or view ("view:name"), sorted."""
    kind, name = what.split(":")
    query = (f"SELECT p.proacl::text[] FROM pg_proc p WHERE p.proname = '{name}' AND "
             f"p.pronamespace = '{schema}'::regnamespace" if kind == "function" else
             f"SELECT c.relacl::text[] FROM pg_class c WHERE c.oid = '{schema}.{name}'::regclass")
    ((acl,),) = sql(url, query)[0]
    return sorted(acl or [])


def test_a_recreated_function_or_view_keeps_the_privileges_it_had(objects, database_url,
                                                                  schema):
    """QA: revoking EXECUTE from PUBLIC and anon, then changing an argument's default, dropped
    and created the function and PUBLIC (so anon, through /rest/v1/rpc) could call it again;
    a changed view query lost a hand-made GRANT SELECT."""
    sql(database_url,
        f"REVOKE EXECUTE ON FUNCTION {schema}.search_entries(text, int) FROM public, anon",
        f"GRANT SELECT ON {schema}.happy_entries TO authenticated")
    function_acl = _acl(database_url, schema, "function:search_entries")
    view_acl = _acl(database_url, schema, "view:happy_entries")
    assert not any(item.startswith("=") for item in function_acl)
    assert any(item.startswith("authenticated=r") for item in view_acl)
    fn = objects / "schemas/supabase/search_entries.yaml"
    fn.write_text(fn.read_text().replace("DEFAULT 10", "DEFAULT 20"))
    view = objects / "schemas/supabase/happy_entries.yaml"
    view.write_text(view.read_text().replace("SELECT id, email", "SELECT id, email, code"))
    planned = {c.kind: c for c in plan(objects, database_url).changes}
    assert set(planned) == {"modify_function", "modify_view"}
    for change in planned.values():
        assert "privileges are set back as they were" in change.note
        assert any("REVOKE ALL ON" in s for s in change.sql)
    assert "authenticated: select" in planned["modify_view"].note
    apply(objects, database_url)
    assert _acl(database_url, schema, "function:search_entries") == function_acl
    assert _acl(database_url, schema, "view:happy_entries") == view_acl
    ((callable_by_anon,),) = sql(database_url, "SELECT has_function_privilege('anon', "
                                 f"'{schema}.search_entries(text, int)', 'execute')")[0]
    assert callable_by_anon is False
    assert not plan(objects, database_url).has_changes


def test_declared_grants_on_functions_and_views_are_applied_and_drift_is_planned_back(
        objects, database_url, schema):
    """`grants:` in function and view files, as in table files: the roles named get exactly
    what is declared (`public: []` takes PUBLIC's default EXECUTE away); other roles are left
    alone; a grant changed by hand is planned back."""
    fn = objects / "schemas/supabase/search_entries.yaml"
    fn.write_text(fn.read_text() + "grants: {public: [], anon: [], authenticated: [execute]}\n")
    view = objects / "schemas/supabase/happy_entries.yaml"
    view.write_text(view.read_text() + "grants: {anon: [], authenticated: [select]}\n")
    changed = apply(objects, database_url)
    assert sorted(c.kind for c in changed.changes) == ["modify_function", "modify_view"]
    assert all("REVOKE ALL" not in s for c in changed.changes for s in c.sql)
    check = (f"SELECT has_function_privilege('anon', '{schema}.search_entries(text, int)', "
             "'execute'), has_function_privilege('authenticated', "
             f"'{schema}.search_entries(text, int)', 'execute'), "
             f"has_table_privilege('authenticated', '{schema}.happy_entries', 'select')")
    assert sql(database_url, check)[0] == [(False, True, True)]
    assert not any(i.startswith("=") for i in _acl(database_url, schema, "function:search_entries"))
    assert not plan(objects, database_url).has_changes
    sql(database_url, f"GRANT EXECUTE ON FUNCTION {schema}.search_entries(text, int) TO anon",
        f"REVOKE SELECT ON {schema}.happy_entries FROM authenticated")
    drift = {c.kind: c for c in plan(objects, database_url).changes}
    assert set(drift) == {"modify_function", "modify_view"}
    assert "grants anon: execute -> none" in drift["modify_function"].note
    assert not any("CREATE" in s for c in drift.values() for s in c.sql)
    apply(objects, database_url)
    assert sql(database_url, check)[0] == [(False, True, True)]
    assert not plan(objects, database_url).has_changes


def test_a_function_made_new_with_declared_grants_is_not_public(tmp_path, database_url, schema):
    root = make_project(tmp_path / "p", {"schemas/supabase/secret.yaml": (
        "kind: function\nreturns: int\nbody: SELECT 42\n"
        "grants: {public: [], service_role: [execute]}\n")}, schema)
    apply(root, database_url)
    assert sql(database_url, f"SELECT has_function_privilege('anon', '{schema}.secret()', "
                             "'execute')")[0] == [(False,)]
    assert not plan(root, database_url).has_changes


def test_an_unknown_privilege_on_a_function_is_located(tmp_path, database_url, schema):
    root = make_project(tmp_path / "p", {"schemas/supabase/f.yaml": (
        "kind: function\nreturns: int\nbody: SELECT 1\ngrants: {anon: [select]}\n")}, schema)
    with pytest.raises(Exception) as caught:
        plan(root, database_url)
    assert "unknown privilege(s) select on a function (allowed: all, execute)" in str(
        caught.value)


def test_a_view_using_an_enum_value_added_in_the_same_plan_says_apply_the_enum_first(
        objects, database_url, schema):
    """QA: the plan failed (rightly: 'unsafe use of new value') but said "Fix the spec at that
    line" though the spec was right."""
    from reconciler.errors import PlanError
    from reconciler.project.loader import load_project
    from reconciler.session import Session
    from tests.postgres.projects import _env

    (objects / "schemas/supabase/mood.yaml").write_text(
        f"schema: {schema}\nkind: enum\nvalues: [happy, sad, calm]\n")
    view = objects / "schemas/supabase/happy_entries.yaml"
    view.write_text(view.read_text().replace("mood = 'happy'", "mood = 'calm'"))
    with pytest.raises(PlanError) as failed:
        plan(objects, database_url)
    enum = f'supabase.{schema}.enum["mood"]'
    assert "unsafe use of new value" in str(failed.value)
    assert f"apply the enum change first (reconciler apply --target '{enum}')" in str(
        failed.value)
    assert "Fix the spec" not in str(failed.value)
    project = load_project(objects, _env(database_url, {}))
    with Session(project, _env(database_url, {})) as session, session.locked():
        session.apply(session.plan(only=(enum,)), allow_destroy=False)
    assert [c.kind for c in apply(objects, database_url).changes] == ["modify_view"]
    assert not plan(objects, database_url).has_changes


def test_a_hand_made_overload_of_a_declared_function_is_named_not_a_dv101(objects, database_url,
                                                                          schema):
    """QA: an overload made in the database (same name, other arguments) broke the plan with
    `DV101 … already exists with same argument types` at the spec's line 1."""
    sql(database_url, f"CREATE FUNCTION {schema}.search_entries(query text) RETURNS int "
                      "LANGUAGE sql AS 'SELECT 1'")
    fn = objects / "schemas/supabase/search_entries.yaml"
    fn.write_text(fn.read_text().replace("DEFAULT 10", "DEFAULT 20"))
    planned = plan(objects, database_url)
    by_kind = {c.kind: c for c in planned.changes}
    assert set(by_kind) == {"manual", "modify_function"}
    assert f"{schema}.search_entries(query text)" in by_kind["manual"].manual
    assert f"DROP FUNCTION {schema}.search_entries(query text)" in by_kind["manual"].manual
    apply(objects, database_url)
    (left,) = sql(database_url, "SELECT pg_get_function_identity_arguments(oid) FROM pg_proc "
                                f"WHERE proname = 'search_entries' AND pronamespace = "
                                f"'{schema}'::regnamespace ORDER BY 1")
    assert left == [("query text",), ("query text, max_rows integer",)]
    assert [c.kind for c in plan(objects, database_url).changes] == ["manual"]


def test_validate_counts_the_objects_beside_tables(tmp_path, schema, extension):
    """QA: `validate` said "1 table" and nothing of the enum, view, function … beside it."""
    from tests.cli_runner import CliRunner

    from reconciler.cli import app

    root = make_project(tmp_path / "p", files(schema, extension), schema)
    result = CliRunner().invoke(app, ["validate", "--dir", str(root)])
    assert result.exit_code == 0, result.output
    assert ("The spec is valid: 0 Notion databases, 1 table, 1 enum type, 1 extension, "
            "1 sequence, 1 view, 2 functions, 1 default privileges file, 0 vocabularies."
            ) in result.output, result.output
