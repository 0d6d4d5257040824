"""Apply Postgres changes: one transaction, one advisory lock, then tell PostgREST.

Each change is re-compiled from its `before`/`after` (`compile.compile_change`, the same code
that produced the plan's `sql` text) and its composed statements run in plan order inside a
single transaction, so a failure leaves the database as it was (Postgres DDL is transactional).
`pg_try_advisory_xact_lock` (Postgres docs §9.27.10 "Advisory Lock Functions") makes a second
concurrent apply fail fast with LockError instead of interleaving; the lock ends with the
transaction. It needs a real session: Supabase's transaction pooler (port 6543) cannot hold it,
use the direct connection or the session pooler. After the DDL, `NOTIFY pgrst, 'reload schema'`
makes Supabase's REST layer (PostgREST) reload its schema cache (PostgREST docs, "Schema Cache");
the notification is delivered at commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg

from reconciler.backends.postgres import queries as q
from reconciler.backends.postgres.compile import compile_change
from reconciler.errors import ApplyError, LockError
from reconciler.plan.changes import Change

RELOAD = "NOTIFY pgrst, 'reload schema'"


def apply_changes(conn: psycopg.Connection, changes: Sequence[Change], *,
                  on_applied: Callable[[Change], None] = lambda c: None) -> None:
    """Run `changes` in order in one transaction under the apply lock, then NOTIFY pgrst.

    `on_applied(change)` is called for each change, in order, once the transaction has
    committed (before that nothing is applied). Raises LockError when another apply holds the
    lock, ApplyError(applied=0, address=…) naming the failing change (everything rolled back).
    """
    if not changes:
        return
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    done: list[Change] = []
    with conn.transaction():
        if not conn.execute(q.TRY_LOCK, [q.LOCK_KEY]).fetchone()[0]:
            raise LockError("Another `reconciler apply` is running against this database (it "
                            "holds the advisory lock); wait for it to finish and plan again.")
        for change in changes:
            _run(conn, change, len(done))
            done.append(change)
        conn.execute(RELOAD)
    for change in done:
        on_applied(change)


def _run(conn: psycopg.Connection, change: Change, before: int) -> None:
    try:
        statements = compile_change(change)
    except (KeyError, ValueError) as exc:
        raise ApplyError(f"cannot compile {change.kind}: {exc}", applied=0,
                         address=change.address) from None
    for statement in statements:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            detail = (exc.diag.message_primary or str(exc)).strip()
            raise ApplyError(f"{detail} (while running {change.kind}; the transaction was rolled "
                             f"back, including the {before} change(s) before it)", applied=0,
                             address=change.address) from None
