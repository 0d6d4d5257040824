"""The tests' own PostgreSQL databases: fresh ones, copies of a template, and their dropping.

Every database a test makes is `reconciler_test_<hex>` on the server the `server_url` fixture
names; tests never touch the database `DATABASE_URL` names. A database is dropped once the test
(or fixture) that made it is done, by a background thread, in batches (`Dropper`), and whatever
is left at the end of the run by `drop_deferred` (called by `server_url`): on this machine's
PostgreSQL 15 each `DROP DATABASE` waits for a checkpoint, and concurrent drops share one.
Measured with ten 9 MB databases on a busy machine: 12.9 s one after the other, 1.0 s together;
one drop per test used to cost 0.1 s idle and 1 to 3.5 s under load, and dropping them all at
the end kept both workers waiting for about 5 s.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

SUPABASE_ROLES = ("anon", "authenticated", "service_role")

_deferred: list[tuple[str, str]] = []  # (server URL, database name), dropped by drop_deferred()
_deferred_roles: list[tuple[str, str]] = []  # (server URL, role), dropped after the databases
_deferred_lock = threading.Lock()


def database_url(server: str, name: str) -> str:
    """`server` (a PostgreSQL URL) with its database replaced by `name`."""
    return urlunsplit(urlsplit(server)._replace(path="/" + name))


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """Create `reconciler_test_<hex>` (with Supabase's roles in the cluster) and yield its URL.
    It is dropped by `drop_deferred()` at the end of the run."""
    with _made(server, roles=True) as url:
        yield url


@contextlib.contextmanager
def clone_database(server: str, template: str) -> Iterator[str]:
    """`CREATE DATABASE reconciler_test_<hex> TEMPLATE <template>` on `server` (a file-level copy;
    the template must have no open session: PostgreSQL docs §23.3 "Template Databases"); yields
    its URL; dropped by `drop_deferred()`. Supabase's roles are cluster-wide, so the template's
    grants hold."""
    with _made(server, template=template) as url:
        yield url


@contextlib.contextmanager
def _made(server: str, *, template: str | None = None, roles: bool = False) -> Iterator[str]:
    """A new `reconciler_test_<hex>` on `server` (a copy of `template` when given), with
    Supabase's roles made when `roles`; yields its URL; dropped by `drop_deferred()`."""
    name = f"reconciler_test_{secrets.token_hex(4)}"
    create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(name), sql.Identifier(template)) if template else \
        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(create)
        try:
            _prepare(admin, name, roles)
        except BaseException:
            _dropper.put(server, name)  # made: dropped like the others
            raise
    try:
        yield database_url(server, name)
    finally:
        _dropper.put(server, name)


def _prepare(admin: psycopg.Connection, name: str, roles: bool) -> None:
    """Settings of a new test database, and Supabase's roles in the cluster when `roles`."""
    # Its commits do not wait for the WAL to reach the disk (PostgreSQL docs §20.5
    # "synchronous_commit"): nothing can be lost that matters, the database is dropped at
    # the end of the run, and the suite stops waiting on a slow disk at every commit.
    admin.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
        sql.Identifier(name)))
    for role in SUPABASE_ROLES if roles else ():
        # Roles are cluster-wide and the xdist workers start together: on a new server two
        # of them may both find a role missing, and the second CREATE ROLE then fails on
        # pg_authid's unique index (UniqueViolation) or as DuplicateObject. Either way the
        # role now exists, which is all this wants.
        with contextlib.suppress(psycopg.errors.UniqueViolation,
                                 psycopg.errors.DuplicateObject):
            admin.execute(sql.SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) "
                "THEN CREATE ROLE {} NOLOGIN; END IF; END $$").format(
                sql.Literal(role), sql.Identifier(role)))


@contextlib.contextmanager
def embedded_server_folder(prefix: str) -> Iterator[Path]:
    """A new folder for an embedded `pgserver` under the system's temporary folder, removed on
    exit. Not under pytest's `tmp_path`: pgserver runs PostgreSQL as another user and opens the
    folder's parents to it (chmod o+rx), but each pytest session that starts on the machine makes
    `/tmp/pytest-of-<user>` private again (0700), so initdb fails with "Permission denied" when
    another run starts meanwhile (seen here with several engineers' runs at once)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def drop_role_later(server: str, role: str) -> None:
    """Have `drop_deferred()` drop `role` on `server` once the databases are gone (a role that
    owns a database cannot be dropped before it)."""
    with _deferred_lock:
        _deferred_roles.append((server, role))


class Dropper:
    """Drops the databases handed to `put` on a daemon thread, in batches: it waits
    `BATCH_SECONDS` after the first one so that the drops of a batch run together (one
    checkpoint), sixteen at a time. Errors are kept for `drop_deferred` to raise."""

    BATCH_SECONDS = 3.0

    def __init__(self) -> None:
        self._wake = threading.Condition(_deferred_lock)
        self._thread: threading.Thread | None = None
        self._busy = False
        self.failed: list[str] = []

    def put(self, server: str, name: str) -> None:
        with self._wake:
            _deferred.append((server, name))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="drop-databases",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not _deferred:
                    self._wake.wait()
            time.sleep(self.BATCH_SECONDS)
            with self._wake:
                batch, _deferred[:] = list(_deferred), []
                self._busy = True
            try:
                self.failed += _drop_all(batch)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def settle(self) -> list[tuple[str, str]]:
        """Wait for a batch being dropped; return (and take) the databases still waiting."""
        with self._wake:
            while self._busy:
                self._wake.wait()
            pending, _deferred[:] = list(_deferred), []
            return pending


_dropper = Dropper()


def _drop_all(databases: list[tuple[str, str]]) -> list[str]:
    """Drop `databases` (`WITH (FORCE)`: sessions a test left open end), sixteen at a time;
    the errors."""
    if not databases:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(databases))) as pool:
        return [error for error in pool.map(
            lambda pair: _run(pair[0], "DROP DATABASE IF EXISTS {} WITH (FORCE)", pair[1]),
            databases) if error]


def drop_deferred() -> None:
    """Drop every database not dropped yet (waiting for a batch the background thread is
    dropping), then the roles given to `drop_role_later`. Raises RuntimeError naming what could
    not be dropped, here or in the background."""
    failed = _drop_all(_dropper.settle())
    failed += _dropper.failed
    _dropper.failed = []
    with _deferred_lock:
        roles, _deferred_roles[:] = list(_deferred_roles), []
    failed += [error for error in (_run(server, "DROP ROLE IF EXISTS {}", role)
                                   for server, role in roles) if error]
    if failed:
        raise RuntimeError("could not drop what the tests made: " + "; ".join(failed))


def _run(server: str, statement: str, name: str) -> str | None:
    """Run `statement` with `name` as its identifier on `server`; the error text, or None."""
    try:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL(statement).format(sql.Identifier(name)))
    except psycopg.Error as exc:
        return f"{name}: {exc}"
    return None
