"""`plan --since last` where it cannot mean anything: a project without Notion content."""

from __future__ import annotations

from pathlib import Path

from reconciler.cli import app
from tests.cli_runner import CliRunner
from tests.conftest import write_files
from tests.postgres.projects import CONFIG, SOT_TABLE, sot_entry


def test_since_last_in_a_project_without_notion_content_says_why(tmp_path: Path):
    root = write_files(tmp_path, {"reconciler.yaml": CONFIG,
                                  "schemas/supabase/sot_entries.yaml": SOT_TABLE,
                                  "content/sot/a.md": sot_entry("A-1", "First")})
    result = CliRunner().invoke(app, ["plan", "--since", "last", "--dir", str(root)])
    assert result.exit_code == 1, result.output
    assert "this project has no Notion content" in result.output
    assert "plan without --since" in result.output
