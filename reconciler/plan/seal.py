"""Sealing a plan's personal data, and opening it again for apply. Pure.

The diffs mark what is personal data (`RowState.sensitive`, `sensitive_key`;
`FieldConflict.sensitive`; `BasePair.sensitive`, `sensitive_seed`; a sync summary's conflict
with `sensitive`); `seal_changes` and `seal_summaries` replace each marked value with its keyed
digest (`model.sensitive.Sealer`) and set `sealed`, so the plan (file, views, journal, ledger)
never holds the value. The plan builder seals every plan it makes.

`open_changes` is apply's way back: each sealed change is matched with the change a fresh diff
of the live state and the sources gives at the same address (`plan.build.fresh_changes`), and
every sealed value is taken from there once its digest is the plan's. A value whose digest
differs was changed since the plan was reviewed: in `after` (what apply would write: a content
file edited, the other side of a sync edited) apply refuses the plan; in `before` of a sync
change (its page or row was edited after the plan) the change is stale, left alone like any sync
change overtaken by an edit. Conflicts stay sealed: apply does not need their values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from reconciler.model.changes import ChangeBase, SyncChange, UpdateSyncBase
from reconciler.model.content import RowState
from reconciler.model.sensitive import Sealer
from reconciler.model.sync import BasePair, FieldConflict, SyncSummary

_MISSING: Any = object()


# --- sealing -----------------------------------------------------------------------------------


def _seal_row(row: RowState, address: str, sealer: Sealer) -> RowState:
    if row.sealed or not row.has_sensitive:
        return row
    values = {f: sealer.value(address, f, v) if f in row.sensitive else v
              for f, v in row.values.items()}
    key = sealer.key_digest(address, row.key) if row.sensitive_key and row.key is not None \
        else row.key
    hash_ = sealer.hash_digest(address, row.hash) if row.hash is not None else None
    return row.model_copy(update={"values": values, "key": key, "hash": hash_, "sealed": True})


def _seal_conflict(conflict: FieldConflict, address: str, sealer: Sealer) -> FieldConflict:
    if conflict.sealed or not conflict.sensitive:
        return conflict
    return conflict.model_copy(update={
        side: None if getattr(conflict, side) is None else
        sealer.value(address, conflict.field, getattr(conflict, side))
        for side in ("notion", "supabase", "base")} | {"sealed": True})


def _seal_pair(pair: BasePair, address: str, sealer: Sealer) -> BasePair:
    if pair.sealed or not (pair.sensitive or pair.sensitive_seed):
        return pair
    where = f"{address}/{pair.row}"
    values = {c: sealer.value(where, c, v) if c in pair.sensitive else v
              for c, v in pair.values.items()}
    seed = sealer.key_digest(where, pair.seed) if pair.sensitive_seed and pair.seed else pair.seed
    return pair.model_copy(update={"values": values, "seed": seed, "sealed": True})


_SEALERS = {RowState: _seal_row, FieldConflict: _seal_conflict, BasePair: _seal_pair}


def _sealed(item: Any, address: str, sealer: Sealer) -> Any:
    """`item` with every `RowState`, `FieldConflict` and `BasePair` inside it sealed (the
    same object when nothing in it is sensitive)."""
    seal = _SEALERS.get(type(item))
    if seal is not None:
        return seal(item, address, sealer)
    if isinstance(item, BaseModel):
        updates = {}
        for name in type(item).model_fields:
            value = getattr(item, name)
            new = _sealed(value, address, sealer)
            if new is not value:
                updates[name] = new
        return item.model_copy(update=updates) if updates else item
    if isinstance(item, tuple):
        items = tuple(_sealed(v, address, sealer) for v in item)
        return items if any(a is not b for a, b in zip(items, item)) else item
    return item


def _marked(item: Any) -> bool:
    """Whether `item` holds personal data not sealed yet."""
    if isinstance(item, RowState):
        return item.has_sensitive and not item.sealed
    if isinstance(item, FieldConflict):
        return item.sensitive and not item.sealed
    if isinstance(item, BasePair):
        return (bool(item.sensitive) or item.sensitive_seed) and not item.sealed
    if isinstance(item, BaseModel):
        return any(_marked(getattr(item, name)) for name in type(item).model_fields)
    return isinstance(item, tuple) and any(_marked(v) for v in item)


def needs_sealing(changes: Sequence[ChangeBase], summaries: Mapping[str, SyncSummary]) -> bool:
    """Whether anything in `changes` or `summaries` is marked as personal data (a plan then
    needs the digest key)."""
    return any(_marked(c) for c in changes) or \
        any(c.get("sensitive") for s in summaries.values() for c in s.conflicts)


def seal_changes(changes: Sequence[ChangeBase], sealer: Sealer) -> list[ChangeBase]:
    """`changes` with their personal data sealed (see the module docstring)."""
    return [_sealed(c, c.address, sealer) for c in changes]


def seal_summaries(summaries: Mapping[str, SyncSummary], sealer: Sealer
                   ) -> dict[str, SyncSummary]:
    """Sync summaries whose conflicts on sensitive fields show digests instead of values."""
    out = {}
    for address, summary in summaries.items():
        conflicts = tuple(_seal_shown(c, address, sealer) for c in summary.conflicts)
        out[address] = summary.model_copy(update={"conflicts": conflicts})
    return out


def _seal_shown(conflict: dict[str, Any], address: str, sealer: Sealer) -> dict[str, Any]:
    if not conflict.get("sensitive") or conflict.get("sealed"):
        return conflict
    where = f"{address}/{conflict.get('row')}"
    return {**conflict, "sealed": True, **{
        side: None if conflict.get(side) is None else
        sealer.value(where, str(conflict.get("field")), conflict[side])
        for side in ("notion", "supabase", "base")}}


def is_sealed(change: ChangeBase) -> bool:
    """Whether `change` holds sealed values apply must open (rows and base pairs)."""
    rows = [getattr(change, n, None) for n in ("before", "after")]
    return any(isinstance(r, RowState) and r.sealed for r in rows) or \
        (isinstance(change, UpdateSyncBase) and any(p.sealed for p in change.pairs))


# --- opening -----------------------------------------------------------------------------------


@dataclass
class Opened:
    """A plan's changes opened for apply: `changes` in plan order (sealed values taken from the
    sources), `stale` (sync changes whose page or row was edited after the plan: address → why) and
    `changed` (`address: field` of every value to write whose source changed since the plan;
    apply refuses the plan when there is one)."""

    changes: list[ChangeBase] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)


def open_changes(sealed: Sequence[ChangeBase], fresh: Mapping[str, ChangeBase],
                 sealer: Sealer) -> Opened:
    """`sealed` (a plan's changes) opened with `fresh` (the changes a diff of the live state
    and the sources gives now, by address); see the module docstring."""
    out = Opened()
    for change in sealed:
        if not is_sealed(change):
            out.changes.append(change)
            continue
        again = fresh.get(change.address)
        if again is None or again.kind != change.kind:  # type: ignore[attr-defined]
            if _is_sync(change):
                out.stale[change.address] = "not what a fresh read of both sides gives any " \
                    "more (edited after the plan)"
            else:
                out.changed.append(f"{change.address} (no longer planned)")
            out.changes.append(change)
            continue
        opened, before, after = _open_change(change, again, sealer)
        out.changes.append(opened)
        out.changed += [f"{change.address}: {f}" for f in after]
        if before and _is_sync(change):
            out.stale[change.address] = "edited after the plan (a sensitive field)"
        elif before:
            out.changed += [f"{change.address}: {f} (live)" for f in before]
    return out


def _is_sync(change: ChangeBase) -> bool:
    return getattr(change, "sync", None) is not None or isinstance(change, SyncChange)


def _open_change(change: ChangeBase, again: ChangeBase, sealer: Sealer
                 ) -> tuple[ChangeBase, list[str], list[str]]:
    """The change opened, and the fields whose digest differs in `before` and in `after`."""
    updates: dict[str, Any] = {}
    bad: dict[str, list[str]] = {"before": [], "after": []}
    for name in ("before", "after"):
        row = getattr(change, name, None)
        if isinstance(row, RowState) and row.sealed:
            updates[name], bad[name] = _open_row(row, getattr(again, name, None),
                                                 change.address, sealer)
    if isinstance(change, UpdateSyncBase) and isinstance(again, UpdateSyncBase):
        fresh = {p.row: p for p in again.pairs}
        pairs = [_open_pair(p, fresh.get(p.row), change.address, sealer) if p.sealed else p
                 for p in change.pairs]
        updates["pairs"] = tuple(p for p in pairs if p is not None)  # unopened: not recorded
    return change.model_copy(update=updates), bad["before"], bad["after"]


def _open_row(row: RowState, fresh: Any, address: str, sealer: Sealer
              ) -> tuple[RowState, list[str]]:
    if not isinstance(fresh, RowState):
        return row, ["(the row)"]
    values, bad = dict(row.values), []
    for name in row.sensitive:
        if name not in row.values:
            continue
        value = fresh.values.get(name, _MISSING)
        if value is _MISSING or sealer.value(address, name, value) != row.values[name]:
            bad.append(name)
        else:
            values[name] = value
    key, hash_ = row.key, row.hash
    if row.sensitive_key and row.key is not None:
        if fresh.key is None or sealer.key_digest(address, fresh.key) != row.key:
            bad.append("key")
        key = fresh.key
    if row.hash is not None:
        if fresh.hash is None or sealer.hash_digest(address, fresh.hash) != row.hash:
            bad.append("content hash")
        hash_ = fresh.hash
    opened = row.model_copy(update={"values": values, "key": key, "hash": hash_,
                                    "sealed": False})
    return (row if bad else opened), bad


def _open_pair(pair: BasePair, fresh: BasePair | None, address: str, sealer: Sealer
               ) -> BasePair | None:
    """The pair opened, or None when a value of it changed since the plan (the base row is then
    not recorded: the next plan merges against the base as it was)."""
    if fresh is None:
        return None
    where = f"{address}/{pair.row}"
    values = dict(pair.values)
    for name in pair.sensitive:
        if name not in pair.values:
            continue
        value = fresh.values.get(name, _MISSING)
        if value is _MISSING or sealer.value(where, name, value) != pair.values[name]:
            return None
        values[name] = value
    seed = pair.seed
    if pair.sensitive_seed and pair.seed:
        if not fresh.seed or sealer.key_digest(where, fresh.seed) != pair.seed:
            return None
        seed = fresh.seed
    return pair.model_copy(update={"values": values, "seed": seed, "sealed": False})
