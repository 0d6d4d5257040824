"""Foreign keys between content rows, checked before anything is written.

A plan's row changes must leave every foreign key satisfied, or apply would fail part way on
what the live state already shows. Read-only checks (rolled back), at plan time (`assess`) and
again by apply before its first write (a table the plan did not read may have changed):

- **A deleted row still referenced** (`--prune`): for every foreign key that references a table
  the plan deletes rows of, the rows that reference a deleted row and that the plan does not
  delete first nor point elsewhere. With `ON DELETE NO ACTION` or `RESTRICT`
  (`pg_constraint.confdeltype` `a` / `r`) the delete would fail. A content table's rows the
  source keeps may not be deleted or emptied by `CASCADE` or `SET NULL` behind the plan's back
  (the next plan would fail on them). A table without `content:` follows its key: `CASCADE` is
  followed to the tables referencing it in turn (up to `MAX_DEPTH` tables deep), and `SET NULL`
  into a `NOT NULL` column would fail.
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

Values are compared as the columns' own types (`numeric` 8 is 8.00), tables and columns by
their live names when the same plan renames them. The two-way sync's row changes are left to
the sync (their page ids are known after apply). Values sealed as personal data are compared
only by apply, which holds them, and messages show them as `(sensitive)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from reconciler.backends.postgres.connect import settle
from reconciler.errors import ReadError
from reconciler.model.changes import ChangeBase, DeleteRow, InsertRow, UpdateRow
from reconciler.model.postgres import Table, referenced_first, table_address
from reconciler.model.postgres_changes import RenameColumn, RenameTable
from reconciler.model.sensitive import SHOWN

#: How many tables deep a cascade through tables without `content:` is followed.
MAX_DEPTH = 4
#: Every foreign key referencing a table: name, referencing schema and table, its columns and
#: the referenced ones, its ON DELETE and ON UPDATE actions (`a` no action, `r` restrict, `c`
#: cascade, `n` set null, `d` set default), and whether any of its columns is NOT NULL.
_REFERENCING = """
SELECT c.conname, n.nspname, r.relname,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       c.confdeltype::text, c.confupdtype::text,
       EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.conrelid
               AND a.attnum = ANY(c.conkey) AND a.attnotnull)
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
WHERE c.contype = 'f' AND c.confrelid = pg_catalog.to_regclass(%s)
ORDER BY 1
"""
_TYPES = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = pg_catalog.to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
"""
_BLOCKS = ("a", "r")
#: The column that carries, through a cascade, the key of the deleted row it started from.
_ROOT = "reconciler_root"


@dataclass(frozen=True)
class _ForeignKey:
    name: str
    schema: str
    table: str
    columns: tuple[str, ...]
    ref_columns: tuple[str, ...]
    on_delete: str
    on_update: str
    not_null: bool


@dataclass
class _Catalog:
    """The live database as the checks need it: a table's live name (its former one when the
    plan renames it), a column's live name, column types and the foreign keys referencing a
    table, each read once."""

    conn: psycopg.Connection
    tables: dict[str, tuple[str, str]] = field(default_factory=dict)  # address → live name
    columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (address, col) → live
    _types: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    _keys: dict[tuple[str, str], list[_ForeignKey]] = field(default_factory=dict)

    @classmethod
    def of(cls, conn: psycopg.Connection, changes: Sequence[ChangeBase]) -> "_Catalog":
        cat = cls(conn)
        for change in changes:
            if isinstance(change, RenameTable):
                cat.tables[change.after.address] = (change.before.schema_name, change.before.table)
            elif isinstance(change, RenameColumn):
                cat.columns[(change.after.address, change.after.column.name)] = \
                    change.before.column.name
        return cat

    def live(self, schema: str, table: str) -> tuple[str, str]:
        return self.tables.get(table_address(schema, table), (schema, table))

    def address(self, schema: str, table: str) -> str:
        """The plan's address of a table the catalog names by its live name."""
        live = (schema, table)
        return next((a for a, name in self.tables.items() if name == live),
                    table_address(schema, table))

    def column(self, address: str, name: str) -> str:
        return self.columns.get((address, name), name)

    def types(self, schema: str, table: str) -> dict[str, str]:
        """Live column → its type (`numeric(10,2)`); empty for a table that does not exist."""
        if (schema, table) not in self._types:
            name = sql.Identifier(schema, table).as_string(self.conn)
            self._types[(schema, table)] = dict(self.conn.execute(_TYPES, [name]).fetchall())
        return self._types[(schema, table)]

    def referencing(self, schema: str, table: str) -> list[_ForeignKey]:
        if (schema, table) not in self._keys:
            name = sql.Identifier(schema, table).as_string(self.conn)
            self._keys[(schema, table)] = [
                _ForeignKey(n, s, t, tuple(c), tuple(r), d, u, nn)
                for n, s, t, c, r, d, u, nn in self.conn.execute(_REFERENCING, [name])]
        return self._keys[(schema, table)]


