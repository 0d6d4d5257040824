"""The `sync_activity` log: one row per content sync run and target (seed 002's activity log).

Seed 002 declares `sync_activity (id, project_id, sync_type, entries_synced, status,
error_message, created_at)`; ours keeps its `sync_type`, `status` and `error_message` and adds
the run id, the target and a count per outcome. `ensure_activity_table` creates the table, or
adds the missing columns to an existing one (such as seed 002's, whose own columns stay), so
`record_run` works on both.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

TABLE = "sync_activity"
#: Column → type, in table order (id first; `finished_at` defaults to the insert time).
COLUMNS: dict[str, str] = {
    "run_id": "uuid",
    "target": "text",
    "sync_type": "text",
    "rows_created": "integer",
    "rows_updated": "integer",
    "rows_deleted": "integer",
    "rows_unchanged": "integer",
    "rows_deferred": "integer",
    "status": "text",
    "error_message": "text",
    "started_at": "timestamptz",
    "finished_at": "timestamptz DEFAULT now()",
    "details": "jsonb",
}
#: Outcome names accepted in `record_run(counts=…)`, with or without the `rows_` prefix.
OUTCOMES = ("created", "updated", "deleted", "unchanged", "deferred")


def ensure_activity_table(conn: psycopg.Connection, schema: str = "public") -> None:
    """`CREATE TABLE IF NOT EXISTS <schema>.sync_activity (id bigserial PRIMARY KEY, …)`, then
    `ADD COLUMN IF NOT EXISTS` for each of `COLUMNS` (Postgres docs "ALTER TABLE"), so a table
    made by seed 002 gains them. Two statements; does not commit."""
    table = sql.Identifier(schema, TABLE)
    columns = [sql.SQL("id bigserial PRIMARY KEY")] + [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(spec))
        for name, spec in COLUMNS.items()]
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
        table, sql.SQL(", ").join(columns)))
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(table, sql.SQL(", ").join(
        sql.SQL("ADD COLUMN IF NOT EXISTS {} {}").format(sql.Identifier(name), sql.SQL(spec))
        for name, spec in COLUMNS.items())))


def record_run(conn: psycopg.Connection, *, run_id: str, target: str, counts: Mapping[str, int],
               status: str, error: str | None, started_at: datetime,
               sync_type: str = "content", schema: str = "public",
               details: object = None) -> None:
    """Insert one `sync_activity` row for `target` (an address such as
    `supabase.public.sot_entries` or `notion.lukhas_modules`). `counts` maps outcomes
    (`OUTCOMES`, optionally `rows_`-prefixed) to numbers; missing ones are 0. `finished_at` is
    the server's `now()` (the transaction's start time). `details` (JSON data, e.g. every row
    and field a sync moved) goes into the `details` column. Does not commit: after a failed run,
    call it in a new transaction (the failed one was rolled back). Raises ValueError for an
    unknown outcome, a negative count, a run_id that is not a UUID or a naive `started_at`."""
    numbers = dict.fromkeys(OUTCOMES, 0)
    for name, value in counts.items():
        outcome = name.removeprefix("rows_")
        if outcome not in numbers:
            raise ValueError(f"unknown outcome {name!r} in counts (known: {', '.join(OUTCOMES)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"count {name!r} must be a non-negative int, got {value!r}")
        numbers[outcome] = value
    if started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    values = {"run_id": uuid.UUID(str(run_id)), "target": target, "sync_type": sync_type,
              **{f"rows_{k}": v for k, v in numbers.items()},
              "status": status, "error_message": error, "started_at": started_at,
              "details": Jsonb(details) if details is not None else None}
    conn.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(schema, TABLE), sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values))), list(values.values()))
