"""Building the changes of a synced table: values in sync form → page and row changes. Pure.

`RowBuilder` converts each side's normal-form values to sync form (`diff.sync_values`) and back,
builds `UpdatePage`/`CreatePage`/`ArchivePage`/`InsertRow`/`UpdateRow`/`DeleteRow`/
`SyncConflict` changes, and records a problem (naming the change's address and the field) for
every value that cannot cross and every related page that is not known, so the plan stops
before any write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler import addresses
from reconciler.diff import sync_values as sv
from reconciler.model.changes import (ArchivePage, CreatePage, DeleteRow, InsertRow, Phase,
                                      SyncConflict, UpdatePage, UpdateRow)
from reconciler.model.content import RowState
from reconciler.model.postgres import TableRef
from reconciler.model.sensitive import SHOWN, masked
from reconciler.model.sync import FieldConflict, SeedRow, SideRow, SyncField, SyncInfo, SyncTable


class RowBuilder:
    """Changes of one synced table; `world` is `diff.sync.World` (pages known per database),
    `check_column` the Postgres value check, `problems` the list problems are appended to."""

    phase = Phase.CONTENT

    def __init__(self, table: SyncTable, world: Any, check_column: Callable[[Any, str], Any],
                 problems: list[str]):
        self.t, self.world, self.check_column, self.problems = table, world, check_column, \
            problems
        self.ref = TableRef(schema_name=table.schema_name, table=table.name)
        self.database = f"notion.{table.database}"
        #: The personal-data fields, by property (pages) and by column (rows).
        self.page_sensitive = tuple(sorted(f.property for f in table.fields if f.sensitive))
        self.row_sensitive = tuple(sorted(f.column for f in table.fields if f.sensitive))

    # --- values ----------------------------------------------------------------------------
    def notion_values(self, page: SideRow) -> dict[str, Any]:
        """A page's values (by property) as column → sync form."""
        return {f.column: sv.from_notion(f, page.values.get(f.property)) for f in self.t.fields}

    def supabase_values(self, row: SideRow) -> dict[str, Any]:
        return {f.column: sv.from_supabase(f, row.values.get(f.column)) for f in self.t.fields}

    def seed_values(self, seed: SeedRow) -> dict[str, Any]:
        """A seed row as column → sync form; relations name seed keys, resolved to page ids or
        to references to the pages this plan creates."""
        out = {}
        for f in self.t.fields:
            name = f.property if seed.side == "notion" else f.column
            value = seed.values.get(name)
            if f.relation is not None:
                places = self.world.seeds.get(f.relation, {})
                pages = [places.get(k) for k in value or ()]
                out[f.column] = sv.KINDS["relation"].from_notion(pages) if not f.single else \
                    (pages[0] if pages else None)
            elif seed.side == "notion":
                out[f.column] = sv.from_notion(f, value)
            else:
                out[f.column] = sv.from_supabase(f, value)
        return out

    def _notion(self, values: Mapping[str, Any], address: str) -> dict[str, Any]:
        """Column → sync form as property → the normal form a page write takes (references to
        pages created by this apply become `{"key": k}`, which compile resolves)."""
        out = {}
        for column, value in values.items():
            f = self.t.field(column)
            if f is None or not f.to_notion:
                continue
            self._check_notion(f, value, address)
            if isinstance(value, list):
                value = [{"key": addresses.parse(v[sv.REF])[1][-1][1]} if sv.is_ref(v) else v
                         for v in value]
            elif sv.is_ref(value):
                value = [{"key": addresses.parse(value[sv.REF])[1][-1][1]}]
            out[f.property] = sv.to_notion(f, value) if not _has_key(value) else tuple(value)
        return out

    def _supabase(self, values: Mapping[str, Any], address: str) -> dict[str, Any]:
        out = {}
        for column, value in values.items():
            f = self.t.field(column)
            if f is None or not f.to_supabase:
                continue
            self._check_supabase(f, value, address)
            out[column] = sv.to_supabase(f, value)
        return out

    # --- checks ----------------------------------------------------------------------------
    def _problem(self, address: str, name: str, message: str) -> None:
        self.problems.append(f"{address}: {name}: {message}")

    def _check_notion(self, f: SyncField, value: Any, address: str) -> None:
        message = sv.problem_to_notion(f, value)
        if message:
            self._problem(address, f.property, masked(message, value) if f.sensitive else message)
        if f.relation and f.relation in self.world.synced:
            known = self.world.pages.get(f.relation, set())
            items = value if isinstance(value, list) else [value] if value else []
            for page in items:
                if not sv.is_ref(page) and page not in known:
                    self._problem(address, f.property, (
                        f"names page {page}, which is not a page of the Notion database "
                        f"{f.relation!r} (unknown related page: link an existing one, or sync "
                        "its row first)"))

    def _check_supabase(self, f: SyncField, value: Any, address: str) -> None:
        message = sv.problem_to_supabase(f, value, self.check_column)
        if message:
            self._problem(address, f.column, masked(message, value) if f.sensitive else message)
        if f.relation in self.world.synced:
            known = self.world.rows.get(f.relation, set())
            items = value if isinstance(value, list) else [value] if value else []
            for page in items:
                if isinstance(page, str) and page not in known:
                    self._problem(address, f.column, self._no_row(f.relation, page))

    def _no_row(self, database: str, page: str) -> str:
        """Why a reference to `page` of `database` cannot be written to Supabase."""
        if page in self.world.unlinked.get(database, set()):
            return (f"names page {page}, whose row in the table mirroring {database!r} was "
                    "deleted (the pair was unlinked, so no row has the page): link another "
                    "page in Notion, or delete the page and sync again")
        return (f"names page {page}, which no row of the table mirroring {database!r} has "
                "(unknown related page: link a page that has a row, or sync its row first)")

    # --- changes ---------------------------------------------------------------------------
    def _info(self, source: str, direction: str, conflicts=()) -> SyncInfo:
        return SyncInfo(source=source, direction=direction, conflicts=tuple(conflicts))

    @staticmethod
    def _note(info: SyncInfo) -> str:
        """One line for reviewers: where the values come from, and the conflicts they won."""
        won = "; ".join(f"{c.field}: conflict won by {c.resolution} ({c.reason})"
                        for c in info.conflicts)
        return f"from {info.source}" + (f"; {won}" if won else "")

    def page_address(self, page: Any) -> str:
        return addresses.child(self.database, "page", str(page))

    def row_address(self, row: str) -> str:
        return addresses.child(self.t.address, "row", row)

    def update_page(self, page: str, live: Any, values: Mapping[str, Any], row: str,
                    conflicts, base: Mapping[str, Any] | None = None) -> UpdatePage:
        """`live`: the page as read (a `SideRow`), or anything else when it was not read since
        the last sync (its values are then the base's)."""
        address = self.page_address(page)
        after = self._notion(values, address)
        current = live.values if isinstance(live, SideRow) else {
            f.property: sv.to_notion(f, (base or {}).get(f.column)) for f in self.t.fields}
        before = {p: current.get(p) for p in after}
        info = self._info(self.row_address(row), "to_notion", conflicts)
        marks = {"sensitive": self.page_sensitive}
        return UpdatePage(address=address, phase=self.phase, database=self.t.database,
                          before=RowState(id=page, values=before, **marks),
                          after=RowState(key=page, id=page, values=after, **marks), sync=info,
                          note=self._note(info))

    def update_row(self, row: str, live: Any, values: Mapping[str, Any], page: str | None,
                   conflicts, base: Mapping[str, Any] | None = None) -> UpdateRow:
        address = self.row_address(row)
        after = self._supabase(values, address)
        current = live.values if isinstance(live, SideRow) else {
            f.column: sv.to_supabase(f, (base or {}).get(f.column)) for f in self.t.fields}
        info = self._info(self.page_address(page), "to_supabase", conflicts)
        marks = {"sensitive": self.row_sensitive}
        return UpdateRow(address=address, phase=self.phase, table=self.ref,
                         before=RowState(key=row, id=row, values={c: current.get(c)
                                                                  for c in after}, **marks),
                         after=RowState(key=row, id=row, values=after, **marks), sync=info,
                         note=self._note(info))

    def insert_row(self, row: str, page: Any, values: Mapping[str, Any], *, source: str
                   ) -> InsertRow:
        address = self.row_address(row)
        after = self._supabase(values, address)
        info = self._info(source, "to_supabase")
        return InsertRow(address=address, phase=self.phase, table=self.ref,
                         after=RowState(key=row, id=row, values={**after, "notion_page_id": page},
                                        sensitive=self.row_sensitive),
                         sync=info, note=self._note(info))

    def create_page(self, address: str, values: Mapping[str, Any], *, source: str,
                    key: str | None = None, sensitive_key: bool = False) -> CreatePage:
        """`key`: the seed key of a seed row (`sensitive_key`: it is personal data, and the
        address names the page by a digest of it); else the key is the address's."""
        after = {p: v for p, v in self._notion(values, address).items()
                 if not (v is None or v is False or v == () or v == [])}
        info = self._info(source, "to_notion")
        return CreatePage(address=address, phase=self.phase, database=self.t.database,
                          after=RowState(key=key or addresses.parse(address)[1][-1][1],
                                         values=after, sensitive=self.page_sensitive,
                                         sensitive_key=sensitive_key and key is not None),
                          sync=info, note=self._note(info))

    def delete_row(self, row: str, page: str | None) -> DeleteRow:
        return DeleteRow(address=self.row_address(row), phase=self.phase, table=self.ref,
                         before=RowState(key=row, id=row), destructive=True,
                         note="its Notion page was trashed (deletes: delete, --prune)" + (
                             "; its links in " + ", ".join(sorted(
                                 f.join.address for f in self.t.fields if f.join is not None)) +
                             " go with it" if any(f.join for f in self.t.fields) else ""),
                         sync=self._info(self.page_address(page), "to_supabase"))

    def archive_page(self, page: str, row: str | None) -> ArchivePage:
        source = self.row_address(row) if row else self.t.address
        return ArchivePage(address=self.page_address(page), phase=self.phase,
                           database=self.t.database, before=RowState(key=page, id=page),
                           note="its Supabase row was deleted (--prune)" if row else
                           "no Supabase row has it (--prune)",
                           sync=self._info(source, "to_notion"))

    def conflict(self, row: str, page: str | None, conflict: FieldConflict) -> SyncConflict:
        address = addresses.child(self.row_address(row), "column", conflict.field)
        return SyncConflict(
            address=address, phase=self.phase, table=self.ref, database=self.t.database,
            conflict=conflict, note=f"page {page}: edited on both sides",
            manual=(f"{conflict.field} is {_shown(conflict.notion, conflict.sensitive)} in Notion "
                    f"and {_shown(conflict.supabase, conflict.sensitive)} in Supabase (was "
                    f"{_shown(conflict.base, conflict.sensitive)}): make "
                    "them equal on one side, or add `resolve: {" + f"{row}: {{{conflict.field}: "
                    "notion|supabase}}` under sync: in " + self.t.spec.split(":")[0]))

    def shown_conflict(self, row: str, page: str | None, c: FieldConflict) -> dict[str, Any]:
        """A conflict as the plan's summary lists it."""
        shown = {"row": row, "page": page, "field": c.field, "notion": c.notion,
                 "supabase": c.supabase, "base": c.base, "resolution": c.resolution,
                 "reason": c.reason}
        return {**shown, "sensitive": True} if c.sensitive else shown


def _has_key(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(v, dict) and "key" in v for v in value)


def _shown(value: Any, sensitive: bool = False) -> str:
    if sensitive:
        return "empty" if value is None else SHOWN
    return "empty" if value is None else repr(value)