def reference_problems(conn: psycopg.Connection, changes: Sequence[ChangeBase],
                       tables: Sequence[Table], keys: Mapping[str, str]) -> list[str]:
    """What the row changes would break, one line each (empty: nothing). `changes` are the
    backend's changes (schema ones too: renames), `tables` the declared tables (their foreign
    keys as apply leaves them), `keys` the key column of each content table by address.
    Raises `ReadError` when live values cannot be compared (a type the plan changes), and
    `psycopg.Error` for a connection that fails."""
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
    cat = _Catalog.of(conn, changes)
    rank = referenced_first(tables)
    try:
        return (_deleted(cat, rows, keys, rank) + _renamed(cat, rows)
                + _dangling(cat, rows, tables, keys, synced, rank))
    except _Uncomparable as exc:
        raise ReadError(f"cannot compare content rows with the live rows their foreign keys "
                        f"reference: {exc}") from None
    finally:
        settle(conn)  # read-only: roll back


def _key_of(change: ChangeBase) -> str | None:
    """A row change's key (an update's is on its `after`)."""
    row = change.before if isinstance(change, DeleteRow) else change.after  # type: ignore
    return None if row.sealed and row.sensitive_key else row.key


#: Types compared as text: a cast to `varchar(n)` or `char(n)` would cut a longer value.
_STRINGS = ("text", "character varying", "character", "citext", "name")


def _textual(kind: str) -> bool:
    return kind.split("(")[0].strip() in _STRINGS


def _type(kind: str) -> sql.SQL:
    """A type name from `format_type`, as SQL (a `%` doubled: queries here take parameters)."""
    return sql.SQL(kind.replace("%", "%%"))


def _equals(column: sql.Composable, value: sql.Composable, kind: str) -> sql.Composed:
    """`column = value::<kind>`: a text value compared as the column's own type (`numeric` 8 is
    8.00); string types as text, uncut."""
    if _textual(kind):
        return sql.SQL("{}::text = {}").format(column, value)
    return sql.SQL("{} = {}::{}").format(column, value, _type(kind))


def _in(column: sql.Composable, kind: str) -> sql.Composed:
    """`column = ANY(%s::<kind>[])`, as `_equals` compares."""
    if _textual(kind):
        return sql.SQL("{}::text = ANY(%s::text[])").format(column)
    return sql.SQL("{} = ANY(%s::{}[])").format(column, _type(kind))


def _rows_of(cat: "_Catalog", query: sql.Composable, params: Sequence) -> list[tuple]:
    """`query`'s rows, in a savepoint. Raises `_Uncomparable` (which `reference_problems`
    turns into a `ReadError`) for a value that is no valid text of the column's type."""
    try:
        with cat.conn.transaction():
            return cat.conn.execute(query, params).fetchall()
    except psycopg.DataError as exc:
        raise _Uncomparable(str(exc).splitlines()[0]) from None


class _Uncomparable(Exception):
    """A value the live column's type does not read (the spec changes the type in this plan)."""


