"""Live state: the catalog → `model.postgres.Table`s, fingerprints, rows at risk.

`read_tables(conn, desired)` reads every table of the schemas the desired tables live in, then
lets the server say which live expressions mean what the spec says (`canonical.py`), so the
diff compares like with like. Fingerprints are taken from what was read, before that step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import psycopg
from psycopg import sql

from reconciler.backends.postgres import queries as q
from reconciler.backends.postgres.canonical import canonicalise, index_items
from reconciler.backends.postgres.connect import settle
from reconciler.backends.postgres.ddl import REALTIME, TOUCH, TOUCH_BODY
from reconciler.digests import digest
from reconciler.errors import ReadError
from reconciler.model.postgres import (
    PRIVILEGES, Check, Column, ForeignKey, Grant, Index, Policy, Table, Trigger, Unique,
    normalise_default, normalise_sql, normalise_type,
)
from reconciler.model.changes import ChangeBase, DropColumn, DropTable, ModifyColumn

ON_DELETE = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null",
             "d": "set default"}
COMMANDS = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}
ABSENT = "absent"
IDENTITY = {"a": "always", "d": "by default"}
#: The serial type of an integer type whose default draws from the column's own sequence.
SERIALS = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
#: `pg_trigger.tgtype` bits (src/include/catalog/pg_trigger.h).
TG_ROW, TG_BEFORE, TG_INSTEAD = 1, 2, 64
TG_EVENTS = (("insert", 4), ("update", 16), ("delete", 8), ("truncate", 32))


def read_tables(conn: psycopg.Connection, desired: Sequence[Table], *, spelled: bool = True
                ) -> tuple[tuple[Table, ...], dict[str, str]]:
    """Live tables of the desired tables' schemas, and `{address: "sha256:…"}` for each desired
    table (its live peer by name or `renamed_from`; `"absent"` when there is none) and for each
    undeclared live table of those schemas (which the plan drops), so stale detection covers
    every table a plan touches. `spelled`: expressions the server prints like the declared ones
    are spelled as declared (`canonical.canonicalise`, for the diff); a caller that needs only
    the columns (row writes) leaves it out and saves the probe.

    Raises ReadError when the catalog cannot be read. Leaves no transaction open."""
    schemas = sorted({t.schema_name for t in desired})
    try:
        raw = read_catalog(conn, schemas)
        fingerprints = {t.address: fingerprint(t) for t in raw}
        fingerprints.update({t.address: fingerprint(live_peer(t, raw)) for t in desired})
        live = canonicalise(conn, desired, raw) if spelled else raw
    except psycopg.Error as exc:
        raise ReadError(f"reading the Postgres catalog failed: {exc}") from None
    finally:
        settle(conn)  # a rollback, also of a read Ctrl-C cut off mid-command
    return live, fingerprints


def live_peer(table: Table, live: Sequence[Table]) -> Table | None:
    """The live table `table` stands for: same name, else its newest former name."""
    for name in (table.name, *table.renamed_from):
        found = next((t for t in live if (t.schema_name, t.name) == (table.schema_name, name)),
                     None)
        if found is not None:
            return found
    return None


def fingerprint(table: Table | None) -> str:
    """`sha256:<hex>` of the table's canonical JSON, or `absent`."""
    if table is None:
        return ABSENT
    return digest(table.model_dump(mode="json"))


def read_catalog(conn: psycopg.Connection, schemas: Sequence[str]) -> tuple[Table, ...]:
    """Every table in `schemas` with its columns, keys, checks, indexes, policies, grants,
    triggers and realtime membership."""
    tables = conn.execute(q.TABLES, [list(schemas)]).fetchall()
    oids = [row[0] for row in tables]
    parts: dict[int, dict] = {oid: defaultdict(list) for oid in oids}
    for row in conn.execute(q.COLUMNS, [oids]):
        parts[row[0]]["columns"].append(live_column(*row[1:]))
    for row in conn.execute(q.CONSTRAINTS, [oids]):
        _add_constraint(parts[row[0]], row)
    for row in conn.execute(q.INDEXES, [oids]):
        parts[row[0]]["indexes"].append(Index(
            name=row[1], unique=row[2], method=row[3],
            columns=index_items(row[4], row[6]), where=row[5]))
    for row in conn.execute(q.POLICIES, [oids]):
        parts[row[0]]["policies"].append(Policy(
            name=row[1], command=COMMANDS[row[2]], permissive=row[3], roles=tuple(row[4]),
            using=row[5], with_check=row[6]))
    _add_grants(conn, oids, parts)
    schema_of = {oid: schema for oid, schema, *_ in tables}
    for oid, name, tgtype, enabled, function, source, definition in conn.execute(q.TRIGGERS,
                                                                                 [oids]):
        if name == TOUCH:
            parts[oid]["touch_updated_at"] = (
                tgtype == TG_ROW | TG_BEFORE | 16 and enabled != "D"
                and function == f"{schema_of[oid]}.{TOUCH}"
                and normalise_sql(source) == normalise_sql(TOUCH_BODY))
        else:
            parts[oid]["triggers"].append(live_trigger(name, tgtype, enabled, function,
                                                       definition))
    realtime = {row[0] for row in conn.execute(q.REALTIME, [oids, REALTIME])}
    return tuple(
        Table(schema_name=schema, name=name, comment=comment, rls=rls, force_rls=force,
              realtime=oid in realtime, **{k: tuple(v) if isinstance(v, list) else v
                                           for k, v in parts[oid].items()})
        for oid, schema, name, comment, rls, force in tables)


