"""The pure two-way sync diff: both sides' reads and the base → typed changes, per synced table.

Input per table (`SyncInput`): the `SyncTable`, the pages the Notion backend read (`NotionSide`),
the rows and the base the Postgres backend read (`PostgresSide`). Output (`SyncDiff`): changes
compiled by the backends as any others (`UpdatePage`/`CreatePage`/`ArchivePage` for Notion,
`InsertRow`/`UpdateRow`/`DeleteRow` for Postgres, each with `sync` saying where its values come
from), one `UpdateSyncBase` per table (the base apply records once both sides
were written), `SyncConflict`s left for manual resolution, a `SyncSummary` per table, and the
problems that must stop the plan before any write (values that cannot cross, unknown related
pages), each naming the row and the field.

Pairing: a base row pairs a page and a row; a row naming a page (`notion_page_id`) pairs with
it; a row without a page is new on the Supabase side unless a create sent for it by an apply
that was killed is found (`pending` base row: a new page created after it, holding the values it
sent); any other page is new on the Notion side. Seeds (`sync.seed`) not yet present are created
on both sides. The field merge is `diff.sync_merge`; deletes follow the table's delete policy.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler import addresses
from reconciler.diff import sync_values as sv
from reconciler.diff.sync_merge import merge_pair
from reconciler.diff.sync_rows import RowBuilder
from reconciler.diff.sync_world import (SyncInput, World, key_column, key_text,
                                          seed_key_sensitive)
from reconciler.model.changes import ChangeBase, UpdateSyncBase
from reconciler.model.postgres import TableRef
from reconciler.model.sync import BasePair, FlowCounts, SideRow, SyncSummary, SyncTable

#: Namespace of the row ids given to rows created from Notion pages and seeds (uuid5).
ROW_IDS = uuid.UUID("6f1d1a52-58b1-4d35-9a0e-3a1c1c0c5e11")
UNREAD: Any = type("Unread", (), {"__repr__": lambda self: "UNREAD"})()
GONE: Any = type("Gone", (), {"__repr__": lambda self: "GONE"})()


@dataclass
class SyncDiff:
    changes: list[ChangeBase] = field(default_factory=list)
    summaries: dict[str, SyncSummary] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def row_id_for(address: str) -> str:
    """The id of the row created from the page or seed at `address` (deterministic)."""
    return str(uuid.uuid5(ROW_IDS, address))


def base_address(table: SyncTable) -> str:
    return addresses.child(table.address, "sync", "base")


def diff_sync(inputs: Sequence[SyncInput], *, prune: bool = False,
              check_column: Callable[[Any, str], Any] = lambda v, t: v,
              name: Callable[[str, str], str] | None = None) -> SyncDiff:
    """Every synced table's changes, summaries and problems (see the module docstring).
    `check_column(value, type)` raises ValueError for a value a column cannot hold;
    `name(scope, key)` names seed rows whose key is sensitive (`Sealer.name`)."""
    out = SyncDiff()
    world = World.of(inputs, name)
    for item in inputs:
        TableDiff(item, world, prune, check_column, out).run()
    return out


class TableDiff:
    """The diff of one synced table (see the module docstring); appends to `out`."""

    def __init__(self, item: SyncInput, world: World, prune: bool,
                 check_column: Callable[[Any, str], Any], out: SyncDiff):
        self.t, self.n, self.s = item.table, item.notion, item.supabase
        self.item, self.world, self.prune, self.out = item, world, prune, out
        self.rows = RowBuilder(item.table, world, check_column, out.problems)
        self.ref = TableRef(schema_name=self.t.schema_name, table=self.t.name)
        self.pairs: list[BasePair] = []
        self.drop: list[str] = []
        self.count: Counter[str] = Counter()
        self.conflicts: list[dict[str, Any]] = []
        self.unlinks: list[dict[str, Any]] = []
        self.claimed_pages: set[str] = set()
        self.claimed_rows: set[str] = set()

    # --- orchestration ---------------------------------------------------------------------
    def run(self) -> None:
        base = [b for b in self.s.base if b.state in ("linked", "unlinked")]
        for b in base:
            self.claimed_rows.add(b.row)
            if b.page:
                self.claimed_pages.add(b.page)
        for b in base:
            if b.state == "linked":
                self._pair(b.row, b.page, b.values, self._notion_of(b.page), self._row_of(b.row),
                           seed=b.seed)
        self._linked_rows()
        self._new_rows()
        self._seeds()
        self._new_pages()
        self._finish()

    def _notion_of(self, page: str | None) -> Any:
        if page is None:
            return GONE
        if page in self.n.pages:
            return self.n.pages[page]
        if page in self.n.trashed or (self.n.complete and self.n.exists):
            return GONE
        return UNREAD  # not edited since the last sync (or the database is not there to ask)

    def _row_of(self, row: str) -> Any:
        if row in self.s.rows:
            return self.s.rows[row]
        return UNREAD if row in self.s.keys else GONE

    def _linked_rows(self) -> None:
        """Rows naming a page that the base does not know (a first sync of linked data)."""
        for row_id, page in sorted(self.s.keys.items()):
            if row_id in self.claimed_rows or not page or page in self.claimed_pages:
                continue
            n = self._notion_of(page)
            if n is UNREAD:
                continue  # the Notion read fetches such pages; never seen: left for a full read
            self.claimed_rows.add(row_id)
            self.claimed_pages.add(page)
            row = self.s.rows.get(row_id, UNREAD)
            if n is GONE:
                self._new_row(row_id, row)
            else:
                self._pair(row_id, page, None, n, row)

    def _new_rows(self) -> None:
        pending = {b.row: b for b in self.s.base if b.state == "pending"}
        for row_id, page in sorted(self.s.keys.items()):
            if row_id in self.claimed_rows or page:
                continue
            self.claimed_rows.add(row_id)
            row = self.s.rows.get(row_id, UNREAD)
            found = self._page_sent_for(pending.get(row_id))
            if found is not None:
                self.claimed_pages.add(found.id)
                self._pair(row_id, found.id, None, found, row, link=True)
            else:
                self._new_row(row_id, row)

    def _page_sent_for(self, intent) -> SideRow | None:
        """The page an interrupted apply created for a row: unclaimed, created at most a minute
        before the create was recorded, holding the values it sent."""
        if intent is None:
            return None
        since = (sv.instant(intent.synced_at) or "")[:16]
        for page in self.n.pages.values():
            if page.id in self.claimed_pages or (sv.instant(page.created) or "")[:16] < since:
                continue
            values = self.rows.notion_values(page)
            if all(values.get(c) == v for c, v in intent.values.items()):
                return page
        return None

    def _new_pages(self) -> None:
        for page_id, page in sorted(self.n.pages.items()):
            if page_id in self.claimed_pages:
                continue
            self.claimed_pages.add(page_id)
            if not self.t.to_supabase:
                self._not_in_source_page(page)
                continue
            row_id = row_id_for(addresses.child(f"notion.{self.t.database}", "page", page_id))
            values = self.rows.notion_values(page)
            insert = self.rows.insert_row(row_id, page_id, values, source=self._page_address(
                page_id))
            self.out.changes.append(insert)
            self.count["to_supabase.create"] += 1
            self.pairs.append(BasePair(row=row_id, page=page_id, values=values,
                                       seed=self._seed_mark(values), after=(insert.address,)))

    # --- one pair --------------------------------------------------------------------------
    def _pair(self, row_id: str, page: str | None, base: Mapping[str, Any] | None, n: Any,
              s: Any, *, seed: str | None = None, link: bool = False) -> None:
        if n is GONE or s is GONE:
            self._gone(row_id, page, base, n, s)
            return
        n_values = self.rows.notion_values(n) if n is not UNREAD else dict(base or {})
        s_values = self.rows.supabase_values(s) if s is not UNREAD else dict(base or {})
        stamps = (n.stamp if n is not UNREAD else None, s.stamp if s is not UNREAD else None)
        resolved = self.t.resolutions.get(row_id) or self.t.resolutions.get(page or "") or {}
        merged = merge_pair(self.t, dict(base) if base is not None else None, n_values,
                            s_values, stamps, resolved)
        after = []
        if merged.to_notion:
            change = self.rows.update_page(page, n, merged.to_notion, row_id,
                                           [c for c in merged.conflicts
                                            if c.resolution == "supabase"], base)
            self.out.changes.append(change)
            after.append(change.address)
            self.count["to_notion.update"] += 1
        if merged.to_supabase:
            change = self.rows.update_row(row_id, s, merged.to_supabase, page,
                                          [c for c in merged.conflicts if c.resolution == "notion"],
                                          base)
            self.out.changes.append(change)
            after.append(change.address)
            self.count["to_supabase.update"] += 1
        for conflict in merged.manual:
            self.out.changes.append(self.rows.conflict(row_id, page, conflict))
        self.conflicts += [self.rows.shown_conflict(row_id, page, c) for c in merged.conflicts]
        if not after and not merged.conflicts:
            self.count["unchanged"] += 1
        if after or link or base is None or merged.base != dict(base):
            self.pairs.append(BasePair(row=row_id, page=page, values=merged.base, link=link,
                                       seed=seed or self._seed_mark(merged.base),
                                       after=tuple(after)))

    def _gone(self, row_id: str, page: str | None, base: Mapping[str, Any] | None, n: Any,
              s: Any) -> None:
        """One side of a pair is gone (page trashed, row deleted): the delete policy."""
        if n is GONE and s is GONE:
            self.drop.append(row_id)
            return
        if n is GONE and not self.t.to_supabase:  # Notion is a copy: the page comes back
            self._new_row(row_id, s, base=base)
            return
        if s is GONE and not self.t.to_notion:  # Supabase is a copy: the row comes back
            values = self.rows.notion_values(n) if n is not UNREAD else dict(base or {})
            insert = self.rows.insert_row(row_id, page, values, source=self._page_address(page))
            self.out.changes.append(insert)
            self.count["to_supabase.create"] += 1
            self.pairs.append(BasePair(row=row_id, page=page, values=values,
                                       after=(insert.address,)))
            return
        if self.t.deletes == "unlink":
            self.pairs.append(BasePair(row=row_id, page=page, state="unlinked",
                                       values=dict(base or {})))
            self.count["unlinked"] += 1
            self.unlinks.append({"row": row_id, "page": page,
                                 "gone": "notion" if n is GONE else "supabase"})
            return
        if not self.prune:
            self.count["pending_deletes"] += 1
            return
        change = self.rows.delete_row(row_id, page) if n is GONE else \
            self.rows.archive_page(page, row_id)
        self.out.changes.append(change)
        self.count["to_supabase.delete" if n is GONE else "to_notion.delete"] += 1
        self.drop.append(row_id)

    def _new_row(self, row_id: str, row: Any, *, base: Mapping[str, Any] | None = None) -> None:
        """A row without a page (or whose page is gone from a copy): a page is created for it,
        its id written back to the row. An unread row holds its `base` values."""
        if (row is UNREAD and base is None) or not self.t.to_notion:
            self.count["not_in_source"] += 1
            return
        values = self.rows.supabase_values(row) if row is not UNREAD else dict(base or {})
        create = self.rows.create_page(addresses.child(f"notion.{self.t.database}", "page",
                                                       row_id), values,
                                       source=self._row_address(row_id))
        self.out.changes.append(create)
        self.count["to_notion.create"] += 1
        self.pairs.append(BasePair(row=row_id, page_ref=create.address, values=values,
                                   link=True, intent=True, seed=self._seed_mark(values),
                                   after=(create.address,)))

    def _not_in_source_page(self, page: SideRow) -> None:
        if self.prune:
            self.out.changes.append(self.rows.archive_page(page.id, None))
            self.count["to_notion.delete"] += 1
        else:
            self.count["not_in_source"] += 1

    # --- seeds -----------------------------------------------------------------------------
    def _seeds(self) -> None:
        places = self.world.seeds.get(self.t.database, {})
        for seed in self.t.seeds:
            if not sv.is_ref(places.get(seed.key)):
                continue  # present already
            address = self.world.seed_address(self.t, seed.side, seed.key)
            row_id = row_id_for(address)
            values = self.rows.seed_values(seed)
            create = self.rows.create_page(address, values, source=f"seed {seed.source}",
                                           key=seed.key,
                                           sensitive_key=seed_key_sensitive(self.t, seed.side))
            insert = self.rows.insert_row(row_id, sv.ref(address), values,
                                          source=f"seed {seed.source}")
            self.out.changes += [create, insert]
            self.count["to_notion.create"] += 1
            self.count["to_supabase.create"] += 1
            self.claimed_rows.add(row_id)
            self.pairs.append(BasePair(row=row_id, page_ref=address, values=values,
                                       seed=f"{seed.side}:{seed.key}",
                                       after=(create.address, insert.address)))

    def _seed_mark(self, values: Mapping[str, Any]) -> str | None:
        """`side:key` of the seed a live row holds the key of, if any."""
        for side, name in self.t.seed_keys.items():
            column = key_column(self.t, side)
            key = key_text(values.get(column)) if column else None
            if key and any(s.side == side and s.key == key for s in self.t.seeds):
                return f"{side}:{key}"
        return None

    # --- summary, breaker, base --------------------------------------------------------------
    def _finish(self) -> None:
        flows = {side: FlowCounts(**{w: self.count[f"{side}.{w}"] for w in
                                     ("create", "update", "delete")})
                 for side in ("to_notion", "to_supabase")}
        summary = SyncSummary(
            database=self.t.database, direction=self.t.direction, policy=self.t.conflicts,
            **flows, conflicts=tuple(self.conflicts), unchanged=self.count["unchanged"],
            unlinked=self.count["unlinked"], unlinks=tuple(self.unlinks),
            pending_deletes=self.count["pending_deletes"],
            not_in_source=self.count["not_in_source"],
            read={"notion": "full" if self.n.complete else "incremental",
                  "supabase": "full" if self.s.complete else "incremental"})
        summary = summary.model_copy(update={"breaker": self._breaker(summary)})
        if self.pairs or self.drop:
            self.out.changes.append(UpdateSyncBase(
                address=base_address(self.t), phase=self.rows.phase, table=self.ref,
                database=self.t.database, pairs=tuple(self._marked(p) for p in self.pairs),
                drop=tuple(self.drop),
                moved=self._moved(),
                note=f"records the last synced values of {len(self.pairs)} row(s) in "
                     "reconciler.sync_base"))
        self.out.summaries[self.t.address] = summary

    def _marked(self, pair: BasePair) -> BasePair:
        """`pair` with its personal data marked: the sensitive columns, and the seed key."""
        side = (pair.seed or "").split(":", 1)[0]
        return pair.model_copy(update={
            "sensitive": self.rows.row_sensitive,
            "sensitive_seed": bool(pair.seed) and seed_key_sensitive(self.t, side)})

    def _moved(self) -> dict[str, tuple[str, ...]]:
        """Change address → the fields it moves, for this table's sync changes."""
        mine = (self.t.address + ".", f"notion.{self.t.database}.")
        return {c.address: tuple(sorted(getattr(c, "after").values))
                for c in self.out.changes if getattr(c, "sync", None) is not None
                and c.address.startswith(mine) and hasattr(c, "after")}

    def _breaker(self, summary: SyncSummary) -> str | None:
        """The circuit breaker's message when more than its share of a side's rows would
        change or be deleted (a first sync, with an empty base, never trips it)."""
        if not any(b.state != "pending" for b in self.s.base):
            return None
        sides = (("Supabase", summary.to_supabase, len(self.s.keys)),
                 ("Notion", summary.to_notion, len(self.world.pages.get(self.t.database,
                                                                              ()))))
        for name, flow, total in sides:
            moved = flow.update + flow.delete
            if moved > self.t.min_rows and moved > self.t.max_share * total:
                return (f"{self.t.address}: this run would change or delete {moved} of {total} "
                        f"row(s) in {name} ({moved / max(total, 1):.0%}, more than the "
                        f"{self.t.max_share:.0%} the circuit breaker allows): check the plan, "
                        "then apply with --force")
        return None

    def _page_address(self, page: Any) -> str:
        return addresses.child(f"notion.{self.t.database}", "page", str(page))

    def _row_address(self, row_id: str) -> str:
        return addresses.child(self.t.address, "row", row_id)
