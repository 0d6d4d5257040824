"""Races outside a crash: an interactive apply holds the project lock from its read through its
prompt, so a second apply is refused meanwhile, and it reads the live state again once
confirmed, so an edit made while it waited is never overwritten (the plan is stale)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app, commands, output
from reconciler.local import local_client
from tests.e2e.test_interrupted_apply import small_project

runner = CliRunner()


def cli(root: Path, *args: str):
    return runner.invoke(app, [*args, "--dir", str(root)])


def edit_a_page(root: Path) -> None:
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    client = local_client(root / ".reconciler" / "notion")
    ds = target["databases"]["lukhas_modules"]["data_source_id"]
    page = client.data_sources.query(ds, page_size=1)["results"][0]
    client.pages.update(page["id"], properties={"Coverage": {"number": 0.01}})


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    root = small_project(tmp_path / "w")
    assert cli(root, "apply", "--auto-approve").exit_code == 0
    manifest = root / "content" / "modules" / "memory.module.manifest.json"
    manifest.write_text(manifest.read_text().replace('"coverage": ', '"coverage": 0.42, "x": ', 1))
    return root


def test_a_second_apply_is_refused_while_the_first_waits_at_its_prompt(
        synced: Path, monkeypatch: pytest.MonkeyPatch):
    seen = {}

    def answer(question: str) -> bool:
        seen["second"] = cli(synced, "apply", "--auto-approve")
        return False

    monkeypatch.setattr(output, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(commands.typer, "confirm", answer)
    first = cli(synced, "apply")
    assert "Apply cancelled." in first.output
    assert seen["second"].exit_code == 1
    assert "locked" in seen["second"].stderr


def test_an_edit_made_while_the_prompt_waits_makes_the_plan_stale(
        synced: Path, monkeypatch: pytest.MonkeyPatch):
    def answer(question: str) -> bool:
        edit_a_page(synced)
        return True

    monkeypatch.setattr(output, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(commands.typer, "confirm", answer)
    result = cli(synced, "apply")
    assert result.exit_code == 1
    assert "stale" in result.stderr and "notion.lukhas_modules.content" in result.stderr