def live_column(name: str, pg_type: str, nullable: bool, default: str | None,
                comment: str | None, identity: str, sequence: str | None,
                labels: list[str]) -> Column:
    """A catalog column; an integer column whose default is `nextval` of the sequence it owns
    reads as its serial type (docs §8.1.4), with no default of its own. `labels`: its enum
    type's, if any."""
    canonical = normalise_type(pg_type)
    enum_values = tuple(labels) or None
    if (sequence and not identity and canonical in SERIALS
            and default == f"nextval('{sequence}'::regclass)"):
        return Column(name=name, type=SERIALS[canonical], nullable=nullable, comment=comment,
                      sequence=sequence, enum_values=enum_values)
    return Column(name=name, type=canonical, nullable=nullable,
                  default=normalise_default(default), comment=comment,
                  identity=IDENTITY.get(identity), sequence=sequence, enum_values=enum_values)


def live_trigger(name: str, tgtype: int, enabled: str, function: str, definition: str) -> Trigger:
    """A trigger from its `pg_trigger` row: timing and events decoded from `tgtype`, the WHEN
    condition taken from the printed definition."""
    timing = "instead of" if tgtype & TG_INSTEAD else "before" if tgtype & TG_BEFORE else "after"
    when = q.TRIGGER_WHEN.search(definition)
    return Trigger(name=name, function=function, timing=timing,
                   events=tuple(e for e, bit in TG_EVENTS if tgtype & bit),
                   for_each="row" if tgtype & TG_ROW else "statement",
                   when=when.group("when") if when else None, enabled=enabled != "D")


def _add_constraint(part: dict, row: tuple) -> None:
    _, name, kind, cols, ref_schema, ref_table, ref_cols, deltype, check = row
    if kind == "p":
        part["primary_key"], part["primary_key_name"] = tuple(cols), name
    elif kind == "u":
        part["uniques"].append(Unique(name=name, columns=tuple(cols)))
    elif kind == "f":
        part["foreign_keys"].append(ForeignKey(
            name=name, columns=tuple(cols), ref_schema=ref_schema, ref_table=ref_table,
            ref_columns=tuple(ref_cols), on_delete=ON_DELETE[deltype]))
    else:
        part["checks"].append(Check(name=name, expression=check))


def _add_grants(conn: psycopg.Connection, oids: list[int], parts: dict[int, dict]) -> None:
    privileges: dict[tuple[int, str], set[str]] = defaultdict(set)
    for oid, role, privilege in conn.execute(q.GRANTS, [oids]):
        privileges[(oid, role)].add(privilege)
    for (oid, role), privs in sorted(privileges.items()):
        parts[oid]["grants"].append(
            Grant(role=role, privileges=tuple(p for p in PRIVILEGES if p in privs)))


def count_rows_at_risk(conn: psycopg.Connection, changes: list[ChangeBase]) -> list[ChangeBase]:
    """`changes` with `rows_affected` set on destructive ones: all rows for drop_table, rows with
    a value for drop_column and narrowing modify_column. A table that does not exist yet under
    that name (e.g. renamed in the same plan) leaves it None. A narrowing modify_column over a
    column no row holds a value in loses nothing: it is then not destructive (no
    --allow-destroy needed). Raises ReadError."""
    out = []
    try:
        for change in changes:
            query = _count_query(change) if change.destructive else None
            if query is not None:
                n = _count(conn, query)
                update: dict = {"rows_affected": n}
                if n == 0 and isinstance(change, ModifyColumn):
                    update.update(destructive=False, note=change.note.replace(
                        "values may be lost", "no row holds a value in the column, so none is "
                        "lost"))
                change = change.model_copy(update=update)
            out.append(change)
    except psycopg.Error as exc:
        raise ReadError(f"counting rows at risk failed: {exc}") from None
    finally:
        settle(conn)  # a rollback, also of a read Ctrl-C cut off mid-command
    return out


def _count(conn: psycopg.Connection, query: sql.Composed) -> int | None:
    try:
        with conn.transaction():
            return conn.execute(query).fetchone()[0]
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return None


def _count_query(change: ChangeBase) -> sql.Composed | None:
    """`SELECT count(*)` of the rows a destructive change would lose data of, or None."""
    if isinstance(change, DropTable):
        return sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(change.before.schema_name, change.before.name))
    if isinstance(change, (DropColumn, ModifyColumn)):
        on = change.before
        return sql.SQL("SELECT count(*) FROM {} WHERE {} IS NOT NULL").format(
            sql.Identifier(on.schema_name, on.table), sql.Identifier(on.column.name))
    return None
