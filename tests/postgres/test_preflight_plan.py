"""Plan-time preflight against a real Postgres: a content value outside the labels of an enum type
the spec names (created outside the spec) fails the plan before any write (issue 9).

A table the plan itself creates is checked against the live enum type of that name; an enum type
the spec declares is checked offline by `validate`, against its declared labels."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.conftest import fresh_database, write_files

pytestmark = pytest.mark.postgres
runner = CliRunner()

TABLE = """columns:
  code: {type: text, primary_key: true}
  mood: {type: mood}
  sha: {type: text}
content:
  key: code
  hash: sha
  source:
    json: content/m/*.json
    fields: {code: code, mood: mood}
"""


def _moods(root: Path, url: str, monkeypatch, *, a: str, b: str, extra: dict | None = None
           ) -> Path:
    """A project of the `moods` table whose rows a and b hold the moods given (b's on line 3)."""
    monkeypatch.setenv("DATABASE_URL", url)
    return write_files(root, {
        "reconciler.yaml": "supabase: {}\n", "schemas/supabase/moods.yaml": TABLE, **(extra or {}),
        "content/m/a.json": f'{{"code": "a", "mood": "{a}"}}\n',
        "content/m/b.json": f'{{\n  "code": "b",\n  "mood": "{b}"\n}}\n'})


def _sql(url: str, *statements: str) -> list:
    """Run `statements`; the rows of each SELECT among them."""
    with psycopg.connect(url, autocommit=True) as db:
        cursors = [db.execute(s) for s in statements]
        return [c.fetchall() for c, s in zip(cursors, statements) if s.startswith("SELECT")]


def test_a_value_outside_a_live_enum_type_fails_the_plan_before_any_write(
        tmp_path, server_url, monkeypatch):
    with fresh_database(server_url) as url:
        _sql(url, "CREATE TYPE mood AS ENUM ('sad', 'ok')",
             "CREATE TABLE public.moods (code text PRIMARY KEY, mood mood, sha text)")
        root = _moods(tmp_path / "ws", url, monkeypatch, a="ok", b="happy")
        assert runner.invoke(app, ["validate", "--dir", str(root)]).exit_code == 0  # offline: ok
        result = runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: content/m/b.json:1:1: row 'b': mood 'happy' is "
                                        "not a value of the enum type mood (its values: sad, ok)")
        assert _sql(url, "SELECT count(*) FROM public.moods") == [[(0,)]]  # nothing was written


def test_a_value_outside_a_live_enum_type_fails_the_plan_of_a_new_table(
        tmp_path, server_url, monkeypatch):
    with fresh_database(server_url) as url:
        _sql(url, "CREATE TYPE mood AS ENUM ('sad', 'ok')")
        root = _moods(tmp_path / "ws", url, monkeypatch, a="ok", b="happy")
        result = runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"])
        assert result.exit_code == 1, result.output
        assert "content/m/b.json:1:1: row 'b': mood 'happy' is not a value of the enum type mood" \
            in result.stderr
        # nothing was written: the table was not even created
        assert _sql(url, "SELECT to_regclass('public.moods')") == [[(None,)]]


def test_an_enum_type_the_spec_declares_checks_rows_offline_and_its_new_label_is_accepted(
        tmp_path, server_url, monkeypatch):
    with fresh_database(server_url) as url:
        _sql(url, "CREATE TYPE mood AS ENUM ('sad', 'ok')")  # the spec adds 'happy'
        root = _moods(tmp_path / "ws", url, monkeypatch, a="happy", b="furious", extra={
            "schemas/supabase/mood.yaml": "kind: enum\nvalues: [sad, ok, happy]\n"})
        result = runner.invoke(app, ["validate", "--dir", str(root)])
        assert result.exit_code == 1, result.output
        assert "content/m/b.json:3:11: row 'b': mood 'furious' is not a value of the enum type " \
            "mood" in result.stderr, result.stderr
        (root / "content/m/b.json").unlink()
        result = runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"])
        assert result.exit_code == 0, result.output
        assert _sql(url, "SELECT mood::text FROM public.moods") == [[("happy",)]]


def test_a_timestamp_with_a_precision_plans_empty_after_apply(tmp_path, server_url, monkeypatch):
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n",
            "schemas/supabase/events.yaml": "columns:\n  id: {type: text, primary_key: true}\n"
                                            "  at: {type: timestamptz(0)}\n  t: {type: time(3)}\n"})
        assert runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"]).exit_code == 0
        result = runner.invoke(app, ["plan", "--dir", str(root), "--detailed-exitcode"])
        assert result.exit_code == 0, result.output
