"""Analyzers: what each planned schema change would meet in the live data, with stable codes
(`lint_codes.CODES`; Atlas's `sqlcheck` analyzers in spirit), attached to the change as `lint`.

Data-dependent findings are counted in the live rows, never guessed: a NOT NULL column added to
a table with rows, NOT NULL over existing NULLs, a unique key over duplicates, a type change
over values that do not fit, a CHECK over rows that violate it, a foreign key over rows that
reference nothing. Those that would make the migration fail are errors: `assess`
refuses the plan, naming the spec file and line, before anything is written. Counting runs
read-only (every query in a transaction that is rolled back) and reads at most
`COUNT_LIMIT` + 1 rows per table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from reconciler.backends.postgres.lint_codes import CODES
from reconciler.backends.postgres.connect import settle
from reconciler.diff.postgres import is_narrowing
from reconciler.errors import PlanError, ReadError
from reconciler.model import changes as ch
from reconciler.model.changes import ChangeBase, Diagnostic
from reconciler.model.postgres import SERIAL_TYPES, ColumnOn, TableRef
from reconciler.model.postgres_types import normalise_type

#: A table with at least this many rows is "large" for the lock-heavy checks (PG1xx).
LARGE_TABLE_ROWS = 10_000
#: Counting stops here, so a plan over a huge table stays cheap.
COUNT_LIMIT = 1_000_000
_LENGTH = re.compile(r"^(character varying|character|bit varying|bit)\((\d+)\)$")
_FITS = """CREATE FUNCTION pg_temp.reconciler_fits(v text, old text, new text) RETURNS boolean
LANGUAGE plpgsql AS $fits$ BEGIN EXECUTE format('SELECT $1::%s::%s', old, new) USING v;
RETURN true; EXCEPTION WHEN others THEN RETURN false; END $fits$"""


class Context:
    """What the analyzers share for one plan: the connection, the tables the plan creates, and
    the live names of tables and columns renamed in the same plan."""

    def __init__(self, conn: psycopg.Connection, changes: Sequence[ChangeBase]):
        self.conn = conn
        self.created = {c.address for c in changes if isinstance(c, ch.CreateTable)}
        self.tables = {c.after.address: c.before for c in changes
                       if isinstance(c, ch.RenameTable)}
        self.columns = {(c.after.address, c.after.column.name): c.before.column.name
                        for c in changes if isinstance(c, ch.RenameColumn)}
        self._rows: dict[str, int | None] = {}

    def existing(self, ref: TableRef) -> bool:
        """Whether the table exists live (the plan does not create it)."""
        return ref.address not in self.created

    def ident(self, ref: TableRef) -> sql.Identifier:
        """The table's live name (its former one when the plan renames it)."""
        live = self.tables.get(ref.address, ref)
        return sql.Identifier(live.schema_name, live.table)

    def column(self, ref: TableRef, name: str) -> sql.Identifier:
        """The column's live name (its former one when the plan renames it)."""
        return sql.Identifier(self.columns.get((ref.address, name), name))

    def count(self, query: sql.Composable, *setup: str) -> int | None:
        """The first value of `query` (after `setup` statements), in a transaction that is
        rolled back; None when the table or column does not exist (yet)."""
        try:
            with self.conn.transaction() as tx:
                for statement in setup:
                    self.conn.execute(statement)
                value = self.conn.execute(query).fetchone()[0]
                raise psycopg.Rollback(tx)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
            return None
        return value

    def count_or_none(self, query: sql.Composable) -> int | None:
        """`count` of a query with SQL the spec wrote (a CHECK expression): None also when the
        server refuses it, which the dev database then reports with the spec line (DV101)."""
        try:
            return self.count(query)
        except psycopg.Error:
            return None

    def sample(self, query: sql.Composable, *setup: str) -> list[str]:
        """The first column of `query`'s rows, as text (rolled back like `count`)."""
        try:
            with self.conn.transaction() as tx:
                for statement in setup:
                    self.conn.execute(statement)
                values = [str(v) for (v,) in self.conn.execute(query).fetchall()]
                raise psycopg.Rollback(tx)
        except psycopg.Error:
            return []
        return values

    def rows(self, ref: TableRef) -> int | None:
        """Rows of the live table (up to `COUNT_LIMIT` + 1)."""
        if ref.address not in self._rows:
            self._rows[ref.address] = self.count(sql.SQL(
                "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {}) s").format(
                self.ident(ref), sql.Literal(COUNT_LIMIT + 1)))
        return self._rows[ref.address]


