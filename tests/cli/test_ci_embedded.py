"""In CI, an empty NOTION_TOKEN or DATABASE_URL (a secret unset or misspelt, or a pull request
from a fork) fails the command instead of running it on the embedded backends of the runner,
where an apply would change nothing real; RECONCILER_EMBEDDED=1 allows it on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.conftest import write_files

FILES = {"reconciler.yaml": "notion: {}\nsupabase: {}\n",
         "schemas/notion/tickets.yaml": "title: Tickets\nproperties:\n  Name: {type: title}\n"}
TABLE = {"schemas/supabase/notes.yaml": "columns:\n  id: {type: text, primary_key: true}\n"}


@pytest.mark.parametrize(("files", "variable"), [(FILES, "NOTION_TOKEN"),
                                                 ({**TABLE, "reconciler.yaml": "supabase: {}\n"},
                                                  "DATABASE_URL")])
def test_an_empty_secret_in_ci_fails_before_anything_is_made(tmp_path: Path, monkeypatch,
                                                            files, variable):
    root = write_files(tmp_path / "p", files)
    for name in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(variable, "")  # what ${{ secrets.X }} gives for a missing secret
    result = CliRunner().invoke(app, ["apply", "--dir", str(root), "--auto-approve"])
    assert result.exit_code == 1
    assert f"{variable} is not set (or empty) and this runs in CI" in result.output
    assert "RECONCILER_EMBEDDED=1" in result.output
    assert not (root / ".reconciler" / "notion").exists()
    assert not (root / ".reconciler" / "postgres").exists()


def test_embedded_backends_in_ci_on_purpose(tmp_path: Path, monkeypatch):
    root = write_files(tmp_path / "p", FILES | {"reconciler.yaml": "notion: {}\n"})
    for name in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("RECONCILER_EMBEDDED", "1")
    result = CliRunner().invoke(app, ["plan", "--dir", str(root)])
    assert result.exit_code == 0, result.output
    assert "notion.tickets will be created" in result.output