def _deleted(cat: _Catalog, rows: Mapping[str, list[ChangeBase]], keys: Mapping[str, str],
             rank: Mapping[str, int]) -> list[str]:
    out: list[str] = []
    for address, changes in sorted(rows.items()):
        gone = {k: c for c in changes if isinstance(c, DeleteRow)
                for k in [_key_of(c)] if k is not None}
        if not gone or address not in keys:
            continue
        ref = changes[0].table  # type: ignore[attr-defined]
        schema, table = cat.live(ref.schema_name, ref.table)
        key = cat.column(address, keys[address])
        kind = cat.types(schema, table).get(key)
        if kind is None:
            continue  # not live: nothing references its rows yet
        start = sql.SQL("SELECT g.v AS {}, p.* FROM unnest(%s::text[]) g(v) JOIN {} p "
                        "ON {}").format(
            sql.Identifier(_ROOT), sql.Identifier(schema, table),
            _equals(sql.SQL("p.{}").format(sql.Identifier(key)), sql.SQL("g.v"), kind))
        out += _walk(cat, rows, keys, rank, gone, (schema, table), address, start, [address])
    return out


def _walk(cat: _Catalog, rows: Mapping[str, list[ChangeBase]], keys: Mapping[str, str],
          rank: Mapping[str, int], gone: Mapping[str, ChangeBase], table: tuple[str, str],
          address: str, deleted: sql.Composable, path: list[str]) -> list[str]:
    """Problems with the rows `deleted` (a query of the rows of `table`, at `address`, with
    `_ROOT`) from the foreign keys referencing it; cascades through tables without `content:`
    followed. `path`: the tables from the one the plan deletes rows of to this one."""
    out: list[str] = []
    root = path[0]
    for fk in cat.referencing(*table):
        child = cat.address(fk.schema, fk.table)
        match = sql.SQL(" AND ").join(
            sql.SQL("c.{} = d.{}").format(sql.Identifier(col), sql.Identifier(ref))
            for col, ref in zip(fk.columns, fk.ref_columns))
        referencing = sql.SQL("SELECT d.{} AS {}, c.* FROM {} c JOIN ({}) d ON {}").format(
            sql.Identifier(_ROOT), sql.Identifier(_ROOT), sql.Identifier(fk.schema, fk.table),
            deleted, match)
        through = f" (deleting it deletes rows of {', '.join(path[1:])})" if path[1:] else ""
        child_key = keys.get(child)
        if child_key is not None:  # content: the plan must take care of these rows itself
            live_key = cat.column(child, child_key)
            spared = _spared(cat, child, rows.get(child, ()), fk.columns,
                             deleted_first=child == root or fk.on_delete not in _BLOCKS or
                             rank.get(child, -1) > rank.get(root, -1))
            counts = _counts(cat, referencing, sorted(gone), live_key,
                             cat.types(fk.schema, fk.table).get(live_key), spared)
            if fk.on_delete in _BLOCKS:
                why = "the delete would fail"
            else:
                what = "delete" if fk.on_delete == "c" else "empty the reference of"
                why = f"the foreign key would {what} them, yet their source keeps them"
            for root, count in counts:
                out.append(f"{gone[root].address}{through}: {count} row(s) of {child} still "
                           f"reference it through {fk.name} ({', '.join(fk.columns)}), and the "
                           f"plan neither deletes them first nor points them elsewhere, so "
                           f"{why}: remove them from their source too (with --prune), or change "
                           "what they reference")
        elif fk.on_delete in _BLOCKS or (fk.on_delete == "n" and fk.not_null):
            why = ("the delete would fail" if fk.on_delete in _BLOCKS else
                   "the foreign key would set NULL in a NOT NULL column")
            for root, count in _counts(cat, referencing, sorted(gone), None, None, set()):
                out.append(f"{gone[root].address}{through}: {count} row(s) of {child} (a table "
                           f"without content:) reference it through {fk.name} "
                           f"({', '.join(fk.columns)}), so {why}: change or remove those rows "
                           "first, or declare the foreign key with on_delete: cascade")
        elif fk.on_delete == "c" and len(path) <= MAX_DEPTH and child not in path:
            out += _walk(cat, rows, keys, rank, gone, (fk.schema, fk.table), child,
                         referencing, path + [child])
    return out


