"""The pieces SQL statements are built from, and the registry of compilers (pure).

Names are always `sql.Identifier`s and literal values `sql.Literal`s (quoted by psycopg);
expressions (defaults, checks, policies, index predicates, view queries, function bodies) and
types are SQL the spec author wrote, inserted as written after a safety check of types.
`compile.py` (tables) and `compile_objects.py` (the other objects) register their compilers here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import sql

from reconciler.model.postgres_types import plain_type
from reconciler.model.postgres import (SERIAL_TYPES, Column, Constraint, PolicyOn, TableRef,
                                       Trigger, index_column)

Compiler = Callable[[Any], list[sql.Composable]]
COMPILERS: dict[type, Compiler] = {}
#: Trigger and function that keep `updated_at` current (Postgres docs, "CREATE TRIGGER").
TOUCH = "reconciler_touch_updated_at"
#: The body of the touch function, as `pg_proc.prosrc` holds it.
TOUCH_BODY = " BEGIN NEW.updated_at := now(); RETURN NEW; END "
#: Supabase Realtime streams the changes of the tables in this publication (Supabase docs,
#: "Postgres Changes": `alter publication supabase_realtime add table …`).
REALTIME = "supabase_realtime"
_ON_DELETE = {"no action", "restrict", "cascade", "set null", "set default"}
_COMMANDS = {"all", "select", "insert", "update", "delete"}


def compiles(*classes: type) -> Callable[[Compiler], Compiler]:
    """Register the decorated function as the compiler of `classes`."""
    def register(fn: Compiler) -> Compiler:
        for cls in classes:
            COMPILERS[cls] = fn
        return fn
    return register


def table_ident(ref: TableRef) -> sql.Identifier:
    return sql.Identifier(ref.schema_name, ref.table)


def qualified(name: str, schema: str = "public") -> sql.Identifier:
    """`schema.name` (or a bare `name`, in `schema`) as an identifier."""
    head, dot, tail = name.partition(".")
    return sql.Identifier(head, tail) if dot else sql.Identifier(schema, name)


def type_sql(text: str) -> sql.SQL:
    """A type as SQL. Raises ValueError unless it looks like `name[(p[,s])][[]…]`."""
    return sql.SQL(plain_type(text))


def column_def(col: Column) -> sql.Composed:
    """`"name" type [GENERATED … AS IDENTITY] [NOT NULL] [DEFAULT …]`; a serial type creates
    the column's own sequence (Postgres docs §8.1.4)."""
    parts = [sql.Identifier(col.name), type_sql(col.type)]
    if col.identity is not None:
        parts.append(sql.SQL(f"GENERATED {col.identity.upper()} AS IDENTITY"))
    if not col.nullable and col.identity is None and col.type not in SERIAL_TYPES:
        parts.append(sql.SQL("NOT NULL"))
    if col.default is not None:
        parts.append(sql.SQL("DEFAULT {}").format(sql.SQL(col.default)))
    return sql.SQL(" ").join(parts)


def comment_on(what: str, obj: sql.Composable, text: str | None) -> sql.Composed:
    value = sql.Literal(text) if text is not None else sql.SQL("NULL")
    return sql.SQL("COMMENT ON {} {} IS {}").format(sql.SQL(what), obj, value)


def names(items: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in items)


def constraint_body(c: Constraint) -> sql.Composed:
    """`UNIQUE (…)`, `CHECK (…)`, `PRIMARY KEY (…)` or `FOREIGN KEY (…) REFERENCES …`."""
    if c.type == "unique":
        return sql.SQL("UNIQUE ({})").format(names(c.columns or ()))
    if c.type == "primary_key":
        return sql.SQL("PRIMARY KEY ({})").format(names(c.columns or ()))
    if c.type == "check":
        return sql.SQL("CHECK ({})").format(sql.SQL(c.expression or ""))
    if c.on_delete not in _ON_DELETE:
        raise ValueError(f"unknown ON DELETE action {c.on_delete!r}")
    return sql.SQL("FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}").format(
        names(c.columns or ()), sql.Identifier(c.ref_schema or "", c.ref_table or ""),
        names(c.ref_columns or ()), sql.SQL((c.on_delete or "").upper()))


def dollar_quoted(body: str, tag: str = "reconciler") -> sql.SQL:
    """`$tag$body$tag$` with a tag that does not occur in `body`."""
    while f"${tag}$" in body:
        tag += "_"
    return sql.SQL(f"${tag}${body}${tag}$")


def touch_sql(schema: str, table: sql.Identifier, on: bool, *, replace: bool = True
              ) -> list[sql.Composable]:
    """Create (again) or drop the trigger that sets `updated_at = now()` before each UPDATE.
    With `replace`, creating drops a trigger of that name first, so a disabled one is repaired
    too (and the function's body is written again)."""
    fn = sql.Identifier(schema, TOUCH)
    drop = sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(TOUCH), table)
    if not on:
        return [drop]
    return [
        sql.SQL("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {}").format(
            fn, dollar_quoted(TOUCH_BODY)),
        *([drop] if replace else []),
        sql.SQL("CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
                ).format(sql.Identifier(TOUCH), table, fn),
    ]