Analyzer = Callable[[Context, Any], list[Diagnostic]]
ANALYZERS: dict[type, list[Analyzer]] = {}


def analyzes(*classes: type) -> Callable[[Analyzer], Analyzer]:
    def register(fn: Analyzer) -> Analyzer:
        for cls in classes:
            ANALYZERS.setdefault(cls, []).append(fn)
        return fn
    return register


def finding(code: str, detail: str, *, count: int | None = None,
            severity: str = "warning") -> Diagnostic:
    """A diagnostic: `<title>: <detail>; <advice>`."""
    info = CODES[code]
    return Diagnostic(code=code, severity=severity, count=count,  # type: ignore[arg-type]
                      message=f"{info.title}: {detail}; {info.advice}")


def _rows_text(n: int) -> str:
    return f"more than {COUNT_LIMIT:,}" if n > COUNT_LIMIT else f"{n:,}"


def lint_changes(conn: psycopg.Connection, changes: Sequence[ChangeBase],
                 locations: Mapping[str, str]) -> list[ChangeBase]:
    """`changes` with their findings in `lint`. Raises `PlanError` listing every error
    finding with the spec file and line that declares it; `ReadError` when the live data
    cannot be read."""
    context = Context(conn, changes)
    out = []
    try:
        for change in changes:
            found = [d for fn in ANALYZERS.get(type(change), ()) for d in fn(context, change)]
            out.append(change.model_copy(update={"lint": tuple(found)}) if found else change)
    except psycopg.Error as exc:
        raise ReadError(f"counting the live data the plan's changes meet failed: "
                        f"{str(exc).splitlines()[0]}") from None
    finally:
        settle(conn)  # a rollback, also of a read Ctrl-C cut off mid-command
    errors = [(c, d) for c in out for d in c.lint if d.severity == "error"]
    if errors:
        raise PlanError("\n".join(f"{locate(c.address, locations)}: {c.address}: {d.code} "
                                  f"{d.message}" for c, d in errors)
                        + "\nThe live data would make these changes fail: nothing was written.")
    return out


def locate(address: str, locations: Mapping[str, str]) -> str:
    """Where `address` (or the nearest resource containing it) is declared, `file:line:col`."""
    while address:
        if address in locations:
            return locations[address]
        head, bracket, _ = address.rpartition("[")
        address = head.rpartition(".")[0] if bracket else address.rpartition(".")[0]
    return "schemas/supabase"


# --- destructive (DS) --------------------------------------------------------------------------

@analyzes(ch.DropTable)
def _drop_table(ctx: Context, change: ch.DropTable) -> list[Diagnostic]:
    n = change.rows_affected
    return [finding("DS102", f"{_rows_text(n)} row(s) are deleted with it" if n is not None
                    else "its rows are deleted with it", count=n)]


@analyzes(ch.DropColumn)
def _drop_column(ctx: Context, change: ch.DropColumn) -> list[Diagnostic]:
    n = change.rows_affected
    return [finding("DS103", f"{_rows_text(n)} row(s) hold a value in it" if n is not None
                    else "its values are deleted with it", count=n)]


# --- data-dependent (MF) -----------------------------------------------------------------------

@analyzes(ch.AddColumn)
def _add_column(ctx: Context, change: ch.AddColumn) -> list[Diagnostic]:
    col = change.after.column
    fills = col.default is not None or col.identity is not None or col.type in SERIAL_TYPES
    if col.nullable or fills or not ctx.existing(change.after):
        return []
    n = ctx.rows(change.after)
    if not n:
        return []
    return [finding("MF103", f"the table has {_rows_text(n)} row(s), which would all hold NULL "
                    "in it", count=n, severity="error")]


