"""Fixtures for the operator commands: a copy of the bundled example as applied once per run (its
local Notion and its own copy of the database), and new projects made by `reconciler init` that
point at a copy of its workspace."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.applied_example import AppliedExample
from tests.databases import clone_database

runner = CliRunner()


def cli(*args: str, env: dict | None = None, code: int | None = 0):
    """Run the CLI in process; assert the exit code (unless None)."""
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="session")
def applied_bundle(applied_example: AppliedExample, server_url: str, dev_database: str,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    """The bundled example applied: `(project root, env)`, a copy of the run's one applied
    example (`tests/conftest.py`) with its own copy of the database; env holds its DATABASE_URL
    and the session's DEV_DATABASE_URL (a session fixture is made before the autouse one that
    sets it; without it, the plan would start an embedded server in the project, under pytest's
    `tmp_path`, where it cannot live: `tests/databases.py`, `embedded_server_folder`).
    Read it, never change it (tests that change the live state copy it first)."""
    root = applied_example.copy_to(tmp_path_factory.mktemp("bundle") / "project")
    with clone_database(server_url, applied_example.database) as url:
        yield root, {"DATABASE_URL": url, "DEV_DATABASE_URL": dev_database}


def new_project(where: Path, workspace: Path | None = None) -> Path:
    """`reconciler init where`; with `workspace`, a copy of that project's local Notion (its
    `.reconciler/notion`, no state) becomes the new project's, as if it were an existing
    workspace the new project is pointed at."""
    cli("init", str(where))
    if workspace is not None:
        shutil.copytree(workspace / ".reconciler" / "notion", where / ".reconciler" / "notion")
    return where
