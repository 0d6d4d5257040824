"""The two-way sync as the plan builder and the apply runner use it: a differ over two backends'
reads, and the check of a plan's sync changes against a fresh read. Pure.

`plan_sync(project, reads, prune)` gathers each synced table's sides from the reads (the Notion
backend's `Live.sync` and the Postgres backend's, by table address) and runs `diff.sync`.
`stale_sync(changes, project, reads)` names the sync changes whose page or row was edited after
the plan was made (point 5 of issue 11: reported as stale and not overwritten): a page or row the
fresh read holds with values other than the ones the plan saw, a row inserted or linked
meanwhile, or a change whose source (the row a page write copies, the page a row write copies)
now holds other values than the ones the plan would write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import addresses
from reconciler.addresses import matches
from reconciler.diff import sync_values as sv
from reconciler.diff.sync import SyncDiff, SyncInput, diff_sync
from reconciler.model.changes import (ArchivePage, ChangeBase, CreatePage, DeleteRow, InsertRow,
                                      SyncChange, UpdatePage, UpdateRow, UpdateSyncBase)
from reconciler.model.sync import FlowCounts, NotionSide, PostgresSide, SyncSummary, SyncTable


def sync_inputs(project: Any, reads: Mapping[str, Any]) -> list[SyncInput]:
    """Each synced table with the two sides the backends read for it."""
    notion = getattr(reads.get("notion"), "sync", {}) or {}
    postgres = getattr(reads.get("supabase"), "sync", {}) or {}
    return [SyncInput(t, notion.get(t.address) or NotionSide(),
                      postgres.get(t.address) or PostgresSide())
            for t in getattr(project, "sync", ())]


def plan_sync(project: Any, reads: Mapping[str, Any], *, prune: bool = False) -> SyncDiff:
    """The sync changes, summaries and problems of the project (`diff.sync.diff_sync`)."""
    inputs = sync_inputs(project, reads)
    if not inputs:
        return SyncDiff()
    check = next((i.supabase.check_value for i in inputs if i.supabase.check_value), None)
    sealer = getattr(project, "sealer", None)
    return diff_sync(inputs, prune=prune, check_column=check or (lambda v, t: v),
                     name=sealer.name if sealer is not None else None)


def stale_sync(changes: Sequence[ChangeBase], project: Any, reads: Mapping[str, Any]
               ) -> dict[str, str]:
    """Address → why, for each sync change whose page or row changed since the plan read it."""
    inputs = {i.table.address: i for i in sync_inputs(project, reads)}
    by_db = {i.table.database: i for i in inputs.values()}
    out = {}
    for change in changes:
        if getattr(change, "sync", None) is None:
            continue
        item = by_db.get(getattr(change, "database", "")) or \
            inputs.get(getattr(getattr(change, "table", None), "address", ""))
        why = _stale(change, item) if item is not None else None
        if why:
            out[change.address] = why
    return out


def _stale(change: ChangeBase, item: SyncInput) -> str | None:
    return _written_stale(change, item) or _source_stale(change, item)


def _source_stale(change: ChangeBase, item: SyncInput) -> str | None:
    """Why a change's values are no longer its source's: the Supabase row (of a page write) or
    the Notion page (of a row write) it copies was edited after the plan to other values. Only
    a source the fresh read holds is compared (one it did not read was not edited since);
    sensitive fields are left to `apply.sealed`, which refuses the plan."""
    table, source = item.table, change.sync.source  # type: ignore[attr-defined]
    after = getattr(change, "after", None)
    if after is None or not source.startswith((table.address + ".", f"notion.{table.database}.")):
        return None
    try:
        kind, key = addresses.parse(source)[1][-1]
    except (ValueError, IndexError):
        return None
    to_notion = isinstance(change, (UpdatePage, CreatePage))
    if to_notion and kind == "row" and key in item.supabase.rows:
        now, side = item.supabase.rows[key].values, "its Supabase row"
    elif not to_notion and kind == "page" and key in item.notion.pages:
        now, side = item.notion.pages[key].values, "its Notion page"
    else:
        return None
    for f in table.fields:
        name = f.property if to_notion else f.column
        if f.sensitive or name not in after.values or not (f.to_notion if to_notion
                                                           else f.to_supabase):
            continue
        planned = after.values[name]
        if sv.is_ref(planned) or _has_ref(planned):
            continue
        planned = sv.from_notion(f, planned) if to_notion else sv.from_supabase(f, planned)
        current = sv.from_supabase(f, now.get(f.column)) if to_notion else \
            sv.from_notion(f, now.get(f.property))
        if planned != current:
            return (f"{side} (the source of {name}) was edited after the plan: left alone; "
                    "the next plan carries the new value")
    return None


def _has_ref(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and any(
        sv.is_ref(v) or (isinstance(v, dict) and "key" in v) for v in value)


def _written_stale(change: ChangeBase, item: SyncInput) -> str | None:
    """Why the page or row a change writes is no longer as the plan read it."""
    table, n, s = item.table, item.notion, item.supabase
    if isinstance(change, (UpdatePage, ArchivePage)):
        page = n.pages.get(change.before.id or "")
        if page is None:
            return "trashed in Notion after the plan" if change.before.id in n.trashed else None
        if isinstance(change, ArchivePage):
            return None
        return "edited in Notion after the plan" if _differs(
            table, change.before.values, page.values, notion=True) else None
    if isinstance(change, UpdateRow):
        row = s.rows.get(change.before.key or "")
        if row is None:
            return None if change.before.key in s.keys else "deleted in Supabase after the plan"
        return "edited in Supabase after the plan" if _differs(
            table, change.before.values, row.values, notion=False) else None
    if isinstance(change, InsertRow):
        page = change.after.values.get("notion_page_id")
        if change.after.key in s.keys or (isinstance(page, str) and page in s.keys.values()):
            return "a row for this page was inserted in Supabase after the plan"
    if isinstance(change, CreatePage) and change.sync.source.startswith(table.address):
        row = change.after.key or ""
        linked = s.keys.get(row)
        # the page the base paired the row with, or a page trashed (under supabase_to_notion
        # the copy is created again), is what the plan saw; only another page is a new link
        known = next((b.page for b in s.base if b.row == row), None)
        if linked and linked != known and linked not in n.trashed:
            return "the row was linked to a page after the plan"
    return None


def _differs(table: SyncTable, planned: Mapping[str, Any], now: Mapping[str, Any], *,
             notion: bool) -> bool:
    for name, value in planned.items():
        f = next((f for f in table.fields if name == (f.property if notion else f.column)), None)
        if f is None:
            continue
        convert = sv.from_notion if notion else sv.from_supabase
        if convert(f, value) != convert(f, now.get(name)):
            return True
    return False


def _table_of(change: ChangeBase, summaries: Mapping[str, SyncSummary]) -> str | None:
    """The address of the synced table a sync change belongs to (None: not a sync change)."""
    if getattr(change, "sync", None) is None and not isinstance(change, SyncChange):
        return None
    table = getattr(getattr(change, "table", None), "address", None)
    if table in summaries:
        return table
    database = getattr(change, "database", None)
    return next((a for a, s in summaries.items() if s.database == database), None)


def reached_tables(summaries: Mapping[str, SyncSummary], targets: Sequence[str]) -> set[str]:
    """The synced tables a `--target` reaches as a whole: the target is the table or its
    Notion database, or holds one of them (`supabase.public`, `notion`)."""
    return {address for address, s in summaries.items()
            if any(matches(address, t) or matches(f"notion.{s.database}", t) for t in targets)}


def targeted_sync(changes: Sequence[ChangeBase], summaries: Mapping[str, SyncSummary],
                  targets: Sequence[str], selected: Sequence[ChangeBase]
                  ) -> tuple[list[ChangeBase], dict[str, SyncSummary]]:
    """`(selected changes, summaries)` of a targeted plan. A table the targets reach as a
    whole (`reached_tables`) brings every one of its sync changes, both directions and its
    base, so its apply syncs all it read; a table reached only in part (a row, its base) keeps
    its summary counted again from the selected changes, so the summary says only what the
    plan does; a table not reached has no summary. All unchanged when `targets` is empty."""
    if not targets:
        return list(selected), dict(summaries)
    whole = reached_tables(summaries, targets)
    have = {c.address for c in selected}
    out = list(selected) + [c for c in changes if c.address not in have
                            and _table_of(c, summaries) in whole]
    kept = {c.address for c in out}
    left_out = {row for c in changes if c.address not in kept
                for row in [_deleted_row(c)] if row is not None}
    if left_out:  # a base keeps the rows whose delete this plan leaves out: they are still pairs
        out = [c.model_copy(update={"drop": tuple(r for r in c.drop if r not in left_out)})
               if isinstance(c, UpdateSyncBase) else c for c in out]
    shown: dict[str, SyncSummary] = {}
    for address, summary in summaries.items():
        mine = [c for c in out if _table_of(c, summaries) == address]
        if address in whole:
            shown[address] = summary
        elif mine:
            shown[address] = _recount(summary, mine)
    return out, shown


def _deleted_row(change: ChangeBase) -> str | None:
    """The Supabase row id whose pair a `--prune` delete ends (a row deleted because its page
    was trashed, or the page of a deleted row archived), else None."""
    if isinstance(change, DeleteRow) and change.sync is not None:
        return change.before.id
    if isinstance(change, ArchivePage) and change.sync is not None:
        try:
            _, parts = addresses.parse(change.sync.source)
        except ValueError:
            return None
        return next((name for element, name in parts if element == "row"), None)
    return None


def _recount(summary: SyncSummary, changes: Sequence[ChangeBase]) -> SyncSummary:
    """`summary` counting only `changes` (a part of the table's changes)."""
    kinds = Counter(c.kind for c in changes)  # type: ignore[attr-defined]
    rows = {getattr(c, "address") for c in changes}
    return SyncSummary(
        database=summary.database, direction=summary.direction, policy=summary.policy,
        to_supabase=FlowCounts(create=kinds["insert_row"], update=kinds["update_row"],
                               delete=kinds["delete_row"]),
        to_notion=FlowCounts(create=kinds["create_page"], update=kinds["update_page"],
                             delete=kinds["archive_page"]),
        conflicts=tuple(c for c in summary.conflicts if any(
            str(c.get("row")) in a or str(c.get("page")) in a for a in rows)),
        **({"unlinked": summary.unlinked, "unlinks": summary.unlinks}
           if kinds["update_sync_base"] else {}),
        read=summary.read)
