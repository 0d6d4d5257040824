"""Foreign keys between content rows, checked before anything is written.

A plan's row changes must leave every foreign key satisfied, or apply would fail part way on
what the live state already shows. Two checks, read-only (each query in a transaction that is
rolled back):

- **A deleted row still referenced** (`--prune`): for every foreign key in the database that
  references a table the plan deletes rows of, with `ON DELETE NO ACTION` or `RESTRICT`
  (`pg_constraint.confdeltype` `a` / `r`; CASCADE and SET NULL/DEFAULT take care of themselves),
  the rows that reference a deleted row and that the plan neither deletes nor points elsewhere.
- **A written value that references nothing**: for every single-column foreign key the spec
  declares on a content table, each value a row to insert or update sets must match a row of the
  referenced table after the plan: one the plan writes, or a live one it does not delete.

The two-way sync's row changes are left to the sync (their page ids are known after apply).

Rows are written in the order the foreign keys give (`model.postgres.referenced_first`), so a
row may reference a row created by the same apply. Values sealed as personal data are not
compared (the plan holds their digests only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import psycopg
from psycopg import sql

from reconciler.backends.postgres.connect import settle
from reconciler.model.changes import ChangeBase, DeleteRow, InsertRow, UpdateRow
from reconciler.model.content import RowState
from reconciler.model.postgres import Table, table_address

#: Foreign keys referencing a table whose deletes the referencing rows would block.
_BLOCKING = """
SELECT c.conname, n.nspname, r.relname,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[]
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
WHERE c.contype = 'f' AND c.confrelid = pg_catalog.to_regclass(%s)
  AND c.confdeltype IN ('a', 'r')
ORDER BY 1
"""


def reference_problems(conn: psycopg.Connection, changes: Sequence[ChangeBase],
                       tables: Sequence[Table], keys: Mapping[str, str]) -> list[str]:
    """What the row changes would break, one line each (empty: nothing). `tables` are the
    declared tables (their foreign keys as apply leaves them), `keys` the key column of each
    content table by address. Raises `psycopg.Error` only for a connection that fails."""
    rows: dict[str, list[ChangeBase]] = {}
    synced: set[str] = set()  # tables the two-way sync writes: values known after apply
    for change in changes:
        if isinstance(change, (InsertRow, UpdateRow, DeleteRow)):
            if change.sync is not None:
                synced.add(change.table.address)
            else:
                rows.setdefault(change.table.address, []).append(change)
    if not rows:
        return []
    try:
        return _deleted(conn, rows, keys) + _dangling(conn, rows, tables, keys, synced)
    finally:
        settle(conn)  # read-only: roll back


def _ident(address_table) -> sql.Identifier:
    return sql.Identifier(address_table.schema_name, address_table.table)


def _deleted(conn: psycopg.Connection, rows: Mapping[str, list[ChangeBase]],
             keys: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for address, changes in sorted(rows.items()):
        gone = {c.before.key: c for c in changes if isinstance(c, DeleteRow)  # type: ignore
                and c.before.key is not None and not _hidden(c.before)}
        if not gone or address not in keys:
            continue
        table = changes[0].table  # type: ignore[attr-defined]
        qualified = sql.Identifier(table.schema_name, table.table).as_string(conn)
        for name, schema, child, columns, ref_columns in conn.execute(_BLOCKING, [qualified]):
            child_address = table_address(schema, child)
            spared = _spared(rows.get(child_address, ()), columns)
            child_key = keys.get(child_address)
            match = sql.SQL(" AND ").join(
                sql.SQL("c.{} = p.{}").format(sql.Identifier(col), sql.Identifier(ref))
                for col, ref in zip(columns, ref_columns))
            query = sql.SQL("SELECT p.{}::text, count(*) FROM {} p JOIN {} c ON {} "
                            "WHERE p.{}::text = ANY(%s){} GROUP BY 1 ORDER BY 1").format(
                sql.Identifier(keys[address]), _ident(table), sql.Identifier(schema, child),
                match, sql.Identifier(keys[address]),
                sql.SQL(" AND NOT c.{}::text = ANY(%s)").format(sql.Identifier(child_key))
                if child_key and spared else sql.SQL(""))
            params = [sorted(gone)] + ([sorted(spared)] if child_key and spared else [])
            for key, count in conn.execute(query, params):
                out.append(
                    f"{gone[key].address}: {count} row(s) of {child_address} still reference it "
                    f"through {name} ({', '.join(columns)}), and the plan neither deletes them "
                    "nor points them elsewhere: remove them from their source too (with "
                    "--prune), change what they reference, or declare the foreign key with "
                    "on_delete: cascade or set null")
    return out


def _spared(changes: Sequence[ChangeBase], columns: Sequence[str]) -> set[str]:
    """Keys of the rows of a referencing table that the plan deletes, or whose update sets the
    foreign key's columns (checked then as written values)."""
    out = {c.before.key for c in changes if isinstance(c, DeleteRow)}
    out |= {c.after.key for c in changes  # an update's key is on its `after`
            if isinstance(c, UpdateRow) and set(columns) <= set(c.after.values)}
    return out - {None}  # type: ignore[return-value]


