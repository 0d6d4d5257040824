"""One apply at a time per project: a file lock, plus a Postgres lock when it has a database.

The file lock is `.reconciler/lock.json`, created atomically (`O_CREAT|O_EXCL`), holding
`{id, owner, operation, started_at, host, pid}`; it is removed when the apply ends, however it
ends. A run that died (kill -9, power loss) leaves it behind. When its owner ran on this host
(same host name) and its process no longer exists, the next run takes the lock over and says
so (git does the same with `gc.pid`: host name and pid); the check and the replacement happen
under an exclusive `flock` of `.reconciler/lock.json.takeover`, so two runs cannot both take
over. A lock held by a live process, or by another host, is only removed by
`reconciler force-unlock ID` once you are sure that run is gone (Terraform's `force-unlock`).

With a Postgres database the same lock is also taken in it, so a second apply from another
clone or machine (with its own `.reconciler/`) is refused too. It is keyed by what every clone
of the project shares: the database (advisory locks belong to the database they are taken in,
PostgreSQL docs §9.27.10) and the `project_id` committed in `reconciler.yaml`:

- session-level advisory locks (the server drops them when the session ends, so they never
  outlive a dead process): with a project id, `pg_try_advisory_lock(key(id))` and a shared
  `pg_try_advisory_lock_shared(key("*"))`; without one, the exclusive `key("*")`, which covers
  the whole database. So clones sharing an id exclude each other, projects with different ids
  apply side by side, and a project without an id excludes every apply on that database;
- a row in `reconciler.reconciler_lock` (id, owner, operation, started_at, scope: the project
  id or `*`), inserted with `ON CONFLICT (scope) DO NOTHING` under those locks, naming the
  holder to whoever is refused. The table lives in its own schema `reconciler` (never an
  "undeclared table" of a declared schema), created under a transaction-level advisory lock,
  so two first runs at once cannot race on `CREATE SCHEMA`. An apply takes the lock with
  `table_later`: on a database without the table, the advisory locks alone hold it until the
  plan has passed its checks (`record_lock`), so a refused plan writes nothing there; a run
  refused meanwhile is told that another run holds the lock, without its name.

Neither lock holds a secret: the owner is `user@host pid N`.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import re
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import LockError

if TYPE_CHECKING:
    import psycopg

LOCK_FILE = Path(".reconciler") / "lock.json"
SCHEMA = "reconciler"
TABLE = "reconciler_lock"
#: The scope of a project without a project id: the whole database.
DATABASE_SCOPE = "*"
_CREATE = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
           f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{TABLE} (id text PRIMARY KEY, owner text NOT NULL,"
           " operation text NOT NULL, started_at text NOT NULL, scope text)",
           f"ALTER TABLE {SCHEMA}.{TABLE} ADD COLUMN IF NOT EXISTS scope text",
           f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_scope_key ON {SCHEMA}.{TABLE} (scope)")


@dataclass(frozen=True)
class LockInfo:
    """Who holds the lock: `id` (uuid4), `owner` (`user@host pid N`), `operation`, `started_at`
    (ISO 8601, UTC), and the `host` name and `pid` of the process (None when unknown)."""

    id: str
    owner: str
    operation: str
    started_at: str
    host: str | None = None
    pid: int | None = None

    def describe(self) -> str:
        return f"{self.owner} ({self.operation} started {self.started_at}, lock id {self.id})"

    def is_dead_here(self) -> bool:
        """True when the owner ran on this host and its process is gone, or has exited and
        waits only to be reaped (a zombie: state `Z` in Linux's `/proc/<pid>/stat`, proc(5));
        a pid that was reused since counts as alive: the lock is then kept, the safe side."""
        if self.host != socket.gethostname() or self.pid is None or self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # PermissionError: the process exists, under another user
            return False
        return _zombie(self.pid)


def _zombie(pid: int) -> bool:
    """Whether `pid` has exited and not been reaped yet (Linux; False where /proc is absent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 1:].split()[:1] == ["Z"]  # the state follows "(comm)"


def lock_key(scope: str | None) -> int:
    """A stable signed 64-bit advisory lock key for a project id (None: the whole database)."""
    digest = hashlib.sha256(f"reconciler:{scope or DATABASE_SCOPE}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


#: Serialises creating the lock table (`pg_advisory_xact_lock`), whatever the project.
SETUP_KEY = lock_key("reconciler.setup")


def advisory_locks(project_id: str | None) -> list[tuple[int, bool]]:
    """The advisory locks a project takes, as (key, shared)."""
    if not project_id:
        return [(lock_key(None), False)]
    return [(lock_key(None), True), (lock_key(project_id), False)]


def new_lock_info(operation: str) -> LockInfo:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment (some containers)
        user = "unknown"
    return LockInfo(id=str(uuid.uuid4()), owner=f"{user}@{socket.gethostname()} pid {os.getpid()}",
                    operation=operation,
                    started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    host=socket.gethostname(), pid=os.getpid())


def _held(info: LockInfo | None, where: str) -> LockError:
    if info is None:
        return LockError(f"Another reconciler run holds the lock ({where}); wait for it to finish.")
    return LockError(
        f"The project is locked ({where}) by {info.describe()}. Wait for that run to finish; "
        f"if it is dead, remove the lock with: reconciler force-unlock {info.id} (add --force "
        "where no terminal can confirm)")


# -- the file lock -------------------------------------------------------------------------------

def read_file_lock(root: Path) -> LockInfo | None:
    """The lock recorded in `<root>/.reconciler/lock.json`, or None when there is none.
    A lock file that cannot be parsed is reported as held by an unknown owner. Locks written
    before `host`/`pid` were recorded get them from `owner` (`user@host pid N`)."""
    path = Path(root) / LOCK_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        info = LockInfo(**{k: str(data[k]) for k in ("id", "owner", "operation", "started_at")})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return LockInfo(id="unknown", owner="an unknown owner", operation="?", started_at="?")
    return _with_process(info, data.get("host"), data.get("pid"))


def _with_process(info: LockInfo, host: object = None, pid: object = None) -> LockInfo:
    """`info` with its `host` and `pid`, from the recorded fields or else from `owner`."""
    m = _OWNER.match(info.owner)
    host = host if isinstance(host, str) else m and m.group(1)
    pid = pid if type(pid) is int else m and int(m.group(2))
    return replace(info, host=host or None, pid=pid or None)


_OWNER = re.compile(r".*@(.+) pid (\d{1,10})\Z")


def _take_file(root: Path, info: LockInfo,
               on_takeover: Callable[[str], None]) -> Path:
    path = Path(root) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _create(path, info)
    except FileExistsError:
        if not _take_over(root, info, on_takeover):
            raise _held(read_file_lock(root), str(LOCK_FILE)) from None
    return path


def _create(path: Path, info: LockInfo) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(info), out, indent=2)
        out.write("\n")


def _take_over(root: Path, info: LockInfo, on_takeover: Callable[[str], None]) -> bool:
    """Replace a lock whose owner died on this host; False (nothing done) otherwise. Runs under
    an exclusive flock so that of two runs finding the same dead lock, one takes it over and
    the other then sees the new, live owner."""
    path = Path(root) / LOCK_FILE
    with open(path.with_name(path.name + ".takeover"), "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            stale = read_file_lock(root)
            if stale is None or not stale.is_dead_here():
                return stale is None and _retry_create(path, info)
            path.unlink()
            _create(path, info)
        except FileExistsError:
            return False
        finally:
            fcntl.flock(guard, fcntl.LOCK_UN)
    on_takeover(f"Took over the lock of a run that is gone: {stale.describe()} (process "
                f"{stale.pid} no longer exists on {stale.host}).")
    return True


def _retry_create(path: Path, info: LockInfo) -> bool:
    """The lock vanished between our two looks (its run ended): take it the ordinary way."""
    _create(path, info)
    return True


def _say(message: str) -> None:
    sys.stderr.write(f"Warning: {message}\n")


def _drop_file(root: Path, lock_id: str) -> None:
    current = read_file_lock(root)
    if current is not None and current.id == lock_id:
        with contextlib.suppress(FileNotFoundError):
            (Path(root) / LOCK_FILE).unlink()


# -- the Postgres lock ---------------------------------------------------------------------------

def _idle(conn: "psycopg.Connection") -> None:
    """Roll back what `conn` has open; a command a Ctrl-C cut off is cancelled first, or the
    connection closed (`connect.settle`)."""
    from reconciler.backends.postgres.connect import settle

    settle(conn)


def _rows(conn: "psycopg.Connection") -> list[tuple[LockInfo, str]]:
    """Every lock row with its scope (a row from before scopes existed counts as `*`)."""
    exists = conn.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL",
                          [f"{SCHEMA}.{TABLE}"]).fetchone()[0]
    if not exists:
        return []
    has_scope = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass "
        "AND attname = 'scope' AND NOT attisdropped", [f"{SCHEMA}.{TABLE}"]).fetchone()[0]
    scope = "coalesce(scope, '*')" if has_scope else "'*'"
    rows = conn.execute(f"SELECT id, owner, operation, started_at, {scope} FROM {SCHEMA}.{TABLE} "
                        "ORDER BY started_at").fetchall()
    return [(_with_process(LockInfo(*row[:4])), row[4]) for row in rows]


