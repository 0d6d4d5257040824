"""Change → SQL statements (pure; Atlas `sql/postgres/migrate.go`): tables and their members.

`compile_change(change)` returns `psycopg.sql.Composed` statements built from the typed change;
`statements(change)` renders them as the text the plan shows and apply runs (`as_string(None)`),
so what is reviewed is exactly what runs. The pieces statements are built from, and the
registry, are in `ddl.py`; the objects beside tables compile in `compile_objects.py`.
Dispatch is a registry keyed by change class; a class without a compiler raises `KeyError`.
"""

from __future__ import annotations

from psycopg import sql

from reconciler.backends.postgres import compile_objects  # noqa: F401  (registers compilers)
from reconciler.backends.postgres.ddl import (  # noqa: F401  (re-exported for callers)
    COMPILERS, REALTIME, TOUCH, TOUCH_BODY, column_def, comment_on, compiles, constraint_body,
    create_policy, create_trigger, drop_policy, drop_trigger, enable_trigger, guarded, index_item,
    realtime_sql, role_sql, table_ident, touch_sql, type_sql,
)
from reconciler.model import changes as ch
from reconciler.model.changes import ChangeBase
from reconciler.model.postgres import PRIVILEGES, SERIAL_TYPES, ColumnOn, Constraint

_METHODS = {"btree", "hash", "gin", "gist", "brin", "spgist"}


def compile_change(change: ChangeBase) -> list[sql.Composable]:
    """The statements of `change`, in order. Raises KeyError for a change class without a
    compiler and ValueError for a type that is not a plain type name."""
    return COMPILERS[type(change)](change)


def statements(change: ChangeBase) -> tuple[str, ...]:
    """The statements as text, each ending with `;`: what the plan shows, migration files hold
    and apply runs."""
    return tuple(s.as_string(None) + ";" for s in compile_change(change))


def outside_transaction(change: ChangeBase) -> bool:
    """True for a change whose statements cannot run in a transaction block (`CREATE INDEX
    CONCURRENTLY`, Postgres docs "CREATE INDEX"): apply runs them after the transaction."""
    return isinstance(change, ch.AddIndex) and change.after.index.concurrently


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
    if t.force_rls:
        out.append(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(ident))
    if t.touch_updated_at:
        out += touch_sql(t.schema_name, ident, True, replace=False)
    if t.realtime:
        out += realtime_sql(ident, True)
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
    if before.force_rls != after.force_rls:
        word = "FORCE" if after.force_rls else "NO FORCE"
        out.append(sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY").format(ident, sql.SQL(word)))
    if before.touch_updated_at != after.touch_updated_at:
        out += touch_sql(after.schema_name, ident, after.touch_updated_at)
    if after.realtime is not None and bool(before.realtime) != after.realtime:
        out += realtime_sql(ident, after.realtime)
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
    """Drop a changing default or identity first, change the type (`USING col::type`), then
    set default, identity, nullability and comment (Postgres docs, "ALTER TABLE … ALTER
    COLUMN"). A serial type is its integer type plus an owned sequence as default."""
    old, new, table = change.before.column, change.after.column, table_ident(change.after)
    col = sql.Identifier(new.name)
    alter = lambda text, *args: sql.SQL("ALTER TABLE {} ALTER COLUMN {} " + text).format(  # noqa
        table, col, *args)
    out: list[sql.Composable] = []
    old_type, new_type = SERIAL_TYPES.get(old.type, old.type), SERIAL_TYPES.get(new.type, new.type)
    to_serial, from_serial = new.type in SERIAL_TYPES, old.type in SERIAL_TYPES
    default_changes = old.default != new.default or to_serial != from_serial
    if old.identity is not None and new.identity is None:
        out.append(alter("DROP IDENTITY IF EXISTS"))
    if default_changes and (old.default is not None or from_serial):
        out.append(alter("DROP DEFAULT"))
    if old_type != new_type:
        out.append(alter("TYPE {} USING {}::{}", type_sql(new_type), col, type_sql(new_type)))
    if to_serial and not from_serial:
        out += _own_sequence(change.after, new_type)
    if default_changes and new.default is not None:
        out.append(alter("SET DEFAULT {}", sql.SQL(new.default)))
    if new.identity is not None and old.identity is None:
        out.append(alter(f"ADD GENERATED {new.identity.upper()} AS IDENTITY"))
    elif new.identity is not None and old.identity != new.identity:
        out.append(alter(f"SET GENERATED {new.identity.upper()}"))
    if old.nullable != new.nullable:
        out.append(alter("DROP NOT NULL" if new.nullable else "SET NOT NULL"))
    if old.comment != new.comment:
        out.append(comment_on("COLUMN", _column_ident(change.after), new.comment))
    return out


def _own_sequence(on: ColumnOn, int_type: str) -> list[sql.Composable]:
    """What `serial` does to an existing column: a sequence it owns, started after the largest
    value, as its default (Postgres docs §8.1.4 spells out the equivalent statements)."""
    seq = sql.Identifier(on.schema_name, f"{on.table}_{on.column.name}_seq")
    col, table = sql.Identifier(on.column.name), table_ident(on)
    return [
        sql.SQL("CREATE SEQUENCE {} AS {} OWNED BY {}").format(
            seq, type_sql(int_type), _column_ident(on)),
        sql.SQL("SELECT pg_catalog.setval({}, coalesce(max({}), 0) + 1, false) FROM {}").format(
            sql.Literal(seq.as_string(None)), col, table),
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT nextval({}::regclass)").format(
            table, col, sql.Literal(seq.as_string(None))),
    ]


