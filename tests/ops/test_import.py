"""`reconciler import`: live databases and tables → YAML the loader reads back into the same
models, so the plan right after an import is empty. Through the CLI, the real notion-client on
the local Notion and a real Postgres."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from reconciler.errors import ConfigError
from reconciler.importer.notion_docs import formula_text, notion_documents
from reconciler.importer.notion_source import parse_reference
from reconciler.importer.run import ImportRequest, import_into
from reconciler.local import local_client, root_page_id
from reconciler.model.notion import Database, Property, SelectOption, stable_color
from reconciler.project.loader import load_project
from tests.conftest import fresh_database
from tests.ops.conftest import cli, new_project
from tests.ops.recorded_workspace import RECORDINGS, load_recorded_workspace


def plan_output(root: Path, env: dict | None = None) -> str:
    return cli("plan", "--detailed-exitcode", "--dir", str(root), env=env, code=None).output


def test_bundled_workspace_after_apply_imports_to_an_empty_plan(applied_bundle, tmp_path: Path):
    bundle, env = applied_bundle
    root = new_project(tmp_path / "mine", workspace=bundle)
    out = cli("import", "--all-notion", "--schema", "public", "--dir", str(root), env=env).output
    assert "Imported" in out
    declared = load_project(bundle, env)
    assert len(list((root / "schemas" / "notion").glob("*.yaml"))) == len(declared.notion.databases)
    assert len(list((root / "schemas" / "supabase").glob("*.yaml"))) == len(declared.supabase)
    result = cli("plan", "--detailed-exitcode", "--dir", str(root), env=env, code=None)
    assert result.exit_code == 0, result.output
    assert "No changes" in result.output
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    assert len(state["notion"]["local"]["databases"]) == len(declared.notion.databases)


def test_import_keeps_colours_vocabularies_relations_rollups_and_formulas(applied_bundle,
                                                                          tmp_path: Path):
    bundle, env = applied_bundle
    root = new_project(tmp_path / "mine", workspace=bundle)
    cli("import", "--all-notion", "--dir", str(root), env=env)
    project = load_project(root, {})
    by_title = {db.title: db for db in project.notion.databases}
    tasks = by_title["Master Tasks Database"]
    status = tasks.property("Status")
    assert [(o.name, o.color) for o in status.options][:2] == [("To Do", "gray"),
                                                                ("In Progress", "blue")]
    relation = tasks.property("Related Business Entity").relation
    assert project.notion.database(relation.database).title == "Business Entities Registry"
    # option sets used by several properties became shared vocabularies
    assert project.vocabularies, "repeated option sets are written once, in schemas/vocab"
    assert any(p.vocabulary for db in project.notion.databases for p in db.properties)
    original = load_project(bundle, {})
    formulas = {(db.title, p.name): p.formula for db in original.notion.databases
                for p in db.properties if p.type == "formula"}
    imported = {(db.title, p.name): p.formula for db in project.notion.databases
                for p in db.properties if p.type == "formula"}
    assert formulas and imported == formulas
    rollups = {(db.title, p.name): p.rollup for db in original.notion.databases
               for p in db.properties if p.type == "rollup"}
    assert rollups == {(db.title, p.name): p.rollup for db in project.notion.databases
                       for p in db.properties if p.type == "rollup"}


def test_bundled_content_imports_as_rows_the_plan_leaves_unchanged(applied_bundle,
                                                                    tmp_path: Path):
    bundle, env = applied_bundle
    root = new_project(tmp_path / "mine", workspace=bundle)
    cli("import", "--all-notion", "--content", "--dir", str(root), env=env)
    out = plan_output(root, env)
    databases = len(load_project(root, env).notion.databases)
    assert f"Plan: {databases} to create, 0 to update, 0 to rename, 0 to delete" in out, out
    assert out.count('property["Content hash"] will be created') == databases
    content = [line for line in out.splitlines() if line.startswith("  notion.") and "unchanged" in line]
    assert len(content) == databases and "notion.lukhas_modules: 0 to create" in out
    assert all("0 to create, 0 to update, 0 to archive" in line for line in content), out
    assert sum(int(line.split(", ")[-1].split()[0]) for line in content) >= 20  # rows compared


@pytest.mark.skipif(RECORDINGS is None, reason="no recorded Notion sessions")
def test_every_recorded_data_source_round_trips(tmp_path: Path):
    root = new_project(tmp_path / "rec")
    store = root / ".reconciler" / "notion"
    client = local_client(store, retry=False)
    loaded = load_recorded_workspace(client, root_page_id(client), store)
    assert len(loaded.sources) >= 45
    cli("import", "--all-notion", "--dir", str(root), code=0)
    written = list((root / "schemas" / "notion").glob("*.yaml"))
    assert len(written) == len(loaded.sources)
    # the recorded formula Notion stores with a leading "=" (NOTION-API.md A.1) is kept as it is
    formula = (root / "schemas" / "notion" / "all_properties_db.yaml").read_text()
    assert 'expression: =prop("Number")' in formula
    out = plan_output(root)
    assert "No changes." in out and "will be" not in out, out


@pytest.mark.skipif(RECORDINGS is None, reason="no recorded Notion sessions")
def test_databases_sharing_a_title_under_one_page_are_refused_before_writing(tmp_path: Path):
    root = new_project(tmp_path / "rec")
    store = root / ".reconciler" / "notion"
    client = local_client(store, retry=False)
    load_recorded_workspace(client, root_page_id(client), store, own_pages=False)
    result = cli("import", "--all-notion", "--dir", str(root), code=1)
    assert "'Schema A'" in result.output and "nothing was written" in result.output
    assert not list((root / "schemas" / "notion").glob("*.yaml"))


def _workspace(tmp_path: Path, description: str = ""):
    root = new_project(tmp_path / "p")
    client = local_client(root / ".reconciler" / "notion", retry=False)
    page = root_page_id(client)
    people = client.databases.create(
        parent={"type": "page_id", "page_id": page},
        title=[{"type": "text", "text": {"content": "People"}}],
        initial_data_source={"properties": {"Name": {"type": "title", "title": {}}}})
    tasks = client.databases.create(
        parent={"type": "page_id", "page_id": page},
        title=[{"type": "text", "text": {"content": "Tasks"}}],
        description=[{"type": "text", "text": {"content": description}}] if description else [],
        initial_data_source={"properties": {
            "Task": {"type": "title", "title": {}},
            "Owner": {"type": "relation", "relation": {
                "data_source_id": people["data_sources"][0]["id"], "type": "dual_property",
                "dual_property": {}}}}})
    return root, client, people, tasks


def test_a_reference_by_url_follows_relations_and_refuses_dollar_braces(tmp_path: Path):
    root, client, people, tasks = _workspace(tmp_path, "costs ${HOME}")
    url = f"https://www.notion.so/acme/Tasks-{tasks['id'].replace('-', '')}?v=abc"
    result = cli("import", "--notion", url, "--dir", str(root), code=1)
    assert "'${'" in result.output and "nothing was written" in result.output
    client.databases.update(tasks["id"], description=[{"type": "text", "text": {"content": "x"}}])
    out = cli("import", "--notion", url, "--dir", str(root)).output
    assert "also imported 'People'" in out
    assert "No changes" in plan_output(root)
    again = cli("import", "--notion", people["id"], "--dir", str(root)).output  # same text: fine
    assert "wrote schemas/notion/people.yaml" in again


def test_an_edited_file_is_not_overwritten_without_force(tmp_path: Path):
    root, client, people, _ = _workspace(tmp_path)
    cli("import", "--notion", people["id"], "--dir", str(root))
    path = root / "schemas" / "notion" / "people.yaml"
    path.write_text(path.read_text() + "# mine\n")
    result = cli("import", "--notion", people["id"], "--dir", str(root), code=1)
    assert "people.yaml" in result.output and "--force" in result.output
    assert path.read_text().endswith("# mine\n")
    cli("import", "--notion", people["id"], "--force", "--dir", str(root))
    assert not path.read_text().endswith("# mine\n")


def test_a_page_reference_imports_the_databases_under_it(tmp_path: Path):
    root, client, *_ = _workspace(tmp_path)
    out = cli("import", "--notion", root_page_id(client), "--dir", str(root)).output
    assert "schemas/notion/people.yaml" in out and "schemas/notion/tasks.yaml" in out
    assert "No changes" in plan_output(root)


def test_nothing_asked_or_nothing_found_is_a_clear_error(tmp_path: Path):
    root = new_project(tmp_path / "p")
    assert "nothing to import" in cli("import", "--dir", str(root), code=1).output
    missing = "0" * 32
    assert "no database, data source or page" in cli(
        "import", "--notion", missing, "--dir", str(root), code=1).output
    assert "not a Notion id or URL" in cli("import", "--notion", "tasks", "--dir", str(root),
                                           code=1).output


# --- pure parts ------------------------------------------------------------------------------


def test_parse_reference_reads_ids_and_links():
    plain = "1c7ee02a64b643b6bce622df1bc62c22"
    assert parse_reference(plain) == plain
    assert parse_reference("1c7ee02a-64b6-43b6-bce6-22df1bc62c22") == plain
    assert parse_reference(f"https://www.notion.so/ws/My-DB-{plain}?v={'f' * 32}") == plain
    with pytest.raises(ConfigError):
        parse_reference("https://www.notion.so/ws/nothing")


def test_formula_references_of_every_imported_source_become_prop():
    names = {("abc", "x;y"): "Amount", ("def", "z"): "Other"}
    text = "{{notion:block_property:x%3By:a-bc:ws}} * 2 + {{notion:block_property:z:def:ws}}"
    assert formula_text(text, names) == 'prop("Amount") * 2 + prop("Other")'
    assert formula_text("{{notion:block_property:q:fff:ws}}", names) == \
        "{{notion:block_property:q:fff:ws}}"


def test_documents_leave_default_colours_out_and_share_repeated_option_sets():
    options = (SelectOption(name="Low", color=stable_color("Low")),
               SelectOption(name="High", color="red", description="urgent"))
    a = Database(name="a", title="A", id="1", data_source_id="d1", properties=(
        Property(name="Name", type="title", id="title"),
        Property(name="Level", type="select", id="l", options=options),
        Property(name="Weird", type="a_future_type", id="w")))
    b = Database(name="b", title="", id="2", data_source_id="d2", properties=(
        Property(name="Level", type="multi_select", id="m", options=options),
        Property(name="Name", type="title", id="title")))
    out = notion_documents([a, b], default_parent=None)
    assert out.vocabularies == {"level": {"mode": "closed", "options": [
        "Low", {"name": "High", "color": "red", "description": "urgent"}]}}
    assert out.databases["a"]["properties"]["Level"] == {"type": "select", "vocabulary": "level"}
    assert list(out.databases["b"]["properties"]) == ["Name", "Level"]  # the title first
    assert [f.address for f in out.findings] == ['notion.a.property["Weird"]']


# --- Postgres --------------------------------------------------------------------------------

TABLES_SQL = """
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE TABLE teams (id bigserial PRIMARY KEY, name varchar(80) NOT NULL UNIQUE,
                    budget numeric(10,2) DEFAULT 0 CHECK (budget >= 0));
