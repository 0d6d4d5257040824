"""The apply runner: check the plan, then carry it out through the backends, journaling each
change.

Order (STYLE.md §8 rule 9), with the project lock held by the caller from before the read
apply acts on (`session.Session.locked`): the stale check (every resource the plan read is
read again and its fingerprint compared; Terraform's "Saved plan is stale"); the destroy guard
(`--allow-destroy`); the plan's changes compiled again against that read, which must give
exactly the requests and SQL the plan shows; then the steps: each backend's schema steps, then
each backend's content steps. Within each, a backend whose schema steps run in one transaction
(`transactional`, Postgres) goes first: nothing another backend does depends on its steps
having run after theirs (mirrored tables follow the spec's Notion properties, not the live
ones), so a Postgres failure, rolled back, leaves every other system untouched. Every change
gets a journal line and a ledger line with its status: `applied`, `deferred` (schema lag),
`skipped` (`--content-only`), `manual-pending` (a step to do by hand). An apply that fails says
exactly how many changes were applied before the failure, per backend, and how many were not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import addresses
from reconciler.apply.journal import Journal
from reconciler.apply.ledger import Ledger
from reconciler.backends.base import Backend, Live
from reconciler.errors import ApplyError, PlanError, StalePlanError, UnsafePlanError
from reconciler.model.changes import ChangeBase, ManualChange, Phase
from reconciler.model.content import content_hash
from reconciler.plan.build import with_steps
from reconciler.plan.model import Plan

#: `on_applied(change, status)`: called once per change as it completes.
OnApplied = Callable[[ChangeBase, str], None]


@dataclass
class ApplyResult:
    """What apply did: counts per status (`applied`, `deferred`, `skipped`, `manual-pending`)."""

    counts: dict[str, int] = field(default_factory=dict)


def ledger_path(root: Path) -> Path:
    return root / ".reconciler" / "ledger.ndjson"


def journal_path(root: Path) -> Path:
    return root / ".reconciler" / "journal.ndjson"


def read_all(project: Any, backends: Sequence[Backend], *, since: str | None = None
             ) -> dict[str, Live]:
    """Every backend's read of the project, by address root. Raises `ReadError`."""
    return {b.root: b.read(project, since=since) for b in backends}


def fingerprints(reads: Mapping[str, Live]) -> dict[str, str]:
    return {k: v for live in reads.values() for k, v in live.fingerprints.items()}


def check_plan(plan: Plan, project: Any, backends: Sequence[Backend], *, allow_destroy: bool,
               reads: Mapping[str, Live] | None = None) -> Mapping[str, Live]:
    """Refuse a stale plan (a fingerprint changed), destructive changes without permission, or
    a plan whose SQL or requests are not what its changes compile to now.

    `reads` is the plan's own read when it was just made in this process; otherwise every
    backend reads again. Returns the read apply starts from. Raises `StalePlanError`,
    `UnsafePlanError`, `PlanError`.
    """
    if reads is None or fingerprints(reads) != plan.header.fingerprints:
        reads = read_all(project, backends)
    now = fingerprints(reads)
    changed = sorted(address for address, print_ in plan.header.fingerprints.items()
                     if now.get(address) != print_)
    if changed:
        raise StalePlanError(changed)
    if plan.destructive and not allow_destroy:
        raise UnsafePlanError([c.address for c in plan.destructive])
    bare = [c.model_copy(update={"sql": (), "requests": ()}) for c in plan.changes]
    for mine, again in zip(plan.changes, with_steps(bare, backends, project, reads)):
        if (mine.sql, mine.requests) != (again.sql, again.requests):
            raise PlanError(f"{mine.address}: the plan's SQL or requests are not what this change "
                            "compiles to: the plan file was edited, or made by another "
                            "reconciler. Run `reconciler plan` again.")
    return reads


