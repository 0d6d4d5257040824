"""The Postgres (Supabase) backend: read, diff, compile and execute for `supabase.` addresses.

Reading costs a few catalog queries for the schemas the project declares tables in, plus one
query per content set (`content.read_rows`) and one server-side fingerprint of its rows. Schema
changes compile to SQL text run in one transaction; row changes compile to one `RowsStep` per
table, written in batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import psycopg

from reconciler.backends.base import Diff, Known, Live, Report
from reconciler.backends.postgres.compile import statements
from reconciler.backends.postgres.steps import RowsStep, SqlStep
from reconciler.diff.content import ContentSchema, RowChanges, diff_content
from reconciler.diff.postgres import diff_tables
from reconciler.errors import PlanError
from reconciler.model.changes import ChangeBase, DeleteRow, InsertRow, Phase, UpdateRow
from reconciler.model.content import ContentSet, LiveRow, rows_fingerprint
from reconciler.model.postgres import Table, TableRef
from reconciler.model.sensitive import row_namer
from reconciler.progress import report


def _table(tables: Sequence[Table], address: str) -> Table | None:
    return next((t for t in tables if t.address == address), None)


class PostgresBackend:
    """The Postgres target open for one command: `conn` (autocommit off), its `description`
    (password masked) and the project's declared `tables`."""

    root = "supabase"
    row_noun = "row"

    def __init__(self, project_root: Path, conn: psycopg.Connection, description: str,
                 tables: Sequence[Table] = ()):
        self.project_root = project_root
        self.conn = conn
        self.description = description
        self.tables = tuple(tables)

    def close(self) -> None:
        self.conn.close()

    def content_sets(self, project: Any) -> tuple[ContentSet, ...]:
        return tuple(c for c in project.content if c.address.startswith("supabase."))

    def read(self, project: Any, *, since: str | None = None, check: bool = False,
             earlier: Any = None) -> Live:
        """Live tables of the declared schemas, the rows of each content set (one query
        each, also for a stale check), which database this is (`connect.server_identity`), and
        the Supabase side of each synced table (`sync_read`). Raises `ReadError`."""
        from reconciler.backends.postgres.connect import server_identity
        from reconciler.backends.postgres.reader import read_tables

        tables, prints = read_tables(self.conn, project.supabase)
        live = Live(tables, fingerprints=dict(prints), identity=server_identity(self.conn))
        report("Read the Postgres tables", counts={"tables": len(tables)})
        for content in self.content_sets(project):
            rows, print_ = self._rows(content, _table(tables, content.address))
            report("Read %s", content.address, counts={"rows": len(rows)})
            live.rows[content.address] = rows
            live.fingerprints[content.address + ".content"] = print_
        if getattr(project, "sync", ()):
            from reconciler.backends.postgres.sync_read import read_sync

            live.sync = read_sync(self.conn, project.sync, tables)
        return live

    def _rows(self, content: ContentSet, table: Table | None) -> tuple[dict[str, LiveRow], str]:
        """Live rows of a content set by key (one query), and their fingerprint."""
        from reconciler.backends.postgres.content import content_fingerprint, read_rows

        if table is None:
            return {}, "absent"
        columns = {c.name for c in table.columns}
        fields = sorted(({f for r in content.rows for f in r.values} | {content.hash_field})
                        & columns)
        found = read_rows(self.conn, table, content.key, fields)
        rows = {k: LiveRow(k, None, v) for k, v in found.items()}
        if content.hash_field in columns:
            return rows, content_fingerprint(self.conn, table, content.key, content.hash_field)
        return rows, rows_fingerprint(rows)

    def diff(self, project: Any, live: Live, *, prune: bool = False) -> Diff:
        out = Diff(diff_tables(project.supabase, live.model))
        for content in self.content_sets(project):
            desired = _table(project.supabase, content.address)
            have = _table(live.model, content.address)
            ref = TableRef(schema_name=desired.schema_name, table=desired.name) if desired \
                else TableRef(schema_name="public", table=content.address.rsplit(".", 1)[-1])
            spell = RowChanges(InsertRow, UpdateRow, DeleteRow, "row", "column", {"table": ref},
                               remove_is_destructive=True)
            schema = ContentSchema(
                spell, field_types={c.name: c.type for c in desired.columns} if desired else {},
                live_fields=frozenset(c.name for c in have.columns) if have else None,
                row_name=row_namer(getattr(project, "sealer", None), content.address, content.sensitive_key))
            changes, summary = diff_content(content, live.rows.get(content.address, {}), schema,
                                            prune=prune)
            out.changes += changes
            out.content[content.address] = summary
        return out

    def assess(self, changes: Sequence[ChangeBase], live: Live) -> list[ChangeBase]:
        """`changes` with the rows each destructive one would lose counted."""
        from reconciler.backends.postgres.reader import count_rows_at_risk

        return count_rows_at_risk(self.conn, list(changes))

    def compile(self, changes: Sequence[ChangeBase], project: Any, live: Live
                ) -> list[SqlStep | RowsStep]:
        """One `SqlStep` per schema change; one `RowsStep` per table for its row changes; the
        sync changes' steps (`sync_apply.compile_sync`). Raises `PlanError` for a change that
        cannot be compiled (an unsafe type name)."""
        from reconciler.backends.postgres.sync_apply import compile_sync, is_sync_change

        synced = [c for c in changes if is_sync_change(c)]
        changes = [c for c in changes if not is_sync_change(c)]
        steps: list[Any] = compile_sync(synced, getattr(project, "sync", ()))
        for change in changes:
            if change.phase is Phase.CONTENT:
                continue
            try:
                steps.append(SqlStep((change.address,), statements(change)))
            except (KeyError, ValueError) as exc:
                raise PlanError(f"{change.address}: cannot compile "
                                f"{change.kind}: {exc}") from None  # type: ignore[attr-defined]
        sets = {c.address: c for c in self.content_sets(project)}
        rows = sorted((c for c in changes if c.phase is Phase.CONTENT),
                      key=lambda c: c.table.address)  # type: ignore[attr-defined]
        for address, group in groupby(rows, key=lambda c: c.table.address):  # type: ignore
            batch = tuple(group)
            content = sets.get(address)
            steps.append(RowsStep(batch[0].table, content.key if content else "",  # type: ignore
                                  content.hash_field if content else "", batch))
        return steps

    def executor(self, live: Live, known: Known | None = None) -> "PostgresRun":
        return PostgresRun(self, known or Known())


