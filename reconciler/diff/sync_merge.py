"""The field-level three-way merge of one row pair (a page and its row) against the base. Pure.

For each synced field: equal values need nothing; a value changed on one side only since the
last sync (the base) flows to the other side; a value changed on both sides is a conflict,
resolved by the table's policy (`latest`: the later edit wins, a tie goes to Notion as in seed
001; `notion_wins`; `supabase_wins`; `manual`: left alone and listed) unless `sync.resolve`
settles it. One-way tables never conflict: the source side wins and edits on the other side are
reverted. A field whose values may not flow a way (a formula only flows to Supabase) keeps the
side that may write it.

Ties: Notion's `last_edited_time` has minute precision (NOTION-API.md §1.1), so both stamps are
compared as UTC minutes; two edits within the same minute are a tie, and a tie goes to Notion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.diff.sync_values import instant
from reconciler.model.sync import FieldConflict, SyncField, SyncTable

#: A field absent from the base (a first sync, or a field added since).
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


@dataclass
class Merged:
    """What merging one pair gives: values to write to each side (column → sync form), the
    base values after (column → sync form), conflicts (resolved or manual)."""

    to_notion: dict[str, Any] = field(default_factory=dict)
    to_supabase: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)

    @property
    def manual(self) -> list[FieldConflict]:
        return [c for c in self.conflicts if c.resolution == "manual"]


def minute(stamp: str | None) -> str:
    """A timestamp as the UTC minute it falls in (`""` when unknown: older than any stamp)."""
    return instant(stamp) or ""


def later_side(notion_stamp: str | None, supabase_stamp: str | None) -> tuple[str, str]:
    """The side whose edit is later, comparing UTC minutes, and why. A tie goes to Notion."""
    n, s = minute(notion_stamp), minute(supabase_stamp)
    if s > n:
        return "supabase", f"Supabase was edited later ({s} > {n or 'unknown'})"
    if n > s:
        return "notion", f"Notion was edited later ({n} > {s or 'unknown'})"
    return "notion", f"both edited in the same minute ({n}): a tie goes to Notion"


def _policy(table: SyncTable, notion_stamp: str | None, supabase_stamp: str | None
            ) -> tuple[str, str]:
    if table.conflicts == "latest":
        return later_side(notion_stamp, supabase_stamp)
    if table.conflicts == "manual":
        return "manual", "conflicts: manual"
    side = table.conflicts.removesuffix("_wins")
    return side, f"conflicts: {table.conflicts}"


def merge_pair(table: SyncTable, base: dict[str, Any] | None, notion: dict[str, Any],
               supabase: dict[str, Any], stamps: tuple[str | None, str | None],
               resolved: dict[str, str]) -> Merged:
    """Merge one pair. `notion` / `supabase`: column → sync-form value of each side (a side not
    read since the last sync holds the base); `base`: column → value last synced (None: never
    synced); `stamps`: (Notion `last_edited_time`, Postgres `updated_at`); `resolved`: column →
    side settled in YAML."""
    out = Merged()
    for f in table.fields:
        before = MISSING if base is None else base.get(f.column, MISSING)
        n, s = notion.get(f.column), supabase.get(f.column)
        if n == s:
            out.base[f.column] = n
            continue
        winner, conflict = _winner(table, f, before, n, s, stamps, resolved.get(f.column))
        if conflict is not None:
            out.conflicts.append(conflict)
        if winner == "manual":
            if before is not MISSING:
                out.base[f.column] = before
            continue
        value = n if winner == "notion" else s
        out.base[f.column] = value
        if winner == "notion" and f.to_supabase:
            out.to_supabase[f.column] = n
        elif winner == "supabase" and f.to_notion:
            out.to_notion[f.column] = s
    return out


def _winner(table: SyncTable, f: SyncField, before: Any, n: Any, s: Any,
            stamps: tuple[str | None, str | None], settled: str | None
            ) -> tuple[str, FieldConflict | None]:
    """Which side's value of `f` stands, and the conflict when both sides changed it."""
    only = _only_side(table, f)
    if only is not None:
        return only, None
    n_changed = before is MISSING or n != before
    s_changed = before is MISSING or s != before
    if n_changed != s_changed:
        return ("notion" if n_changed else "supabase"), None
    if settled is not None:
        side, reason = settled, "resolved in YAML (sync.resolve)"
    else:
        side, reason = _policy(table, *stamps)
    conflict = FieldConflict(field=f.column, notion=n, supabase=s,
                             base=None if before is MISSING else before,
                             notion_edited=stamps[0], supabase_edited=stamps[1],
                             resolution=side, reason=reason, sensitive=f.sensitive)
    return side, conflict


def _only_side(table: SyncTable, f: SyncField) -> str | None:
    """The side that always wins `f`: the source of a one-way table, or the only side that may
    write the field."""
    if not table.to_notion or not f.to_notion:
        return "notion"
    if not table.to_supabase or not f.to_supabase:
        return "supabase"
    return None
