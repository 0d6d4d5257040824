"""Content rows keyed by a column of any allowed key type (`POSTGRES_KEY_TYPES`), through the CLI
against a real Postgres.

A content row's key is a str (`SourceRow.key`); an update carries only the key and the changed
columns, so the key must be written as a value of the key column's type (QA: an integer key
failed every update with `integer: needs an integer, got str '1'`). Every key type is taken
through create, update, delete (`--prune`) and a next plan that is empty.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from tests.conftest import fresh_database, write_files

pytestmark = pytest.mark.postgres
runner = CliRunner()

#: key type → (key of a.md as written in front matter, of b.md, the two as the table holds them)
KEYS = {
    "integer": ("1", "2", (1, 2)),
    "bigint": ("9007199254740993", "-5", (9007199254740993, -5)),
    "smallint": ("7", "'-3'", (7, -3)),
    "uuid": ("'6F9619FF-8B86-D011-B42D-00C04FC964FF'", "0d6a3c1e-5f2b-4c1a-9d1e-2f3a4b5c6d7e",
             (uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff"),
              uuid.UUID("0d6a3c1e-5f2b-4c1a-9d1e-2f3a4b5c6d7e"))),
    "date": ("2025-11-03", "'4. November 2025'", (dt.date(2025, 11, 3), dt.date(2025, 11, 4))),
    "numeric": ("1.0", "'2.50'", (1, 2.5)),
    "text": ("alpha", "2", ("alpha", "2")),
    "character varying(20)": ("alpha", "beta", ("alpha", "beta")),
}


def _table(key_type: str, source: str) -> str:
    return (f"columns:\n  n: {{type: {key_type}, primary_key: true}}\n  title: {{type: text}}\n"
            f"  sha: {{type: text}}\ncontent:\n  key: n\n  hash: sha\n  source:\n{source}")


MARKDOWN = "    markdown: content/*.md\n    fields: {n: n, title: title}\n"


def _sql(url: str, statement: str) -> list:
    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _converged(root: Path) -> None:
    """The next plan (with --prune) has nothing to do."""
    code, output = _cli("plan", "--dir", str(root), "--prune", "--detailed-exitcode")
    assert code == 0, output


@pytest.mark.parametrize("key_type", list(KEYS))
def test_rows_keyed_by_each_key_type_are_created_updated_deleted_and_converge(
        tmp_path, server_url, monkeypatch, key_type):
    a, b, (key_a, key_b) = KEYS[key_type]
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n",
            "schemas/supabase/things.yaml": _table(key_type, MARKDOWN),
            "content/a.md": f"---\nn: {a}\ntitle: one\n---\nA\n",
            "content/b.md": f"---\nn: {b}\ntitle: bee\n---\nB\n"})
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        assert sorted(_sql(url, "SELECT n, title FROM public.things"), key=str) == \
            sorted([(key_a, "one"), (key_b, "bee")], key=str)
        _converged(root)

        (root / "content/a.md").write_text(f"---\nn: {a}\ntitle: two\n---\nA\n")
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        assert "1 changed" in output, output
        assert sorted(_sql(url, "SELECT n, title FROM public.things"), key=str) == \
            sorted([(key_a, "two"), (key_b, "bee")], key=str)
        _converged(root)

        (root / "content/b.md").unlink()
        code, output = _cli("apply", "--dir", str(root), "--auto-approve", "--prune",
                            "--allow-destroy")
        assert code == 0, output
        assert "1 removed" in output, output
        assert _sql(url, "SELECT n, title FROM public.things") == [(key_a, "two")]
        _converged(root)


def test_a_section_heading_number_keys_an_integer_column(tmp_path, server_url, monkeypatch):
    source = ("    markdown_sections:\n      files: content/log.md\n"
              "      heading: '^## Entry (\\d+): (.+)$'\n"
              "    fields: {n: $heading.1, title: $heading.2}\n")
    log = "# Log\n\n## Entry 1: first\n\ntext\n\n## Entry 2: second\n\nmore\n"
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n",
            "schemas/supabase/things.yaml": _table("integer", source), "content/log.md": log})
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        (root / "content/log.md").write_text(log.replace("first", "premier"))
        code, output = _cli("apply", "--dir", str(root), "--auto-approve")
        assert code == 0, output
        assert _sql(url, "SELECT n, title FROM public.things ORDER BY n") == \
            [(1, "premier"), (2, "second")]
        _converged(root)
