"""Every migration checked before it runs: Atlas's "dev database".

`check_migration` replays the live schema (the tables and objects the plan read) into a dev
database, then runs the plan's SQL there, statement by statement, all inside one transaction
that is always rolled back. A type, default, check, cast or reference the server refuses is a
`PlanError` naming the spec file and line of the change, before anything is written to Notion
or Postgres. Rows are not copied (the analyzers in `lint` count what the live data would do).

The dev database is `--dev-url` / `DEV_DATABASE_URL` when given (it must hold nothing in the
schemas the project declares: point it at an empty database, or at a local Supabase from
`supabase start`, whose `auth` schema and roles the checks then use), else the database
`reconciler_dev` on the embedded server under `.reconciler/postgres` (created on first use).
What the live database has outside the declared schemas is stood in for where the dev database
lacks it, in the rolled-back transaction: Supabase's roles (`anon`, `authenticated`,
`service_role`) that the live database has, and when the live database has Supabase's `auth`
schema, `auth.uid()`, `auth.role()`, `auth.jwt()`, `auth.email()` and `auth.users (id, email)`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

from reconciler.backends.postgres.compile import outside_transaction, statements
from reconciler.backends.postgres.connect import (EMBEDDED_DIR, LoggingCursor, _release,
                                                  describe_database, embedded_url, mask, settle)
from reconciler.backends.postgres.lint import finding, locate
from reconciler.diff.postgres import diff_tables
from reconciler.diff.postgres_objects import diff_objects
from reconciler.errors import PlanError
from reconciler.model.changes import AddExtension, AddIndex, ChangeBase
from reconciler.model.postgres import index_column, member_address
from reconciler.model.postgres_objects import Extension, SchemaObjects

DEV_DATABASE = "reconciler_dev"
ROLES = ("anon", "authenticated", "service_role")
AUTH_SHIM = (
    "CREATE SCHEMA auth",
    "CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS 'SELECT NULL::uuid'",
    "CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS 'SELECT NULL::text'",
    "CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS 'SELECT NULL::jsonb'",
    "CREATE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS 'SELECT NULL::text'",
    "CREATE TABLE auth.users (id uuid PRIMARY KEY, email text)",
)
_NOT_EMPTY = """
SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
LIMIT 3
"""
_COLUMN_LINE = re.compile(r'^\s*"((?:[^"]|"")+)"')
_NAMED_COLUMN = re.compile(r'column "([^"]+)"')


class Replayed(Exception):
    """The live schema could not be replayed into the dev database (`str`: why)."""


class Outside(NamedTuple):
    """What the live database has outside the declared schemas: which of Supabase's `roles`,
    whether it has an `auth` schema, the `extensions` its server offers
    (`pg_available_extensions`) and those `installed` in it (`(name, schema)`, `pg_extension`:
    what a live index's operator class may come from)."""

    roles: frozenset[str]
    auth: bool
    extensions: frozenset[str] = frozenset()
    installed: tuple[tuple[str, str], ...] = ()


def live_outside(conn: psycopg.Connection) -> Outside:
    """What the live database has that the dev database stands in for, or may lack (`Outside`).
    Leaves no transaction open."""
    try:
        roles = frozenset(r for (r,) in conn.execute(
            "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)", [list(ROLES)]))
        auth = conn.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'auth'"
                            ).fetchone() is not None
        extensions = frozenset(n for (n,) in conn.execute(
            "SELECT name FROM pg_catalog.pg_available_extensions"))
        installed = tuple(conn.execute(
            "SELECT e.extname, n.nspname FROM pg_catalog.pg_extension e JOIN "
            "pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' "
            "ORDER BY 1").fetchall())
    finally:
        settle(conn)  # a rollback, also of a read Ctrl-C cut off mid-command
    return Outside(roles, auth, extensions, installed)


