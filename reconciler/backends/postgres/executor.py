"""Running Postgres schema steps: one transaction, then tell PostgREST.

The statements of every `SqlStep` run in plan order inside a single transaction, so a failure
leaves the database as it was (Postgres DDL is transactional). Steps that cannot run in a
transaction block (`CREATE INDEX CONCURRENTLY`: Postgres docs "CREATE INDEX", "Building Indexes
Concurrently") run after it has committed, one by one, in autocommit. The apply runner holds
the project lock (`apply.lock`: a session advisory lock and a lock row) for the whole apply, so
no second apply interleaves. After the DDL, `NOTIFY pgrst, 'reload schema'` makes Supabase's
REST layer (PostgREST) reload its schema cache (PostgREST docs, "Schema Cache"); the
notification is delivered at commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg

from reconciler.backends.postgres.steps import SqlStep
from reconciler.errors import ApplyError

RELOAD = "NOTIFY pgrst, 'reload schema'"


def run_statements(conn: psycopg.Connection, steps: Sequence[SqlStep], *,
                   on_applied: Callable[[str], None] = lambda address: None) -> None:
    """Run the steps' statements in order in one transaction, then NOTIFY pgrst; then the steps
    that run outside a transaction.

    `on_applied(address)` is called for each step's change once it is committed (for the
    transaction's steps, all together after the commit). Raises ApplyError naming the failing
    change: in the transaction, everything in it was rolled back; outside, the steps before it
    stay applied.
    """
    inside = [s for s in steps if s.transaction]
    outside = [s for s in steps if not s.transaction]
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    if inside:
        with conn.transaction():
            for done, step in enumerate(inside):
                _run(conn, step, f"the transaction was rolled back: this change and the {done} "
                                 "schema change(s) before it in it were undone")
            conn.execute(RELOAD)
        for step in inside:
            for address in step.changes:
                on_applied(address)
    for step in outside:
        autocommit = conn.autocommit
        conn.autocommit = True
        try:
            _run(conn, step, "it runs outside the transaction; the index it was building is "
                             "left invalid and dropped by the next apply")
            conn.execute(RELOAD)
        finally:
            conn.autocommit = autocommit
        for address in step.changes:
            on_applied(address)


def _run(conn: psycopg.Connection, step: SqlStep, undone: str) -> None:
    for statement in step.statements:
        try:
            conn.execute(statement.encode())
        except psycopg.Error as exc:
            detail = (exc.diag.message_primary or str(exc)).strip()
            raise ApplyError(f"{detail} ({undone})", address=step.changes[0]) from None
