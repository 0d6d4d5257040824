"""The bundled project's Supabase side and `mirror:` end to end, plus connection handling."""

from __future__ import annotations

import os
import subprocess
import threading
import sys
from pathlib import Path

import pytest

from reconciler.backends.postgres.connect import connect, describe_database, mask, server_identity
from reconciler.backends.postgres.reader import read_tables
from reconciler.errors import ConfigError, ReadError
from reconciler.model.notion import Database, NotionDatabases, Property
from reconciler.project.supabase import load_supabase
from tests.databases import embedded_server_folder

from .conftest import REPO, converge, kinds, plan


def bundled_notion() -> NotionDatabases:
    """The desired Notion side from the real loader when it imports, else none (the bundled
    Supabase tables do not mirror)."""
    try:
        from reconciler.project.loader import load_project
        return load_project(REPO, {}).notion
    except Exception:  # the loader is being written concurrently
        return NotionDatabases()


@pytest.mark.postgres
def test_bundled_tables_create_apply_and_replan_empty(conn, schema):
    tables, problems = load_supabase(REPO, {}, bundled_notion())
    assert problems == []
    # into this test's schema, foreign keys included, so the session's `public` stays clean
    tables = tuple(t.model_copy(update={"schema_name": schema, "foreign_keys": tuple(
        f.model_copy(update={"ref_schema": schema}) for f in t.foreign_keys)}) for t in tables)
    changes = converge(conn, tables)
    assert sum(c.kind == "create_table" for c in changes) == len(tables) == 17
    assert {c.kind for c in changes} == {"create_table", "add_constraint", "add_index"}
    assert plan(conn, tables) == []
    _, fingerprints = read_tables(conn, tables)
    assert len(fingerprints) == 17 and all(v.startswith("sha256:") for v in fingerprints.values())


def write_mirror(root: Path, schema: str) -> None:
    path = root / "schemas" / "supabase" / "tasks.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"schema: {schema}\nmirror: tasks\ncolumns:\n  done: {{type: boolean}}\n")


@pytest.mark.postgres
def test_a_new_notion_property_is_a_new_column_in_the_same_plan(conn, schema, tmp_path):
    write_mirror(tmp_path, schema)
    props = [Property(name="Name", type="title"), Property(name="Tags", type="multi_select")]
    ws = lambda *p: NotionDatabases(databases=(Database(  # noqa: E731
        name="tasks", title="Tasks", properties=tuple(props) + p),))
    tables, problems = load_supabase(tmp_path, {}, ws())
    assert problems == []
    converge(conn, tables)
    assert plan(conn, tables) == []
    tables, _ = load_supabase(tmp_path, {}, ws(Property(name="Due Date", type="date"),
                                               Property(name="Blocked By", type="relation")))
    changes = plan(conn, tables)
    assert kinds(changes) == [
        ("add_column", f'supabase.{schema}.tasks.column["blocked_by"]'),
        ("add_column", f'supabase.{schema}.tasks.column["due_date"]'),
    ]
    assert changes[0].after.column.type == "uuid[]"


def test_describe_database_masks_the_password():
    url = "postgresql://postgres.abcd:s3cr%40t@aws-0-eu.pooler.supabase.com:5432/postgres"
    assert describe_database(url) == \
        "postgresql://postgres.abcd:***@aws-0-eu.pooler.supabase.com:5432/postgres"
    assert describe_database(None) == "embedded (.reconciler/postgres)"
    assert "hunter2" not in mask("host=x password=hunter2 user=y")


def test_transaction_pooler_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="6543"):
        connect(tmp_path, "postgresql://u:secret@pooler.supabase.com:6543/postgres")


def test_connection_errors_never_show_the_password(tmp_path):
    with pytest.raises(ReadError) as info:
        connect(tmp_path, "postgresql://postgres:TopSecret99@127.0.0.1:1/nowhere")
    assert "TopSecret99" not in str(info.value) and "***" in str(info.value)


@pytest.mark.postgres
def test_embedded_server_runs_only_while_a_connection_is_open():
    with embedded_server_folder("reconciler-embedded-") as root:  # not under pytest's tmp_path
        data = root / ".reconciler" / "postgres"
        with connect(root, None) as conn, connect(root, None) as other:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert server_identity(other)["system_identifier"]
            other.close()
            assert (data / "postmaster.pid").exists(), "still used by the first connection"
        assert data.is_dir()
        assert not (data / "postmaster.pid").exists(), "stopped when the last one closed"


@pytest.mark.postgres
def test_bundled_sot_entries_keeps_supabases_defaults_safe(conn, schema):
    """Seed 002's table: RLS on (no policy: the API roles read nothing), the seed's
    UNIQUE (project_id, file_type, entry_id) and its serial id."""
    tables, _ = load_supabase(REPO, {}, bundled_notion())
    (sot,) = [t.model_copy(update={"schema_name": schema}) for t in tables
              if t.name == "sot_entries"]
    assert sot.rls and not sot.policies
    assert ("project_id", "file_type", "entry_id") in [u.columns for u in sot.uniques]
    assert sot.column("id").type == "serial"
    converge(conn, [sot])
    table = f'"{schema}".sot_entries'
    conn.execute(f"INSERT INTO {table} (project_id, file_type, entry_id) VALUES ('p', 'build', 'B-1')")
    conn.execute(f"GRANT USAGE ON SCHEMA \"{schema}\" TO anon")
    conn.execute(f"GRANT SELECT ON {table} TO anon")  # as Supabase's default privileges do
    conn.execute("SET ROLE anon")
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    conn.execute("RESET ROLE")
    conn.rollback()
    (live,), _ = read_tables(conn, [sot])
    assert ("project_id", "file_type", "entry_id") in [u.columns for u in live.uniques]
    assert live.rls and live.column("id").type == "serial"


def test_the_embedded_server_is_imported_without_a_runtime_dir_warning():
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    done = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c",
                           "from reconciler.backends.postgres.connect import _pgserver; "
                           "_pgserver()"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Warning" not in done.stderr, done.stderr


def test_a_killed_process_does_not_keep_the_embedded_server_running(tmp_path: Path):
    """pgserver stops its server when the last process on its list of users lets go; a process
    killed outright stays on that list unless it is dropped, and the server would run on."""
    from reconciler.backends.postgres.connect import _pgserver, forget_dead_users

    DiskList = _pgserver().utils.DiskList  # imported as the product imports pgserver

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()

    class Server:  # the attributes of pgserver's PostgresServer that the function reads
        global_process_id_list = DiskList(tmp_path / ".handle_pids.json")
        _lock = threading.Lock()  # pgserver's: an inter-process lock over that list

    Server.global_process_id_list.put([gone.pid, os.getpid(), 1])
    forget_dead_users(Server())
    assert Server.global_process_id_list.get() == [os.getpid(), 1]  # pid 1 is alive