def check_migration(root: Path, dev_url: str | None, live: Any, changes: Sequence[ChangeBase],
                    locations: Mapping[str, str],
                    outside: Outside = Outside(frozenset(ROLES), True)
                    ) -> list[ChangeBase]:
    """Run the SQL of `changes` on a copy of `live` in the dev database (rolled back), with
    stand-ins for what the live database has `outside` the declared schemas (`live_outside`).

    Returns `changes`, the first schema change carrying a DV102 warning when the live schema
    could not be copied there, or when the changes add an extension the live database offers
    and the dev database does not (the embedded server's pgserver build bundles only plpgsql and
    vector): the check then did not run. A live index whose operator class or collation the
    dev database lacks (an extension's, e.g. pg_trgm's `gin_trgm_ops`, where the dev
    database cannot create the extension) is left out of the copy, and a planned one is not
    run there: DV103 on the first schema change (or on that index's change) says which, and the
    rest is checked. Raises `PlanError` (DV101) naming the spec file and
    line of the first change the server refuses, with its statement and the server's message;
    `PlanError` when the dev database is not empty or cannot be reached."""
    ddl = [c for c in changes if c.sql]
    if not ddl:
        return list(changes)
    objects = getattr(live, "objects", SchemaObjects())
    schemas = sorted({t.schema_name for t in live.model} | objects.schemas
                     | {_schema_of(c) for c in ddl} - {None})
    skipped: str | None = None
    notes: dict[int, list] = {}
    with _dev_connection(root, dev_url) as conn, conn.transaction() as tx:
        _ensure_empty(conn, schemas, dev_url)
        skipped = _lacking(conn, ddl, outside.extensions)
        if skipped is not None:
            raise psycopg.Rollback(tx)
        _stand_ins(conn, outside.roles, outside.auth)
        try:
            left_out = _replay(conn, live.model, objects, schemas, outside.installed)
        except Replayed as exc:
            skipped = str(exc)
            raise psycopg.Rollback(tx) from None
        if left_out:
            notes.setdefault(id(ddl[0]), []).append(finding("DV103", left_out))
        lacking = _extensions(conn, outside.installed) if any(map(_decorated, ddl)) else []
        enums = [c.address for c in ddl if c.kind == "modify_enum"]
        for change in ddl:
            note = _run(conn, change, locations, lacking, enums)
            if note:
                notes.setdefault(id(change), []).append(finding("DV103", note))
        raise psycopg.Rollback(tx)
    if skipped is not None:
        notes = {id(ddl[0]): [finding("DV102", skipped)]}
    return [c.model_copy(update={"lint": c.lint + tuple(notes[id(c)])}) if id(c) in notes
            else c for c in changes]


def _lacking(conn: psycopg.Connection, changes: Sequence[ChangeBase],
             offered: frozenset[str]) -> str | None:
    """Why the check cannot run: the extensions `changes` add that the live database offers
    (`offered`) and the dev database does not; None when there is none."""
    wanted = {c.after.name for c in changes if isinstance(c, AddExtension)} & offered
    if not wanted:
        return None
    have = {n for (n,) in conn.execute("SELECT name FROM pg_catalog.pg_available_extensions "
                                       "WHERE name = ANY(%s)", [sorted(wanted)])}
    lacking = sorted(wanted - have)
    return (f"the dev database does not offer the extension(s) {', '.join(lacking)} that the "
            "plan adds and the live database offers: the migration was not checked before apply"
            if lacking else None)


def _schema_of(change: ChangeBase) -> str | None:
    """The schema of the table or object `change` works on (its `schema_name`, or its row's
    `table`); None for an extension (its schema is where its objects go, not one it fills)."""
    for side in (getattr(change, "after", None), getattr(change, "before", None),
                 getattr(change, "table", None)):
        if isinstance(side, Extension):
            return None
        name = getattr(side, "schema_name", None)
        if isinstance(name, str):
            return name
    return None


@contextlib.contextmanager
def _dev_connection(root: Path, dev_url: str | None) -> Iterator[psycopg.Connection]:
    """A connection to the dev database (see the module docstring); the embedded server is
    released after it (stopped unless something else of this process uses it). Raises
    PlanError."""
    url = dev_url or _embedded_dev(root)
    try:
        try:
            conn = psycopg.connect(url, connect_timeout=10, cursor_factory=LoggingCursor)
        except psycopg.Error as exc:
            raise PlanError(f"cannot connect to the dev database {describe_database(dev_url)}: "
                            f"{mask(str(exc), dev_url)}") from None
        try:
            yield conn
        finally:
            conn.close()
    finally:
        if not dev_url:
            _release((Path(root) / EMBEDDED_DIR).resolve())


