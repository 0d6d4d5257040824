"""Plan-time preflight against a real Postgres: a content value outside the labels of an enum type
the spec names (created outside the spec) fails the plan before any write (issue 9).

Only live tables are checked: for a table the plan itself creates, the labels of an existing
enum type are not read yet (that needs the live read to fetch `pg_enum` for desired types)."""

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