def _dangling(conn: psycopg.Connection, rows: Mapping[str, list[ChangeBase]],
              tables: Sequence[Table], keys: Mapping[str, str], synced: set[str]) -> list[str]:
    out: list[str] = []
    for table in tables:
        changes = rows.get(table.address, ())
        written = [c for c in changes if isinstance(c, (InsertRow, UpdateRow))]
        for fk in table.foreign_keys if written else ():
            if len(fk.columns) != 1:
                continue
            column, ref = fk.columns[0], fk.ref_columns[0]
            parent = table_address(fk.ref_schema, fk.ref_table)
            if parent in synced:
                continue  # the sync writes rows there whose values only apply knows
            parent_key = keys.get(parent)
            wanted: dict[str, list[ChangeBase]] = {}
            for change in written:
                after = change.after  # type: ignore[attr-defined]
                value = after.values.get(column)
                if value is None or (after.sealed and column in after.sensitive):
                    continue
                wanted.setdefault(_text(value), []).append(change)
            if not wanted:
                continue
            provided, deleted = _parent_rows(rows.get(parent, ()), ref, parent_key)
            if provided is None:
                continue  # the plan writes referenced values it holds as digests only
            missing = sorted(set(wanted) - provided)
            if missing and _exists(conn, fk.ref_schema, fk.ref_table):
                query = sql.SQL("SELECT v FROM unnest(%s::text[]) v WHERE NOT EXISTS (SELECT 1 "
                                "FROM {} p WHERE p.{}::text = v{})").format(
                    sql.Identifier(fk.ref_schema, fk.ref_table), sql.Identifier(ref),
                    sql.SQL(" AND NOT p.{}::text = ANY(%s)").format(sql.Identifier(parent_key))
                    if parent_key and deleted else sql.SQL(""))
                params = [missing] + ([sorted(deleted)] if parent_key and deleted else [])
                missing = sorted(v for (v,) in conn.execute(query, params))
            for value in missing:
                for change in wanted[value]:
                    source = change.after.source  # type: ignore[attr-defined]
                    where = f" ({source})" if source else ""
                    out.append(
                        f"{change.address}{where}: {column} {value!r} references "
                        f"no row of {parent} ({ref}) after this plan: add that row to its "
                        "source, or correct the value")
    return out


def _hidden(row: RowState) -> bool:
    """Whether the plan holds the row's key as a digest only."""
    return row.sealed and row.sensitive_key


def _parent_rows(changes: Sequence[ChangeBase], ref: str, key: str | None
                 ) -> tuple[set[str] | None, set[str]]:
    """The values of `ref` the plan writes into the referenced table (None when some are held
    as digests only), and the keys it deletes."""
    provided: set[str] = set()
    deleted: set[str] = set()
    for change in changes:
        if isinstance(change, DeleteRow):
            if change.before.key is not None and not _hidden(change.before):
                deleted.add(change.before.key)
            continue
        after = change.after  # type: ignore[attr-defined]
        if (_hidden(after) if ref == key else after.sealed and ref in after.sensitive):
            return None, deleted
        value = after.key if ref == key else after.values.get(ref)
        if value is not None:
            provided.add(_text(value))
    return provided, deleted


def _exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    name = sql.Identifier(schema, table).as_string(conn)
    return bool(conn.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL",
                             [name]).fetchone()[0])


def _text(value: object) -> str:
    """A normal-form value as Postgres prints it in text (`true`, `5`, the string itself)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