def realtime_sql(table: sql.Identifier, on: bool) -> list[sql.Composable]:
    """Add the table to (or remove it from) the `supabase_realtime` publication, creating the
    publication first where the server has none (plain Postgres; Supabase always has it)."""
    if not on:
        return [sql.SQL("ALTER PUBLICATION {} DROP TABLE {}").format(
            sql.Identifier(REALTIME), table)]
    create = sql.SQL("CREATE PUBLICATION {}").format(sql.Identifier(REALTIME)).as_string(None)
    return [
        sql.SQL("DO {} BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE "
                "pubname = {}) THEN {}; END IF; END {}").format(
            sql.SQL("$reconciler$"), sql.Literal(REALTIME), sql.SQL(create),
            sql.SQL("$reconciler$")),
        sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(sql.Identifier(REALTIME), table),
    ]


def create_trigger(ref: TableRef, t: Trigger) -> list[sql.Composable]:
    """`CREATE TRIGGER`, then `DISABLE TRIGGER` when it is declared disabled."""
    stmt = sql.SQL("CREATE TRIGGER {} {} {} ON {} FOR EACH {}").format(
        sql.Identifier(t.name), sql.SQL(t.timing.upper()),
        sql.SQL(" OR ").join(sql.SQL(e.upper()) for e in t.events), table_ident(ref),
        sql.SQL(t.for_each.upper()))
    if t.when:
        stmt = sql.SQL("{} WHEN ({})").format(stmt, sql.SQL(t.when))
    out: list[sql.Composable] = [sql.SQL("{} EXECUTE FUNCTION {}()").format(
        stmt, qualified(t.function, ref.schema_name))]
    if not t.enabled:
        out.append(enable_trigger(ref, t.name, False))
    return out


def enable_trigger(ref: TableRef, name: str, on: bool) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
        table_ident(ref), sql.SQL("ENABLE" if on else "DISABLE"), sql.Identifier(name))


def drop_trigger(ref: TableRef, name: str) -> sql.Composed:
    return sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(name),
                                                             table_ident(ref))


def role_sql(role: str) -> sql.Composable:
    """`PUBLIC` is a key word in role lists, not a role name (docs, "GRANT")."""
    return sql.SQL("PUBLIC") if role == "public" else sql.Identifier(role)


def create_policy(on: PolicyOn) -> sql.Composed:
    p = on.policy
    if p.command not in _COMMANDS:
        raise ValueError(f"unknown policy command {p.command!r}")
    stmt = sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
        sql.Identifier(p.name), table_ident(on),
        sql.SQL("PERMISSIVE" if p.permissive else "RESTRICTIVE"),
        sql.SQL(p.command.upper()), sql.SQL(", ").join(role_sql(r) for r in p.roles))
    if p.using is not None:
        stmt = sql.SQL("{} USING ({})").format(stmt, sql.SQL(p.using))
    if p.with_check is not None:
        stmt = sql.SQL("{} WITH CHECK ({})").format(stmt, sql.SQL(p.with_check))
    return stmt


def drop_policy(on: PolicyOn) -> sql.Composed:
    return sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(on.policy.name),
                                                            table_ident(on))


def guarded(roles: str | Sequence[str], stmt: sql.Composable) -> sql.Composable:
    """`stmt` run only when every role of `roles` exists (a `DO` block; Supabase's roles may be
    absent elsewhere). The dollar-quote tag is chosen so that it cannot occur in the statement."""
    wanted = [r for r in ([roles] if isinstance(roles, str) else roles) if r != "public"]
    if not wanted:
        return stmt
    body = stmt.as_string(None)
    tag = "reconciler"
    while f"${tag}$" in body:
        tag += "_"
    test = sql.SQL(" AND ").join(
        sql.SQL("EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {})").format(sql.Literal(r))
        for r in wanted)
    return sql.SQL("DO ${tag}$ BEGIN IF {test} THEN {body}; END IF; END ${tag}$").format(
        tag=sql.SQL(tag), test=test, body=sql.SQL(body))


def index_item(text: str) -> sql.Composable:
    """One item of `CREATE INDEX … (…)`: the column quoted (`sql.Identifier`) or the
    `(expression)` as written, then its `COLLATE`, operator class and order as written
    (`model.postgres.index_column`)."""
    head, suffix = index_column(text)
    out = sql.SQL(head) if head.startswith("(") else sql.Identifier(head)
    return sql.SQL("{} {}").format(out, sql.SQL(suffix)) if suffix else out