#: Whether the lock table is there as `_CREATE` leaves it (its `scope` column and unique index).
_READY = ("SELECT pg_catalog.to_regclass(%s) IS NOT NULL AND EXISTS (SELECT 1 FROM "
          "pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass(%s) "
          "AND attname = 'scope' AND NOT attisdropped)")


def _setup(conn: "psycopg.Connection") -> None:
    """Create the lock table once, serialised so that first runs never race on it. A table
    already made is left alone: one query instead of four DDL statements per apply, and a role
    that may use the table but not create in the database takes the lock (`CREATE SCHEMA IF NOT
    EXISTS` checks the privilege before it looks)."""
    if _ready(conn):
        return
    with conn.transaction():
        conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(%s)", [SETUP_KEY])
        for statement in _CREATE:
            conn.execute(statement)


def _try(conn: "psycopg.Connection", keys: list[tuple[int, bool]]) -> list[tuple[int, bool]]:
    """Take each advisory lock in turn; the ones taken (all of them, or fewer on refusal)."""
    taken = []
    for key, shared in keys:
        fn = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        if not conn.execute(f"SELECT pg_catalog.{fn}(%s)", [key]).fetchone()[0]:
            break
        taken.append((key, shared))
    return taken


def _unlock(conn: "psycopg.Connection", keys: list[tuple[int, bool]]) -> None:
    for key, shared in keys:
        fn = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
        conn.execute(f"SELECT pg_catalog.{fn}(%s)", [key])