@analyzes(ch.ModifyColumn)
def _modify_column(ctx: Context, change: ch.ModifyColumn) -> list[Diagnostic]:
    old, new, on = change.before.column, change.after.column, change.after
    if not ctx.existing(on):
        return []
    out: list[Diagnostic] = []
    col, table = ctx.column(on, new.name), ctx.ident(on)
    if old.nullable and not new.nullable:
        n = ctx.count(sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} IS NULL LIMIT {}) s"
                              ).format(table, col, sql.Literal(COUNT_LIMIT + 1)))
        if n:
            out.append(finding("MF104", f"{_rows_text(n)} row(s) hold NULL in it", count=n,
                               severity="error"))
    if normalise_type(old.type) != normalise_type(new.type):
        out += _type_change(ctx, on, old.type, new.type)
    return out


def _type_change(ctx: Context, on: ColumnOn, old: str, new: str) -> list[Diagnostic]:
    old_t, new_t = (SERIAL_TYPES.get(t, normalise_type(t)) for t in (old, new))
    if old_t == new_t or _in_place(old_t, new_t):  # integer → serial: a sequence and a default
        return []
    out: list[Diagnostic] = []
    rows = ctx.rows(on)
    if rows and rows >= LARGE_TABLE_ROWS:
        out.append(finding("PG102", f"the table has {_rows_text(rows)} rows", count=rows))
    if not rows or old_t == new_t or not is_narrowing(old_t, new_t):
        return out
    col, table = ctx.column(on, on.column.name), ctx.ident(on)
    length = _LENGTH.match(new_t)
    if length:  # an explicit cast to a shorter length cuts values, it does not fail
        n = ctx.count(sql.SQL("SELECT count(*) FROM {} WHERE length({}::text) > {}").format(
            table, col, sql.Literal(int(length.group(2)))))
        if n:
            out.append(finding("MF106", f"{_rows_text(n)} value(s) are longer than "
                               f"{length.group(2)}", count=n))
        return out
    misfits = sql.SQL("FROM {} WHERE {} IS NOT NULL AND NOT pg_temp.reconciler_fits({}::text, "
                      "{}, {})").format(table, col, col, sql.Literal(old_t), sql.Literal(new_t))
    n = ctx.count(sql.SQL("SELECT count(*) {}").format(misfits), _FITS)
    if n:
        found = ctx.sample(sql.SQL("SELECT DISTINCT {}::text {} ORDER BY 1 LIMIT 3").format(
            col, misfits), _FITS) if not on.column.sensitive else []
        such = f", e.g. {', '.join(repr(v) for v in found)}" if found else ""
        out.append(finding("MF105", f"{_rows_text(n)} value(s) cannot be cast to {new_t}{such}",
                           count=n, severity="error"))
    return out


def _in_place(old: str, new: str) -> bool:
    """Whether `ALTER COLUMN … TYPE` from `old` to `new` keeps the table as it is (docs, "ALTER
    TABLE": binary-coercible changes need no rewrite): a longer or unlimited `varchar`, or
    `varchar` to `text`."""
    if old.startswith("character varying") and new in ("text", "character varying"):
        return True
    a, b = _LENGTH.match(old), _LENGTH.match(new)
    return bool(a and b and a.group(1) == b.group(1) == "character varying"
                and int(b.group(2)) >= int(a.group(2)))


def _duplicates(ctx: Context, on: TableRef, columns: Sequence[str]) -> int | None:
    cols = sql.SQL(", ").join(ctx.column(on, c) for c in columns)
    present = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(ctx.column(on, c))
                                    for c in columns)
    return ctx.count(sql.SQL("SELECT coalesce(sum(n), 0)::bigint FROM (SELECT count(*) AS n "
                             "FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1) d").format(
        ctx.ident(on), present, cols))