@compiles(ch.AddConstraint)
def _add_constraint(change: ch.AddConstraint) -> list[sql.Composable]:
    c = change.after.constraint
    return [sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        table_ident(change.after), sql.Identifier(c.name), constraint_body(c))]


@compiles(ch.DropConstraint)
def _drop_constraint(change: ch.DropConstraint) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
        table_ident(change.before), sql.Identifier(change.before.constraint.name))]


@compiles(ch.AddIndex)
def _add_index(change: ch.AddIndex) -> list[sql.Composable]:
    """`CREATE [UNIQUE] INDEX`; with `concurrently`, `CREATE INDEX CONCURRENTLY` after dropping
    an invalid leftover of an earlier failed attempt (docs, "Building Indexes Concurrently")."""
    i = change.after.index
    if i.method not in _METHODS:
        raise ValueError(f"unknown index method {i.method!r}")
    stmt = sql.SQL("CREATE {}INDEX {}{} ON {} USING {} ({})").format(
        sql.SQL("UNIQUE " if i.unique else ""), sql.SQL("CONCURRENTLY " if i.concurrently else ""),
        sql.Identifier(i.name), table_ident(change.after), sql.SQL(i.method),
        sql.SQL(", ").join(index_item(c) for c in i.columns))
    if i.where:
        stmt = sql.SQL("{} WHERE {}").format(stmt, sql.SQL(i.where))
    if not i.concurrently:
        return [stmt]
    return [sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(
        sql.Identifier(change.after.schema_name, i.name)), stmt]


@compiles(ch.DropIndex)
def _drop_index(change: ch.DropIndex) -> list[sql.Composable]:
    return [sql.SQL("DROP INDEX IF EXISTS {}").format(
        sql.Identifier(change.before.schema_name, change.before.index.name))]


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


@compiles(ch.AddTrigger)
def _add_trigger(change: ch.AddTrigger) -> list[sql.Composable]:
    return create_trigger(change.after, change.after.trigger)


@compiles(ch.DropTrigger)
def _drop_trigger(change: ch.DropTrigger) -> list[sql.Composable]:
    return [drop_trigger(change.before, change.before.trigger.name)]


@compiles(ch.ModifyTrigger)
def _modify_trigger(change: ch.ModifyTrigger) -> list[sql.Composable]:
    """Only `ENABLE` / `DISABLE` when that is all that changed; else drop and create again."""
    old, new = change.before.trigger, change.after.trigger
    if old.model_copy(update={"enabled": new.enabled}) == new:
        return [enable_trigger(change.after, new.name, new.enabled)]
    return [drop_trigger(change.before, old.name), *create_trigger(change.after, new)]
