"""One apply at a time per project: the file lock, the Postgres lock, force-unlock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from tests.cli_runner import CliRunner

from reconciler.apply.lock import (
    LOCK_FILE, SCHEMA, TABLE, current_lock, force_unlock, lock_key, project_lock, record_lock,
)
from reconciler.cli import app
from reconciler.errors import LockError

runner = CliRunner()


def test_file_lock_is_created_with_its_owner_and_removed_on_exit(tmp_path: Path):
    with project_lock(tmp_path) as info:
        data = json.loads((tmp_path / LOCK_FILE).read_text())
        assert data == {"id": info.id, "owner": info.owner, "operation": "apply",
                        "started_at": info.started_at, "host": socket.gethostname(),
                        "pid": os.getpid()}
        assert " pid " in info.owner and "@" in info.owner
        assert info.started_at.endswith("+00:00")
    assert not (tmp_path / LOCK_FILE).exists()


def test_second_lock_is_refused_naming_owner_start_and_id(tmp_path: Path):
    with project_lock(tmp_path) as info:
        with pytest.raises(LockError) as err:
            with project_lock(tmp_path):
                pass  # pragma: no cover
        message = str(err.value)
        assert info.owner in message and info.started_at in message
        assert f"reconciler force-unlock {info.id}" in message
        assert (tmp_path / LOCK_FILE).exists()  # the refused run did not remove the holder's lock
    assert not (tmp_path / LOCK_FILE).exists()


def test_lock_is_released_when_the_body_fails(tmp_path: Path):
    with pytest.raises(RuntimeError):
        with project_lock(tmp_path):
            raise RuntimeError("boom")
    assert current_lock(tmp_path) is None


def test_only_one_of_many_concurrent_takers_wins(tmp_path: Path):
    barrier, won, lost = threading.Barrier(8), [], []

    def take() -> None:
        barrier.wait()
        try:
            with project_lock(tmp_path):
                won.append(1)
                barrier2.wait()
        except LockError:
            lost.append(1)
            barrier2.wait()

    barrier2 = threading.Barrier(8)
    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(won) == 1 and len(lost) == 7


def test_force_unlock_needs_the_matching_id(tmp_path: Path):
    with pytest.raises(LockError, match="not locked"):
        force_unlock(tmp_path, "x")
    lock = project_lock(tmp_path)
    info = lock.__enter__()  # a run that "died" holding the lock
    with pytest.raises(LockError, match=f"lock id nope does not match the current lock {info.id}"):
        force_unlock(tmp_path, "nope")
    assert force_unlock(tmp_path, info.id).id == info.id
    assert not (tmp_path / LOCK_FILE).exists()
    with project_lock(tmp_path):
        pass


def test_a_corrupt_lock_file_still_locks_and_can_be_forced(tmp_path: Path):
    (tmp_path / LOCK_FILE).parent.mkdir()
    (tmp_path / LOCK_FILE).write_text("{not json")
    with pytest.raises(LockError, match="force-unlock unknown"):
        with project_lock(tmp_path):
            pass  # pragma: no cover
    force_unlock(tmp_path, "unknown")
    assert current_lock(tmp_path) is None


def test_lock_key_is_stable_and_signed_64_bit():
    project = "6b1f0c1e-93a2-4c55-9d5e-0a4d2c8f1b77"
    assert lock_key(project) == lock_key(project) != lock_key("another project")
    assert lock_key(None) == lock_key("*"), "no project id: the whole database"
    assert -2**63 <= lock_key(project) < 2**63


# -- a dead owner's lock is taken over, a live or remote one is not -----------------------------

def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leave_lock(root: Path, *, host: str, pid: int, fields: bool = True) -> dict:
    data = {"id": "dead-run", "owner": f"someone@{host} pid {pid}", "operation": "apply",
            "started_at": "2026-01-01T00:00:00+00:00"}
    if fields:
        data |= {"host": host, "pid": pid}
    (root / LOCK_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / LOCK_FILE).write_text(json.dumps(data))
    return data


@pytest.mark.parametrize("fields", [True, False], ids=["host-and-pid", "owner-text-only"])
def test_the_lock_of_a_dead_process_on_this_host_is_taken_over_with_a_message(
        tmp_path: Path, fields: bool):
    pid = _dead_pid()
    _leave_lock(tmp_path, host=socket.gethostname(), pid=pid, fields=fields)
    said: list[str] = []
    with project_lock(tmp_path, on_takeover=said.append) as info:
        assert current_lock(tmp_path) == info
    assert len(said) == 1 and "dead-run" in said[0] and f"process {pid} no longer exists" in said[0]
    assert not (tmp_path / LOCK_FILE).exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc (not Linux)")
def test_the_lock_of_a_killed_process_not_yet_reaped_is_taken_over(tmp_path: Path):
    """A process killed a moment ago stays a zombie until its parent reaps it (QA: right after
    `timeout -s KILL`, the next apply was refused as if the owner lived)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 60  # a Python start-up can take seconds on a busy disk
        while time.monotonic() < deadline:  # until it has exited, without reaping it
            if (Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) == "Z":
                break
            time.sleep(0.01)
        _leave_lock(tmp_path, host=socket.gethostname(), pid=child.pid)
        said: list[str] = []
        with project_lock(tmp_path, on_takeover=said.append):
            pass
        assert len(said) == 1 and "dead-run" in said[0]
    finally:
        child.wait()


