"""Writing the Supabase side of a two-way sync, and the base, in batches.

Compile (pure) gives two steps: `SyncIntentStep` (before Notion's page writes: the rows pages are
about to be created for, recorded as `pending` in the base, so a rerun after a kill finds those
pages again instead of creating them twice) and `SyncRowsStep` (after Notion's page writes: every
synced table's rows and base, in one transaction).

Per table, in foreign-key order (a row referencing a page of another synced table comes after
it): rows edited after the plan are left alone and reported `stale` (the rows
are locked with `SELECT … FOR UPDATE` and compared with what the plan saw); new and changed rows
go through a staging table filled by one `COPY` and are written by one `INSERT … SELECT` or
`UPDATE … FROM` per set of columns the rows set (`staging.write_groups`, content's path too);
deletes are one `DELETE … = ANY` (after the join rows naming the deleted rows' pages, one
`DELETE` per join column); page ids of pages created by this apply (`Known.pages`) are
written back to their rows in one `UPDATE`; join tables get one `DELETE` and one `INSERT`; the
base rows whose changes were all carried out, the watermarks and one `reconciler.sync_activity`
row (every row and field moved) follow. So writing N rows costs a constant number of statements
per table, never one per row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg import sql

from reconciler import addresses
from reconciler.backends.base import Known
from reconciler.backends.postgres import sync_store
from reconciler.backends.postgres.activity import ensure_activity_table, record_run
from reconciler.backends.postgres.staging import Groups, write_groups
from reconciler.backends.postgres.values import column_writer, to_normal
from reconciler.diff import sync_values as sv
from reconciler.errors import ApplyError
from reconciler.model.changes import (ChangeBase, DeleteRow, InsertRow, SyncChange, UpdateRow,
                                      UpdateSyncBase)
from reconciler.model.postgres import Table
from reconciler.model.sync import SyncTable

#: A reference to a page this apply did not create: the base row waits for a later apply.
_UNRESOLVED: Any = object()
#: The stage of the apply runner each step runs in (schema 0, content 2).
BEFORE_CONTENT, AFTER_CONTENT = 1, 3


@dataclass(frozen=True)
class SyncIntentStep:
    """`(table address, row id, values sent)` of each page about to be created for a row."""

    intents: tuple[tuple[str, str, dict[str, Any]], ...]
    stage: int = BEFORE_CONTENT
    changes: tuple[str, ...] = ()

    def previews(self) -> dict[str, dict[str, Any]]:
        return {}


@dataclass(frozen=True)
class SyncRowsStep:
    """Every sync row change (`rows`) and base change (`bases`) of the apply, with the tables'
    sync declarations (`tables`, in foreign-key order)."""

    rows: tuple[ChangeBase, ...]
    bases: tuple[UpdateSyncBase, ...]
    tables: tuple[SyncTable, ...]
    stage: int = AFTER_CONTENT

    @property
    def changes(self) -> tuple[str, ...]:
        return tuple(c.address for c in (*self.rows, *self.bases))

    def previews(self) -> dict[str, dict[str, Any]]:
        return {}


def is_sync_change(change: ChangeBase) -> bool:
    return getattr(change, "sync", None) is not None or isinstance(change, SyncChange)


def compile_sync(changes: Sequence[ChangeBase], specs: Sequence[SyncTable]) -> list[Any]:
    """The steps of the sync changes of one plan (pure)."""
    bases = [c for c in changes if isinstance(c, UpdateSyncBase)]
    rows = [c for c in changes if isinstance(c, (InsertRow, UpdateRow, DeleteRow))]
    intents = tuple((b.table.address, p.row, p.values) for b in bases for p in b.pairs
                    if p.intent)
    steps: list[Any] = [SyncIntentStep(intents)] if intents else []
    if rows or bases:
        steps.append(SyncRowsStep(tuple(rows), tuple(bases), fk_order(specs)))
    return steps


def fk_order(specs: Sequence[SyncTable]) -> tuple[SyncTable, ...]:
    """Synced tables, each after the tables its foreign keys point at (single references and join
    tables; in a cycle, as given)."""
    by_db = {s.database: s for s in specs}
    done: list[SyncTable] = []

    def visit(spec: SyncTable, path: tuple[str, ...]) -> None:
        if spec in done or spec.address in path:
            return
        for f in spec.fields:
            if (f.single or f.join) and f.relation in by_db:
                visit(by_db[f.relation], path + (spec.address,))
        if spec not in done:
            done.append(spec)

    for spec in specs:
        visit(spec, ())
    return tuple(done)


def join_links(spec: SyncTable, specs: Sequence[SyncTable]
               ) -> tuple[tuple[str, str, str], ...]:
    """`(schema, join table, column)` of every join table column that holds page ids of
    `spec`'s rows: its own join tables' `own` column, and the `other` column of the join tables
    of the synced tables whose relations point at its database."""
    out = [(f.join.schema_name, f.join.table, f.join.own) for f in spec.fields
           if f.join is not None]
    out += [(f.join.schema_name, f.join.table, f.join.other) for other in specs
            for f in other.fields
            if f.join is not None and f.relation == spec.database]
    return tuple(dict.fromkeys(out))


def run_intents(conn: psycopg.Connection, step: SyncIntentStep) -> None:
    """Commit the intents before any page create is sent."""
    try:
        sync_store.ensure_tables(conn)
        by_table: dict[str, list] = {}
        for table, row, values in step.intents:
            by_table.setdefault(table, []).append((row, values))
        for table, intents in by_table.items():
            sync_store.write_intents(conn, table, intents)
        conn.commit()
    except psycopg.Error as exc:
        conn.rollback()
        raise ApplyError(f"recording the pages about to be created failed: {exc}", applied=0,
                         address=step.intents[0][0]) from None


def run_rows(conn: psycopg.Connection, step: SyncRowsStep, live: Sequence[Table], known: Known,
             report: Callable[..., None]) -> None:
    """Write every table's rows and base in one transaction, then report each change."""
    tables = {t.address: t for t in live}
    outcomes: list[tuple[str, str, dict[str, Any]]] = []
    try:
        sync_store.ensure_tables(conn)
        ensure_activity_table(conn, sync_store.SCHEMA)
        for spec in step.tables:
            rows = [c for c in step.rows if c.table.address == spec.address]  # type: ignore
            base = next((b for b in step.bases if b.table.address == spec.address), None)
            if (rows or base) and spec.address not in tables:
                raise psycopg.errors.UndefinedTable(f"table {spec.address} does not exist")
            if rows or base:
                outcomes += TableWrite(conn, spec, tables[spec.address], known,
                                       links=join_links(spec, step.tables)).run(rows, base)
        conn.commit()
    except psycopg.Error as exc:
        conn.rollback()
        raise ApplyError(f"writing the synced rows failed: {str(exc).splitlines()[0]} (the "
                         "transaction was rolled back)", applied=0,
                         address=step.changes[0] if step.changes else "supabase") from None
    for address, status, detail in outcomes:
        report(address, status, **detail)


