"""What one synced table's diff needs of the others. Pure.

`World.of(inputs)` gathers, over every synced table: the page ids each database is known to hold,
the page ids each mirrored table's rows hold, and where each seed row stands (present: its page
id; not yet: a reference to the page the plan creates for it), so relations between synced
tables and between seed rows resolve across tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler import addresses
from reconciler.diff import sync_values as sv
from reconciler.model.sync import NotionSide, PostgresSide, SeedRow, SyncTable


@dataclass
class SyncInput:
    table: SyncTable
    notion: NotionSide
    supabase: PostgresSide


@dataclass
class World:
    """What one table needs of the others: the page ids each database is known to hold (its
    pages read and its base), the page ids each mirrored table's rows hold once this plan is
    applied (`rows`: rows present, and rows this plan inserts for new pages; a foreign key to
    `notion_page_id` may only name those), the pages of unlinked pairs (`unlinked`: no row
    follows them any more), and where each seed stands (`seeds[database][key]`: a page id, or a reference to the page a plan creates).
    `name(scope, key)` names a seed row whose key is sensitive in addresses
    (`model.sensitive.Sealer.name`)."""

    pages: dict[str, set[str]] = field(default_factory=dict)
    rows: dict[str, set[str]] = field(default_factory=dict)
    unlinked: dict[str, set[str]] = field(default_factory=dict)
    synced: set[str] = field(default_factory=set)
    seeds: dict[str, dict[str, Any]] = field(default_factory=dict)
    name: Callable[[str, str], str] | None = None

    @classmethod
    def of(cls, inputs: Sequence[SyncInput],
           name: Callable[[str, str], str] | None = None) -> "World":
        world = cls(name=name)
        for item in inputs:
            db = item.table.database
            base = [b for b in item.supabase.base if b.page]
            world.synced.add(db)
            world.pages[db] = set(item.notion.pages) | {b.page for b in base} | \
                {p for p in item.supabase.keys.values() if p}
            world.pages[db] -= item.notion.trashed
            world.rows[db] = _pages_with_rows(item)
            world.unlinked[db] = {b.page for b in item.supabase.base
                                  if b.state == "unlinked" and b.page}
            world.seeds[db] = _seed_places(item, world)
        return world

    def seed_address(self, table: SyncTable, side: str, key: str) -> str:
        """The address of the page a seed row gets: `notion.<db>.page["<key>"]`, or named by a
        keyed digest when the seed key is sensitive."""
        scope = f"notion.{table.database}"
        if not seed_key_sensitive(table, side):
            return addresses.child(scope, "page", key)
        if self.name is None:
            raise ValueError(f"{table.address}: seeds keyed by a sensitive field need the "
                             "project's digest key")
        return addresses.child(scope, "page", self.name(scope, key))


def _pages_with_rows(item: SyncInput) -> set[str]:
    """The page ids the mirrored table's rows hold once the plan is applied: those its rows
    name, plus the pages no pair or row claims (new pages: the plan inserts a row for each)
    when the table syncs towards Supabase, plus, on a table whose Supabase side is a copy
    (`notion_to_supabase`), the pages of linked pairs whose row was deleted (the row comes
    back). Pages of unlinked pairs, and of pairs whose row waits for a delete, have none."""
    table, n, s = item.table, item.notion, item.supabase
    named = {p for p in s.keys.values() if p}
    out = set(named)
    if table.to_supabase:
        claimed = named | {b.page for b in s.base if b.page}
        out |= set(n.pages) - claimed
    if not table.to_notion:
        out |= {b.page for b in s.base if b.state == "linked" and b.page and
                b.row not in s.keys and b.page not in n.trashed}
    return out


def seed_key_sensitive(table: SyncTable, side: str) -> bool:
    """Whether the field `side`'s seeds are keyed by holds personal data."""
    name = table.seed_keys.get(side)
    f = next((f for f in table.fields if name in (f.property, f.column)), None)
    return bool(f and f.sensitive)


def _seed_places(item: SyncInput, world: World) -> dict[str, Any]:
    """Seed key → the page id of a seed row already present, or a reference to the page the
    plan will create for it."""
    table, places = item.table, {}
    marked = {b.seed: b.page for b in item.supabase.base if b.seed}
    for seed in table.seeds:
        page = marked.get(f"{seed.side}:{seed.key}") or _live_page_with_key(item, seed)
        places[seed.key] = page or sv.ref(world.seed_address(table, seed.side, seed.key))
    return places


def _live_page_with_key(item: SyncInput, seed: SeedRow) -> str | None:
    """The page of a live row holding the seed's key: a page whose key property, or a row whose
    key column, has it."""
    table = item.table
    prop = key_property(table, seed.side)
    column = key_column(table, seed.side)
    for page in item.notion.pages.values():
        if prop and key_text(page.values.get(prop)) == seed.key:
            return page.id
    for row in item.supabase.rows.values():
        if column and key_text(row.values.get(column)) == seed.key and row.page:
            return row.page
    return None


def key_property(table: SyncTable, side: str) -> str | None:
    name = table.seed_keys.get(side)
    f = next((f for f in table.fields if name in (f.property, f.column)), None)
    return f.property if f else None


def key_column(table: SyncTable, side: str) -> str | None:
    name = table.seed_keys.get(side)
    f = next((f for f in table.fields if name in (f.property, f.column)), None)
    return f.column if f else None


def key_text(value: Any) -> str | None:
    """A key field's value as the text seed keys are compared with (`12` for `12.0`)."""
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