def _embedded_dev(root: Path) -> str:
    """The URL of `reconciler_dev` on the embedded server (started and created on first use);
    the caller owes one `_release` of the server, as after `embedded_url`."""
    from urllib.parse import urlsplit, urlunsplit

    server = embedded_url(Path(root))
    try:
        with psycopg.connect(server, autocommit=True, cursor_factory=LoggingCursor) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 [DEV_DATABASE]).fetchone():
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEV_DATABASE)))
    except BaseException:
        _release((Path(root) / EMBEDDED_DIR).resolve())
        raise
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path="/" + DEV_DATABASE))


def _ensure_empty(conn: psycopg.Connection, schemas: Sequence[str], dev_url: str | None) -> None:
    found = [r[0] for r in conn.execute(_NOT_EMPTY, [list(schemas)])]
    if found:
        raise PlanError(
            f"the dev database {describe_database(dev_url) if dev_url else DEV_DATABASE} is not "
            f"empty ({', '.join(found)} …): migrations are checked on a copy of the live schema "
            "there, so it must hold nothing in the declared schemas. Point --dev-url at an "
            "empty database (e.g. a local Supabase's, `supabase start`).")


def _stand_ins(conn: psycopg.Connection, roles: frozenset[str], auth: bool) -> None:
    """The live database's Supabase roles and `auth` functions, where the dev database lacks
    them."""
    for role in sorted(roles):
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            with contextlib.suppress(psycopg.Error), conn.transaction():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    if auth and not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'auth'").fetchone():
        with contextlib.suppress(psycopg.Error), conn.transaction():
            for statement in AUTH_SHIM:
                conn.execute(statement)


def _replay(conn: psycopg.Connection, tables: Sequence[Any], objects: SchemaObjects,
            schemas: Sequence[str], installed: Sequence[tuple[str, str]] = ()) -> str | None:
    """Create the live schema: what creating every live table and object from nothing runs.
    Indexes with an operator class or collation (`_decorated`) are created one by one after
    the rest, once the live database's `installed` extensions the dev database lacks are
    created there (where it can); one that fails while some extension could not be created is
    left out. Returns what was left out (for DV103), or None. Raises `Replayed` when anything
    else cannot be created."""
    creates = sorted(diff_tables(list(tables), []) + diff_objects(objects, SchemaObjects()),
                     key=lambda c: c.sort_key)
    later = [c for c in creates if _decorated(c)]
    script = [sql.SQL("CREATE SCHEMA IF NOT EXISTS {};").format(sql.Identifier(s)).as_string(None)
              for s in schemas] + [s for change in creates if not _decorated(change)
                                   for s in statements(change)]
    try:
        with conn.transaction():
            conn.execute("\n".join(script).encode())  # one round trip: no parameters
    except psycopg.Error as exc:
        raise Replayed(f"the live schema could not be copied into the dev database "
                       f"({(exc.diag.message_primary or str(exc)).strip()}): the migration was "
                       "not checked before apply") from None
    lacking = _extensions(conn, installed) if later else []
    left_out = []
    for change in later:
        error = _try(conn, statements(change))
        if error is not None and not lacking:
            raise Replayed(f"the live schema could not be copied into the dev database "
                           f"({error}): the migration was not checked before apply")
        if error is not None:
            left_out.append(f"{change.address} ({error})")
    if not left_out:
        return None
    return (f"the dev database cannot create the live database's extension(s) "
            f"{', '.join(lacking)}, so these live indexes were left out of its copy of the live "
            f"schema: {'; '.join(left_out)}; the rest of the migration was checked")


def _decorated(change: ChangeBase) -> bool:
    """Whether `change` creates an index with something after a column (operator class,
    collation, order): what an extension the dev database lacks may provide."""
    return isinstance(change, AddIndex) and any(index_column(c)[1]
                                                for c in change.after.index.columns)


def _try(conn: psycopg.Connection, statements_: Sequence[str]) -> str | None:
    """Run `statements_` in a savepoint; the server's message when it refuses one, else None."""
    try:
        with conn.transaction():
            for statement in statements_:
                conn.execute(statement.replace("INDEX CONCURRENTLY ", "INDEX ").encode())
    except psycopg.Error as exc:
        return (exc.diag.message_primary or str(exc)).strip()
    return None