def _take_postgres(conn: "psycopg.Connection", project_id: str | None, info: LockInfo,
                   on_takeover: Callable[[str], None], *, table_later: bool = False) -> None:
    """Take the advisory locks, then record `info` in the lock table (created when missing).
    `table_later`: while the table is missing, take the advisory locks alone and write nothing
    (`record_lock` creates the table and the row once the caller is about to write)."""
    import psycopg

    scope = project_id or DATABASE_SCOPE
    keys = advisory_locks(project_id)
    _idle(conn)
    try:
        ready = _ready(conn)
        if not ready and not table_later:
            _setup(conn)
        conn.commit()
        taken = _try(conn, keys)
        if taken != keys:
            _unlock(conn, taken)
            holders = [i for i, s in _rows(conn) if project_id is None or s in (scope, "*")]
            conn.commit()
            raise _held(holders[0] if holders else None, "Postgres advisory lock")
        if ready or not table_later:
            _record(conn, project_id, info, on_takeover, keys)
        else:
            conn.commit()
    except psycopg.Error as exc:
        raise _failed(conn, exc) from None


def record_lock(conn: "psycopg.Connection", project_id: str | None, info: LockInfo,
                on_takeover: Callable[[str], None] = _say) -> None:
    """Record the lock `info` (held by this session's advisory locks, `project_lock(…,
    table_later=True)`) in the lock table, creating the table when it is missing; nothing when
    it is recorded already. Call it just before the first write. Raises `LockError` (a row of
    another run that is not gone, a database error)."""
    import psycopg

    _idle(conn)
    try:
        if _ready(conn) and conn.execute(f"SELECT 1 FROM {SCHEMA}.{TABLE} WHERE id = %s",
                                         [info.id]).fetchone():
            conn.commit()
            return
        _setup(conn)
        conn.commit()
        _record(conn, project_id, info, on_takeover, advisory_locks(project_id))
    except psycopg.Error as exc:
        raise _failed(conn, exc) from None


def _failed(conn: "psycopg.Connection", exc: Exception) -> LockError:
    """The lock could not be taken for a database error: `conn` left idle, the error said."""
    _idle(conn)
    diag = getattr(exc, "diag", None)
    return LockError(f"cannot take the Postgres lock: {type(exc).__name__}: "
                     f"{(getattr(diag, 'message_primary', None) or 'error').strip()}")


def _ready(conn: "psycopg.Connection") -> bool:
    return bool(conn.execute(_READY, [f"{SCHEMA}.{TABLE}_scope_key",
                                      f"{SCHEMA}.{TABLE}"]).fetchone()[0])


def _record(conn: "psycopg.Connection", project_id: str | None, info: LockInfo,
            on_takeover: Callable[[str], None], keys: list[tuple[int, bool]]) -> None:
    """Insert `info`'s row under the advisory locks `keys` this session holds (rows of runs
    that are gone are removed first); on failure the advisory locks are released. Raises
    `LockError` when another run's row is there, `psycopg.Error`."""
    scope = project_id or DATABASE_SCOPE
    try:
        held = [i for i, s in _rows(conn) if project_id is None or s in (scope, "*")]
        for dead in (h for h in held if h.is_dead_here()):  # its session ended with it
            conn.execute(f"DELETE FROM {SCHEMA}.{TABLE} WHERE id = %s", [dead.id])
            on_takeover(f"Removed the Postgres lock row of a run that is gone: "
                        f"{dead.describe()}.")
        held = [h for h in held if not h.is_dead_here()]
        if held:
            raise _held(held[0], f"Postgres table {SCHEMA}.{TABLE}")
        row = conn.execute(
            f"INSERT INTO {SCHEMA}.{TABLE} (id, owner, operation, started_at, scope) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (scope) DO NOTHING RETURNING id",
            [info.id, info.owner, info.operation, info.started_at, scope]).fetchone()
        if row is None:
            raise _held(next((i for i, s in _rows(conn) if s == scope), None),
                        f"Postgres table {SCHEMA}.{TABLE}")
        conn.commit()
    except BaseException:
        _idle(conn)
        if not conn.closed:  # closed: the server released its advisory locks
            _unlock(conn, keys)
            conn.commit()
        raise


