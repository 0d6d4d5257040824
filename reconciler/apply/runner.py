"""The apply runner: check the plan, then carry it out through the backends, journaling each
change.

Order (STYLE.md §8 rule 9), with the project lock held by the caller from before the read
apply acts on (`session.Session.locked`): the identity check (each backend is still the system
the plan was made for: `PlanHeader.identities`); the stale check (every resource the plan read
is read again and its fingerprint compared; Terraform's "Saved plan is stale"; when the journal
shows this very plan applied, that is said instead); the destroy guard
(`--allow-destroy`); the plan's changes compiled again against that read, which must give
exactly the requests and SQL the plan shows; then the steps, stage by stage and in each stage
backend by backend: schema steps, steps that must precede content (the sync recording the
pages it is about to create), content steps, steps that use what content steps learnt (the sync
writing rows and page ids to Postgres after Notion's pages exist). In each stage a backend
whose schema steps run in one transaction (`transactional`: Postgres) goes first
(`apply_order`): no other backend's step of that stage depends on its steps having run after
theirs (mirrored tables follow the spec's Notion properties, not the live ones), so a Postgres
failure, rolled back, leaves every other system untouched. One table of what the apply learnt
(`backends.base.Known`: created pages' ids, each change's outcome) is shared by every executor.
Sync changes whose page or row a fresh read shows was edited after the plan are not carried out
(`stale`). A plan whose sync trips a circuit breaker needs `force`. Every change gets a journal
line and a ledger line with its status: `applied`, `deferred` (schema lag), `skipped`
(`--content-only`), `waiting` (a row whose table or key column the skipped schema changes would
have made: not written), `manual-pending` (a step to do by hand), `stale`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import addresses
from reconciler.apply.journal import Journal, completed_run, plan_digest
from reconciler.apply.ledger import Ledger
from reconciler.backends.base import Backend, Known, Live
from reconciler.errors import (AlreadyAppliedError, ApplyError, CircuitBreakerError, PlanError,
                               StalePlanError, IdentityMismatchError, UnsafePlanError, relative)
from reconciler.apply.sealed import ledger_detail, open_plan
from reconciler.model.changes import Action, ChangeBase, Phase
from reconciler.model.sensitive import row_namer
from reconciler.plan.build import stale_changes, with_steps
from reconciler.plan.model import Plan
from reconciler.plan.seal import Opened
from reconciler.redact import redact

#: Apply stages: a step's `stage` attribute, else schema or content by its change's phase.
SCHEMA, BEFORE_CONTENT, CONTENT, AFTER_CONTENT = 0, 1, 2, 3

#: `on_applied(change, status)`: called once per change as it completes.
OnApplied = Callable[[ChangeBase, str], None]


@dataclass
class ApplyResult:
    """What apply did: counts per status (`applied`, `deferred`, `skipped`, `waiting`,
    `manual-pending`, `stale`)."""

    counts: dict[str, int] = field(default_factory=dict)


def ledger_path(root: Path) -> Path:
    return root / ".reconciler" / "ledger.ndjson"


def journal_path(root: Path) -> Path:
    return root / ".reconciler" / "journal.ndjson"


def read_all(project: Any, backends: Sequence[Backend], *, since: str | None = None,
             check: bool = False) -> dict[str, Live]:
    """Every backend's read of the project, by address root (`check`: for a stale check,
    see `backends.base`); a backend with `reads_after` reads after the others and gets their
    reads (`earlier`). Raises `ReadError`."""
    reads: dict[str, Live] = {}
    for backend in sorted(backends, key=lambda b: bool(getattr(b, "reads_after", ()))):
        reads[backend.root] = backend.read(project, since=since, check=check,
                                           earlier=dict(reads))
    return {b.root: reads[b.root] for b in backends}


def fingerprints(reads: Mapping[str, Live]) -> dict[str, str]:
    return {k: v for live in reads.values() for k, v in live.fingerprints.items()}


@dataclass
class Checked:
    """A plan checked for apply: the read apply starts from, and the plan's changes opened
    (`plan.seal.Opened`: sensitive values read again from their sources, sync changes whose
    page or row a sensitive edit overtook)."""

    reads: Mapping[str, Live]
    opened: Opened


def check_plan(plan: Plan, project: Any, backends: Sequence[Backend], *, allow_destroy: bool,
               reads: Mapping[str, Live] | None = None, force: bool = False) -> Checked:
    """Refuse a stale plan (a fingerprint changed), destructive changes without permission, a
    sync that trips a circuit breaker without `force`, a plan sealed under another digest key
    or whose sensitive values changed at their source since it was made (`apply.sealed`), a
    plan whose SQL or requests are not what its changes compile to now, or whose writes a
    backend's last check refuses (`check_writes`: Postgres rows against foreign keys).

    `reads` is the plan's own read when it was just made in this process; otherwise every
    backend reads again. Raises `IdentityMismatchError`, `AlreadyAppliedError`,
    `StalePlanError`, `UnsafePlanError`, `CircuitBreakerError`, `SensitiveValueError`,
    `PlanError`.
    """
    if reads is None or fingerprints(reads) != plan.header.fingerprints:
        reads = read_all(project, backends, check=True)
    now = fingerprints(reads)
    check_identity(plan, backends, reads, now)
    changed = sorted(address for address, print_ in plan.header.fingerprints.items()
                     if now.get(address) != print_)
    if changed:
        done = completed_run(journal_path(project.root), plan_digest(plan))
        if done is not None:
            raise AlreadyAppliedError(done.ended_at, done.run_id,
                                      relative(journal_path(project.root), project.root))
        raise StalePlanError(changed)
    if plan.destructive and not allow_destroy:
        raise UnsafePlanError([c.address for c in plan.destructive])
    if plan.breakers and not force:
        raise CircuitBreakerError(plan.breakers)
    opened = open_plan(plan, project, backends, reads)
    runnable = [c for c in opened.changes if c.address not in opened.stale]
    bare = [c.model_copy(update={"sql": (), "requests": ()}) if c.sql or c.requests else c
            for c in runnable]
    for mine, again in zip(runnable, with_steps(bare, backends, project, reads)):
        if (mine.sql, mine.requests) != (again.sql, again.requests):
            why = "the spec changed since the plan was made" \
                if plan.header.spec_hash != project.spec_hash else "the plan file was edited"
            raise PlanError(f"{mine.address}: the plan's SQL or requests are not what this change "
                            f"compiles to now ({why}). Run `reconciler plan` again.")
    for backend in backends:  # what the fingerprints do not cover (Postgres: foreign keys)
        check = getattr(backend, "check_writes", None)
        if check is not None:
            check([c for c in runnable if c.root == backend.root], reads[backend.root])
    return Checked(reads, opened)


def check_identity(plan: Plan, backends: Sequence[Backend], reads: Mapping[str, Live],
                   now: Mapping[str, str]) -> None:
    """Refuse a plan made for another workspace or database (`IdentityMismatchError`). A
    backend's identity is read only when its fingerprints do not prove it already: every
    resource the plan read that existed has the same fingerprint, ids included, which no other
    workspace or database can have (so a saved plan's apply spends no call on `users/me`)."""
    for root, planned in sorted(plan.header.identities.items()):
        live = reads[root].identity if root in reads else {}
        if not live:
            mine = {a: p for a, p in plan.header.fingerprints.items()
                    if a.split(".", 1)[0] == root}
            proven = any(p != "absent" for p in mine.values()) and \
                all(now.get(a) == p for a, p in mine.items())
            backend = next((b for b in backends if b.root == root), None)
            if proven or backend is None or not hasattr(backend, "identify"):
                continue
            live = backend.identify()
        if live != planned:
            raise IdentityMismatchError(root, planned, live)


def apply_plan(plan: Plan, project: Any, backends: Sequence[Backend], *, allow_destroy: bool,
               content_only: bool = False, on_applied: OnApplied = lambda c, s: None,
               reads: Mapping[str, Live] | None = None, force: bool = False,
               on_checked: Callable[[], None] = lambda: None) -> ApplyResult:
    """Carry out `plan` (see the module docstring); the caller holds the project lock.
    `on_checked()` runs once the plan passed its checks, before the first write (the session
    records its Postgres lock there: `apply.lock.record_lock`). Raises what `check_plan` and
    `on_checked` raise, and `ApplyError` naming the change that failed."""
    checked = check_plan(plan, project, backends, allow_destroy=allow_destroy, reads=reads,
                         force=force)
    on_checked()
    return _run(plan, project, backends, checked, content_only, on_applied)


def _run(plan: Plan, project: Any, backends: Sequence[Backend], checked: Checked,
         content_only: bool, on_applied: OnApplied) -> ApplyResult:
    """Carry out `checked.opened.changes` (values in full); the journal, the ledger and
    `on_applied` get the plan's own changes (sensitive values sealed), never a value."""
    reads = checked.reads
    ledger = Ledger(ledger_path(project.root))
    journal = Journal(journal_path(project.root))
    result = ApplyResult()
    by_address = {c.address: c for c in plan.changes}
    lock = threading.Lock()
    known = Known(read_at=plan.header.created_at)
    opened = checked.opened.changes
    sealer = getattr(project, "sealer", None)

    def report(address: str, status: str, **detail: Any) -> None:
        change = by_address[address]
        sync = getattr(change, "sync", None)
        if sync is not None:  # every row and field a sync moves is in the ledger
            detail.setdefault("direction", sync.direction)
            detail.setdefault("fields", sorted(getattr(change, "after", change).values)
                              if hasattr(change, "after") else [])
        detail = ledger_detail(change, detail, sealer)
        with lock:
            ledger.record(change, status, **detail)
            journal.done(address, status)
            result.counts[status] = result.counts.get(status, 0) + 1
            known.status[address] = status
        on_applied(change, status)

    journal.begin(plan)
    try:
        for change in plan.changes:
            if change.action is Action.MANUAL:
                report(change.address, "manual-pending")
        stale = {**stale_changes(opened, project, reads), **checked.opened.stale}
        for address, why in sorted(stale.items()):
            known.stale.add(address)
            report(address, "stale", reason=why)
        runs = {b.root: b.executor(reads[b.root], known) for b in backends}
        runnable = [c for c in opened if c.address not in checked.opened.stale]
        compiled = {b.root: b.compile([c for c in runnable if c.root == b.root], project,
                                      reads[b.root]) for b in backends}
        try:
            _steps(backends, compiled, runs, by_address, content_only, report, known)
        except ApplyError as exc:
            journal.end("failed")
            raise ApplyError(redact(exc.reason), address=exc.address,
                             applied=result.counts.get("applied", 0),
                             account=_account(plan, result, exc.address, known.status)) from None
        record_unchanged(plan, project, backends, reads, ledger)
        journal.end("complete")
    finally:  # whatever stops the run: what is buffered reaches the files
        journal.close()
        ledger.close()
    return result


def _steps(backends: Sequence[Backend], compiled: Mapping[str, list], runs: Mapping[str, Any],
           by_address: Mapping[str, ChangeBase], content_only: bool, report: Any,
           known: Known) -> None:
    """Stage by stage (schema, before content, content, after content), each backend's steps
    in `apply_order`, leaving out those whose changes are all stale."""
    for stage in (SCHEMA, BEFORE_CONTENT, CONTENT, AFTER_CONTENT):
        for backend in apply_order(backends):
            steps = [s for s in compiled[backend.root] if _stage(s, by_address) == stage
                     and not (s.changes and set(s.changes) <= known.stale)]
            if stage == SCHEMA and content_only:
                for step in steps:
                    for address in step.changes:
                        report(address, "skipped", reason="--content-only")
                continue
            if steps:
                runs[backend.root].run(steps, report)


def _stage(step: Any, by_address: Mapping[str, ChangeBase]) -> int:
    stage = getattr(step, "stage", None)
    if stage is not None:
        return stage
    return CONTENT if by_address[step.changes[0]].phase is Phase.CONTENT else SCHEMA


def apply_order(backends: Sequence[Backend]) -> list[Backend]:
    """`backends` with those whose schema steps run in one transaction first (a stable sort)."""
    return sorted(backends, key=lambda b: not getattr(b, "transactional", False))


def _account(plan: Plan, result: ApplyResult, failed: str, reported: Mapping[str, str]) -> str:
    """What an apply that failed part way did: counts per status, the failed change, what was
    not attempted, and how to finish. `failed` may name a table whose rows were written
    together and rolled back together (its own creation already reported, or not a change of
    the plan): every change not reported is then among those not attempted."""
    pending = failed not in reported and any(c.address == failed for c in plan.changes)
    rest = len(plan.changes) - len(reported) - (1 if pending else 0)
    made = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items())) or "none"
    what = (f"1 failed ({failed}); {max(rest, 0)} not attempted" if pending else
            f"failed at {failed}; {max(rest, 0)} not applied (rolled back with it, or not "
            "attempted)")
    return (f"Of the plan's {len(plan.changes)} change(s): {made}; {what}. "
            "Each one made is in .reconciler/ledger.ndjson. "
            "Fix the cause, then run `reconciler apply` again: it finishes the job from the live "
            "state, without repeating what was made.")


def record_unchanged(plan: Plan, project: Any, backends: Sequence[Backend],
                     reads: Mapping[str, Live], ledger: Ledger | None = None) -> None:
    """One ledger line (`skipped`, reason `unchanged`) per source row whose live row already
    matches: the rows an apply left as they were."""
    mine = ledger is None
    ledger = ledger or Ledger(ledger_path(project.root))
    planned = {c.address for c in plan.changes}
    sealer = getattr(project, "sealer", None)
    try:
        for backend in backends:
            for content in backend.content_sets(project):
                rows = reads[backend.root].rows.get(content.address, {})
                name = row_namer(sealer, content.address, content.sensitive_key)
                for row in content.rows:
                    want = content.hashes[row.key]
                    have = rows.get(row.key)
                    address = addresses.child(content.address, backend.row_noun, name(row.key))
                    if have is not None and address not in planned and \
                            have.values.get(content.hash_field) == want:
                        shown = sealer.hash_digest(address, want) \
                            if sealer is not None and content.sensitive else want
                        ledger.record_row(address, "skipped", hash=shown, reason="unchanged")
    finally:
        if mine:
            ledger.close()
