"""Change → SQL statements (pure; Atlas `sql/postgres/migrate.go`).

`compile_change(change)` returns `psycopg.sql.Composed` statements built from the typed change;
`statements(change)` renders them as the text the plan shows and apply runs (`as_string(None)`),
so what is reviewed is exactly what runs. Names are always `sql.Identifier`s and literal values
`sql.Literal`s (quoted by psycopg); expressions (defaults, checks, policies, index predicates)
and types are SQL the spec author wrote, inserted as written after a safety check of types.
Dispatch is a registry keyed by change class; a class without a compiler raises `KeyError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from psycopg import sql

from reconciler.model import changes as ch
from reconciler.model.changes import ChangeBase
from reconciler.model.postgres import PRIVILEGES, Column, ColumnOn, Constraint, PolicyOn, TableRef

Compiler = Callable[[Any], list[sql.Composable]]
COMPILERS: dict[type, Compiler] = {}
#: Trigger and function that keep `updated_at` current (Postgres docs, "CREATE TRIGGER").
TOUCH = "reconciler_touch_updated_at"
_SAFE_TYPE = re.compile(r'^[A-Za-z_][A-Za-z0-9_ ."]*(\(\s*\d+(\s*,\s*\d+)?\s*\))?(\[\])*$')
_ON_DELETE = {"no action", "restrict", "cascade", "set null", "set default"}
_COMMANDS = {"all", "select", "insert", "update", "delete"}
_METHODS = {"btree", "hash", "gin", "gist", "brin", "spgist"}


def compiles(*classes: type) -> Callable[[Compiler], Compiler]:
    def register(fn: Compiler) -> Compiler:
        for cls in classes:
            COMPILERS[cls] = fn
        return fn
    return register


def compile_change(change: ChangeBase) -> list[sql.Composable]:
    """The statements of `change`, in order. Raises KeyError for a change class without a
    compiler and ValueError for a type that is not a plain type name."""
    return COMPILERS[type(change)](change)


def statements(change: ChangeBase) -> tuple[str, ...]:
    """The statements as text, each ending with `;`: what the plan shows, migration files hold
    and apply runs."""
    return tuple(s.as_string(None) + ";" for s in compile_change(change))


def table_ident(ref: TableRef) -> sql.Identifier:
    return sql.Identifier(ref.schema_name, ref.table)


def type_sql(text: str) -> sql.SQL:
    """A type as SQL. Raises ValueError unless it looks like `name[(p[,s])][[]…]`."""
    if not _SAFE_TYPE.match(text) or "--" in text or text.count('"') % 2:
        raise ValueError(f"not a plain type name: {text!r}")
    return sql.SQL(text)


def column_def(col: Column) -> sql.Composed:
    parts = [sql.Identifier(col.name), type_sql(col.type)]
    if not col.nullable:
        parts.append(sql.SQL("NOT NULL"))
    if col.default is not None:
        parts.append(sql.SQL("DEFAULT {}").format(sql.SQL(col.default)))
    return sql.SQL(" ").join(parts)


def comment_on(what: str, target: sql.Composable, text: str | None) -> sql.Composed:
    value = sql.Literal(text) if text is not None else sql.SQL("NULL")
    return sql.SQL("COMMENT ON {} {} IS {}").format(sql.SQL(what), target, value)


def _names(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def constraint_body(c: Constraint) -> sql.Composed:
    """`UNIQUE (…)`, `CHECK (…)`, `PRIMARY KEY (…)` or `FOREIGN KEY (…) REFERENCES …`."""
    if c.type == "unique":
        return sql.SQL("UNIQUE ({})").format(_names(c.columns or ()))
    if c.type == "primary_key":
        return sql.SQL("PRIMARY KEY ({})").format(_names(c.columns or ()))
    if c.type == "check":
        return sql.SQL("CHECK ({})").format(sql.SQL(c.expression or ""))
    if c.on_delete not in _ON_DELETE:
        raise ValueError(f"unknown ON DELETE action {c.on_delete!r}")
    return sql.SQL("FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}").format(
        _names(c.columns or ()), sql.Identifier(c.ref_schema or "", c.ref_table or ""),
        _names(c.ref_columns or ()), sql.SQL((c.on_delete or "").upper()))


def touch_sql(schema: str, table: sql.Identifier, on: bool) -> list[sql.Composable]:
    """Create (or drop) the trigger that sets `updated_at = now()` before each UPDATE."""
    fn = sql.Identifier(schema, TOUCH)
    if not on:
        return [sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(TOUCH), table)]
    return [
        sql.SQL("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS "
                "$reconciler$ BEGIN NEW.updated_at := now(); RETURN NEW; END $reconciler$"
                ).format(fn),
        sql.SQL("CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
                ).format(sql.Identifier(TOUCH), table, fn),
    ]


@compiles(ch.CreateTable)
def _create_table(change: ch.CreateTable) -> list[sql.Composable]:
    t = change.after
    ident = sql.Identifier(t.schema_name, t.name)
    items = [column_def(c) for c in t.columns]
    if t.primary_key:
        items.append(constraint_body(Constraint(type="primary_key", name="",
                                                columns=t.primary_key)))
    for c in [Constraint.of(u) for u in t.uniques] + [Constraint.of(c) for c in t.checks]:
        items.append(sql.SQL("CONSTRAINT {} {}").format(sql.Identifier(c.name),
                                                        constraint_body(c)))
    out: list[sql.Composable] = [sql.SQL("CREATE TABLE {} (\n  {}\n)").format(
        ident, sql.SQL(",\n  ").join(items))]
    if t.comment is not None:
        out.append(comment_on("TABLE", ident, t.comment))
    out += [comment_on("COLUMN", sql.Identifier(t.schema_name, t.name, c.name), c.comment)
            for c in t.columns if c.comment is not None]
    if t.rls:
        out.append(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(ident))
    if t.touch_updated_at:
        out += touch_sql(t.schema_name, ident, True)
    for grant in t.grants:
        out += grant_sql(ident, grant.role, set(), set(grant.privileges))
    return out


@compiles(ch.DropTable)
def _drop_table(change: ch.DropTable) -> list[sql.Composable]:
    out: list[sql.Composable] = [
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
            table_ident(r), sql.Identifier(r.name)) for r in change.referenced_by]
    t = change.before
    return out + [sql.SQL("DROP TABLE {}").format(sql.Identifier(t.schema_name, t.name))]


@compiles(ch.RenameTable)
def _rename_table(change: ch.RenameTable) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} RENAME TO {}").format(
        table_ident(change.before), sql.Identifier(change.after.table))]


@compiles(ch.ModifyTable)
def _modify_table(change: ch.ModifyTable) -> list[sql.Composable]:
    before, after = change.before, change.after
    ident = table_ident(after)
    out: list[sql.Composable] = []
    if before.comment != after.comment:
        out.append(comment_on("TABLE", ident, after.comment))
    if before.rls != after.rls:
        word = "ENABLE" if after.rls else "DISABLE"
        out.append(sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY").format(ident, sql.SQL(word)))
    if before.touch_updated_at != after.touch_updated_at:
        out += touch_sql(after.schema_name, ident, after.touch_updated_at)
    return out


def _column_ident(on: ColumnOn) -> sql.Identifier:
    return sql.Identifier(on.schema_name, on.table, on.column.name)


@compiles(ch.AddColumn)
def _add_column(change: ch.AddColumn) -> list[sql.Composable]:
    on = change.after
    out: list[sql.Composable] = [sql.SQL("ALTER TABLE {} ADD COLUMN {}").format(
        table_ident(on), column_def(on.column))]
    if on.column.comment is not None:
        out.append(comment_on("COLUMN", _column_ident(on), on.column.comment))
    return out


@compiles(ch.DropColumn)
def _drop_column(change: ch.DropColumn) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(
        table_ident(change.before), sql.Identifier(change.before.column.name))]


@compiles(ch.RenameColumn)
def _rename_column(change: ch.RenameColumn) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(
        table_ident(change.after), sql.Identifier(change.before.column.name),
        sql.Identifier(change.after.column.name))]


@compiles(ch.ModifyColumn)
def _modify_column(change: ch.ModifyColumn) -> list[sql.Composable]:
    """Drop a changing default first, change the type (`USING col::type`), then set default,
    nullability and comment (Postgres docs, "ALTER TABLE … ALTER COLUMN")."""
    old, new, table = change.before.column, change.after.column, table_ident(change.after)
    col = sql.Identifier(new.name)
    alter = lambda text, *args: sql.SQL("ALTER TABLE {} ALTER COLUMN {} " + text).format(  # noqa
        table, col, *args)
    out: list[sql.Composable] = []
    default_changes = old.default != new.default
    if default_changes and old.default is not None:
        out.append(alter("DROP DEFAULT"))
    if old.type != new.type:
        out.append(alter("TYPE {} USING {}::{}", type_sql(new.type), col, type_sql(new.type)))
    if default_changes and new.default is not None:
        out.append(alter("SET DEFAULT {}", sql.SQL(new.default)))
    if old.nullable != new.nullable:
        out.append(alter("DROP NOT NULL" if new.nullable else "SET NOT NULL"))
    if old.comment != new.comment:
        out.append(comment_on("COLUMN", _column_ident(change.after), new.comment))
    return out


@compiles(ch.AddConstraint)
def _add_constraint(change: ch.AddConstraint) -> list[sql.Composable]:
    c = change.after.constraint
    return [sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        table_ident(change.after), sql.Identifier(c.name), constraint_body(c))]


@compiles(ch.DropConstraint)
def _drop_constraint(change: ch.DropConstraint) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
        table_ident(change.before), sql.Identifier(change.before.constraint.name))]


def _index_item(text: str) -> sql.Composable:
    return sql.SQL(text) if text.startswith("(") else sql.Identifier(text)


@compiles(ch.AddIndex)
def _add_index(change: ch.AddIndex) -> list[sql.Composable]:
    i = change.after.index
    if i.method not in _METHODS:
        raise ValueError(f"unknown index method {i.method!r}")
    stmt = sql.SQL("CREATE {}INDEX {} ON {} USING {} ({})").format(
        sql.SQL("UNIQUE " if i.unique else ""), sql.Identifier(i.name),
        table_ident(change.after), sql.SQL(i.method),
        sql.SQL(", ").join(_index_item(c) for c in i.columns))
    if i.where:
        stmt = sql.SQL("{} WHERE {}").format(stmt, sql.SQL(i.where))
    return [stmt]


@compiles(ch.DropIndex)
def _drop_index(change: ch.DropIndex) -> list[sql.Composable]:
    return [sql.SQL("DROP INDEX IF EXISTS {}").format(
        sql.Identifier(change.before.schema_name, change.before.index.name))]


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


@compiles(ch.AddPolicy)
def _add_policy(change: ch.AddPolicy) -> list[sql.Composable]:
    return [create_policy(change.after)]


@compiles(ch.DropPolicy)
def _drop_policy(change: ch.DropPolicy) -> list[sql.Composable]:
    return [drop_policy(change.before)]


@compiles(ch.ModifyPolicy)
def _modify_policy(change: ch.ModifyPolicy) -> list[sql.Composable]:
    """Drop and re-create: ALTER POLICY cannot change the command or permissiveness."""
    return [drop_policy(change.before), create_policy(change.after)]


def guarded(role: str, stmt: sql.Composable) -> sql.Composable:
    """`stmt` run only when `role` exists (`DO` block; Supabase roles may be absent elsewhere).
    The dollar-quote tag is chosen so that it cannot occur in the statement."""
    if role == "public":
        return stmt
    body = stmt.as_string(None)
    tag = "reconciler"
    while f"${tag}$" in body:
        tag += "_"
    return sql.SQL("DO ${tag}$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role}) "
                   "THEN {body}; END IF; END ${tag}$").format(
        tag=sql.SQL(tag), role=sql.Literal(role), body=sql.SQL(body))


@compiles(ch.GrantPrivileges, ch.RevokePrivileges)
def _grant(change: ch.GrantPrivileges | ch.RevokePrivileges) -> list[sql.Composable]:
    return grant_sql(table_ident(change.after), change.after.grant.role,
                     set(change.before.grant.privileges), set(change.after.grant.privileges))


def grant_sql(table: sql.Composable, role: str, old: set[str], new: set[str]
              ) -> list[sql.Composable]:
    """REVOKE what `role` loses and GRANT what it gains on `table`, each only if the role
    exists (`guarded`)."""
    privs = lambda s: sql.SQL(", ").join(sql.SQL(p.upper()) for p in PRIVILEGES if p in s)  # noqa
    out: list[sql.Composable] = []
    if old - new:
        out.append(guarded(role, sql.SQL("REVOKE {} ON {} FROM {}").format(
            privs(old - new), table, role_sql(role))))
    if new - old:
        out.append(guarded(role, sql.SQL("GRANT {} ON {} TO {}").format(
            privs(new - old), table, role_sql(role))))
    return out