@pytest.mark.parametrize("owner", ["live", "remote"])
def test_a_live_or_remote_owner_still_needs_force_unlock(tmp_path: Path, owner: str):
    host, pid = (socket.gethostname(), os.getppid()) if owner == "live" else \
        ("another-host.example", _dead_pid())
    _leave_lock(tmp_path, host=host, pid=pid)
    said: list[str] = []
    with pytest.raises(LockError, match="force-unlock dead-run"):
        with project_lock(tmp_path, on_takeover=said.append):
            pass  # pragma: no cover
    assert said == [] and current_lock(tmp_path).id == "dead-run"


def test_of_many_runs_finding_one_dead_lock_exactly_one_takes_it_over(tmp_path: Path):
    _leave_lock(tmp_path, host=socket.gethostname(), pid=_dead_pid())
    start, hold, results = threading.Barrier(6), threading.Event(), []

    def run() -> None:
        start.wait()
        try:
            with project_lock(tmp_path, on_takeover=lambda m: None):
                results.append("won")
                hold.wait(10)  # held until every other run has been refused
        except LockError as err:
            results.append(str(err))
            if sum(r != "won" for r in results) == 5:
                hold.set()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1, results
    assert all(f"pid {os.getpid()}" in r for r in results if r != "won")


def test_cli_apply_takes_over_a_dead_runs_lock_and_says_so(make_project):
    root = make_project()
    out = root / "plans" / "p.yaml"
    assert runner.invoke(app, ["plan", "--dir", str(root), "--out", str(out)]).exit_code == 0
    _leave_lock(root, host=socket.gethostname(), pid=_dead_pid())
    result = runner.invoke(app, ["apply", str(out), "--dir", str(root)])
    assert result.exit_code == 0, result.output
    assert "Warning: Took over the lock of a run that is gone" in result.stderr
    assert not (root / LOCK_FILE).exists()


# -- the CLI ------------------------------------------------------------------------------------

def test_cli_force_unlock(make_project):
    root = make_project()
    lock = project_lock(root)
    info = lock.__enter__()
    wrong = runner.invoke(app, ["force-unlock", "wrong-id", "--dir", str(root), "--force"])
    assert wrong.exit_code == 1 and f"does not match the current lock {info.id}" in wrong.output
    unconfirmed = runner.invoke(app, ["force-unlock", info.id, "--dir", str(root)])
    assert unconfirmed.exit_code == 1 and "--force" in unconfirmed.output
    assert current_lock(root) == info
    ok = runner.invoke(app, ["force-unlock", info.id, "--dir", str(root), "--force"])
    assert ok.exit_code == 0, ok.output
    assert f"Removed the lock {info.id}" in ok.output and current_lock(root) is None
    again = runner.invoke(app, ["force-unlock", info.id, "--dir", str(root), "--force"])
    assert again.exit_code == 1 and "not locked" in again.output


def test_cli_apply_is_refused_while_another_apply_holds_the_lock(make_project):
    root = make_project()
    out = root / "plans" / "p.yaml"
    assert runner.invoke(app, ["plan", "--dir", str(root), "--out", str(out)]).exit_code == 0
    with project_lock(root) as info:
        result = runner.invoke(app, ["apply", str(out), "--dir", str(root)])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert info.owner in result.output and f"force-unlock {info.id}" in result.output
    result = runner.invoke(app, ["apply", str(out), "--dir", str(root)])
    assert result.exit_code == 0, result.output
    assert not (root / LOCK_FILE).exists()
    assert (root / ".reconciler" / "ledger.ndjson").exists()


