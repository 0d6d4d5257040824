"""`reconciler local ui`: what only Notion's UI can do, done on the local Notion, so a plan's manual
change can be performed and the next plan is clean (issue 10, point 9). End to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.local import local_client, root_page_id
from reconciler.model.notion import stable_color
from tests.conftest import write_files

runner = CliRunner()
CONFIG = "notion:\n  rate_limit: 100\n"
TASKS = """title: Tasks
properties:
  Name: {type: title}
  Status:
    type: select
    options: [{name: Todo, color: gray}, {name: Done, color: green}]
  Stage: {type: status}
"""


def cli(root: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--dir", str(root)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "ws", {"reconciler.yaml": CONFIG, "schemas/notion/tasks.yaml": TASKS})
    cli(root, "apply", "--auto-approve")
    cli(root, "plan", "--detailed-exitcode")
    return root


def respec(root: Path, old: str, new: str) -> None:
    path = root / "schemas" / "notion" / "tasks.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def manual_plan(root: Path) -> str:
    out = cli(root, "plan", "--detailed-exitcode", code=2)
    assert "manual" in out
    return out


def live_schema(root: Path) -> dict:
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    ds = state["notion"]["local"]["databases"]["tasks"]["data_source_id"]
    return local_client(root / ".reconciler" / "notion").data_sources.retrieve(ds)["properties"]


def test_an_option_recoloured_in_the_ui_makes_the_plan_clean(applied: Path):
    client = local_client(applied / ".reconciler" / "notion")
    state = json.loads((applied / ".reconciler" / "state.json").read_text())
    ds = state["notion"]["local"]["databases"]["tasks"]["data_source_id"]
    row = client.pages.create(parent={"data_source_id": ds}, properties={"Status": {"select": {"name": "Todo"}}})
    respec(applied, "{name: Todo, color: gray}", "{name: To do, color: red}")
    assert 'notion.tasks.property["Status"].option["To do"]' in manual_plan(applied)
    out = cli(applied, "local", "ui", 'notion.tasks.property["Status"].option["Todo"]', "--rename", "To do",
              "--color", "red")
    assert "'To do', red" in out
    cli(applied, "plan", "--detailed-exitcode")
    value = client.pages.retrieve(row["id"])["properties"]["Status"]["select"]
    assert (value["name"], value["color"]) == ("To do", "red"), "the page kept its option"


def test_a_case_only_rename_keeps_the_default_colour(tmp_path: Path):
    """Default colours hash the case-folded name: renaming `todo` to `Todo` in the UI changes no colour."""
    assert stable_color("todo") == stable_color("Todo") == stable_color("TODO")
    spec = TASKS.replace("{name: Todo, color: gray}", "todo")
    root = write_files(tmp_path / "ws", {"reconciler.yaml": CONFIG, "schemas/notion/tasks.yaml": spec})
    cli(root, "apply", "--auto-approve")
    respec(root, "[todo,", "[Todo,")
    out = manual_plan(root)
    assert "colour" in out
    cli(root, "local", "ui", 'notion.tasks.property["Status"].option["todo"]', "--rename", "Todo")
    cli(root, "plan", "--detailed-exitcode")


def test_status_options_edited_in_the_ui_make_the_plan_clean(applied: Path):
    respec(applied, "Stage: {type: status}", "Stage:\n    type: status\n    options: [{name: Backlog, color: gray}, "
                                           "{name: Doing, color: blue}, {name: Done, color: green}]")
    manual_plan(applied)
    cli(applied, "local", "ui", 'notion.tasks.property["Stage"]', "--status-option", "Backlog:gray:To-do",
        "--status-option", "Doing:blue:In progress", "--status-option", "Done:green:Complete")
    cli(applied, "plan", "--detailed-exitcode")
    status = live_schema(applied)["Stage"]["status"]
    groups = {g["name"]: [next(o["name"] for o in status["options"] if o["id"] == i) for i in g["option_ids"]]
              for g in status["groups"]}
    assert groups == {"To-do": ["Backlog"], "In progress": ["Doing"], "Complete": ["Done"]}


@pytest.mark.parametrize("kind", ["button", "verification"])
def test_a_property_only_the_ui_creates_is_added(applied: Path, kind: str):
    cli(applied, "local", "ui", 'notion.tasks.property["Check"]', "--add", kind)
    assert live_schema(applied)["Check"]["type"] == kind


@pytest.mark.parametrize("kind", ["button", "verification"])
def test_a_property_only_the_ui_creates_is_added(applied: Path, kind: str):
    cli(applied, "local", "ui", 'notion.tasks.property["Check"]', "--add", kind)
    assert live_schema(applied)["Check"]["type"] == kind


@pytest.mark.parametrize("kind", ["button", "verification"])
def test_a_declared_property_only_the_ui_creates_is_manual_until_added_then_clean(applied: Path, kind: str):
    respec(applied, "  Stage: {type: status}\n", f"  Stage: {{type: status}}\n  Check: {{type: {kind}}}\n")
    manual_plan(applied)
    cli(applied, "local", "ui", 'notion.tasks.property["Check"]', "--add", kind)
    cli(applied, "plan", "--detailed-exitcode")


def test_a_database_moved_in_the_ui_makes_the_plan_clean(applied: Path):
    client = local_client(applied / ".reconciler" / "notion")
    page = client.pages.create(parent={"page_id": root_page_id(client)},
                               properties={"title": {"title": [{"text": {"content": "Archive"}}]}})
    respec(applied, "title: Tasks\n", f"title: Tasks\nparent: \"{page['id']}\"\n")
    assert "Move database" in manual_plan(applied)
    cli(applied, "local", "ui", "notion.tasks", "--move-to", page["id"].replace("-", ""))
    cli(applied, "plan", "--detailed-exitcode")
    children = client.blocks.children.list(page["id"])["results"]
    assert [b["child_database"]["title"] for b in children] == ["Tasks"]


@pytest.mark.parametrize("args, message", [
    (['notion.tasks.property["Status"].option["Nope"]', "--color", "red"], "has no option 'Nope'"),
    (['notion.tasks.property["Status"].option["Todo"]', "--color", "mauve"], "colour 'mauve' is not one of"),
    (['notion.tasks.property["Status"].option["Todo"]', "--rename", "Done"], "already has an option 'Done'"),
    (['notion.tasks.property["Status"].option["Todo"]', "--rename", "a,b"], "commas not allowed"),
    (['notion.tasks.property["Name"]', "--add", "button"], "exists already"),
    (['notion.tasks.property["Note"]', "--add", "number"], "apply creates number"),
    (['notion.tasks.property["Status"]', "--status-option", "A"], "is a select, not a status"),
    (["notion.nope", "--move-to", "x"], "run `reconciler apply` first"),
    (["notion.tasks", "--move-to", "5f3c1e2a-1111-4222-8333-444455556666"], "no page"),
    (["notion.tasks"], "nothing to do"),
    (["not an address"], "not a resource address"),
])
def test_what_the_ui_would_refuse_is_refused_with_a_clear_message(applied: Path, args: list[str], message: str):
    out = cli(applied, "local", "ui", *args, code=1)
    assert message in out
