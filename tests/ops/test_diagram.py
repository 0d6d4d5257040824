"""The Mermaid ER diagram: `reconciler graph`, and the markdown report of a plan."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.diagram import changed_marks, er_diagram, ident
from reconciler.model.notion import Property, Relation
from reconciler.model.postgres import Column, ForeignKey, Table
from tests.conftest import make_database, write_files
from tests.ops.conftest import cli

#: Lines Mermaid's erDiagram grammar accepts, as this module writes them.
ENTITY = re.compile(r"^    [A-Za-z_][A-Za-z0-9_]* \{$")
ATTRIBUTE = re.compile(r'^        [A-Za-z_][A-Za-z0-9_]* [A-Za-z_][A-Za-z0-9_]*( (PK|FK|PK,FK))?( "[^"]*")?$')
RELATION = re.compile(r'^    [A-Za-z_]\w* (\}o--o\{|\|\|--o\{|\|\|\.\.\|\|) [A-Za-z_]\w* : "[^"]*"$')


def _grammar(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "erDiagram"
    for line in lines[1:]:
        assert ENTITY.match(line) or ATTRIBUTE.match(line) or RELATION.match(line) \
            or line == "    }", line


def test_databases_tables_relations_and_marks():
    tasks = make_database("tasks", Property(name="Due date", type="date"),
                          Property(name="Project", type="relation",
                                   relation=Relation(database="projects", two_way=True,
                                                     synced_property="Tasks")))
    projects = make_database("projects", Property(
        name="Tasks", type="relation", synced_from='notion.tasks.property["Project"]',
        relation=Relation(database="tasks", two_way=True, synced_property="Project")))
    table = Table(name="tasks", columns=(Column(name="id", type="uuid"),
                                         Column(name="project", type="numeric(10,2)")),
                  primary_key=("id",), mirror="tasks",
                  foreign_keys=(ForeignKey(name="fk", columns=("project",), ref_schema="public",
                                           ref_table="projects", ref_columns=("id",)),))
    changes = [{"address": 'notion.tasks.property["Due date"]', "action": "create"},
               {"address": 'notion.tasks.page["a"]', "action": "update"},
               {"address": 'supabase.public.tasks.column["project"]', "action": "update"}]
    text = er_diagram([tasks, projects], [table], changes)
    _grammar(text)
    assert '        date Due_date "+ Due date"' in text
    assert '    notion_tasks }o--o{ notion_projects : "Project"' in text
    assert text.count("}o--o{") == 1  # a two-way relation once
    assert '        plan changes "~ 1 change(s)"' in text  # the page change is not a schema change
    assert '        numeric_10_2 project FK "~"' in text and "        uuid id PK" in text
    assert '    supabase_public_projects ||--o{ supabase_public_tasks : "project"' in text
    assert '    notion_tasks ||..|| supabase_public_tasks : "mirror"' in text
    assert er_diagram([], []) == ""


def test_marks_and_identifiers():
    assert changed_marks([{"address": 'notion.a.property["P"].option["x"]', "action": "delete"},
                          {"address": "notion.b", "action": "create"}]) == \
        {"notion.a": {"P": "-"}, "notion.b": {"": "+"}}
    assert ident("Prénom & nom") == "Pr_nom_nom" and ident("2024") == "_2024" and ident("") == "x"


def test_graph_command_and_the_markdown_report(tmp_path: Path):
    root = write_files(tmp_path / "p", {
        "reconciler.yaml": "notion: {}\n",
        "schemas/notion/tasks.yaml": "title: Tasks\nproperties:\n  Name: {type: title}\n"
                                     "  Owner: {type: relation, database: people}\n",
        "schemas/notion/people.yaml": "title: People\nproperties:\n  Name: {type: title}\n"})
    text = cli("graph", "--dir", str(root)).output
    _grammar(text)
    assert 'notion_tasks }o--o{ notion_people : "Owner"' in text
    plan = tmp_path / "plan.yaml"
    cli("plan", "--out", str(plan), "--dir", str(root))
    marked = cli("graph", "--plan", str(plan), "--format", "Markdown", "--dir", str(root)).output
    assert marked.startswith("```mermaid\nerDiagram\n") and marked.endswith("```\n")
    assert '        relation Owner "+"' in marked
    report = cli("show", str(plan), "--format", "markdown").output
    block = report.split("```mermaid\n", 1)[1].split("```", 1)[0]
    _grammar(block)
    assert block == cli("graph", "--plan", str(plan), "--dir", str(root)).output
    from reconciler.plan import planfile
    from reconciler.render import render

    doc = planfile.to_document(planfile.load(plan))
    doc["header"]["diagram"] = "erDiagram\n" + "    huge_entity {\n    }\n" * 5000
    crowded = render(doc, "markdown")
    assert "```mermaid" not in crowded and len(crowded) < 60_000
    assert "The schema diagram does not fit in this comment: `reconciler graph" in crowded
    compact = cli("graph", "--compact", "--dir", str(root)).output
    assert "relation Owner" in compact and "title Name" in compact


def test_a_large_project_gets_a_compact_diagram_with_every_entity_and_link():
    from reconciler.diagram import PLAN_DIAGRAM_CHARS, project_diagram
    from reconciler.project.loader import load_project
    from tests.conftest import REPO

    project = load_project(REPO, {})
    full = project_diagram(project)
    assert project_diagram(project, max_chars=len(full)) == full
    fitted = project_diagram(project, max_chars=len(full) - 1)
    _grammar(fitted)
    assert len(fitted) < len(full) // 2 and len(fitted) <= PLAN_DIAGRAM_CHARS
    entities = [line for line in full.splitlines() if line.endswith("{")]
    assert entities == [line for line in fitted.splitlines() if line.endswith("{")]
    links = [line for line in full.splitlines() if " : " in line]
    assert links == [line for line in fitted.splitlines() if " : " in line]
    assert "rich_text" in full and "rich_text" not in fitted