# -- Postgres -----------------------------------------------------------------------------------

@pytest.fixture
def lock_db(server_url: str):
    from tests.databases import fresh_database

    with fresh_database(server_url) as url:
        yield url


def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.{TABLE}"]).fetchone()[0]:
            return []
        return conn.execute(f"SELECT id, owner FROM {SCHEMA}.{TABLE}").fetchall()


@pytest.mark.postgres
def test_postgres_lock_refuses_another_machine_and_names_the_owner(tmp_path: Path, lock_db: str):
    here, there = tmp_path / "here", tmp_path / "there"  # two checkouts: two file locks
    with psycopg.connect(lock_db) as a, psycopg.connect(lock_db) as b:
        with project_lock(here, postgres=a) as info:
            assert _rows(lock_db) == [(info.id, info.owner)]
            with pytest.raises(LockError) as err:
                with project_lock(there, postgres=b):
                    pass  # pragma: no cover
            assert info.owner in str(err.value) and info.id in str(err.value)
            assert not (there / LOCK_FILE).exists()  # the refused run cleaned its file lock
            # the same path on another machine meets the advisory lock first
            (here / LOCK_FILE).unlink()
            with pytest.raises(LockError, match=info.owner):
                with project_lock(here, postgres=b):
                    pass  # pragma: no cover
            (here / LOCK_FILE).parent.mkdir(exist_ok=True)
            (here / LOCK_FILE).write_text(json.dumps(info.__dict__))
        assert _rows(lock_db) == []
        held = a.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                         "AND pid = pg_backend_pid()").fetchone()[0]
        assert held == 0
        with project_lock(there, postgres=b):
            pass


@pytest.mark.postgres
def test_table_later_holds_the_lock_without_writing_until_recorded(tmp_path: Path, lock_db: str):
    """An apply takes the lock with `table_later`: while the lock table is missing nothing is
    written, yet another run is refused; `record_lock` then makes the table and names the holder."""
    here, there = tmp_path / "here", tmp_path / "there"
    with psycopg.connect(lock_db) as a, psycopg.connect(lock_db) as b:
        with project_lock(here, postgres=a, table_later=True) as info:
            with psycopg.connect(lock_db) as look:
                assert look.execute("SELECT to_regnamespace(%s)", [SCHEMA]).fetchone()[0] is None
            with pytest.raises(LockError, match="Postgres advisory lock"):
                with project_lock(there, postgres=b, table_later=True):
                    pass  # pragma: no cover
            record_lock(a, None, info)
            record_lock(a, None, info)  # once recorded, again is nothing
            assert _rows(lock_db) == [(info.id, info.owner)]
            with pytest.raises(LockError, match=info.id):
                with project_lock(there, postgres=b, table_later=True):
                    pass  # pragma: no cover
        assert _rows(lock_db) == []
        with project_lock(there, postgres=b, table_later=True) as other:  # the table is there now
            assert _rows(lock_db) == [(other.id, other.owner)]


@pytest.mark.postgres
def test_a_dead_sessions_row_is_removed_with_force_unlock(tmp_path: Path, lock_db: str):
    dead = psycopg.connect(lock_db)
    lock = project_lock(tmp_path / "a", postgres=dead)
    info = lock.__enter__()  # never exited: the run died
    dead.close()  # the process died: its advisory lock is gone, its row stays
    with psycopg.connect(lock_db) as conn:
        with pytest.raises(LockError, match=f"force-unlock {info.id}"):
            with project_lock(tmp_path / "b", postgres=conn):
                pass  # pragma: no cover
        with pytest.raises(LockError, match="does not match"):
            force_unlock(tmp_path / "b", "nope", postgres=conn)
        assert force_unlock(tmp_path / "b", info.id, postgres=conn).owner == info.owner
        assert _rows(lock_db) == []
        with project_lock(tmp_path / "b", postgres=conn):
            assert len(_rows(lock_db)) == 1


