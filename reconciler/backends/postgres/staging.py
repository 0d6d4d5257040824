"""Rows into a table through one COPY: a staging table, then one statement per set of columns.

`write_groups(conn, table, key, inserts, updates)` is the whole of it: rows grouped by the columns
they set, all of them in one staging table, then one statement per group. Underneath,
`stage(conn, table, columns, rows)` creates a temporary table of `table`'s `columns` (same types,
`CREATE TEMP TABLE … AS SELECT … WITH NO DATA`, dropped once used) plus `_group`, and fills it with
one `COPY … FROM STDIN` (psycopg 3's `cursor.copy`, `write_row`: Postgres docs "COPY"; psycopg
docs "Using COPY TO and COPY FROM"). `insert_from` and `update_from` then move one group of rows
(rows setting the same columns) into the table with one `INSERT … SELECT … ON CONFLICT` or
`UPDATE … FROM`. So writing N rows costs four statements and one COPY stream plus one statement
per group, and the server parses rows at COPY speed instead of binding N × columns parameters.

Used by `content.write_rows` (content rows) and `sync_apply` (the two-way sync's mirrored
rows): one COPY path for every batch write into a table. Identifiers are composed with `psycopg.sql`; values travel
only in the COPY stream. Runs inside the caller's transaction; nothing commits here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

GROUP = "_group"
#: Rows by the columns they set (the key first): each row is the values of those columns.
Groups = dict[tuple[str, ...], list[list[Any]]]


def write_groups(conn: psycopg.Connection, table: sql.Identifier, key: str, inserts: Groups,
                 updates: Groups, *, upsert: bool = True) -> int:
    """Every group of `inserts` and `updates` into one staging table (one COPY), then one
    `insert_from` (`upsert`: with ON CONFLICT on `key`; else a plain INSERT, which fails on a
    row that exists) or `update_from` per group. Returns the rows written. Raises
    `psycopg.Error`."""
    ordered = [(True, columns, rows) for columns, rows in inserts.items()]
    ordered += [(False, columns, rows) for columns, rows in updates.items()]
    if not ordered:
        return 0
    everything = list(dict.fromkeys(c for _, columns, _ in ordered for c in columns))
    where = {c: i for i, c in enumerate(everything)}

    def lines():
        for group, (_, columns, rows) in enumerate(ordered):
            spots = [where[c] for c in columns]
            for values in rows:
                line: list[Any] = [None] * (len(everything) + 1)
                for spot, value in zip(spots, values):
                    line[spot] = value
                line[-1] = group
                yield line

    staged = stage(conn, table, everything, lines())
    written = 0
    for group, (insert, columns, _) in enumerate(ordered):
        if insert:
            written += insert_from(conn, table, staged, key if upsert else None, columns, group)
        else:
            written += update_from(conn, table, staged, key, columns, group)
    conn.execute(sql.SQL("DROP TABLE {}").format(staged))  # not at commit: one apply writes
    return written  # many tables in one transaction, each staging table holding a lock


def stage(conn: psycopg.Connection, table: sql.Identifier, columns: Sequence[str],
          rows: Iterable[Sequence[Any]]) -> sql.Identifier:
    """A temporary table holding `rows` (each: the values of `columns`, then its group number),
    typed like `table`'s `columns`; returns its name. Raises `psycopg.Error` (a value the
    column's type refuses, a missing column)."""
    name = sql.Identifier(f"reconciler_stage_{secrets.token_hex(4)}")
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    conn.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {}, NULL::integer AS {} "
                         "FROM {} WITH NO DATA").format(name, names, sql.Identifier(GROUP), table))
    with conn.cursor().copy(sql.SQL("COPY {} ({}, {}) FROM STDIN").format(
            name, names, sql.Identifier(GROUP))) as copy:
        for row in rows:
            copy.write_row(row)
    return name


def _list(names: Sequence[str], prefix: str = "") -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL(prefix + "{}").format(sql.Identifier(n)) for n in names)


def _changed(rest: Sequence[str], new: str) -> sql.Composed:
    """`ROW(t.a, …)::text IS DISTINCT FROM ROW(new.a, …)::text`: only rows whose values differ
    are written, so triggers such as `touch_updated_at` fire only for real changes."""
    return sql.SQL("ROW({})::text IS DISTINCT FROM ROW({})::text").format(
        _list(rest, "t."), _list(rest, new + "."))


def insert_from(conn: psycopg.Connection, table: sql.Identifier, staged: sql.Identifier,
                key: str | None, columns: Sequence[str], group: int) -> int:
    """`INSERT INTO table (columns) SELECT columns FROM staged WHERE _group = group ON CONFLICT
    (key) DO UPDATE SET c = EXCLUDED.c … WHERE <the row differs>` (DO NOTHING when only the key
    is written): a row that exists already is updated instead (Postgres docs "INSERT", § ON
    CONFLICT: `key` needs a unique index). Without `key`, a plain INSERT. Returns the rows
    inserted or updated."""
    insert = sql.SQL("INSERT INTO {} AS t ({}) SELECT {} FROM {} WHERE {} = {}").format(
        table, _list(columns), _list(columns), staged, sql.Identifier(GROUP), sql.Literal(group))
    if key is None:
        return max(conn.execute(insert).rowcount, 0)
    rest = [c for c in columns if c != key]
    head = insert + sql.SQL(" ON CONFLICT ({}) ").format(sql.Identifier(key))
    if not rest:
        return max(conn.execute(head + sql.SQL("DO NOTHING")).rowcount, 0)
    sets = sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                              for c in rest)
    query = head + sql.SQL("DO UPDATE SET {} WHERE {}").format(sets, _changed(rest, "EXCLUDED"))
    return max(conn.execute(query).rowcount, 0)


def update_from(conn: psycopg.Connection, table: sql.Identifier, staged: sql.Identifier,
                key: str, columns: Sequence[str], group: int) -> int:
    """`UPDATE table AS t SET c = s.c … FROM staged AS s WHERE s._group = group AND t.key = s.key
    AND <the row differs>`: existing rows get exactly `columns`, and a NOT NULL column they do not
    set is never checked (an upsert would check its proposed insert row first). Returns the rows
    updated."""
    rest = [c for c in columns if c != key]
    if not rest:
        return 0
    sets = sql.SQL(", ").join(sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c))
                              for c in rest)
    query = sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE s.{} = {} AND t.{} = s.{} "
                    "AND {}").format(table, sets, staged, sql.Identifier(GROUP), sql.Literal(group),
                                     sql.Identifier(key), sql.Identifier(key), _changed(rest, "s"))
    return max(conn.execute(query).rowcount, 0)
