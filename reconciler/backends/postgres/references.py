"""Foreign keys between content rows, checked before anything is written.

A plan's row changes must leave every foreign key satisfied, or apply would fail part way on
what the live state already shows. Read-only checks (rolled back), at plan time (`assess`) and
again by apply before its first write (a table the plan did not read may have changed):

- **A deleted row still referenced** (`--prune`): for every foreign key that references a table
  the plan deletes rows of, the rows that reference a deleted row and that the plan neither
  deletes nor points elsewhere. With `ON DELETE NO ACTION` or `RESTRICT`
  (`pg_constraint.confdeltype` `a` / `r`) the delete would fail; with `CASCADE` or `SET NULL`
  a content table's rows the source keeps would be deleted or emptied behind the plan's back
  (and the next plan would fail on them), so both are refused; other tables' rows follow their
  key's rule.
- **A referenced value changed while referenced**: an update of a column another table
  references with `ON UPDATE NO ACTION` / `RESTRICT`, while rows reference its old value.
  Postgres cannot change it in any order: point those rows elsewhere in one apply, then change
  the value in the next.
- **A written value that references nothing**: for every single-column foreign key the spec
  declares on a content table, each value a row to insert or update sets must match a row of the
  referenced table when the row is written: a live one the plan does not delete, or one the
  plan writes earlier. Rows are written in the order the foreign keys give
  (`model.postgres.referenced_first`): a referenced table first, a table first among its own
  rows (one statement); in a cycle of tables the order is cut, and a row referencing a row its
  table's cycle partner writes only later is refused (write them in two applies).

The two-way sync's row changes are left to the sync (their page ids are known after apply).
Values sealed as personal data are not compared (the plan holds their digests only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import psycopg
from psycopg import sql

from reconciler.backends.postgres.connect import settle
from reconciler.model.changes import ChangeBase, DeleteRow, InsertRow, UpdateRow
from reconciler.model.content import RowState
from reconciler.model.postgres import Table, referenced_first, table_address

#: Every foreign key referencing a table: name, referencing schema and table, its columns and
#: the referenced ones, its ON DELETE and ON UPDATE actions (`a` no action, `r` restrict, `c`
#: cascade, `n` set null, `d` set default).
_REFERENCING = """
SELECT c.conname, n.nspname, r.relname,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       c.confdeltype::text, c.confupdtype::text
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
WHERE c.contype = 'f' AND c.confrelid = pg_catalog.to_regclass(%s)
ORDER BY 1
"""
_BLOCKS = ("a", "r")


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
        return (_deleted(conn, rows, keys) + _renamed(conn, rows)
                + _dangling(conn, rows, tables, keys, synced))
    finally:
        settle(conn)  # read-only: roll back


def _ident(address_table) -> sql.Identifier:
    return sql.Identifier(address_table.schema_name, address_table.table)


def _referencing(conn: psycopg.Connection, table) -> list[tuple]:
    """The foreign keys referencing `table` (a `TableRef`), as `_REFERENCING` gives them."""
    qualified = sql.Identifier(table.schema_name, table.table).as_string(conn)
    return conn.execute(_REFERENCING, [qualified]).fetchall()


def _deleted(conn: psycopg.Connection, rows: Mapping[str, list[ChangeBase]],
             keys: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for address, changes in sorted(rows.items()):
        gone = {c.before.key: c for c in changes if isinstance(c, DeleteRow)  # type: ignore
                and c.before.key is not None and not _hidden(c.before)}
        if not gone or address not in keys:
            continue
        table = changes[0].table  # type: ignore[attr-defined]
        for name, schema, child, columns, ref_columns, on_delete, _ in _referencing(conn, table):
            child_address = table_address(schema, child)
            child_key = keys.get(child_address)
            if child_key is None and on_delete not in _BLOCKS:
                continue  # not content: its rows follow the key's own rule
            spared = _spared(rows.get(child_address, ()), columns) if child_key else set()
            match = sql.SQL(" AND ").join(
                sql.SQL("c.{} = p.{}").format(sql.Identifier(col), sql.Identifier(ref))
                for col, ref in zip(columns, ref_columns))
            query = sql.SQL("SELECT p.{}::text, count(*) FROM {} p JOIN {} c ON {} "
                            "WHERE p.{}::text = ANY(%s){} GROUP BY 1 ORDER BY 1").format(
                sql.Identifier(keys[address]), _ident(table), sql.Identifier(schema, child),
                match, sql.Identifier(keys[address]),
                sql.SQL(" AND NOT c.{}::text = ANY(%s)").format(sql.Identifier(child_key))
                if spared else sql.SQL(""))
            params = [sorted(gone)] + ([sorted(spared)] if spared else [])
            for key, count in conn.execute(query, params):
                if on_delete in _BLOCKS:
                    why = "the delete would fail"
                else:
                    what = "delete" if on_delete == "c" else "empty the reference of"
                    why = f"the foreign key would {what} them, yet their source keeps them"
                out.append(
                    f"{gone[key].address}: {count} row(s) of {child_address} still reference it "
                    f"through {name} ({', '.join(columns)}), and the plan neither deletes them "
                    f"nor points them elsewhere, so {why}: remove them from their source too "
                    "(with --prune), or change what they reference"
                    + ("" if child_key else ", or declare the foreign key with on_delete: "
                       "cascade or set null"))
    return out


def _renamed(conn: psycopg.Connection, rows: Mapping[str, list[ChangeBase]]) -> list[str]:
    """Updates of a referenced column while rows reference its old value (ON UPDATE NO ACTION
    or RESTRICT): Postgres refuses them whatever the order."""
    out: list[str] = []
    for address, changes in sorted(rows.items()):
        updates = [c for c in changes if isinstance(c, UpdateRow) and not c.after.sealed]
        if not updates:
            continue
        table = changes[0].table  # type: ignore[attr-defined]
        for name, schema, child, columns, ref_columns, _, on_update in _referencing(conn, table):
            if on_update not in _BLOCKS or len(ref_columns) != 1:
                continue
            ref, column = ref_columns[0], columns[0]
            old = {_text(c.before.values[ref]): c for c in updates
                   if ref in c.after.values and c.before.values.get(ref) is not None}
            if not old:
                continue
            query = sql.SQL("SELECT c.{}::text, count(*) FROM {} c WHERE c.{}::text = ANY(%s) "
                            "GROUP BY 1 ORDER BY 1").format(
                sql.Identifier(column), sql.Identifier(schema, child), sql.Identifier(column))
            for value, count in conn.execute(query, [sorted(old)]):
                out.append(
                    f"{old[value].address}: changes {ref} from {value!r}, which {count} row(s) of "
                    f"{table_address(schema, child)} still reference through {name} "
                    f"({column}); Postgres cannot change a referenced value while rows reference "
                    "it: point those rows elsewhere (or remove them) and apply, then change the "
                    "value in the next apply")
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
    rank = referenced_first(tables)
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
            later = parent != table.address and \
                rank.get(parent, -1) > rank.get(table.address, -1)  # a cycle, cut here
            missing = sorted(set(wanted) - (set() if later else provided))
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
                        f"{change.address}{where}: {column} {value!r} references a row of "
                        f"{parent} ({ref}) that this apply writes only after it ({parent} and "
                        f"{table.address} reference each other): write it without the "
                        "reference first, and add the reference in the next apply"
                        if value in provided else
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
    as digests only), and the keys of its rows whose live value of `ref` will be gone (deleted,
    or updated to another)."""
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
            if isinstance(change, UpdateRow) and ref != key and after.key is not None:
                deleted.add(after.key)  # its old value is gone: only the new one counts
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