def _race(lock_db: str, roots: list[Path], **kwargs) -> tuple[list, list]:
    """Every root tries to take the lock at the same moment on its own session; winners hold it
    until every taker has tried. Returns (won, lost) as lists of roots / errors."""
    start, tried = threading.Barrier(len(roots)), threading.Barrier(len(roots))
    won, lost = [], []

    def take(root: Path, extra: dict) -> None:
        with psycopg.connect(lock_db) as conn:
            start.wait()
            try:
                with project_lock(root, postgres=conn, **extra):
                    won.append(root)
                    tried.wait()
            except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
                lost.append(exc)
                tried.wait()

    threads = [threading.Thread(target=take, args=(root, kwargs.get(str(root), {})))
               for root in roots]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return won, lost


@pytest.mark.postgres
def test_clones_of_one_project_on_a_fresh_database_never_both_hold_the_lock(tmp_path, lock_db):
    """Bug 5: the advisory key was a hash of the clone's path and the lock row check-then-insert,
    so two clones both held the lock, and two first runs failed on CREATE SCHEMA's race."""
    clones = [tmp_path / f"clone{i}" for i in range(4)]
    won, lost = _race(lock_db, clones)
    assert len(won) == 1, lost
    assert len(lost) == 3 and all(isinstance(e, LockError) for e in lost), lost
    assert all("locked" in str(e) or "holds the lock" in str(e) for e in lost)


@pytest.mark.postgres
def test_clones_sharing_a_project_id_exclude_each_other_and_other_projects_do_not(tmp_path,
                                                                                  lock_db):
    clones = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    same = {str(c): {"project_id": "p-1"} for c in clones}
    won, lost = _race(lock_db, clones, **same)
    assert len(won) == 1 and len(lost) == 2 and all(isinstance(e, LockError) for e in lost)
    others = {str(clones[0]): {"project_id": "p-1"}, str(clones[1]): {"project_id": "p-2"}}
    won, lost = _race(lock_db, clones[:2], **others)
    assert len(won) == 2 and lost == [], "two projects on one database apply side by side"
    mixed = {str(clones[0]): {"project_id": "p-1"}}  # clones[1] has no id: the whole database
    won, lost = _race(lock_db, clones[:2], **mixed)
    assert len(won) == 1 and len(lost) == 1
    assert _rows(lock_db) == []


@pytest.mark.postgres
def test_the_postgres_row_of_a_dead_process_on_this_host_is_removed(tmp_path: Path, lock_db: str):
    with psycopg.connect(lock_db) as conn:
        with project_lock(tmp_path / "a", postgres=conn):
            pass  # creates the lock table
        owner = f"someone@{socket.gethostname()} pid {_dead_pid()}"
        conn.execute(f"INSERT INTO {SCHEMA}.{TABLE} VALUES ('dead-run', %s, 'apply', 'x')", [owner])
        conn.commit()
        said: list[str] = []
        with project_lock(tmp_path / "b", postgres=conn, on_takeover=said.append) as info:
            assert _rows(lock_db) == [(info.id, info.owner)]
        assert len(said) == 1 and "dead-run" in said[0]


@pytest.mark.postgres
def test_a_role_that_may_only_use_the_lock_table_takes_the_lock(tmp_path: Path, lock_db: str,
                                                                 server_url: str):
    """Once the lock table is made, taking the lock runs no DDL: a role with no CREATE in the
    database (`CREATE SCHEMA IF NOT EXISTS` checks that before it looks) but the right to use
    the table takes and releases the lock."""
    import secrets

    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from tests.databases import drop_role_later

    with psycopg.connect(lock_db) as owner, project_lock(tmp_path / "a", postgres=owner):
        pass  # the first apply made the table
    role = f"reconciler_locker_{secrets.token_hex(3)}"
    with psycopg.connect(lock_db, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        admin.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
            sql.Identifier(SCHEMA), sql.Identifier(role)))
        admin.execute(sql.SQL("GRANT SELECT, INSERT, DELETE ON {} TO {}").format(
            sql.Identifier(SCHEMA, TABLE), sql.Identifier(role)))
    drop_role_later(server_url, role)
    with psycopg.connect(make_conninfo(lock_db, user=role)) as conn:
        with project_lock(tmp_path / "b", postgres=conn) as info:
            assert _rows(lock_db) == [(info.id, info.owner)]
    assert _rows(lock_db) == []