def _extensions(conn: psycopg.Connection, installed: Sequence[tuple[str, str]]) -> list[str]:
    """Create the live database's `installed` extensions (`(name, schema)`) that the dev database
    lacks, each where the live database has it; returns those it cannot create there."""
    have = {n for (n,) in conn.execute("SELECT extname FROM pg_catalog.pg_extension")}
    lacking = []
    for name, schema in installed:
        if name in have:
            continue
        try:
            with conn.transaction():
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(schema)))
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}").format(
                    sql.Identifier(name), sql.Identifier(schema)))
        except psycopg.Error:
            lacking.append(name)
    return lacking


def _run(conn: psycopg.Connection, change: ChangeBase, locations: Mapping[str, str],
         lacking: Sequence[str] = (), enums: Sequence[str] = ()) -> str | None:
    """Run one change's statements (CONCURRENTLY dropped: a transaction block cannot run it).
    Raises PlanError (DV101) at the first one the server refuses (the transaction is then
    aborted, and rolled back by the caller). An index whose operator class or collation the dev
    database lacks, when it cannot create some of the live database's extensions (`lacking`),
    is not run there: returns why (for DV103); else None. A new enum value used in the same
    transaction that adds it (`enums`: the plan's modify_enum addresses) is no mistake in the
    spec: the message says to apply the enum change first."""
    lenient = bool(lacking) and _decorated(change)
    text = ""
    try:
        with conn.transaction() if lenient else contextlib.nullcontext():
            for statement in change.sql:
                text = statement.replace("INDEX CONCURRENTLY ", "INDEX ") \
                    if outside_transaction(change) else statement
                conn.execute(text.encode())
    except psycopg.errors.UndefinedObject as exc:
        if not lenient:
            _refuse(change, text, exc, locations, enums)
        missing = ", ".join(c for c in change.after.index.columns if index_column(c)[1])
        message = (exc.diag.message_primary or str(exc)).strip()
        return (f"not run there: {message} (in {missing}; the dev database cannot create the "
                f"live database's extension(s) {', '.join(lacking)}); the rest of the migration "
                "was checked")
    except psycopg.Error as exc:
        _refuse(change, text, exc, locations, enums)
    return None


def _refuse(change: ChangeBase, text: str, exc: psycopg.Error, locations: Mapping[str, str],
            enums: Sequence[str] = ()) -> None:
    """Raise PlanError (DV101) for `change`, whose statement `text` the server refused."""
    address = _refused(change, text, exc)
    message = (exc.diag.message_primary or str(exc)).strip()
    detail = f"; {exc.diag.message_detail}" if exc.diag.message_detail else ""
    if exc.sqlstate == "55P04" and enums:  # unsafe_new_enum_value_usage
        targets = " ".join(f"--target '{a}'" for a in enums)
        todo = (f"The spec is right, but Postgres cannot use an enum value in the "
                f"transaction that adds it: apply the enum change first (reconciler "
                f"apply {targets}), then plan again; nothing was written.")
    else:
        todo = "Fix the spec at that line; nothing was written."
    raise PlanError(
        f"{locate(address, locations)}: {address}: DV101 the migration fails on a copy "
        f"of the live schema (the dev database): {message}{detail}\n  SQL: {text}\n"
        f"{todo}") from None


def _refused(change: ChangeBase, statement: str, exc: psycopg.Error) -> str:
    """The address the server's error points at: in a new table, the column on the statement
    line the error position falls on (CREATE TABLE lists one column per line) or the column the
    message names; else the change's own."""
    after = getattr(change, "after", None)
    if not hasattr(after, "columns"):
        return change.address
    position = exc.diag.statement_position
    name = None
    if position and position.isdigit():
        m = _COLUMN_LINE.match(statement[:int(position)].rsplit("\n", 1)[-1])
        name = m.group(1).replace('""', '"') if m else None
    if name is None:
        m = _NAMED_COLUMN.search(exc.diag.message_primary or "")
        name = m.group(1) if m else None
    if name is None or after.column(name) is None:
        return change.address
    return member_address(after, "column", name)
