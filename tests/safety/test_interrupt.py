"""Ctrl-C at any moment of an apply ends with `Error: interrupted` (exit 130), never a
traceback, and the next command works: a Postgres connection interrupted in the middle of a
command is cancelled (or closed), never reused as if it were idle."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.databases import fresh_database

runner = CliRunner()


def cli(root: Path, *args: str):
    return runner.invoke(app, [*args, "--dir", str(root)])


def lock_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT to_regclass('reconciler.reconciler_lock') IS NOT NULL"
                            ).fetchone()[0]:
            return []
        return conn.execute("SELECT id, owner FROM reconciler.reconciler_lock").fetchall()


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["read_catalog", "_rows", "_run"],
                         ids=["reading", "locking", "in-a-transaction"])
def test_ctrl_c_in_the_middle_of_a_postgres_command_says_interrupted_and_the_rerun_works(
        make_project, server_url: str, monkeypatch: pytest.MonkeyPatch, where: str):
    """The interrupt lands between sending a query and waiting for its answer (where psycopg
    cannot cancel it itself): the connection is left in the middle of a command."""
    import reconciler.apply.lock as lock
    import reconciler.backends.postgres.executor as executor
    import reconciler.backends.postgres.reader as reader

    root = make_project(tables=True)
    module = {"read_catalog": reader, "_rows": lock, "_run": executor}[where]
    original = getattr(module, where)

    def interrupted(conn, *args, **kwargs):
        conn.pgconn.send_query(b"SELECT pg_catalog.pg_sleep(60)")
        raise KeyboardInterrupt

    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        plan = root / "plans" / "p.yaml"
        assert cli(root, "plan", "--out", str(plan)).exit_code == 0
        monkeypatch.setattr(module, where, interrupted)
        stopped = cli(root, "apply", str(plan), "--auto-approve")
        monkeypatch.setattr(module, where, original)
        assert stopped.exit_code == 130, stopped.output
        assert stopped.output == "Error: interrupted\n"
        assert lock_rows(url) == []  # the lock was given back
        assert not (root / ".reconciler" / "lock.json").exists()
        applied = cli(root, "apply", str(plan), "--auto-approve")
        assert applied.exit_code == 0, applied.output
        assert "Apply complete!" in applied.output
