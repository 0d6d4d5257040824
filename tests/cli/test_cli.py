"""The CLI's contract: exit codes, clear user errors without tracebacks, --dir, show formats."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import CliRunner

from reconciler.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_validate_the_bundled_example(example_project: Path):
    result = invoke("validate", "--dir", str(example_project))
    assert result.exit_code == 0
    n = len(list((example_project / "schemas" / "notion").glob("*.yaml")))
    tables = len(list((example_project / "schemas" / "supabase").glob("*.yaml")))
    vocabularies = len(list((example_project / "schemas" / "vocab").glob("*.yaml")))
    assert f"{n} Notion databases, {tables} tables, {vocabularies} vocabularies." in result.output


def test_broken_spec_gives_file_line_col_exit_1_and_writes_nothing(example_project: Path):
    spec = example_project / "schemas" / "notion" / "tech_debt.yaml"
    spec.write_text(spec.read_text() + "  Broken: {type: nonsense}\n")
    line = len(spec.read_text().splitlines())
    for command in ("validate", "plan"):
        result = invoke(command, "--dir", str(example_project))
        assert result.exit_code == 1
        assert f"schemas/notion/tech_debt.yaml:{line}:" in result.output
        assert "Traceback" not in result.output
    assert not (example_project / ".reconciler").exists()


def test_plan_detailed_exitcode_and_target(example_project: Path):
    out = example_project / "plans" / "t.yaml"
    result = invoke("plan", "--dir", str(example_project), "--detailed-exitcode",
                    "--target", "notion.lukhas_modules", "--out", str(out))
    assert result.exit_code == 2
    doc = json.loads(invoke("show", str(out), "--format", "json").output)
    assert doc["changes"] and all(c["address"].startswith("notion.lukhas_modules")
                                  for c in doc["changes"])


def test_show_refuses_unknown_format_and_missing_file(tmp_path: Path):
    missing = invoke("show", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1 and "cannot read the plan file" in missing.output
    (tmp_path / "p.yaml").write_text("format_version: 1\nheader: {}\n")
    assert invoke("show", str(tmp_path / "p.yaml"), "--format", "xml").exit_code == 1


def test_apply_without_a_plan_needs_confirmation_off_a_terminal(example_project: Path):
    result = invoke("apply", "--dir", str(example_project))
    assert result.exit_code == 1
    assert "--auto-approve" in result.output


def test_no_workspace_is_a_clear_error(tmp_path: Path):
    result = invoke("plan", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "reconciler.yaml" in result.output


def test_schema_writes_json_schemas(example_project: Path):
    result = invoke("schema", "--dir", str(example_project))
    assert result.exit_code == 0
    written = sorted(p.name for p in (example_project / "schemas" / ".schema").iterdir())
    assert "notion-database.schema.json" in written
    schema = json.loads((example_project / "schemas" / ".schema" /
                         "notion-database.schema.json").read_text())
    assert "properties" in json.dumps(schema)


def test_apply_target_applies_only_that_resource(tmp_path: Path, monkeypatch):
    from tests.conftest import write_files

    for name in ("NOTION_TOKEN", "NOTION_BASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    root = write_files(tmp_path / "p", {
        "reconciler.yaml": "notion: {}\n",
        "schemas/notion/a.yaml": "title: A\nproperties:\n  Name: {type: title}\n",
        "schemas/notion/b.yaml": "title: B\nproperties:\n  Name: {type: title}\n"})
    result = invoke("apply", "--dir", str(root), "--auto-approve", "--target", "notion.a")
    assert result.exit_code == 0, result.output
    assert "notion.a: created" in result.output and "notion.b" not in result.output
    after = invoke("plan", "--dir", str(root))
    assert "notion.b will be created" in after.output and "notion.a will be" not in after.output
    saved = root / "plans" / "p.yaml"
    invoke("plan", "--dir", str(root), "--out", str(saved))
    refused = invoke("apply", str(saved), "--dir", str(root), "--target", "notion.b")
    assert refused.exit_code == 1 and "a saved plan is applied as reviewed" in refused.output
    typo = invoke("apply", "--dir", str(root), "--auto-approve", "--target", "notion.c")
    assert typo.exit_code == 1
