"""Plan-time preflight against a real Postgres: a content value outside the labels of an enum type
the spec names (created outside the spec) fails the plan before any write (issue 9).

A table the plan itself creates is checked against the live enum type of that name; an enum type
the spec declares is checked offline by `validate`, against its declared labels."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

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


def test_a_value_outside_a_live_enum_type_fails_the_plan_before_any_write(
        tmp_path, server_url, monkeypatch):
    with fresh_database(server_url) as url:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
            db.execute("CREATE TABLE public.moods (code text PRIMARY KEY, mood mood, sha text)")
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n", "schemas/supabase/moods.yaml": TABLE,
            "content/m/a.json": '{"code": "a", "mood": "ok"}\n',
            "content/m/b.json": '{\n  "code": "b",\n  "mood": "happy"\n}\n'})
        monkeypatch.setenv("DATABASE_URL", url)
        assert runner.invoke(app, ["validate", "--dir", str(root)]).exit_code == 0  # offline: ok
        result = runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: content/m/b.json:1:1: row 'b': mood 'happy' is "
                                        "not a value of the enum type mood (its values: sad, ok)")
        with psycopg.connect(url) as db:  # nothing was written
            assert db.execute("SELECT count(*) FROM public.moods").fetchone()[0] == 0


def test_a_value_outside_a_live_enum_type_fails_the_plan_of_a_new_table(
        tmp_path, server_url, monkeypatch):
    with fresh_database(server_url) as url:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n", "schemas/supabase/moods.yaml": TABLE,
            "content/m/a.json": '{"code": "a", "mood": "ok"}\n',
            "content/m/b.json": '{\n  "code": "b",\n  "mood": "happy"\n}\n'})
        monkeypatch.setenv("DATABASE_URL", url)
        result = runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"])
        assert result.exit_code == 1, result.output
        assert "content/m/b.json:1:1: row 'b': mood 'happy' is not a value of the enum type mood" \
            in result.stderr
        with psycopg.connect(url) as db:  # nothing was written: the table was not even created
            assert db.execute("SELECT to_regclass('public.moods')").fetchone()[0] is None


def test_an_enum_type_the_spec_declares_checks_rows_offline_and_its_new_label_is_accepted(
        tmp_path, server_url, monkeypatch):
    with fresh_database(server_url) as url:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")  # the spec adds 'happy'
        root = write_files(tmp_path / "ws", {
            "reconciler.yaml": "supabase: {}\n", "schemas/supabase/moods.yaml": TABLE,
            "schemas/supabase/mood.yaml": "kind: enum\nvalues: [sad, ok, happy]\n",
            "content/m/a.json": '{"code": "a", "mood": "happy"}\n',
            "content/m/b.json": '{\n  "code": "b",\n  "mood": "furious"\n}\n'})
        monkeypatch.setenv("DATABASE_URL", url)
        result = runner.invoke(app, ["validate", "--dir", str(root)])
        assert result.exit_code == 1, result.output
        assert "content/m/b.json:3:11: row 'b': mood 'furious' is not a value of the enum type " \
            "mood" in result.stderr, result.stderr
        (root / "content/m/b.json").unlink()
        result = runner.invoke(app, ["apply", "--dir", str(root), "--auto-approve"])
        assert result.exit_code == 0, result.output
        with psycopg.connect(url) as db:
            assert db.execute("SELECT mood::text FROM public.moods").fetchall() == [("happy",)]
