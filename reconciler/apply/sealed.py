"""Apply and sealed plans: open a plan's sensitive values from their sources, and keep them out
of the ledger.

A plan holds keyed digests of its sensitive values (`plan.seal`). Before anything is written,
`open_plan` checks the plan was sealed under this project's digest key, diffs the live state it
just read and the project's sources again (`plan.build.fresh_changes`) and takes every sealed
value from there, refusing the plan when one no longer matches its digest. `ledger_detail`
turns what the executors report about a change into what the ledger may hold: content hashes
over sensitive values digested, text masked (`reconciler.redact`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import DigestKeyError, PlanError, SensitiveValueError
from reconciler.model.changes import ArchivePage, ChangeBase, DeleteRow, UpdateSyncBase
from reconciler.model.content import RowState
from reconciler.plan.build import fresh_changes
from reconciler.plan.model import Plan
from reconciler.plan.seal import Opened, is_sealed, open_changes
from reconciler.redact import redact

#: Ledger details that hold a content hash (`apply.ledger.Ledger`).
HASH_DETAILS = ("hash", "desired_hash", "stored_hash")


def open_plan(plan: Plan, project: Any, backends: Sequence[Any], reads: Mapping[str, Any]
              ) -> Opened:
    """`plan`'s changes with their sealed values read again from the sources (see the module
    docstring). Raises `DigestKeyError` for a plan sealed under another key,
    `SensitiveValueError` naming each value changed since the plan, `PlanError` when the
    project has no digest key."""
    if not any(is_sealed(c) for c in plan.changes):
        return Opened(list(plan.changes))
    sealer = getattr(project, "sealer", None)
    if sealer is None:
        raise PlanError("the plan holds sensitive values and the project has no digest key")
    if plan.header.digest_key != sealer.key_id:
        raise DigestKeyError(plan.header.digest_key, sealer.key_id)
    prune = any(isinstance(c, (ArchivePage, DeleteRow)) for c in plan.changes)
    opened = open_changes(plan.changes, fresh_changes(project, backends, reads, prune=prune),
                          sealer)
    if opened.changed:
        raise SensitiveValueError(opened.changed)
    return opened


def reveal_plan(plan: Plan, project: Any, backends: Sequence[Any], reads: Mapping[str, Any]
                ) -> Plan:
    """`plan` with every sealed value whose source still holds it read from there (`show
    --reveal`); a value changed since the plan stays sealed. Raises `DigestKeyError` for a plan
    sealed under another key."""
    sealer = getattr(project, "sealer", None)
    if sealer is None or not any(is_sealed(c) for c in plan.changes):
        return plan
    if plan.header.digest_key != sealer.key_id:
        raise DigestKeyError(plan.header.digest_key, sealer.key_id)
    prune = any(isinstance(c, (ArchivePage, DeleteRow)) for c in plan.changes)
    opened = open_changes(plan.changes, fresh_changes(project, backends, reads, prune=prune),
                          sealer)
    return plan.model_copy(update={"changes": tuple(opened.changes)})


def _sensitive(change: ChangeBase) -> bool:
    rows = [getattr(change, n, None) for n in ("before", "after")]
    return any(isinstance(r, RowState) and r.has_sensitive for r in rows) or \
        (isinstance(change, UpdateSyncBase) and any(p.sensitive for p in change.pairs))


def ledger_detail(change: ChangeBase, detail: Mapping[str, Any], sealer: Any
                  ) -> dict[str, Any]:
    """`detail` as the ledger may hold it: for a change of a row with sensitive values, its
    content hashes as keyed digests (as the plan shows them); every text masked."""
    digest = sealer is not None and _sensitive(change)
    out = {}
    for name, value in detail.items():
        if digest and name in HASH_DETAILS and isinstance(value, str):
            value = sealer.hash_digest(change.address, value)
        elif isinstance(value, str):
            value = redact(value)
        out[name] = value
    return out