def _counts(cat: _Catalog, referencing: sql.Composable, gone: list[str], key: str | None,
            kind: str | None, spared: set[str]) -> list[tuple[str, int]]:
    """(root key, referencing rows) of the `referencing` query (its one parameter: the `gone`
    keys), less the rows whose `key` is in `spared`."""
    where = sql.SQL("")
    params: list = [gone]
    if spared and key and kind:
        where = sql.SQL(" WHERE NOT ") + _in(sql.SQL("r.{}").format(sql.Identifier(key)), kind)
        params.append(sorted(spared))
    query = sql.SQL("SELECT r.{}, count(*) FROM ({}) r{} GROUP BY 1 ORDER BY 1").format(
        sql.Identifier(_ROOT), referencing, where)
    return _rows_of(cat, query, params)


def _spared(cat: _Catalog, address: str, changes: Sequence[ChangeBase], columns: Sequence[str],
            deleted_first: bool) -> set[str]:
    """Keys of the rows of a referencing table that the plan deletes before the referenced
    rows (`deleted_first`: its deletes run first), or whose update sets the foreign key's live
    `columns` (checked then as written values)."""
    out: set[str] = set()
    for change in changes:
        key = _key_of(change)
        if key is None:
            continue
        if isinstance(change, DeleteRow):
            if deleted_first:
                out.add(key)
        elif isinstance(change, UpdateRow):
            written = {cat.column(address, c) for c in change.after.values}
            if set(columns) <= written:
                out.add(key)
    return out


def _renamed(cat: _Catalog, rows: Mapping[str, list[ChangeBase]]) -> list[str]:
    """Updates of a referenced column while rows reference its old value (ON UPDATE NO ACTION
    or RESTRICT): Postgres refuses them whatever the order."""
    out: list[str] = []
    for address, changes in sorted(rows.items()):
        updates = [c for c in changes if isinstance(c, UpdateRow) and not c.after.sealed]
        if not updates:
            continue
        ref = changes[0].table  # type: ignore[attr-defined]
        for fk in cat.referencing(*cat.live(ref.schema_name, ref.table)):
            if fk.on_update not in _BLOCKS or len(fk.ref_columns) != 1:
                continue
            old = {_text(c.before.values[name]): c for c in updates
                   for name in c.after.values
                   if cat.column(address, name) == fk.ref_columns[0]
                   and c.before.values.get(name) is not None}
            kind = cat.types(fk.schema, fk.table).get(fk.columns[0])
            if not old or kind is None:
                continue
            query = sql.SQL("SELECT g.v, count(*) FROM unnest(%s::text[]) g(v) JOIN {} c "
                            "ON {} GROUP BY 1 ORDER BY 1").format(
                sql.Identifier(fk.schema, fk.table),
                _equals(sql.SQL("c.{}").format(sql.Identifier(fk.columns[0])), sql.SQL("g.v"),
                        kind))
            for value, count in _rows_of(cat, query, [sorted(old)]):
                shown = SHOWN if fk.ref_columns[0] in old[value].after.sensitive else repr(value)
                out.append(
                    f"{old[value].address}: changes {fk.ref_columns[0]} from {shown}, which "
                    f"{count} row(s) of {cat.address(fk.schema, fk.table)} still reference "
                    f"through {fk.name} ({fk.columns[0]}); Postgres cannot change a referenced "
                    "value while rows reference it: point those rows elsewhere (or remove "
                    "them) and apply, then change the value in the next apply")
    return out


