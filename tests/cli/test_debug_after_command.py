"""`--debug` works before or after the command name (README), on every command: the operator
commands (`init`, `import`, `status`, `doctor`, `graph`), `force-unlock` and `local sql` used
to answer `No such option: --debug` when it came after them."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app

runner = CliRunner()

SPEC = "title: Tickets\nproperties:\n  Name: {type: title}\n  Note: {type: rich_text}\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A zero-config project (the local Notion, no DATABASE_URL) with one Notion database."""
    root = tmp_path / "project"
    (root / "schemas" / "notion").mkdir(parents=True)
    (root / "reconciler.yaml").write_text("notion: {}\n")
    (root / "schemas" / "notion" / "tickets.yaml").write_text(SPEC)
    return root


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert "No such option" not in result.output, result.output
    assert "Traceback" not in result.output, result.output
    return result


def test_init_takes_debug_after_the_command(tmp_path: Path):
    result = run("init", str(tmp_path / "new"), "--debug")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "reconciler.yaml").is_file()


@pytest.mark.parametrize("command", [["status"], ["doctor"], ["graph"], ["import", "--all-notion"]])
def test_operator_commands_take_debug_after_the_command(project: Path, command: list[str]):
    result = run(*command, "--dir", str(project), "--debug")
    # doctor fails its Postgres-less checks only when something is wrong; here it must run
    assert result.exit_code in (0, 1), result.output
    if command[0] == "graph":
        assert result.exit_code == 0 and "erDiagram" in result.output, result.output
    if command[0] in ("status", "import"):
        # they read the local Notion: --debug logs each request
        assert result.exit_code == 0, result.output
        assert " DEBUG reconciler" in result.output, result.output
    if command[0] == "doctor":
        assert "Notion token" in result.output or "token" in result.output.lower(), result.output


def test_force_unlock_takes_debug_after_the_command(project: Path):
    result = run("force-unlock", "no-such-lock", "--dir", str(project), "--force", "--debug")
    assert result.exit_code == 1  # there is no such lock: a user error, not a usage error
    assert "Error:" in result.output, result.output


def test_local_sql_takes_debug_after_the_command(project: Path, server_url: str,
                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", server_url)
    result = run("local", "sql", "SELECT 41 + 1 AS answer", "--dir", str(project), "--debug")
    assert result.exit_code == 0, result.output
    assert "42" in result.output