class TableWrite:
    """The writes of one synced table inside the sync transaction."""

    def __init__(self, conn: psycopg.Connection, spec: SyncTable, table: Table, known: Known,
                 links: Sequence[tuple[str, str, str]] = ()):
        """`links`: `(schema, join table, column)` of each join table column naming this
        table's pages (`join_links`): a deleted row's links go with it."""
        self.conn, self.spec, self.table, self.known = conn, spec, table, known
        self.links = tuple(links)
        self.ident = sql.Identifier(table.schema_name, table.name)
        self.types = {c.name: c.type for c in table.columns}
        self.done: set[str] = set()

    def run(self, rows: list[ChangeBase], base: UpdateSyncBase | None
            ) -> list[tuple[str, str, dict[str, Any]]]:
        started = datetime.now(timezone.utc)
        outcomes = []
        rows = [c for c in rows if c.address not in self.known.stale]  # reported already
        stale = self._stale(rows)
        outcomes += [(a, "stale", {"reason": why}) for a, why in stale.items()]
        todo = [c for c in rows if c.address not in stale]
        written, unresolved = self._write(todo)
        for change in todo:
            if change.address in unresolved:
                outcomes.append((change.address, "deferred", {"reason": unresolved[
                    change.address]}))
            else:
                self.done.add(change.address)
                outcomes.append((change.address, "applied", {
                    "row_id": change.after.key if hasattr(change, "after") else  # type: ignore
                    change.before.key, "direction": "to_supabase",  # type: ignore
                    "fields": sorted(getattr(change, "after").values)
                    if hasattr(change, "after") else []}))
        if base is not None:
            recorded, unlinked = self._base(base)
            outcomes.append((base.address, "applied", {"rows": recorded, "unlinked": unlinked}))
            record_run(self.conn, run_id=str(uuid.uuid4()), target=self.spec.address,
                       counts=_counts(rows, self.done), status="success", error=None,
                       started_at=started, sync_type="sync", schema=sync_store.SCHEMA,
                       details=self._moves(base))
        return outcomes

    # --- stale rows ------------------------------------------------------------------------
    def _stale(self, rows: list[ChangeBase]) -> dict[str, str]:
        """Rows edited after the plan (their values are no longer what the plan saw), rows
        inserted meanwhile: address → why."""
        out: dict[str, str] = {}
        ids = [c.before.key for c in rows if isinstance(c, (UpdateRow, DeleteRow))]  # type: ignore
        if ids:
            columns = sorted({k for c in rows if isinstance(c, UpdateRow)
                              for k in c.before.values if k in self.types})
            query = sql.SQL("SELECT id::text{} FROM {} WHERE id = ANY(%s::uuid[]) FOR UPDATE").format(
                sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(c)) for c in columns),
                self.ident)
            now = {r[0]: dict(zip(columns, r[1:])) for r in self.conn.execute(query, [ids])}
            for change in rows:
                if isinstance(change, UpdateRow):
                    current = now.get(change.before.key)
                    if current is None or any(self._differs(k, v, current.get(k))
                                              for k, v in change.before.values.items()
                                              if k in self.types):
                        out[change.address] = "edited or deleted in Supabase after the plan"
        inserts = [c for c in rows if isinstance(c, InsertRow)]
        if inserts:
            pages = [self._page(c.after.values.get("notion_page_id")) for c in inserts]
            taken = {r[0] for r in self.conn.execute(sql.SQL(
                "SELECT notion_page_id::text FROM {} WHERE notion_page_id = ANY(%s::uuid[]) "
                "OR id = ANY(%s::uuid[])").format(self.ident),
                [[p for p in pages if p], [c.after.key for c in inserts]])}
            for change, page in zip(inserts, pages):
                if page in taken:
                    out[change.address] = "a row with this page was inserted after the plan"
        return out

    def _differs(self, column: str, planned: Any, current: Any) -> bool:
        field = self.spec.field(column)
        now = to_normal(current, self.types[column])
        if field is None:
            return planned != now
        return sv.from_supabase(field, planned) != sv.from_supabase(field, now)

    # --- rows --------------------------------------------------------------------------------
    def _page(self, value: Any) -> str | None:
        if sv.is_ref(value):
            return self.known.page(value[sv.REF])
        return value

    def _resolved(self, change: ChangeBase) -> tuple[dict[str, Any] | None, str | None]:
        """The change's values with references to created pages filled in, or why not."""
        values = {}
        for column, value in change.after.values.items():  # type: ignore[attr-defined]
            items = value if isinstance(value, list) else None
            if sv.is_ref(value) or (items and any(sv.is_ref(v) for v in items)):
                resolved = [self._page(v) for v in items] if items is not None else \
                    self._page(value)
                if resolved is None or (items is not None and None in resolved):
                    return None, f"{column}: a page it names was not created"
                value = resolved
            values[column] = value
        return values, None

    def _write(self, rows: list[ChangeBase]) -> tuple[int, dict[str, str]]:
        unresolved: dict[str, str] = {}
        inserts, updates, deletes, joins = [], [], [], []
        for change in rows:
            if isinstance(change, DeleteRow):
                deletes.append(change.before.key)
                continue
            values, why = self._resolved(change)
            if values is None:
                unresolved[change.address] = why or ""
                continue
            joined = {f.column for f in self.spec.fields if f.join is not None}
            joins += [(change, c, values.pop(c)) for c in list(values) if c in joined]
            (inserts if isinstance(change, InsertRow) else updates).append(
                (change.after.key, values))  # type: ignore[attr-defined]
        if updates:
            self._make_room(updates)
        if inserts or updates:
            self._stage(inserts, updates)
        if deletes:
            self._unlink_joins(deletes)
            self.conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s::uuid[])").format(
                self.ident), [deletes])
        self._joins(joins)
        return len(inserts) + len(updates) + len(deletes), unresolved

    def _make_room(self, updates: list) -> None:
        """Rows trading unique values (two pages swapping an e-mail): Postgres checks a unique
        key row by row, so the batched UPDATE would find a value still held by another row it
        changes. Only such rows are moved out of the way first, in the same transaction: a row
        whose current value another updated row takes, to NULL when the column is nullable,
        else (a text column that holds 36 characters) to the row's own id; the UPDATE then
        writes every new value. Rows that change a unique value without a trade are left as
        they are, and a value still held by a row this apply does not change fails as before
        (a real duplicate)."""
        nullable = {c.name: c.nullable for c in self.table.columns}
        keys = [u.columns for u in self.table.uniques] + \
            [i.columns for i in self.table.indexes if i.unique and i.where is None]
        for column in sorted({c for key in keys for c in key if c in self.types}):
            wanted = {row: values[column] for row, values in updates if column in values}
            if len(wanted) < 2:
                continue
            held = dict(self.conn.execute(sql.SQL(
                "SELECT id::text, {}::text FROM {} WHERE id = ANY(%s::uuid[])").format(
                    sql.Identifier(column), self.ident), [list(wanted)]).fetchall())
            taken = {str(v) for v in wanted.values() if v is not None}
            trading = [row for row in wanted if held.get(row) is not None
                       and held[row] in taken and str(wanted[row]) != held[row]]
            if not trading:
                continue
            if nullable.get(column, True):
                value = sql.SQL("NULL")
            elif _holds_an_id(self.types[column]):
                value = sql.SQL("id::text")
            else:
                continue  # no placeholder fits: the UPDATE reports the constraint
            self.conn.execute(sql.SQL("UPDATE {} SET {} = {} WHERE id = ANY(%s::uuid[])").format(
                self.ident, sql.Identifier(column), value), [trading])

    def _stage(self, inserts: list, updates: list) -> None:
        """The rows through one COPY into a staging table, then one INSERT per set of columns
        the new rows set and one UPDATE per set the changed rows set (`staging.write_groups`,
        content's path too: each column's type parsed once)."""
        writers: dict[str, Any] = {}
        groups: tuple[Groups, Groups] = ({}, {})
        for into, batch in zip(groups, (inserts, updates)):
            for row_id, values in batch:
                columns = ("id", *sorted(c for c in values if c in self.types and c != "id"))
                for c in columns:
                    if c not in writers:
                        writers[c] = column_writer(self.types[c])
                into.setdefault(columns, []).append(
                    [uuid.UUID(row_id), *(writers[c](values[c]) for c in columns[1:])])
        write_groups(self.conn, self.ident, "id", *groups, upsert=False)

    def _unlink_joins(self, deletes: list[str]) -> None:
        """The join rows naming the pages of rows about to be deleted (as this table's side of
        its own join tables, or as the related side of another synced table's), deleted first:
        their foreign keys would refuse the rows' DELETE. One statement per join column."""
        for schema, name, column in self.links:
            self.conn.execute(sql.SQL(
                "DELETE FROM {} WHERE {} IN (SELECT notion_page_id FROM {} "
                "WHERE id = ANY(%s::uuid[]) AND notion_page_id IS NOT NULL)").format(
                    sql.Identifier(schema, name), sql.Identifier(column), self.ident), [deletes])

    def _joins(self, joins: list) -> None:
        """Relations kept in join tables: the links of each written row replaced."""
        by_field: dict[str, list] = {}
        for change, column, pages in joins:
            by_field.setdefault(column, []).append((change, pages))
        for column, items in by_field.items():
            join = self.spec.field(column).join  # type: ignore[union-attr]
            ident = sql.Identifier(join.schema_name, join.table)
            owners = self._owners([change for change, _ in items])
            self.conn.execute(sql.SQL("DELETE FROM {} WHERE {} = ANY(%s::uuid[])").format(
                ident, sql.Identifier(join.own)), [[o for o in owners if o]])
            pairs = [(o, p) for o, (_, pages) in zip(owners, items) if o for p in pages or ()]
            if pairs:
                self.conn.execute(sql.SQL(
                    "INSERT INTO {} ({}, {}) SELECT * FROM unnest(%s::uuid[], %s::uuid[]) "
                    "ON CONFLICT DO NOTHING").format(ident, sql.Identifier(join.own),
                                                     sql.Identifier(join.other)),
                    [[o for o, _ in pairs], [p for _, p in pairs]])

    def _owners(self, changes: list[ChangeBase]) -> list[str | None]:
        """The page id of each written row (one query for the rows that do not carry it)."""
        ids = [c.after.key for c in changes]  # type: ignore[attr-defined]
        pages = dict(self.conn.execute(sql.SQL(
            "SELECT id::text, notion_page_id::text FROM {} WHERE id = ANY(%s::uuid[])").format(
            self.ident), [ids]).fetchall())
        return [self._page(c.after.values.get("notion_page_id")) or  # type: ignore[attr-defined]
                pages.get(c.after.key) for c in changes]  # type: ignore[attr-defined]

    # --- base --------------------------------------------------------------------------------
    def _base(self, base: UpdateSyncBase) -> tuple[int, list[str]]:
        """Base rows whose changes were all carried out, page ids written back, and the
        watermark: advanced only when every base row was recorded and every change of the
        table the plan's diff found was carried out. A change left out of the plan (`--target`),
        stale or failed keeps the watermark where it was, so the next plan reads the edits it
        did not sync again. Returns the number of base rows recorded and the addresses of the
        rows unlinked."""
        pairs, links = [], []
        complete = all(self._carried(a) for a in base.moved)
        for pair in base.pairs:
            if not all(self._carried(a) for a in pair.after):
                complete = False
                continue
            page = pair.page or (self.known.page(pair.page_ref) if pair.page_ref else None)
            if page is None and pair.state == "linked":
                complete = False
                continue
            values = {k: self._resolve(v) for k, v in pair.values.items()}
            if any(v is _UNRESOLVED for v in values.values()):
                complete = False
                continue
            if pair.link and page:
                links.append((pair.row, page))
            pairs.append((pair.row, page, pair.state, pair.seed, values))
        if links:
            self.conn.execute(sql.SQL(
                "UPDATE {} AS t SET notion_page_id = v.page FROM unnest(%s::uuid[], %s::uuid[]) "
                "AS v(id, page) WHERE t.id = v.id").format(self.ident),
                [[r for r, _ in links], [p for _, p in links]])
        sync_store.write_pairs(self.conn, self.spec.address, pairs, base.drop)
        if complete:
            sync_store.write_watermark(self.conn, self.spec.address, self.known.read_at)
        return len(pairs), [addresses.child(self.spec.address, "row", p[0]) for p in pairs
                            if p[2] == "unlinked"]

    def _carried(self, address: str) -> bool:
        return address in self.done or self.known.applied(address)

    def _resolve(self, value: Any) -> Any:
        """A sync-form value with references to created pages replaced by their ids."""
        if sv.is_ref(value):
            return self._page(value) or _UNRESOLVED
        if isinstance(value, list) and any(sv.is_ref(v) for v in value):
            items = [self._page(v) if sv.is_ref(v) else v for v in value]
            return _UNRESOLVED if None in items else sorted(items)
        return value

    def _moves(self, base: UpdateSyncBase) -> list[dict[str, Any]]:
        return [{"address": a, "direction": "to_notion" if a.startswith("notion.") else
                 "to_supabase", "fields": list(f)} for a, f in sorted(base.moved.items())
                if a in self.done or self.known.applied(a)]


def _holds_an_id(pg_type: str) -> bool:
    """A text type a row's 36-character id fits in (`text`, `citext`, `varchar(n)` n >= 36)."""
    if pg_type in ("text", "citext", "varchar", "character varying"):
        return True
    m = re.fullmatch(r"(?:varchar|character varying)\((\d+)\)", pg_type)
    return m is not None and int(m.group(1)) >= 36


def _counts(rows: Sequence[ChangeBase], done: set[str]) -> dict[str, int]:
    kinds = [c.kind for c in rows if c.address in done]  # type: ignore[attr-defined]
    return {"created": kinds.count("insert_row"), "updated": kinds.count("update_row"),
            "deleted": kinds.count("delete_row")}

