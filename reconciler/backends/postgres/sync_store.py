"""The sync base and watermarks in the project's Postgres database, schema `reconciler`.

`reconciler.sync_base` holds one row per synced pair (a Notion page and its Supabase row): the
last synced value of every field in sync form (`diff.sync_values`), its state (`linked`,
`unlinked`, `pending`: a page create was sent for the row and its id not yet written back), and
the seed it came from. `reconciler.sync_state` holds per table the watermarks the next plan reads
from. Both live in the reconciler's own schema, never in a schema the spec manages, and are
written in the transaction that writes the rows (`sync_apply`), so the base never runs ahead of
the data. Identifiers are composed with `psycopg.sql`; values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from reconciler.model.sync import BaseRow

SCHEMA = "reconciler"

DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.sync_base (
        table_address text NOT NULL,
        row_id uuid NOT NULL,
        page_id uuid,
        state text NOT NULL DEFAULT 'linked' CHECK (state IN ('linked', 'unlinked', 'pending')),
        seed text,
        "values" jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        synced_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (table_address, row_id))""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.sync_state (
        table_address text PRIMARY KEY,
        watermark timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now())""",
)


def ensure_tables(conn: psycopg.Connection) -> None:
    """Create the schema and tables when missing (idempotent; does not commit)."""
    for statement in DDL:
        conn.execute(statement)


def _exists(conn: psycopg.Connection) -> bool:
    return conn.execute(f"SELECT to_regclass('{SCHEMA}.sync_base') IS NOT NULL").fetchone()[0]


def read_base(conn: psycopg.Connection, tables: Sequence[str]
              ) -> tuple[dict[str, list[BaseRow]], dict[str, str]]:
    """The base rows and the watermark (ISO) of `tables` (addresses); empty when nothing was
    synced yet. One query each."""
    if not tables or not _exists(conn):
        return {t: [] for t in tables}, {}
    base: dict[str, list[BaseRow]] = {t: [] for t in tables}
    for address, row, page, state, seed, values, synced in conn.execute(
            f'SELECT table_address, row_id::text, page_id::text, state, seed, "values", '
            f"synced_at FROM {SCHEMA}.sync_base WHERE table_address = ANY(%s) ORDER BY row_id",
            [list(tables)]):
        base[address].append(BaseRow(row=row, page=page, state=state, seed=seed,
                                      values=values or {}, synced_at=synced.isoformat()))
    marks = {address: mark.isoformat() for address, mark in conn.execute(
        f"SELECT table_address, watermark FROM {SCHEMA}.sync_state "
        "WHERE table_address = ANY(%s) AND watermark IS NOT NULL", [list(tables)])}
    return base, marks


def write_intents(conn: psycopg.Connection, table: str,
                  intents: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Record, before the page creates are sent, each row a page is about to be created for
    (`pending`, with the values sent), keeping an existing pair's state otherwise."""
    rows = list(intents)
    if not rows:
        return
    conn.execute(
        f'INSERT INTO {SCHEMA}.sync_base (table_address, row_id, state, "values") '
        "SELECT %s, r, 'pending', v FROM unnest(%s::uuid[], %s::jsonb[]) AS x(r, v) "
        'ON CONFLICT (table_address, row_id) DO UPDATE SET state = \'pending\', '
        '"values" = EXCLUDED."values", synced_at = now(), page_id = NULL',
        [table, [r for r, _ in rows], [Jsonb(v) for _, v in rows]])


def write_pairs(conn: psycopg.Connection, table: str,
                pairs: Sequence[tuple[str, str | None, str, str | None, dict[str, Any]]],
                drop: Sequence[str]) -> None:
    """Upsert `(row id, page id, state, seed, values)` pairs and delete the `drop` row ids: one
    statement each, inside the caller's transaction."""
    if pairs:
        conn.execute(
            f'INSERT INTO {SCHEMA}.sync_base (table_address, row_id, page_id, state, seed, "values") '
            "SELECT %s, r, p, s, d, v FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[], "
            "%s::jsonb[]) AS x(r, p, s, d, v) ON CONFLICT (table_address, row_id) DO UPDATE SET "
            'page_id = EXCLUDED.page_id, state = EXCLUDED.state, seed = coalesce(EXCLUDED.seed, '
            f'{SCHEMA}.sync_base.seed), "values" = EXCLUDED."values", synced_at = now()',
            [table, [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs],
             [p[3] for p in pairs], [Jsonb(p[4]) for p in pairs]])
    if drop:
        conn.execute(f"DELETE FROM {SCHEMA}.sync_base WHERE table_address = %s "
                     "AND row_id = ANY(%s::uuid[])", [table, list(drop)])


def write_watermark(conn: psycopg.Connection, table: str, watermark: str | None) -> None:
    """Record `watermark` (ISO; None keeps the current one) as the time the next plan of
    `table` reads changes from."""
    if watermark is None:
        return
    conn.execute(
        f"INSERT INTO {SCHEMA}.sync_state (table_address, watermark) VALUES (%s, %s) "
        "ON CONFLICT (table_address) DO UPDATE SET watermark = EXCLUDED.watermark, "
        "updated_at = now()", [table, watermark.replace("Z", "+00:00")])
