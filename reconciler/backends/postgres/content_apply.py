"""Writing a plan's row changes to Postgres: one transaction per table, batched upserts.

Rows are upserted by their key (`INSERT … ON CONFLICT … DO UPDATE`, in batches: see
`backends.postgres.content.write_rows`), removed rows deleted (only planned with `--prune`),
and every run is recorded in `reconciler.sync_activity` (seed 002's activity log; in the
reconciler's own schema, so it is never an undeclared table of a schema the spec manages). Columns the live table lacks are
deferred, and the content hash written is then the hash of what was written, so the next plan
fills the deferred columns in once the table has them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from itertools import groupby

from psycopg import sql

from reconciler.addresses import parse
from reconciler.diff.content import content_hash
from reconciler.errors import ApplyError
from reconciler.plan.changes import Change
from reconciler.plan.model import ContentSummary

#: The schema of the reconciler's own tables (the apply lock's table lives there too).
ACTIVITY_SCHEMA = "reconciler"


def _target(change: Change) -> str:
    head, _ = parse(change.address)
    return ".".join(head)


def apply_rows(conn, changes: Sequence[Change], summaries: Mapping[str, ContentSummary],
               tables: Sequence, done: Callable[..., None]) -> None:
    """Write `changes` (insert_row / update_row / delete_row), table by table.

    `tables` are the live tables (after this apply's DDL). Raises `ApplyError` (the table's
    transaction is rolled back) when a write fails.
    """
    from reconciler.backends.postgres.activity import ensure_activity_table, record_run
    from reconciler.backends.postgres.content import write_rows

    by_address = {t.address: t for t in tables}
    for target, group in groupby(sorted(changes, key=_target), key=_target):
        batch = list(group)
        table = by_address.get(target)
        summary = summaries[target]
        if table is None:
            for change in batch:  # nothing written: no hash is stored yet
                done(change, "deferred", reason=f"table {target} does not exist",
                     desired_hash=(change.after or {}).get("hash"))
            continue
        columns = {c.name for c in table.columns}
        upserts, deletes, outcomes = [], [], []
        for change in batch:
            if change.kind == "delete_row":
                deletes.append((change.before or {})["key"])
                outcomes.append((change, "applied", {}))
                continue
            after = change.after or {}
            values = {k: v for k, v in after["values"].items() if k in columns}
            deferred = sorted(k for k in after["values"] if k not in columns)
            row = {summary.key: after["key"], **values}
            written = (change.before or {}).get("hash")  # kept when the hash column is missing
            if summary.hash_field in columns:
                written = after["hash"] if not deferred else content_hash(values)
                row[summary.hash_field] = written
            upserts.append(row)
            outcomes.append((change, "deferred" if deferred else "applied",
                             {"hash": written, "desired_hash": after["hash"],
                              "deferred": deferred}))
        started = datetime.now(timezone.utc)
        try:
            write_rows(conn, table, summary.key, upserts, deletes)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(ACTIVITY_SCHEMA)))
            ensure_activity_table(conn, ACTIVITY_SCHEMA)
            record_run(conn, run_id=str(uuid.uuid4()), target=target, counts=_counts(batch),
                       status="success", error=None, started_at=started, schema=ACTIVITY_SCHEMA)
            conn.commit()
        except Exception as exc:  # psycopg errors: roll back, report the table
            conn.rollback()
            raise ApplyError(f"writing rows failed: {exc}", applied=0, address=target) from None
        for change, status, detail in outcomes:
            done(change, status, **detail)


def _counts(batch: Sequence[Change]) -> dict[str, int]:
    kinds = [c.kind for c in batch]
    return {"created": kinds.count("insert_row"), "updated": kinds.count("update_row"),
            "deleted": kinds.count("delete_row")}
