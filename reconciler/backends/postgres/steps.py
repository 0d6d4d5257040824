"""Postgres steps: what `compile` produces, the plan shows and `execute` runs. Pure data.

A `SqlStep` holds the statements of one schema change as text, exactly as the plan shows them
and apply runs them; `transaction=False` marks one that cannot run in a transaction block
(`CREATE INDEX CONCURRENTLY`), which apply runs after the transaction has committed. A `RowsStep` holds the row changes of one table: their statements are
built when they run, from the table's columns at that moment (a column added by the same apply
is written; one still missing is deferred), as batched upserts and deletes
(`backends.postgres.content.write_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.model.changes import ChangeBase
from reconciler.model.postgres import TableRef


@dataclass(frozen=True)
class SqlStep:
    """The `statements` (each ending with `;`) of the change at `changes[0]`; `transaction`:
    whether they run inside apply's transaction."""

    changes: tuple[str, ...]
    statements: tuple[str, ...]
    transaction: bool = True

    def previews(self) -> dict[str, dict[str, Any]]:
        return {a: {"sql": self.statements} for a in self.changes}


@dataclass(frozen=True)
class RowsStep:
    """Every row change (`rows`: insert_row / update_row / delete_row) of `table`, whose rows are
    keyed by the column `key` and carry their content hash in `hash_field`."""

    table: TableRef
    key: str
    hash_field: str
    rows: tuple[ChangeBase, ...]

    @property
    def changes(self) -> tuple[str, ...]:
        return tuple(c.address for c in self.rows)

    def previews(self) -> dict[str, dict[str, Any]]:
        return {}
