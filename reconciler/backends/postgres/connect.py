"""Connections: `DATABASE_URL` (a Supabase connection string works as is) or an embedded server.

With no URL, an embedded PostgreSQL (the `pgserver` package, which bundles the server binaries)
runs with its data directory under `<root>/.reconciler/postgres`, so a fresh clone needs no
account. It runs only while a command needs it: started by the first connection, stopped when
the last one this process opened is closed (or when the process exits), unless another process
still uses it (pgserver counts the processes). Passwords never appear in messages: `describe_database` and every error mask them.

Supabase note: apply holds a transaction-level advisory lock, which needs a real session. Use the
direct connection (`db.<ref>.supabase.co:5432`) or the session pooler (port 5432); the
transaction pooler (port 6543) hands each transaction to a different backend and is refused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from reconciler.errors import ConfigError, ReadError
from reconciler.logs import logger

EMBEDDED_DIR = Path(".reconciler") / "postgres"
#: Supavisor's transaction mode port (Supabase docs, "Connecting to your database").
TRANSACTION_POOLER_PORT = 6543
_SQL_LOG = logger("reconciler.sql")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask(text: str, database_url: str | None = None) -> str:
    """`text` with the password of `database_url` (and any `password=…` / `user:pass@`) masked."""
    if database_url:
        password = _password(database_url)
        if password:
            text = text.replace(password, "***")
    text = _KEYWORD_PASSWORD.sub(r"\1***", text)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _password(url: str) -> str | None:
    if "://" in url:
        return urlsplit(url).password
    m = _KEYWORD_PASSWORD.search(url)
    return m.group(2).strip("'") if m else None


def describe_database(database_url: str | None) -> str:
    """`postgresql://postgres:***@host:5432/db`, or `embedded (.reconciler/postgres)`."""
    if not database_url:
        return f"embedded ({EMBEDDED_DIR.as_posix()})"
    if "://" not in database_url:
        return mask(database_url)
    parts = urlsplit(database_url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))


def env_database_url(env) -> str | None:
    """The project's database URL from `env` (`DATABASE_URL`), None for the embedded server.
    Raises `ConfigError` for None in CI (`digest_key.refuse_embedded_in_ci`)."""
    url = env.get("DATABASE_URL") or None
    if url is None:
        from reconciler.digest_key import refuse_embedded_in_ci

        refuse_embedded_in_ci(env, "DATABASE_URL", "PostgreSQL")
    return url


def connect(root: Path, database_url: str | None) -> psycopg.Connection:
    """An open connection (autocommit off) to `database_url`, or to the embedded server under
    `<root>/.reconciler/postgres` when it is None or empty (started now if it is not running;
    stopped when the last embedded connection of this process is closed).

    Raises ConfigError for Supabase's transaction pooler (port 6543), ReadError when the server
    cannot be reached (password masked)."""
    if not database_url:
        data = (Path(root) / EMBEDDED_DIR).resolve()
        url = embedded_url(Path(root))
        try:
            conn = _connect(url, None, EmbeddedConnection)
        except BaseException:
            _release(data)
            raise
        conn.data_dir = data
        return conn
    if _port(database_url) == TRANSACTION_POOLER_PORT:
        raise ConfigError(
            f"{describe_database(database_url)} is Supabase's transaction pooler (port 6543), "
            "which cannot hold apply's advisory lock: use the direct connection or the session "
            "pooler (port 5432).")
    return _connect(database_url, database_url)


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port if "://" in url else None
    except ValueError:
        return None


class LoggingCursor(psycopg.Cursor):
    """The cursor of every connection `connect` opens (psycopg's `cursor_factory`): logs each
    statement on `reconciler.sql` at DEBUG (`--debug`) with its duration in milliseconds and
    the number of bound values, never the values. One `isEnabledFor` check when DEBUG is off."""

    def execute(self, query, params=None, **kwargs):  # type: ignore[override]
        if not _SQL_LOG.isEnabledFor(logging.DEBUG):
            return super().execute(query, params, **kwargs)
        with self._logged(query, len(params) if params is not None else 0):
            return super().execute(query, params, **kwargs)

    def executemany(self, query, params_seq, **kwargs):  # type: ignore[override]
        if not _SQL_LOG.isEnabledFor(logging.DEBUG):
            return super().executemany(query, params_seq, **kwargs)
        params_seq = list(params_seq)
        with self._logged(query, sum(len(p) for p in params_seq)):
            return super().executemany(query, params_seq, **kwargs)

    @contextlib.contextmanager
    def copy(self, statement, params=None, **kwargs):  # type: ignore[override]
        """`Cursor.copy`, logged when the COPY ends (its rows are not logged)."""
        if not _SQL_LOG.isEnabledFor(logging.DEBUG):
            with super().copy(statement, params, **kwargs) as copy:
                yield copy
            return
        with self._logged(statement, len(params) if params is not None else 0):
            with super().copy(statement, params, **kwargs) as copy:
                yield copy

    @contextlib.contextmanager
    def _logged(self, query, bound: int):
        start, status = time.perf_counter(), "error"
        try:
            yield
            status = "ok"
        finally:
            _SQL_LOG.debug("SQL %s (%.1f ms, %s, %d bound value(s))", self._text(query),
                           (time.perf_counter() - start) * 1000, status, bound)

    def _text(self, query) -> str:
        if isinstance(query, (bytes, bytearray)):
            query = query.decode("utf-8", "replace")
        if not isinstance(query, str):
            try:
                query = query.as_string(self.connection)
            except Exception:
                query = repr(query)
        return " ".join(query.split())


class EmbeddedConnection(psycopg.Connection):
    """A connection to the embedded server: closing the last one this process opened stops
    the server (`data_dir`: its data directory)."""

    data_dir: Path | None = None

    def close(self) -> None:
        super().close()
        data, self.data_dir = self.data_dir, None
        if data is not None:
            _release(data)


def _connect(url: str, secret: str | None,
             cls: type[psycopg.Connection] = psycopg.Connection) -> psycopg.Connection:
    try:
        return cls.connect(url, connect_timeout=10, cursor_factory=LoggingCursor)
    except psycopg.Error as exc:
        where = describe_database(secret) if secret else describe_database(None)
        raise ReadError(f"cannot connect to Postgres at {where}: "
                        f"{mask(str(exc), secret)}") from None


#: Embedded servers this process uses: data directory → [server, open connections].
_EMBEDDED: dict[Path, list] = {}


def _pgserver():
    """`pgserver`, imported without platformdirs' `RuntimeDirWarning` (raised at import when
    XDG_RUNTIME_DIR is unset; pgserver then keeps its lock and sockets under
    /tmp/runtime-<uid>, which is fine for a server that lives as long as one command)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", category=UserWarning)
        import pgserver
    return pgserver


