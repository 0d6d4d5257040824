"""The pure Notion diff: two models in, `(kind, address)` out."""

from __future__ import annotations

import pytest

from reconciler.diff.notion import diff_notion
from reconciler.model.changes import PropertyRef
from reconciler.model.notion import NotionDatabases, Property, Relation, SelectOption
from tests.conftest import make_database, make_property


def kinds(changes):
    return [(c.kind, c.address) for c in changes]


def ws(*dbs):
    return NotionDatabases(databases=dbs)


def test_absent_database_is_created_with_each_property():
    desired = ws(make_database("tasks", make_property("Notes"), make_property("Done", "checkbox")))
    changes = diff_notion(desired, ws())
    assert kinds(changes) == [
        ("create_database", "notion.tasks"),
        ("add_property", 'notion.tasks.property["Done"]'),
        ("add_property", 'notion.tasks.property["Notes"]'),
    ]
    assert changes[0].after.title_property == Property(name="Name", type="title", id="title")


def test_identical_models_give_no_change():
    db = make_database("tasks", make_property("Status", "select", options=["A", "B"]))
    assert diff_notion(ws(db), ws(db)) == []


def test_renamed_from_gives_one_rename_never_drop_and_add():
    live = make_database("tasks", make_property("Phase", "select", id="abc", options=["A"]))
    desired = make_database("tasks", make_property("Stage", "select", renamed_from=("Phase",),
                                                   options=["A"]))
    changes = diff_notion(ws(desired), ws(live))
    assert kinds(changes) == [("rename_property", 'notion.tasks.property["Stage"]')]
    assert changes[0].before == PropertyRef(name="Phase", id="abc")
    assert not changes[0].destructive


def test_property_matched_by_known_id_after_a_rename_in_the_ui():
    live = make_database("tasks", make_property("Renamed in UI", id="xyz"))
    desired = make_database("tasks", make_property("Notes", id="xyz"))
    assert kinds(diff_notion(ws(desired), ws(live))) == [
        ("rename_property", 'notion.tasks.property["Notes"]')]


def test_removed_property_is_a_destructive_delete():
    live = make_database("tasks", make_property("Old"))
    changes = diff_notion(ws(make_database("tasks")), ws(live))
    assert kinds(changes) == [("drop_property", 'notion.tasks.property["Old"]')]
    assert changes[0].destructive


def test_new_title_property_renames_the_title_and_adds_the_old_name_anew():
    live = make_database("tasks", make_property("Name", "title", id="title"))
    desired = make_database("tasks", make_property("Name", "rich_text"),
                            make_property("Key", "title"))
    assert kinds(diff_notion(ws(desired), ws(live))) == [
        ("rename_property", 'notion.tasks.property["Key"]'),
        ("add_property", 'notion.tasks.property["Name"]'),
    ]


def test_title_retype_is_manual():
    live = make_database("tasks", make_property("Name", "title", id="title"),
                         make_property("Key", "rich_text", id="k"))
    desired = make_database("tasks", make_property("Name", "rich_text", id="title"),
                            make_property("Key", "title", id="k"))
    changes = diff_notion(ws(desired), ws(live))
    assert [c.kind for c in changes] == ["manual", "manual"]
    assert "cannot change type" in changes[0].manual


@pytest.mark.parametrize(("before", "after", "destructive"), [
    ("number", "rich_text", False), ("select", "multi_select", False),
    ("rich_text", "number", True), ("multi_select", "select", True),
])
def test_retype_is_destructive_unless_lossless(before, after, destructive):
    live = make_database("t", make_property("P", before, id="p"))
    desired = make_database("t", make_property("P", after))
    (change,) = diff_notion(ws(desired), ws(live))
    assert (change.kind, change.destructive) == ("modify_property", destructive)


def test_new_options_are_added_and_recolour_is_manual():
    live = make_database("t", make_property("S", "select", id="s", options=[
        SelectOption(name="A", color="red", id="1")]))
    desired = make_database("t", make_property("S", "select", options=[
        SelectOption(name="A", color="blue"), SelectOption(name="B", color="green")]))
    assert kinds(diff_notion(ws(desired), ws(live))) == [
        ("add_option", 'notion.t.property["S"].option["B"]'),
        ("manual", 'notion.t.property["S"].option["A"]'),
    ]


def test_extra_live_option_is_dropped_only_for_exact_options():
    live = make_database("t", make_property("S", "select", id="s", options=["A", "Extra"]))
    exact = make_database("t", make_property("S", "select", options=["A"]))
    additive = make_database("t", make_property("S", "select", options=["A"],
                                                options_mode="additive"))
    (drop,) = diff_notion(ws(exact), ws(live))
    assert (drop.kind, drop.destructive) == ("drop_option", True)
    assert diff_notion(ws(additive), ws(live)) == []


def test_formula_and_number_format_changes_are_updates():
    live = make_database("t", make_property("N", "number", id="n", number_format="number"),
                         make_property("F", "formula", id="f", formula='prop("N")'))
    desired = make_database("t", make_property("N", "number", number_format="dollar"),
                            make_property("F", "formula", formula='prop("N") * 2'))
    changes = diff_notion(ws(desired), ws(live))
    assert kinds(changes) == [("modify_property", 'notion.t.property["N"]'),
                              ("modify_property", 'notion.t.property["F"]')]


def test_two_way_relation_plans_the_synced_property_after_the_relation():
    projects = make_database("projects", make_property(
        "Tasks", "relation", relation=Relation(database="tasks", two_way=True,
                                              synced_property="Project"),
        synced_from='notion.tasks.property["Project"]'))
    tasks = make_database("tasks", make_property(
        "Project", "relation", relation=Relation(database="projects", two_way=True,
                                                 synced_property="Tasks")))
    changes = diff_notion(ws(projects, tasks), ws())
    order = [c.address for c in changes]
    assert order.index('notion.tasks.property["Project"]') < \
        order.index('notion.projects.property["Tasks"]')
    synced = next(c for c in changes if c.address == 'notion.projects.property["Tasks"]')
    assert synced.note == 'created by the two-way relation notion.tasks.property["Project"]'


def test_button_cannot_be_created_through_the_api():
    (change,) = [c for c in diff_notion(ws(make_database("t", make_property("B", "button"))), ws())
                 if c.kind == "manual"]
    assert "Notion UI" in change.manual


def test_a_default_colour_is_never_a_reason_to_recolour_but_a_declared_one_is():
    live = make_database("tasks", make_property("Status", "select", id="s", options=[
        SelectOption(name="Todo", color="red", id="1")]))
    default = make_database("tasks", make_property("Status", "select", options=[
        SelectOption(name="Todo", color="blue", default_color=True)]))
    declared = make_database("tasks", make_property("Status", "select", options=[
        SelectOption(name="Todo", color="blue")]))
    assert diff_notion(ws(default), ws(live)) == []
    (change,) = diff_notion(ws(declared), ws(live))
    assert change.kind == "manual" and "colour 'blue'" in change.manual
