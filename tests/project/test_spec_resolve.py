"""Resolution details: both sides of a two-way relation declared, default names, option modes."""

from __future__ import annotations

from reconciler.project import load_project

A = "schemas/notion/tasks.yaml"
B = "schemas/notion/projects.yaml"


def test_both_sides_declared_is_one_relation(make_project):
    root = make_project({
        A: "title: Tasks\nproperties:\n  Name: {type: title}\n"
           "  Project: {type: relation, database: projects, two_way: true, synced_property: Tasks}\n",
        B: "title: Projects\nproperties:\n  Name: {type: title}\n"
           "  Tasks: {type: relation, database: tasks, two_way: true, synced_property: Project}\n",
    })
    ws = load_project(root, env={})
    projects, tasks = ws.notion.database("projects"), ws.notion.database("tasks")
    assert [p.name for p in projects.properties] == ["Name", "Tasks"]
    assert [p.name for p in tasks.properties] == ["Name", "Project"]
    # databases resolve in file-name order: projects.Tasks creates tasks.Project
    assert tasks.property("Project").synced_from == 'notion.projects.property["Tasks"]'
    assert projects.property("Tasks").synced_from is None


def test_default_synced_name_and_option_modes(make_project):
    root = make_project({
        A: "title: Tasks\nproperties:\n  Name: {type: title}\n"
           "  Project: {type: relation, database: projects, two_way: true}\n"
           "  Kind: {type: select}\n  Stage: {type: status, options: [Todo, Done]}\n",
        B: "title: Projects\nparent: page-9\nproperties:\n  Name: {type: title}\n",
    })
    ws = load_project(root, env={})
    back = ws.notion.database("projects").property("Related to Tasks (Project)")
    assert back is not None and back.relation.synced_property == "Project"
    assert ws.notion.database("tasks").property("Project").relation.synced_property == \
        "Related to Tasks (Project)"
    assert ws.notion.database("tasks").property("Kind").options_mode == "open"
    stage = ws.notion.database("tasks").property("Stage")
    assert stage.options_mode == "exact" and [o.name for o in stage.options] == ["Todo", "Done"]
    assert ws.notion.database("projects").parent_page_id == "page-9"
    assert ws.notion.database("tasks").parent_page_id is None


def test_renamed_from_and_unique_id(make_project):
    root = make_project({A: "title: Tasks\nproperties:\n  Name: {type: title}\n"
                              "  Stage: {type: rich_text, renamed_from: Phase}\n"
                              "  Ticket: {type: unique_id, prefix: TASK}\n"})
    tasks = load_project(root, env={}).notion.database("tasks")
    assert tasks.property("Stage").renamed_from == ("Phase",)
    assert tasks.property("Ticket").unique_id_prefix == "TASK"
