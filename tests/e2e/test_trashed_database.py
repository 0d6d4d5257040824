"""A declared database someone put in Notion's trash is not created a second time: the plan says
it is in the trash and what to do (restore it, or delete it for good), as `doctor` does; a
trashed database reads as alive but refuses writes (NOTION-API.md §1.4), and a new one would
leave its pages behind."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.local import local_client
from tests.conftest import write_files

SPEC = "title: People\nproperties:\n  Name: {type: title}\n"


def test_a_trashed_database_is_named_not_created_again(tmp_path: Path, monkeypatch):
    for name in ("NOTION_TOKEN", "NOTION_BASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    root = write_files(tmp_path / "p", {"reconciler.yaml": "notion: {}\n",
                                        "schemas/notion/people.yaml": SPEC})
    runner = CliRunner()
    assert runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"]).exit_code == 0
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    database_id = target["databases"]["people"]["database_id"]
    client = local_client(root / ".reconciler" / "notion")
    client.databases.update(database_id, in_trash=True)
    result = runner.invoke(app, ["plan", "--dir", str(root)])
    assert result.exit_code == 1, result.output
    assert "notion.people: 'People'" in result.output and "is in Notion's trash" in result.output
    assert "restore it from the trash" in result.output
    client.databases.update(database_id, in_trash=False)
    client.close()
    result = runner.invoke(app, ["plan", "--dir", str(root), "--detailed-exitcode"])
    assert result.exit_code == 0, result.output


def test_without_a_parent_page_the_plan_asks_for_one_and_creates_nothing(tmp_path: Path,
                                                                         monkeypatch):
    """Pointed at a remote Notion (no state, no parent page set), the plan cannot look for the
    declared databases: it asks for the page that holds them (QA: the message read as if it
    would create new databases)."""
    from tests.conftest import serving
    from reconciler.local import make_server

    for name in ("NOTION_TOKEN", "NOTION_PARENT_PAGE_ID", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    root = write_files(tmp_path / "p", {"reconciler.yaml": "notion: {}\n",
                                        "schemas/notion/people.yaml": SPEC})
    with serving(make_server(tmp_path / "served", port=0)) as url:
        monkeypatch.setenv("NOTION_BASE_URL", url)
        monkeypatch.setenv("NOTION_TOKEN", "secret_any")
        result = CliRunner().invoke(app, ["plan", "--dir", str(root)])
    assert result.exit_code == 1
    assert "notion.people: not found, and no parent page is set" in result.output
    assert "they are then found by title under it" in result.output
