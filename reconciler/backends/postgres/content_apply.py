"""Writing a plan's row changes to Postgres: every table's rows in one transaction, each
table's through one COPY.

New rows are upserted by their key (`INSERT … SELECT … ON CONFLICT … DO UPDATE`), changed rows
updated (`UPDATE … FROM`, only their changed columns), both from one COPY into a staging table
(see `backends.postgres.content.write_rows`), removed rows deleted (only planned with `--prune`),
and every run is recorded in `reconciler.sync_activity` (seed 002's activity log; in the
reconciler's own schema, so it is never an undeclared table of a schema the spec manages).
Columns the live table lacks are deferred (a new row's content hash is then the hash of what was
written; an updated row keeps its stored one), so the next plan, which compares rows by value,
fills the deferred columns in once the table has them. Rows whose table or key column does not
exist yet (`--content-only` before the schema change) are not written: `waiting`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from psycopg import sql

from reconciler.backends.postgres.steps import RowsStep
from reconciler.errors import ApplyError
from reconciler.model.changes import ChangeBase, DeleteRow, UpdateRow
from reconciler.model.content import content_hash

#: The schema of the reconciler's own tables (the apply lock's table lives there too).
ACTIVITY_SCHEMA = "reconciler"


def apply_rows(conn, steps: Sequence[RowsStep], tables: Sequence,
               done: Callable[..., None]) -> None:
    """Write each step's row changes (insert_row / update_row / delete_row), table by table in
    the steps' order (`backend.compile`: referenced tables first, deletes last), all in one
    transaction: when one table's rows fail, every table's rows of this call are rolled back.

    `tables` are the live tables (after this apply's DDL). `done(address, status, **detail)`
    reports each row once the transaction has committed. Raises `ApplyError` naming the table
    whose write failed.
    """
    from reconciler.backends.postgres.activity import ensure_activity_table, record_run
    from reconciler.backends.postgres.content import write_rows

    by_address = {t.address: t for t in tables}
    reported: list[tuple[ChangeBase, str, dict]] = []
    runs: dict[str, tuple[datetime, list[ChangeBase]]] = {}  # one activity row per table
    target = ""
    try:
        for step in steps:
            target = step.table.address
            table = by_address.get(target)
            missing = f"table {target} does not exist" if table is None else \
                f"key column {step.key!r} does not exist yet" \
                if table.column(step.key) is None else None
            if missing:  # its schema change did not run (--content-only): nothing written
                for change in step.rows:
                    reported.append((change, "waiting", {
                        "reason": missing, "desired_hash": None if isinstance(change, DeleteRow)
                        else change.after.hash}))  # type: ignore[attr-defined]
                continue
            started, done_rows = runs.get(target, (datetime.now(timezone.utc), []))
            upserts, updates, deletes, outcomes = _rows(step, {c.name for c in table.columns})
            write_rows(conn, table, step.key, upserts, deletes, updates=updates)
            runs[target] = (started, done_rows + list(step.rows))
            reported += outcomes
        if runs:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(ACTIVITY_SCHEMA)))
            ensure_activity_table(conn, ACTIVITY_SCHEMA)
        for target, (started, done_rows) in runs.items():
            record_run(conn, run_id=str(uuid.uuid4()), target=target, counts=_counts(done_rows),
                       status="success", error=None, started_at=started, schema=ACTIVITY_SCHEMA)
        conn.commit()
    except ApplyError:
        conn.rollback()
        raise
    except Exception as exc:  # psycopg errors: roll back, report the table
        conn.rollback()
        raise ApplyError(f"writing rows failed: {str(exc).splitlines()[0]} (the rows of every "
                         "table were rolled back)", address=target) from None
    for change, status, detail in reported:
        done(change.address, status, **detail)


def _rows(step: RowsStep, columns: set[str]) -> tuple[list, list, list, list]:
    """A step's rows as `write_rows` takes them (upserts, updates, deleted keys) and what to
    report of each change once written. Columns the live table lacks are deferred; a new row's
    hash is then the hash of what was written, and an updated row keeps its stored hash."""
    upserts, updates, deletes, outcomes = [], [], [], []
    for change in step.rows:
        if isinstance(change, DeleteRow):
            deletes.append(change.before.key)
            outcomes.append((change, "applied", {}))
            continue
        after = change.after  # type: ignore[attr-defined]
        values = {k: v for k, v in after.values.items() if k in columns}
        deferred = sorted(k for k in after.values if k not in columns)
        row = {step.key: after.key, **values}
        written = change.before.hash if isinstance(change, UpdateRow) else None  # kept
        if step.hash_field in columns and not (deferred and isinstance(change, UpdateRow)):
            # an update carries only its changed fields: with some deferred, the row keeps its
            # stored hash (rows are compared by value, so the next plan still sees the rest)
            written = after.hash if not deferred else content_hash(values)
            row[step.hash_field] = written
        (updates if isinstance(change, UpdateRow) else upserts).append(row)
        outcomes.append((change, "deferred" if deferred else "applied",
                         {"hash": written, "desired_hash": after.hash, "deferred": deferred}))
    return upserts, updates, deletes, outcomes


def _counts(batch: Sequence[ChangeBase]) -> dict[str, int]:
    kinds = [c.kind for c in batch]  # type: ignore[attr-defined]
    return {"created": kinds.count("insert_row"), "updated": kinds.count("update_row"),
            "deleted": kinds.count("delete_row")}
