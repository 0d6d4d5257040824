"""Content rows of a Postgres table: read them, write them in batches, fingerprint them.

Rows are dicts in content normal form (`backends.postgres.values`); keys are strings (the
content set's key column, whatever its type). Writes never make a round trip per row (DESIGN.md
"Performance"): every row written goes through one COPY into a staging table, then one
`INSERT … SELECT … ON CONFLICT (key) DO UPDATE` (new rows) or `UPDATE … FROM` (changed rows) per
set of columns; deletes are one `DELETE … WHERE key = ANY(%s)`. So writing N rows and deleting D
costs a constant number of statements, whatever N and D (`write_rows`).

Sources: Postgres docs "INSERT" (§ ON CONFLICT Clause: the conflict target must match a unique
index or constraint, non-partial unless a WHERE is given, and not deferrable; a row may not be
affected twice by one command) and "Functions and Operators" §9.25 (`= ANY (array)`).
Identifiers are composed with `psycopg.sql`; values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from reconciler.backends.postgres.staging import Groups, write_groups
from reconciler.backends.postgres.values import column_writer, parse_type, to_normal
from reconciler.digests import digest_text
from reconciler.errors import ApplyError, ReadError
from reconciler.model.postgres import Table

_KNOWN = {"text", "character varying", "character", "citext", "smallint", "integer", "bigint",
          "numeric", "real", "double precision", "boolean", "date", "timestamptz", "timestamp",
          "time", "timetz", "uuid", "jsonb", "json", "bytea", "interval"}

_COLUMNS = """
SELECT a.attname,
       format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
                   CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END),
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indimmediate
                 AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum
                 AND i.indpred IS NULL AND i.indexprs IS NULL)
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


def _ident(table: Table) -> sql.Identifier:
    return sql.Identifier(table.schema_name, table.name)


def live_columns(conn: psycopg.Connection, table: Table) -> dict[str, tuple[str, bool]]:
    """column → (type as `format_type` prints it, domains resolved to their base type; whether a
    single-column unique index or constraint usable by ON CONFLICT covers it). Empty when the
    table does not exist."""
    rows = conn.execute(_COLUMNS, (table.schema_name, table.name)).fetchall()
    return {name: (pg_type, unique) for name, pg_type, unique in rows}


def read_rows(conn: psycopg.Connection, table: Table, key: str,
              columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Every row of `table` as key → {column: normal-form value} for `columns` (include the hash
    column to get it), in one query. The key is the normal form of the key column as a str
    (`"42"` for an integer key, the lower-case uuid for a uuid key); rows with a NULL key are
    left out (no content row can match them).

    Types come from `table`'s columns (`from_normal`'s spelling); columns `table` does not
    declare are converted by the Python type psycopg returned. Arrays of types psycopg does not
    know (enum[]) are selected as text[]. Raises ReadError when the query fails (missing table or
    column); the caller's transaction is then aborted."""
    names = list(dict.fromkeys([key, *columns]))
    types = {n: (table.column(n).type if table.column(n) else "") for n in names}
    selected = []
    for n in names:
        base, _, dims = parse_type(types[n]) if types[n] else ("", (), 0)
        cast = sql.SQL("::text[]") if dims and base not in _KNOWN else sql.SQL("")
        selected.append(sql.SQL("{}{}").format(sql.Identifier(n), cast))
    query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(selected), _ident(table))
    try:
        records = conn.execute(query).fetchall()
    except psycopg.Error as exc:
        raise ReadError(f"{table.address}: cannot read content rows: "
                        f"{str(exc).splitlines()[0]}") from exc
    result: dict[str, dict[str, Any]] = {}
    for record in records:
        values = {n: to_normal(v, types[n] or "unknown") for n, v in zip(names, record)}
        if values[key] is None:
            continue
        result[str(values[key])] = {n: values[n] for n in columns}
    return result


def write_rows(conn: psycopg.Connection, table: Table, key: str,
               upserts: Sequence[Mapping[str, Any]], deletes: Sequence[str] = (), *,
               updates: Sequence[Mapping[str, Any]] = ()) -> int:
    """Write `upserts` (rows to create), `updates` (rows that exist, with the columns that
    change) and delete the rows whose key is in `deletes`; returns rows written (inserted +
    updated + deleted).

    Each row is a normal-form row that has `key`; its values are converted for their live column
    (`values.column_writer`: each column's type parsed once) and every row goes into one staging
    table through one COPY (`staging.stage`). Rows are grouped by their set of columns; each group
    is moved into the table by one statement: new rows by `INSERT … SELECT … ON CONFLICT (key) DO
    UPDATE` (a row that exists already is updated), changed rows by `UPDATE … FROM`, only their
    columns (a NOT NULL column a row does not set is never checked: issue 12, bug 1). A row whose
    values already equal the live ones is not written, so triggers such as `touch_updated_at`
    fire only for real changes. Deletes are one `DELETE … WHERE key = ANY(%s)`. So N rows cost a
    catalog query, the staging table and its COPY, one statement per group and one for deletes,
    whatever N. Runs inside the caller's transaction and does not commit.

    Raises ApplyError (address: the table) when the table or a column is missing, when `key` has
    no single-column unique constraint or index and there are rows to create (ON CONFLICT needs
    one), when a value does not fit its column (`from_normal`'s message, naming the row's key),
    when a key appears twice, or when the server rejects a statement (the transaction is then
    aborted)."""
    if not upserts and not deletes and not updates:
        return 0
    live = live_columns(conn, table)

    def fail(message: str) -> ApplyError:
        return ApplyError(message, address=table.address)

    if not live:
        raise fail("table does not exist")
    if key not in live:
        raise fail(f"key column {key!r} does not exist")
    if upserts and not live[key][1]:
        raise fail(f"key column {key!r} has no unique constraint or unique index (non-partial, "
                   "not deferrable), which INSERT … ON CONFLICT needs; add `unique: true` to "
                   "the column or make it the primary key")
    writers: dict[str, Any] = {}
    seen: set[str] = set()
    inserts = _grouped(upserts, key, live, writers, seen, fail)
    changes = _grouped(updates, key, live, writers, seen, fail)
    written = 0
    try:
        if inserts or changes:
            written += write_groups(conn, _ident(table), key, inserts, changes)
        if deletes:
            convert = _key_writer(writers.get(key) or column_writer(live[key][0]), live[key][0])
            keys = [convert(k) for k in deletes]
            query = sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                _ident(table), sql.Identifier(key))
            written += max(conn.execute(query, (keys,)).rowcount, 0)
    except ValueError as exc:
        raise fail(f"delete: {exc}") from None
    except psycopg.Error as exc:
        raise fail(f"{str(exc).splitlines()[0]} (the transaction was rolled back)") from exc
    return written


