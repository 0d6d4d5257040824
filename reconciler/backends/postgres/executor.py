"""Running Postgres schema steps: one transaction, then tell PostgREST.

The statements of every `SqlStep` run in plan order inside a single transaction, so a failure
leaves the database as it was (Postgres DDL is transactional). The apply runner holds the
project lock (`apply.lock`: a session advisory lock and a lock row) for the whole apply, so no
second apply interleaves. After the DDL, `NOTIFY pgrst, 'reload schema'` makes Supabase's REST
layer (PostgREST) reload its schema cache (PostgREST docs, "Schema Cache"); the notification is
delivered at commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg

from reconciler.backends.postgres.steps import SqlStep
from reconciler.errors import ApplyError

RELOAD = "NOTIFY pgrst, 'reload schema'"


def run_statements(conn: psycopg.Connection, steps: Sequence[SqlStep], *,
                   on_applied: Callable[[str], None] = lambda address: None) -> None:
    """Run the steps' statements in order in one transaction, then NOTIFY pgrst.

    `on_applied(address)` is called for each step's change, in order, once the transaction has
    committed (before that nothing is applied). Raises ApplyError(applied=0, address=…) naming
    the failing change (everything rolled back).
    """
    if not steps:
        return
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    with conn.transaction():
        for done, step in enumerate(steps):
            for statement in step.statements:
                try:
                    conn.execute(statement.encode())
                except psycopg.Error as exc:
                    detail = (exc.diag.message_primary or str(exc)).strip()
                    raise ApplyError(
                        f"{detail} (the transaction was rolled back, including the {done} "
                        "change(s) before it)", applied=0, address=step.changes[0]) from None
        conn.execute(RELOAD)
    for step in steps:
        for address in step.changes:
            on_applied(address)
