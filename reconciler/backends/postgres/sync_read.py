"""Reading the Supabase side of the synced tables: rows changed since the watermark, every row's
page id, and the base.

Per synced table, after the base (`sync_store.read_base`): one query for every row's `id` and
`notion_page_id` (deleted rows are the base's rows missing from it), and one for the rows to
merge: those whose `updated_at` (kept by the `reconciler_touch_updated_at` trigger) is at or
after the last apply's watermark minus `OVERLAP`, and those the base does not know or holds as
`pending` (a page create not finished: read until an apply finishes it); every row
when nothing was synced yet, or when a relation lives in a join table (whose rows do not touch
`updated_at`). Join tables cost one query each. Values come back in normal form
(`values.to_normal`) by column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from reconciler.backends.postgres.sync_store import read_base
from reconciler.backends.postgres.connect import settle
from reconciler.backends.postgres.values import from_normal, to_normal
from reconciler.errors import ReadError
from reconciler.model.postgres import Table
from reconciler.model.sync import PostgresSide, SideRow, SyncTable

#: Rows written by a transaction that started before the watermark but committed after it carry
#: an earlier `updated_at`: reads overlap by this much.
OVERLAP = timedelta(minutes=1)


def check_value(value, column_type: str):
    """Raise ValueError when a normal-form value cannot go into a column of `column_type`."""
    return from_normal(value, column_type)


def read_sync(conn: psycopg.Connection, specs: Sequence[SyncTable], live: Sequence[Table]
              ) -> dict[str, PostgresSide]:
    """Each synced table's `PostgresSide`, by address. Raises `ReadError`; leaves no
    transaction open."""
    try:
        base, marks = read_base(conn, [s.address for s in specs])
        by_address = {t.address: t for t in live}
        out = {}
        for spec in specs:
            side = PostgresSide(base=base.get(spec.address, []),
                                watermark=marks.get(spec.address), check_value=check_value)
            table = by_address.get(spec.address)
            if table is not None:
                _read_table(conn, spec, table, side, side.watermark, by_address)
            out[spec.address] = side
        return out
    except psycopg.Error as exc:
        raise ReadError(f"reading the synced tables failed: {str(exc).splitlines()[0]}") from None
    finally:
        settle(conn)  # a rollback, also of a read Ctrl-C cut off mid-command


def _read_table(conn: psycopg.Connection, spec: SyncTable, table: Table, side: PostgresSide,
                mark: str | None, tables: Mapping[str, Table]) -> None:
    ident = sql.Identifier(table.schema_name, table.name)
    side.exists = True
    side.columns = frozenset(c.name for c in table.columns)
    side.keys = {row: page for row, page in conn.execute(
        sql.SQL("SELECT id::text, notion_page_id::text FROM {}").format(ident))}
    columns = [f for f in spec.fields if f.join is None and f.column in side.columns]
    joined = [f for f in spec.fields if f.join is not None]
    side.complete = mark is None or bool(joined)
    where, params = sql.SQL(""), []
    if not side.complete:
        since = datetime.fromisoformat(mark) - OVERLAP
        where = sql.SQL(" WHERE updated_at >= %s OR NOT (id = ANY(%s::uuid[]))")
        # a pair not finished (`pending`: its page create not yet written back) is read
        # whatever its `updated_at`, until an apply finishes it
        params = [since, [b.row for b in side.base if b.state != "pending"]]
    query = sql.SQL("SELECT id::text, notion_page_id::text, updated_at{} FROM {}{}").format(
        sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(f.column)) for f in columns),
        ident, where)
    for record in conn.execute(query, params):
        values = {f.column: to_normal(v, f.column_type) for f, v in zip(columns, record[3:])}
        side.rows[record[0]] = SideRow(id=record[0], page=record[1], values=values,
                                       stamp=record[2].isoformat() if record[2] else None)
    for f in joined:
        links = _join_rows(conn, f.join, tables)
        for row in side.rows.values():
            row.values[f.column] = links.get(row.page or "", [])


def _join_rows(conn: psycopg.Connection, join, tables: Mapping[str, Table]) -> dict[str, list]:
    """Join table rows as own page id → related page ids."""
    table = tables.get(join.address)
    if table is None:
        return {}
    query = sql.SQL("SELECT {}::text, array_agg({}::text ORDER BY {}) FROM {} GROUP BY 1").format(
        sql.Identifier(join.own), sql.Identifier(join.other), sql.Identifier(join.other),
        sql.Identifier(table.schema_name, table.name))
    return {own: list(others) for own, others in conn.execute(query)}
