"""The Postgres (Supabase) backend: read, diff, compile and execute for `supabase.` addresses.

Reading costs a few catalog queries for the schemas the project declares anything in, plus one
query per content set (`content.read_rows`). Planning checks every migration before anything is
written (`assess`): analyzers with stable codes (`lint`) count what the change would meet in the
live data, and the planned SQL runs on a copy of the live schema in a dev database (`devdb`).
Schema changes compile to SQL text run in one transaction; row changes compile to one
`RowsStep` per table, written in batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import psycopg

from reconciler.backends.base import Diff, Known, Live, Report
from reconciler.backends.postgres.compile import outside_transaction, statements
from reconciler.backends.postgres.connect import settle
from reconciler.backends.postgres.steps import RowsStep, SqlStep
from reconciler.diff.content import ContentSchema, RowChanges, diff_content
from reconciler.diff.postgres import column_renames, diff_tables, live_tables
from reconciler.diff.postgres_objects import diff_objects
from reconciler.errors import BrokenReferenceError, PlanError, ReadError
from reconciler.model.changes import (ChangeBase, DeleteRow, InsertRow, ManualChange, Phase,
                                      UpdateRow)
from reconciler.model.content import ContentSet, LiveRow, rows_fingerprint
from reconciler.model.postgres import Table, TableRef, referenced_first
from reconciler.model.sensitive import row_namer
from reconciler.model.postgres_objects import SchemaObjects
from reconciler.progress import report


def _table(tables: Sequence[Table], address: str) -> Table | None:
    return next((t for t in tables if t.address == address), None)


@dataclass
class PostgresLive(Live):
    """What the Postgres backend read: `model` the live tables (as before), `objects` the live
    enum types, extensions, sequences, views, functions and default privileges."""

    objects: SchemaObjects = field(default_factory=SchemaObjects)
    #: The key column of each content table read, by its address.
    content_keys: dict[str, str] = field(default_factory=dict)


class PostgresBackend:
    """The Postgres database open for one command: `conn` (autocommit off), its `description`
    (password masked), the project's declared `tables`, where each resource is declared
    (`locations`, `{address: "file:line:col"}`) and the dev database migrations are checked on
    (`dev_url`; None: a scratch database on the embedded server under `.reconciler/`)."""

    root = "supabase"
    row_noun = "row"
    #: Its schema steps run in one transaction: apply runs them before other backends' steps,
    #: so a failure here leaves every other system untouched (`apply.runner`).
    transactional = True

    def __init__(self, project_root: Path, conn: psycopg.Connection, description: str,
                 tables: Sequence[Table] = (), *, locations: Mapping[str, str] | None = None,
                 dev_url: str | None = None):
        self.project_root = project_root
        self.conn = conn
        self.description = description
        self.tables = tuple(tables)
        self.locations = dict(locations or {})
        self.dev_url = dev_url

    def close(self) -> None:
        self.conn.close()

    def identify(self) -> dict[str, str]:
        """Which database this is (`connect.server_identity`: one read-only query)."""
        from reconciler.backends.postgres.connect import server_identity

        return server_identity(self.conn)

    def content_sets(self, project: Any) -> tuple[ContentSet, ...]:
        return tuple(c for c in project.content if c.address.startswith("supabase."))

    def read(self, project: Any, *, since: str | None = None, check: bool = False,
             earlier: Any = None) -> PostgresLive:
        """Live tables and objects of the declared schemas, the rows of each content set (one
        query each, also for a stale check), which database this is
        (`connect.server_identity`), and the Supabase side of each synced table (`sync_read`).
        Raises `ReadError`."""
        from reconciler.backends.postgres.connect import server_identity
        from reconciler.backends.postgres.reader import read_tables

        tables, prints = read_tables(self.conn, project.supabase)
        objects, object_prints = self._objects(project)
        live = PostgresLive(tables, fingerprints={**prints, **object_prints},
                            identity=server_identity(self.conn), objects=objects)
        report("Read the Postgres tables", counts={"tables": len(tables)})
        peers = live_tables(project.supabase, tables)  # a pending rename: its live name
        for content in self.content_sets(project):
            rows, print_ = self._rows(content, peers.get(content.address),
                                      _table(project.supabase, content.address))
            report("Read %s", content.address, counts={"rows": len(rows)})
            live.rows[content.address] = rows
            live.content_keys[content.address] = content.key
            live.fingerprints[content.address + ".content"] = print_
        if getattr(project, "sync", ()):
            from reconciler.backends.postgres.sync_read import read_sync

            live.sync = read_sync(self.conn, project.sync, tables)
        return live

    def _objects(self, project: Any) -> tuple[SchemaObjects, dict[str, str]]:
        """The live objects of the schemas the project declares anything in (as the server
        prints the desired ones, where alike), and their fingerprints. Raises `ReadError`."""
        from reconciler.backends.postgres.canonical_objects import canonicalise_objects
        from reconciler.backends.postgres.reader_objects import object_fingerprints, read_objects

        desired: SchemaObjects = getattr(project, "supabase_objects", None) or SchemaObjects()
        schemas = {t.schema_name for t in project.supabase} | desired.schemas
        try:
            raw = read_objects(self.conn, sorted(schemas), [e.name for e in desired.extensions])
            prints = object_fingerprints(raw, desired)
            return canonicalise_objects(self.conn, desired, raw), prints
        except psycopg.Error as exc:
            raise ReadError(f"reading the Postgres catalog failed: {exc}") from None
        finally:
            settle(self.conn)  # a rollback, also of a read Ctrl-C cut off mid-command

    def _rows(self, content: ContentSet, table: Table | None, declared: Table | None = None
              ) -> tuple[dict[str, LiveRow], str]:
        """Live rows of a content set by key (one query), and their fingerprint: over every
        value read (not only the stored hashes), so a hand edit of a synced value after the plan
        makes the plan stale. A column the spec renames (`renamed_from`, in `declared`) is read
        by its live name while the rename is pending, the key column too."""
        from reconciler.backends.postgres.content import read_rows

        if table is None:
            return {}, "absent"
        columns = {c.name for c in table.columns}
        former = {new: old for old, new in (column_renames(declared, table).items()
                                            if declared is not None else ())}

        def live(name: str) -> str | None:
            return former.get(name) or (name if name in columns else None)

        wanted = sorted({f for r in content.rows for f in r.values} | {content.hash_field})
        names = {n: live(n) for n in [content.key, *wanted]}
        fields = {n: old for n, old in names.items() if old is not None and n in wanted}
        found = read_rows(self.conn, table, names[content.key] or content.key,  # else: ReadError
                          sorted(set(fields.values())))
        rows = {k: LiveRow(k, None, {n: v[old] for n, old in fields.items()})
                for k, v in found.items()}
        return rows, rows_fingerprint(rows)

    def diff(self, project: Any, live: Live, *, prune: bool = False) -> Diff:
        """Schema changes of tables and objects, then row changes. Rows are compared by value,
        never skipped by their stored hash: the read brought every value anyway, and a value
        edited by hand leaves the stored hash as it was (issue 12, bug 2)."""
        desired = getattr(project, "supabase_objects", None) or SchemaObjects()
        out = Diff(diff_tables(project.supabase, live.model)
                   + diff_objects(desired, getattr(live, "objects", SchemaObjects())))
        peers = live_tables(project.supabase, live.model)
        for content in self.content_sets(project):
            desired = _table(project.supabase, content.address)
            have = peers.get(content.address)
            ref = TableRef(schema_name=desired.schema_name, table=desired.name) if desired \
                else content.table
            spell = RowChanges(InsertRow, UpdateRow, DeleteRow, "row", "column", {"table": ref},
                               remove_is_destructive=True)
            schema = ContentSchema(
                spell, field_types={c.name: c.type for c in desired.columns} if desired else {},
                live_fields=frozenset(c.name for c in have.columns) if have else None,
                trust_hash=False,
                row_name=row_namer(getattr(project, "sealer", None), content.address,
                                   content.sensitive_key))
            changes, summary = diff_content(content, live.rows.get(content.address, {}), schema,
                                            prune=prune)
            out.changes += changes
            out.content[content.address] = summary
        return out

    def assess(self, changes: Sequence[ChangeBase], live: Live) -> list[ChangeBase]:
        """`changes` checked before anything is written: the rows each destructive one would
        lose counted; the analyzers' findings (`lint`) attached; the planned SQL run on a copy
        of the live schema in the dev database (`devdb`); the row changes checked against the
        foreign keys (`references`). Raises `PlanError` naming the spec file and line of every
        change that cannot work (an analyzer's error, or the dev database's) and every row that
        would break a foreign key, `ReadError` when the live data cannot be counted."""
        from reconciler.backends.postgres.devdb import check_migration, live_outside
        from reconciler.backends.postgres.lint import lint_changes
        from reconciler.backends.postgres.reader import count_rows_at_risk

        self._check_references(changes, live, "")
        counted = count_rows_at_risk(self.conn, list(changes))
        linted = lint_changes(self.conn, counted, self.locations)
        if not any(c.sql for c in linted):
            return linted
        return check_migration(self.project_root, self.dev_url, live, linted, self.locations,
                               live_outside(self.conn))

    def check_writes(self, changes: Sequence[ChangeBase], live: Live) -> None:
        """Before apply's first write: the row changes checked against the foreign keys again
        (`references`): a table the plan did not read may have changed, and values the plan
        holds as digests (personal data) are compared only now. Raises `PlanError` naming each
        row that would break one."""
        self._check_references(changes, live, " (checked again before the first write)")

    def _check_references(self, changes: Sequence[ChangeBase], live: Live, when: str) -> None:
        from reconciler.backends.postgres.references import reference_problems

        broken = reference_problems(self.conn, changes, self.tables,
                                    getattr(live, "content_keys", {}))
        if broken:
            raise BrokenReferenceError(f"rows that would break a foreign key{when}; nothing "
                                       "was written:\n  " + "\n  ".join(broken))

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
            if change.phase is Phase.CONTENT or isinstance(change, ManualChange):
                continue
            try:
                steps.append(SqlStep((change.address,), statements(change),
                                     transaction=not outside_transaction(change)))
            except (KeyError, ValueError) as exc:
                raise PlanError(f"{change.address}: cannot compile "
                                f"{change.kind}: {exc}") from None  # type: ignore[attr-defined]
        sets = {c.address: c for c in self.content_sets(project)}
        rows = sorted((c for c in changes if c.phase is Phase.CONTENT),
                      key=lambda c: c.table.address)  # type: ignore[attr-defined]
        writes, deletes = [], []
        for address, group in groupby(rows, key=lambda c: c.table.address):  # type: ignore
            batch = tuple(group)
            content = sets.get(address)
            key, hashed = (content.key, content.hash_field) if content else ("", "")
            kept = tuple(c for c in batch if not isinstance(c, DeleteRow))
            gone = tuple(c for c in batch if isinstance(c, DeleteRow))
            writes += [RowsStep(batch[0].table, key, hashed, kept)] if kept else []  # type: ignore
            deletes += [RowsStep(batch[0].table, key, hashed, gone)] if gone else []  # type: ignore
        order = referenced_first(self.tables)
        rank = lambda step: order.get(step.table.address, len(order))  # noqa: E731
        return steps + sorted(writes, key=rank) + sorted(deletes, key=rank, reverse=True)

    def executor(self, live: Live, known: Known | None = None) -> "PostgresRun":
        return PostgresRun(self, known or Known())


class PostgresRun:
    """An apply's executor: schema steps in one transaction, then rows table by table; the sync
    steps (`sync_apply`) with what the apply learnt so far (`known`)."""

    def __init__(self, backend: PostgresBackend, known: Known):
        self.backend = backend
        self.known = known
        #: The live tables as this apply's DDL left them, read when rows are first written.
        #: Not the plan's read: `apply --auto-approve` reuses that one, and a column added or
        #: dropped since must be written or deferred as it is now.
        self._live: tuple[Table, ...] | None = None

    def _tables(self) -> tuple[Table, ...]:
        """The live tables the row writes go by (they use names and types only): read once
        without the expression probe, and again only after this apply's DDL ran (the declared
        tables' DDL all goes through `run_statements`)."""
        from reconciler.backends.postgres.reader import read_tables

        if self._live is None:
            self._live, _ = read_tables(self.backend.conn, self.backend.tables, spelled=False)
        return self._live

    def run(self, steps: Sequence[Any], report: Report) -> None:
        from reconciler.backends.postgres import sync_apply
        from reconciler.backends.postgres.content_apply import apply_rows
        from reconciler.backends.postgres.executor import run_statements

        for step in steps:
            if isinstance(step, sync_apply.SyncIntentStep):
                sync_apply.run_intents(self.backend.conn, step)
            elif isinstance(step, sync_apply.SyncRowsStep):
                sync_apply.run_rows(self.backend.conn, step, self._tables(), self.known, report)
        steps = [s for s in steps if isinstance(s, (SqlStep, RowsStep))]

        sql_steps = [s for s in steps if isinstance(s, SqlStep)]
        row_steps = [s for s in steps if isinstance(s, RowsStep)]
        if sql_steps:
            self._live = None
            run_statements(self.backend.conn, sql_steps,
                           on_applied=lambda address: report(address, "applied"))
        if row_steps:  # the tables as this apply's DDL left them: missing columns defer
            apply_rows(self.backend.conn, row_steps, self._tables(), report)