class PostgresRun:
    """An apply's executor: schema steps in one transaction, then rows table by table; the sync
    steps (`sync_apply`) with what the apply learnt so far (`known`)."""

    def __init__(self, backend: PostgresBackend, known: Known):
        self.backend = backend
        self.known = known

    def run(self, steps: Sequence[Any], report: Report) -> None:
        from reconciler.backends.postgres import sync_apply
        from reconciler.backends.postgres.content_apply import apply_rows
        from reconciler.backends.postgres.executor import run_statements
        from reconciler.backends.postgres.reader import read_tables

        for step in steps:
            if isinstance(step, sync_apply.SyncIntentStep):
                sync_apply.run_intents(self.backend.conn, step)
            elif isinstance(step, sync_apply.SyncRowsStep):
                live, _ = read_tables(self.backend.conn, self.backend.tables)
                sync_apply.run_rows(self.backend.conn, step, live, self.known, report)
        steps = [s for s in steps if isinstance(s, (SqlStep, RowsStep))]

        sql_steps = [s for s in steps if isinstance(s, SqlStep)]
        row_steps = [s for s in steps if isinstance(s, RowsStep)]
        if sql_steps:
            run_statements(self.backend.conn, sql_steps,
                           on_applied=lambda address: report(address, "applied"))
        if row_steps:  # the tables as this apply's DDL left them: missing columns defer
            live, _ = read_tables(self.backend.conn, self.backend.tables)
            apply_rows(self.backend.conn, row_steps, live, report)