def _dangling(cat: _Catalog, rows: Mapping[str, list[ChangeBase]], tables: Sequence[Table],
              keys: Mapping[str, str], synced: set[str], rank: Mapping[str, int]) -> list[str]:
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
            wanted: dict[str, list[ChangeBase]] = {}
            for change in written:
                after = change.after  # type: ignore[attr-defined]
                value = after.values.get(column)
                if value is None or (after.sealed and column in after.sensitive):
                    continue
                wanted.setdefault(_text(value), []).append(change)
            if not wanted:
                continue
            provided, gone = _parent_rows(rows.get(parent, ()), ref, keys.get(parent))
            if provided is None:
                continue  # the plan writes referenced values it holds as digests only
            later = parent != table.address and \
                rank.get(parent, -1) > rank.get(table.address, -1)  # a cycle, cut here
            missing = sorted(set(wanted) - (set() if later else provided))
            if missing:
                missing = _absent(cat, parent, fk.ref_schema, fk.ref_table, ref,
                                  keys.get(parent), missing, gone)
            for value in missing:
                for change in wanted[value]:
                    after = change.after  # type: ignore[attr-defined]
                    where = f" ({after.source})" if after.source else ""
                    shown = SHOWN if column in after.sensitive else repr(value)
                    out.append(
                        f"{change.address}{where}: {column} {shown} references a row of "
                        f"{parent} ({ref}) that this apply writes only after it ({parent} and "
                        f"{table.address} reference each other): write it without the "
                        "reference first, and add the reference in the next apply"
                        if value in provided else
                        f"{change.address}{where}: {column} {shown} references "
                        f"no row of {parent} ({ref}) after this plan: add that row to its "
                        "source, or correct the value")
    return out


def _absent(cat: _Catalog, parent: str, schema: str, table: str, ref: str, key: str | None,
            values: list[str], gone: set[str]) -> list[str]:
    """Of `values`, those no live row of the referenced table holds in `ref` (compared as its
    type), leaving out its rows with a key in `gone`; all of them when the table is not live."""
    schema, table = cat.live(schema, table)
    types = cat.types(schema, table)
    live_ref, live_key = cat.column(parent, ref), cat.column(parent, key) if key else None
    if live_ref not in types:
        return values
    spare = sql.SQL("")
    params: list = [values]
    if live_key in types and gone:
        spare = sql.SQL(" AND NOT ") + _in(sql.SQL("p.{}").format(sql.Identifier(live_key)),
                                           types[live_key])
        params.append(sorted(gone))
    query = sql.SQL("SELECT g.v FROM unnest(%s::text[]) g(v) WHERE NOT EXISTS (SELECT 1 FROM {} p "
                    "WHERE {}{}) ORDER BY 1").format(
        sql.Identifier(schema, table),
        _equals(sql.SQL("p.{}").format(sql.Identifier(live_ref)), sql.SQL("g.v"),
                types[live_ref]), spare)
    try:
        return [v for (v,) in _rows_of(cat, query, params)]
    except _Uncomparable:  # some value is no text of the live type: one by one
        out = []
        for value in values:
            try:
                out += [v for (v,) in _rows_of(cat, query, [[value], *params[1:]])]
            except _Uncomparable:
                out.append(value)  # no live row can hold it
        return out


def _parent_rows(changes: Sequence[ChangeBase], ref: str, key: str | None
                 ) -> tuple[set[str] | None, set[str]]:
    """The values of `ref` the plan writes into the referenced table (None when some are held
    as digests only), and the keys of its rows whose live value of `ref` will be gone (deleted,
    or updated to another)."""
    provided: set[str] = set()
    gone: set[str] = set()
    for change in changes:
        row_key = _key_of(change)
        if isinstance(change, DeleteRow):
            if row_key is not None:
                gone.add(row_key)
            continue
        after = change.after  # type: ignore[attr-defined]
        if (row_key is None if ref == key else after.sealed and ref in after.sensitive):
            return None, gone
        value = after.key if ref == key else after.values.get(ref)
        if value is not None:
            provided.add(_text(value))
            if isinstance(change, UpdateRow) and ref != key and row_key is not None:
                gone.add(row_key)  # its old value is gone: only the new one counts
    return provided, gone


def _text(value: object) -> str:
    """A normal-form value as text for Postgres to read back as the column's type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
