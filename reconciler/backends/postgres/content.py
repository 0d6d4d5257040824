"""Content rows of a Postgres table: read them, write them in batches, fingerprint them.

Rows are dicts in content normal form (`backends.postgres.values`); keys are strings (the
content set's key column, whatever its type). Writes never make a round trip per row (DESIGN.md
"Performance"): new rows go as multi-row `INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE`
statements of up to `batch_size` rows, changed rows as multi-row `UPDATE … FROM (VALUES …)`,
deletes as `DELETE … WHERE key = ANY(%s)` per batch, so writing N rows and deleting D costs
1 catalog query + ⌈N/batch⌉ (per set of columns written) + ⌈D/batch⌉ statements.

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

from reconciler.backends.postgres.values import from_normal, parse_type, to_normal
from reconciler.digests import digest_text
from reconciler.errors import ApplyError, ReadError
from reconciler.model.postgres import Table

#: Postgres accepts at most 65535 bind parameters per statement (the protocol's Int16 count).
MAX_PARAMETERS = 65535
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
               updates: Sequence[Mapping[str, Any]] = (), batch_size: int = 500) -> int:
    """Upsert `upserts`, update `updates` and delete the rows whose key is in `deletes`;
    returns rows written (inserted + updated + deleted).

    Each row is a normal-form row that has `key`; rows are grouped by their set of columns.
    Upserts (rows to create) go as `INSERT INTO t (cols) VALUES (…), … ON CONFLICT (key) DO
    UPDATE SET c = EXCLUDED.c`; updates (rows that exist, with only the columns that change) as
    `UPDATE t SET c = v.c FROM (VALUES (…), …) AS v (key, cols) WHERE t.key = v.key`, so a NOT
    NULL column the row does not set is never checked on a proposed insert row (Postgres checks
    the insert row of ON CONFLICT first: issue 12, bug 1). `batch_size` rows per statement
    (fewer when rows × columns would pass 65535 parameters). A row whose values already equal
    the live ones is not updated (a `WHERE … IS DISTINCT FROM` on the row's text), so triggers
    such as `touch_updated_at` fire only for real changes. Runs inside the caller's transaction
    and does not commit.

    Raises ApplyError (address: the table) when the table or a column is missing, when `key` has
    no single-column unique constraint or index and there are upserts (ON CONFLICT needs one),
    when a value does not fit its column (`from_normal`'s message, naming the row's key), when a
    key appears twice, or when the server rejects a statement (the transaction is then
    aborted)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
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
    seen: set[str] = set()
    inserts = _grouped(upserts, key, live, seen, fail)
    changes = _grouped(updates, key, live, seen, fail)
    written = 0
    try:
        for build, groups in ((_upsert_sql, inserts), (_update_sql, changes)):
            for columns, rows in groups.items():
                size = max(1, min(batch_size, MAX_PARAMETERS // len(columns)))
                types = [live[c][0] for c in columns]
                for start in range(0, len(rows), size):
                    batch = rows[start:start + size]
                    query = build(table, key, columns, len(batch), types)
                    cur = conn.execute(query, [v for r in batch for v in r])
                    written += max(cur.rowcount, 0)
        if deletes:
            keys = [_key_param(k, live[key][0]) for k in deletes]
            query = sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                _ident(table), sql.Identifier(key))
            for start in range(0, len(keys), batch_size):
                cur = conn.execute(query, (keys[start:start + batch_size],))
                written += max(cur.rowcount, 0)
    except ValueError as exc:
        raise fail(f"delete: {exc}") from None
    except psycopg.Error as exc:
        raise fail(f"{str(exc).splitlines()[0]} (the transaction was rolled back)") from exc
    return written


def _grouped(rows: Sequence[Mapping[str, Any]], key: str, live: dict[str, tuple[str, bool]],
             seen: set[str], fail) -> dict[tuple[str, ...], list[list[Any]]]:
    """Rows as parameter lists grouped by their columns (key first). Raises what `fail` makes
    for a row without a key, a key seen twice, a missing column or a value that does not fit."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for row in rows:
        if key not in row or row[key] is None:
            raise fail(f"a content row has no value for the key column {key!r}")
        shown = str(row[key])
        if shown in seen:
            raise fail(f"key {shown!r} appears twice in one write")
        seen.add(shown)
        columns = (key, *sorted(c for c in row if c != key))
        missing = [c for c in columns if c not in live]
        if missing:
            raise fail(f"column(s) {', '.join(map(repr, missing))} do not exist")
        try:
            groups.setdefault(columns, []).append(
                [from_normal(row[c], live[c][0]) for c in columns])
        except ValueError as exc:
            raise fail(f"row {shown!r}: {exc}") from None
    return groups


def _update_sql(table: Table, key: str, columns: Sequence[str], count: int,
                types: Sequence[str]) -> sql.Composed:
    """`UPDATE t SET a = v.a FROM (VALUES (%s::k_type, %s::a_type), …) AS v (k, a) WHERE
    t.k = v.k AND ROW(t.a)::text IS DISTINCT FROM ROW(v.a)::text` (Postgres docs, "UPDATE":
    `FROM` a `VALUES` list). Each parameter is cast to its column's type, which VALUES cannot
    infer from the target."""
    row = sql.SQL("({})").format(sql.SQL(", ").join(
        sql.SQL("%s::{}").format(sql.SQL(t)) for t in types))
    rest = [c for c in columns if c != key]
    sets = sql.SQL(", ").join(
        sql.SQL("{} = v.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in rest)
    old = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in rest)
    new = sql.SQL(", ").join(sql.SQL("v.{}").format(sql.Identifier(c)) for c in rest)
    return sql.SQL("UPDATE {} AS t SET {} FROM (VALUES {}) AS v ({}) WHERE t.{} = v.{} "
                   "AND ROW({})::text IS DISTINCT FROM ROW({})::text").format(
        _ident(table), sets, sql.SQL(", ").join([row] * count),
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(key),
        sql.Identifier(key), old, new)


def _upsert_sql(table: Table, key: str, columns: Sequence[str], count: int,
                types: Sequence[str] = ()) -> sql.Composed:
    """`INSERT INTO t (k, a) VALUES (%s, %s), … ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a
    WHERE ROW(t.a)::text IS DISTINCT FROM ROW(EXCLUDED.a)::text` (DO NOTHING with only k)."""
    row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    head = sql.SQL("INSERT INTO {} AS t ({}) VALUES {} ON CONFLICT ({}) ").format(
        _ident(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join([row] * count), sql.Identifier(key))
    rest = [c for c in columns if c != key]
    if not rest:
        return head + sql.SQL("DO NOTHING")
    sets = sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in rest)
    old = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in rest)
    new = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in rest)
    return head + sql.SQL(
        "DO UPDATE SET {} WHERE ROW({})::text IS DISTINCT FROM ROW({})::text").format(
        sets, old, new)


def _key_param(text: str, pg_type: str) -> Any:
    """A key (always a str in content sets) as a value comparable with the key column."""
    base, _, _ = parse_type(pg_type)
    if base in ("smallint", "integer", "bigint"):
        return from_normal(int(text), pg_type)
    if base in _KNOWN - {"text", "character varying", "character", "citext"}:
        return from_normal(text, pg_type)
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