def _grouped(rows: Sequence[Mapping[str, Any]], key: str, live: dict[str, tuple[str, bool]],
             writers: dict[str, Any], seen: set[str], fail) -> Groups:
    """Rows as lists of converted values grouped by their columns (key first). Raises what
    `fail` makes for a row without a key, a key seen twice, a missing column or a value that
    does not fit its column."""
    groups: Groups = {}
    shapes: dict[tuple[str, ...], tuple[tuple[str, ...], list]] = {}  # row's own key order →
    for row in rows:
        if row.get(key) is None:
            raise fail(f"a content row has no value for the key column {key!r}")
        shown = str(row[key])
        if shown in seen:
            raise fail(f"key {shown!r} appears twice in one write")
        seen.add(shown)
        order = tuple(row)
        if order not in shapes:
            columns = (key, *sorted(c for c in row if c != key))
            missing = [c for c in columns if c not in live]
            if missing:
                raise fail(f"column(s) {', '.join(map(repr, missing))} do not exist")
            for c in columns:
                if c not in writers:
                    writers[c] = column_writer(live[c][0])
            convert_key = _key_writer(writers[key], live[key][0])
            shapes[order] = (columns, [convert_key, *(writers[c] for c in columns[1:])])
        columns, convert = shapes[order]
        try:
            values = [write(row[c]) for c, write in zip(columns, convert)]
        except ValueError as exc:
            raise fail(f"row {shown!r}: {exc}") from None
        groups.setdefault(columns, []).append(values)
    return groups


def _key_writer(writer, pg_type: str):
    """`writer` for the key column, also taking a key as its str (`SourceRow.key`: an update
    row carries only its key and its changed columns, so its key column's value is that str).
    The column's type is parsed once, not per row."""
    base = parse_type(pg_type)[0]

    def convert(value: Any) -> Any:
        return _key_param(value, writer, base) if isinstance(value, str) \
            else writer(value)
    return convert


def _key_param(text: str, writer, base: str) -> Any:
    """A key (always a str in content sets: the normal form's `str`) as a value of the key
    column's type (`base`: its base name, `values.parse_type`): `"42"` → 42 for an integer
    column, `"2025-11-03"` → a date, `"1.5"` → a Decimal, a uuid's text → a UUID. Raises
    ValueError when `text` is no value of that type."""
    if base in ("smallint", "integer", "bigint"):
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"key {text!r} is not a whole number ({base})") from None
        return writer(number)
    if base in _KNOWN - {"text", "character varying", "character", "citext"}:
        return writer(text)
    return text


def content_fingerprint(conn: psycopg.Connection, table: Table, key: str,
                        hash_column: str) -> str:
    """`sha256:<hex>` over (key, hash) of every row of `table`, in key order (byte order, so the
    collation does not matter), computed by the server in one query; for the stale-plan check.
    Any inserted, deleted or re-keyed row or changed hash changes it; other columns do not.
    Raises ReadError when the table or a column is missing."""
    entry = sql.SQL(
        "length(k)::text || ':' || k || coalesce('=' || h, '-')")
    query = sql.SQL(
        "SELECT encode(sha256(convert_to(coalesce(string_agg({entry}, E'\\n' "
        "ORDER BY k COLLATE \"C\"), ''), 'UTF8')), 'hex'), count(*) "
        "FROM (SELECT {key}::text AS k, {hash}::text AS h FROM {table}) AS s "
        "WHERE k IS NOT NULL").format(
        entry=entry, key=sql.Identifier(key), hash=sql.Identifier(hash_column),
        table=_ident(table))
    try:
        digest, _ = conn.execute(query).fetchone()
    except psycopg.Error as exc:
        raise ReadError(f"{table.address}: cannot fingerprint content: "
                        f"{str(exc).splitlines()[0]}") from exc
    return f"sha256:{digest}"


def fingerprint_pairs(pairs: Mapping[str, str | None]) -> str:
    """The `content_fingerprint` of a table whose rows are `pairs` (key → hash) — only equal for
    keys that are the key column's text form; for tests and for checking a plan offline."""
    entries = sorted((k.encode(), f"{len(k)}:{k}{'-' if h is None else '=' + h}")
                     for k, h in pairs.items())
    return digest_text("\n".join(e for _, e in entries))