def _drop_postgres(conn: "psycopg.Connection", project_id: str | None, lock_id: str) -> None:
    import psycopg

    _idle(conn)  # a command Ctrl-C cut off is cancelled (or the connection closed)
    if conn.closed:
        return  # the session, and with it the advisory lock, is gone; the row is force-unlock's
    try:
        if conn.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL",
                        [f"{SCHEMA}.{TABLE}"]).fetchone()[0]:
            conn.execute(f"DELETE FROM {SCHEMA}.{TABLE} WHERE id = %s", [lock_id])
        _unlock(conn, advisory_locks(project_id))
        conn.commit()
    except psycopg.Error:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()


# -- the public API ------------------------------------------------------------------------------

@contextlib.contextmanager
def project_lock(root: Path, *, postgres: "psycopg.Connection | None" = None,
                 operation: str = "apply", project_id: str | None = None,
                 on_takeover: Callable[[str], None] = _say,
                 table_later: bool = False) -> Iterator[LockInfo]:
    """Hold the project lock for the duration of the `with` block; yields its `LockInfo`.

    `project_id` is the project's id from `reconciler.yaml` (None: the lock covers every apply
    on the database). Raises LockError naming the holder (owner, start time, id) when it is
    held, here or (with `postgres`) by another clone or machine on the same database. A file lock left by a dead process of
    this host is taken over, and `on_takeover(message)` says so (default: a `Warning:` line on
    stderr). Released on exit, even on error.

    `table_later`: a database without the lock table gets none yet; the advisory locks alone
    hold it until `record_lock` (an apply calls it once its checks passed), so a run refused
    before its first write leaves the database as it found it.
    """
    root = Path(root)
    info = new_lock_info(operation)
    _take_file(root, info, on_takeover)
    try:
        if postgres is not None:
            _take_postgres(postgres, project_id, info, on_takeover, table_later=table_later)
        try:
            yield info
        finally:
            if postgres is not None:
                _drop_postgres(postgres, project_id, info.id)
    finally:
        _drop_file(root, info.id)


def current_lock(root: Path, *, postgres: "psycopg.Connection | None" = None) -> LockInfo | None:
    """The lock currently recorded for the project (the file first, then the Postgres table)."""
    file_info, rows = _held_locks(Path(root), postgres)
    return file_info or (rows[0] if rows else None)


def _held_locks(root: Path, postgres: "psycopg.Connection | None") -> tuple[LockInfo | None,
                                                                              list[LockInfo]]:
    rows: list[LockInfo] = []
    if postgres is not None:
        _idle(postgres)
        rows = [info for info, _ in _rows(postgres)]
        postgres.rollback()
    return read_file_lock(root), rows


def find_lock(root: Path, lock_id: str, *, postgres: "psycopg.Connection | None" = None
              ) -> LockInfo:
    """The current lock whose id is `lock_id` (in the file or the Postgres table). Raises
    LockError when no lock is held or `lock_id` is not the current lock's id."""
    file_info, rows = _held_locks(Path(root), postgres)
    current = ([file_info] if file_info else []) + rows
    if not current:
        raise LockError("the project is not locked: there is nothing to unlock")
    for info in current:
        if info.id == lock_id:
            return info
    raise LockError(f"lock id {lock_id} does not match the current lock {current[0].id} "
                    f"(held by {current[0].owner} since {current[0].started_at})")


def force_unlock(root: Path, lock_id: str, *, postgres: "psycopg.Connection | None" = None
                 ) -> LockInfo:
    """Remove the lock `lock_id` (file and Postgres row) left by a dead run; returns what was
    removed. Raises LockError when no lock is held or `lock_id` is not the current lock's id.
    Does not end the other run: only use it when that run is gone."""
    root = Path(root)
    found = find_lock(root, lock_id, postgres=postgres)
    file_info = read_file_lock(root)
    if file_info is not None and file_info.id == lock_id:
        with contextlib.suppress(FileNotFoundError):
            (root / LOCK_FILE).unlink()
    if postgres is not None and _rows(postgres):
        postgres.execute(f"DELETE FROM {SCHEMA}.{TABLE} WHERE id = %s", [lock_id])
    if postgres is not None:
        postgres.commit()
    return found