def embedded_url(root: Path) -> str:
    """Start (or reuse) the embedded server for `root` and return its connection URI; the
    caller owes one `_release` of its data directory. Raises ReadError when pgserver cannot
    start it."""
    data = (Path(root) / EMBEDDED_DIR).resolve()
    try:
        data.parent.mkdir(parents=True, exist_ok=True)
        held = _EMBEDDED.get(data)
        if held is None:
            held = _EMBEDDED[data] = [_pgserver().get_server(data, cleanup_mode="stop"), 0]
            forget_dead_users(held[0])
        uri = held[0].get_uri()
        held[1] += 1
        return uri
    except Exception as exc:  # pgserver raises plain exceptions from its subprocesses
        raise ReadError(f"cannot start the embedded PostgreSQL under {EMBEDDED_DIR}: "
                        f"{mask(str(exc))}") from None


def forget_dead_users(server: Any) -> None:
    """Drop the processes that are gone from the list pgserver keeps of the processes using
    `server` (`global_process_id_list`, a file in its data directory). The last process on that
    list stops the server; a process killed outright (`kill -9`) never takes itself off, and the
    server would then run on after every later command."""
    users = server.global_process_id_list
    with type(server)._lock:  # pgserver's own inter-process lock over that list
        for pid in users.get():
            if pid == os.getpid():
                continue
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                users.get_and_remove(pid)
            except OSError:  # it exists, under another user
                pass


def _release(data: Path) -> None:
    """One user of the embedded server at `data` is done; the last one stops it (pgserver
    keeps it running while another process uses it)."""
    held = _EMBEDDED.get(data)
    if held is None:
        return
    held[1] -= 1
    if held[1] <= 0:
        del _EMBEDDED[data]
        held[0].cleanup()


def settle(conn: psycopg.Connection) -> None:
    """Leave `conn` idle, its transaction rolled back, whatever an interrupt left it in; or
    closed.

    A Ctrl-C that lands between sending a query and waiting for its answer (where psycopg cannot
    cancel the query itself) leaves the connection in the middle of a command, and every
    further command fails with "another command is already in progress". That command is
    cancelled on the server and its answer drained (5 s at most each); when that fails too, the
    connection is closed (the server then ends the session, with its transaction and advisory
    locks). A closed connection is left alone. Never raises `psycopg.Error`; a second interrupt
    while settling closes the connection and is raised.
    """
    from psycopg import generators
    from psycopg.pq import TransactionStatus

    if conn.closed:
        return
    try:
        if conn.info.transaction_status == TransactionStatus.ACTIVE:
            conn.cancel_safe(timeout=5.0)
            conn.wait(generators.fetch_many(conn.pgconn), timeout=5.0)
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
    except Exception:  # psycopg errors, or the wait timed out: the session is not usable
        conn.close()
    except BaseException:
        conn.close()
        raise


_IDENTITY_SQL = ("SELECT current_database(), "
                 "(SELECT system_identifier::text FROM pg_catalog.pg_control_system())")


def server_identity(conn: psycopg.Connection) -> dict[str, str]:
    """What tells this database from any other: `{"system_identifier": …, "database": …}`.

    The system identifier is unique per cluster (`initdb`), so two servers, or a server
    rebuilt from scratch, differ even with equal names (PostgreSQL docs §9.27.10
    "Control Data Functions", `pg_control_system()`). Where a role may not call it, only the
    database name is given. Runs in a savepoint, so it never disturbs the caller's transaction.
    """
    try:
        with conn.transaction():
            name, system = conn.execute(_IDENTITY_SQL).fetchone()  # type: ignore[misc]
    except psycopg.errors.InsufficientPrivilege:
        with conn.transaction():
            (name,) = conn.execute("SELECT current_database()").fetchone()  # type: ignore[misc]
        system = None
    return {"database": name, **({"system_identifier": system} if system else {})}