@analyzes(ch.AddConstraint)
def _add_constraint(ctx: Context, change: ch.AddConstraint) -> list[Diagnostic]:
    c, on = change.after.constraint, change.after
    if not ctx.existing(on):
        return []
    out: list[Diagnostic] = []
    if c.type in ("unique", "primary_key") and c.columns:
        n = _duplicates(ctx, on, c.columns)
        if n:
            out.append(finding("MF101", f"{_rows_text(n)} row(s) share a value of "
                               f"({', '.join(c.columns)})", count=n, severity="error"))
    if c.type == "check" and c.expression:
        n = ctx.count_or_none(sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE NOT ({}) "
                                      "LIMIT {}) s").format(
            ctx.ident(on), sql.SQL(c.expression), sql.Literal(COUNT_LIMIT + 1)))
        if n:
            out.append(finding("MF107", f"{_rows_text(n)} row(s) violate CHECK ({c.expression})",
                               count=n, severity="error"))
    if c.type == "foreign_key" and c.columns and c.ref_columns and ctx.existing(
            TableRef(schema_name=c.ref_schema or on.schema_name, table=c.ref_table or "")):
        n = _orphans(ctx, on, c)
        if n:
            out.append(finding("MF108", f"{_rows_text(n)} row(s) have ({', '.join(c.columns)}) "
                               f"with no match in {c.ref_table} ({', '.join(c.ref_columns)})",
                               count=n, severity="error"))
    rows = ctx.rows(on)
    if c.type in ("check", "foreign_key") and rows and rows >= LARGE_TABLE_ROWS:
        out.append(finding("PG103", f"the table has {_rows_text(rows)} rows", count=rows))
    return out


def _orphans(ctx: Context, on: TableRef, c: Any) -> int | None:
    """Rows of `on` whose foreign key columns are all set and match no row of the referenced
    table (what `ADD FOREIGN KEY` refuses; a row with a NULL in the key passes)."""
    ref = TableRef(schema_name=c.ref_schema or on.schema_name, table=c.ref_table)
    present = sql.SQL(" AND ").join(sql.SQL("t.{} IS NOT NULL").format(ctx.column(on, col))
                                    for col in c.columns)
    match = sql.SQL(" AND ").join(sql.SQL("r.{} = t.{}").format(
        ctx.column(ref, rc), ctx.column(on, col)) for col, rc in zip(c.columns, c.ref_columns))
    return ctx.count_or_none(sql.SQL(
        "SELECT count(*) FROM (SELECT 1 FROM {} t WHERE {} AND NOT EXISTS (SELECT 1 FROM {} r "
        "WHERE {}) LIMIT {}) s").format(ctx.ident(on), present, ctx.ident(ref), match,
                                        sql.Literal(COUNT_LIMIT + 1)))


@analyzes(ch.AddIndex)
def _add_index(ctx: Context, change: ch.AddIndex) -> list[Diagnostic]:
    i, on = change.after.index, change.after
    if not ctx.existing(on):
        return []
    out: list[Diagnostic] = []
    plain = [c for c in i.columns if not c.startswith("(")]
    if i.unique and plain == list(i.columns) and not i.where:
        n = _duplicates(ctx, on, plain)
        if n:
            out.append(finding("MF101", f"{_rows_text(n)} row(s) share a value of "
                               f"({', '.join(plain)})", count=n, severity="error"))
    rows = ctx.rows(on)
    if not i.concurrently and rows and rows >= LARGE_TABLE_ROWS:
        out.append(finding("PG101", f"the table has {_rows_text(rows)} rows; building the index "
                           "blocks writes to it", count=rows))
    return out


# --- backward incompatible (BC) ----------------------------------------------------------------

@analyzes(ch.RenameTable)
def _rename_table(ctx: Context, change: ch.RenameTable) -> list[Diagnostic]:
    return [finding("BC101", f"{change.before.table} becomes {change.after.table}")]


@analyzes(ch.RenameColumn)
def _rename_column(ctx: Context, change: ch.RenameColumn) -> list[Diagnostic]:
    return [finding("BC102", f"{change.before.column.name} becomes {change.after.column.name}")]


@analyzes(ch.DropView, ch.DropFunction)
def _drop_api(ctx: Context, change: ch.DropView | ch.DropFunction) -> list[Diagnostic]:
    return [finding("BC103", f"{change.before.schema_name}.{change.before.name}")]