def apply_plan(plan: Plan, project: Any, backends: Sequence[Backend], *, allow_destroy: bool,
               content_only: bool = False, on_applied: OnApplied = lambda c, s: None,
               reads: Mapping[str, Live] | None = None) -> ApplyResult:
    """Carry out `plan` (see the module docstring); the caller holds the project lock. Raises
    what `check_plan` raises, and `ApplyError` naming the change that failed."""
    reads = check_plan(plan, project, backends, allow_destroy=allow_destroy, reads=reads)
    return _run(plan, project, backends, reads, content_only, on_applied)


def _run(plan: Plan, project: Any, backends: Sequence[Backend], reads: Mapping[str, Live],
         content_only: bool, on_applied: OnApplied) -> ApplyResult:
    ledger = Ledger(ledger_path(project.root))
    journal = Journal(journal_path(project.root))
    result = ApplyResult()
    by_address = {c.address: c for c in plan.changes}
    reported: dict[str, str] = {}
    lock = threading.Lock()

    def report(address: str, status: str, **detail: Any) -> None:
        change = by_address[address]
        with lock:
            ledger.record(change, status, **detail)
            journal.done(address, status)
            result.counts[status] = result.counts.get(status, 0) + 1
            reported[address] = status
        on_applied(change, status)

    journal.begin(plan)
    for change in plan.changes:
        if isinstance(change, ManualChange):
            report(change.address, "manual-pending")
    runs = {b.root: b.executor(reads[b.root]) for b in backends}
    compiled = {b.root: b.compile([c for c in plan.changes if c.root == b.root], project,
                                  reads[b.root]) for b in backends}
    try:
        for content in (False, True):
            for backend in apply_order(backends):
                steps = [s for s in compiled[backend.root]
                         if (by_address[s.changes[0]].phase is Phase.CONTENT) is content]
                if not content and content_only:
                    for step in steps:
                        for address in step.changes:
                            report(address, "skipped", reason="--content-only")
                    continue
                if steps:
                    runs[backend.root].run(steps, report)
    except ApplyError as exc:
        raise ApplyError(exc.detail, applied=_done(result), address=exc.address,
                         account=account(plan, result, reported)) from None
    record_unchanged(plan, project, backends, reads, ledger)
    journal.end("complete")
    return result


def apply_order(backends: Sequence[Backend]) -> list[Backend]:
    """`backends` with those whose schema steps run in one transaction first (a stable sort)."""
    return sorted(backends, key=lambda b: not getattr(b, "transactional", False))


def _done(result: ApplyResult) -> int:
    return result.counts.get("applied", 0) + result.counts.get("deferred", 0)


def account(plan: Plan, result: ApplyResult, reported: Mapping[str, str]) -> str:
    """What a failed apply did and did not do: `N change(s) applied before the failure (…),
    M not applied`, per backend, and where the details are."""
    by_root: dict[str, int] = {}
    for address, status in reported.items():
        if status in ("applied", "deferred"):
            root = address.split(".", 1)[0]
            by_root[root] = by_root.get(root, 0) + 1
    applied = _done(result)
    left = len(plan.changes) - len(reported)
    where = ", ".join(f"{n} in {root}" for root, n in sorted(by_root.items()))
    return (f"{applied} change(s) applied before the failure" + (f" ({where})" if where else "")
            + f"; {left} not applied (the failed change, any rolled back with it, and every "
            "change after it). Each is listed in .reconciler/journal.ndjson; "
            "`reconciler plan` shows what is left to do.")


def record_unchanged(plan: Plan, project: Any, backends: Sequence[Backend],
                     reads: Mapping[str, Live], ledger: Ledger | None = None) -> None:
    """One ledger line (`skipped`, reason `unchanged`) per source row whose live row already
    matches: the rows an apply left as they were."""
    ledger = ledger or Ledger(ledger_path(project.root))
    planned = {c.address for c in plan.changes}
    for backend in backends:
        for content in backend.content_sets(project):
            rows = reads[backend.root].rows.get(content.address, {})
            for row in content.rows:
                want = content_hash(row.values, exclude=content.hash_field)
                have = rows.get(row.key)
                address = addresses.child(content.address, backend.row_noun, row.key)
                if have is not None and address not in planned and \
                        have.values.get(content.hash_field) == want:
                    ledger.record_row(address, "skipped", hash=want, reason="unchanged")