COMMENT ON TABLE teams IS 'Teams';
CREATE TABLE members (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id bigint REFERENCES teams(id) ON DELETE CASCADE,
  email text NOT NULL,
  tags text[] DEFAULT '{}',
  state mood DEFAULT 'calm',
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (team_id, email));
COMMENT ON COLUMN members.email IS 'work address';
CREATE INDEX members_lower_email ON members (lower(email)) WHERE team_id IS NOT NULL;
ALTER TABLE members ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON members FOR SELECT TO authenticated USING (email = current_user);
GRANT SELECT, INSERT ON members TO anon;
CREATE TABLE pairs (a bigint, b bigint, PRIMARY KEY (a, b));
CREATE TABLE links (x bigint, y bigint, FOREIGN KEY (x, y) REFERENCES pairs (a, b));
CREATE TABLE other_stuff (id int);
"""


@pytest.fixture
def tables_db(server_url: str):
    with fresh_database(server_url) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(TABLES_SQL)
        yield url


def test_postgres_tables_import_to_an_empty_plan(tables_db: str, tmp_path: Path):
    root = new_project(tmp_path / "pg")
    env = {"DATABASE_URL": tables_db}
    out = cli("import", "--table", "teams", "--table", "mem*", "--dir", str(root), env=env).output
    assert "other table(s) in public" in out and "public.other_stuff" in out
    members = (root / "schemas" / "supabase" / "members.yaml").read_text()
    assert "references: {table: teams, on_delete: cascade}" in members.replace("column: id, ", "")
    assert "own_rows" in members and "anon: [select, insert]" in members
    result = cli("import", "--schema", "public", "--force", "--dir", str(root), env=env, code=None)
    assert "spans several columns" in result.output  # links(x, y) → pairs(a, b)
    out = plan_output(root, env)
    assert "links_x_y_fkey" in out and out.count("will be") == 1, out


def test_postgres_import_of_nothing_matching_is_an_error(tables_db: str, tmp_path: Path):
    root = new_project(tmp_path / "pg")
    result = cli("import", "--table", "nope_*", "--dir", str(root),
                 env={"DATABASE_URL": tables_db}, code=1)
    assert "no Postgres table matches public.nope_*" in result.output


def test_import_through_the_library_reports_what_it_wrote(tables_db: str, tmp_path: Path):
    root = new_project(tmp_path / "pg")
    result = import_into(root, {"DATABASE_URL": tables_db}, ImportRequest(tables=("teams",)))
    assert result.written == ["schemas/supabase/teams.yaml"] and not result.problems


# --- content ---------------------------------------------------------------------------------


def _text(content: str, **annotations) -> list[dict]:
    item = {"type": "text", "text": {"content": content}}
    return [dict(item, annotations=annotations)] if annotations else [item]


def test_content_import_writes_rows_the_next_plan_only_hashes(tmp_path: Path):
    root, client, people, tasks = _workspace(tmp_path)
    people_ds, tasks_ds = people["data_sources"][0]["id"], tasks["data_sources"][0]["id"]
    client.data_sources.update(tasks_ds, properties={
        "Status": {"select": {"options": [{"name": "Todo", "color": "red"}, {"name": "Done"}]}},
        "Tags": {"multi_select": {"options": [{"name": "a"}, {"name": "b"}]}},
        "Due": {"date": {}}, "Notes": {"rich_text": {}}, "Done": {"checkbox": {}},
        "Estimate": {"number": {"format": "dollar"}}, "Link": {"url": {}}})
    ada = client.pages.create(parent={"data_source_id": people_ds},
                              properties={"Name": {"title": _text("Ada")}})
    client.pages.create(parent={"data_source_id": people_ds},
                        properties={"Name": {"title": _text("Grace")}})
    client.pages.create(parent={"data_source_id": tasks_ds}, properties={
        "Task": {"title": _text("Write the spec")}, "Status": {"select": {"name": "Todo"}},
        "Tags": {"multi_select": [{"name": "a"}, {"name": "b"}]},
        "Due": {"date": {"start": "2026-03-01", "end": "2026-03-04"}},
        "Notes": {"rich_text": _text("see ") + _text("this", bold=True)},
        "Done": {"checkbox": True}, "Estimate": {"number": 12.5},
        "Link": {"url": "https://example.org/x"}, "Owner": {"relation": [{"id": ada["id"]}]}})
    client.pages.create(parent={"data_source_id": tasks_ds},
                        properties={"Task": {"title": _text("Review")}})
    out = cli("import", "--notion", tasks["id"], "--content", "--dir", str(root)).output
    assert "content/notion/tasks.yaml" in out and "content/notion/people.yaml" in out
    rows = (root / "content" / "notion" / "tasks.yaml").read_text()
    assert "owner: [Ada]" in rows and "bold: true" in rows and "tags: [a, b]" in rows
    plan = plan_output(root)
    assert plan.count('property["Content hash"] will be created') == 2, plan
    assert "Plan: 2 to create, 0 to update, 0 to rename, 0 to delete, 0 manual." in plan, plan
    assert "notion.tasks: 0 to create, 0 to update, 0 to archive, 2 unchanged" in plan
    assert "notion.people: 0 to create, 0 to update, 0 to archive, 2 unchanged" in plan
    cli("apply", "--auto-approve", "--dir", str(root))
    assert "No changes" in plan_output(root)


def test_content_is_not_written_without_distinct_titles(tmp_path: Path):
    root, client, people, _ = _workspace(tmp_path)
    people_ds = people["data_sources"][0]["id"]
    for _ in range(2):
        client.pages.create(parent={"data_source_id": people_ds},
                            properties={"Name": {"title": _text("Same")}})
    result = cli("import", "--notion", people["id"], "--content", "--dir", str(root))
    assert "notion.people: content not written" in result.output
    assert not (root / "content" / "notion" / "people.yaml").exists()


def test_content_of_a_database_with_personal_data_warns_to_mark_its_title(tmp_path: Path):
    root, client, people, _ = _workspace(tmp_path)
    people_ds = people["data_sources"][0]["id"]
    client.data_sources.update(people_ds, properties={"Email": {"email": {}}})
    client.pages.create(parent={"data_source_id": people_ds}, properties={
        "Name": {"title": _text("Ada Lovelace")}, "Email": {"email": "ada@example.com"}})
    result = cli("import", "--notion", people["id"], "--content", "--dir", str(root))
    assert 'notion.people.property["Name"]: the rows are keyed by their title, and the ' \
        "database holds personal data (Email)" in result.output
    assert "ada@example.com" not in result.output
