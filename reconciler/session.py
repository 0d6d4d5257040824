"""A project opened on its backends for one command: read, plan, apply.

The library entry points the CLI calls. Sequencing only: reading is the backends'
(`backends.base`), planning the pure builder's (`plan.build`), applying the runner's
(`apply.runner`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from reconciler.apply.runner import (ApplyResult, OnApplied, apply_plan, journal_path, read_all,
                                     record_unchanged)
from reconciler.backends.base import Backend, Live
from reconciler.backends.registry import open_backends
from reconciler.errors import BrokenReferenceError, IdentityMismatchError, StalePlanError
from reconciler.model.changes import ArchivePage, DeleteRow
from reconciler.plan.build import build_plan
from reconciler.plan.model import Plan
from reconciler.state import load_state, save_state


class Session:
    """`project` (a loaded `project.Project`) open on every backend it uses; close it (or use
    it as a context manager) when done. Raises `ConfigError`/`ReadError` when a backend cannot be
    opened."""

    def __init__(self, project: Any, env: Mapping[str, str]):
        self.project = project
        self.state = load_state(project.root)
        self.backends: list[Backend] = open_backends(project, env, self.state)
        self._read: tuple[dict[str, str], Mapping[str, Live]] | None = None
        #: Things the user should know that are not errors (for the CLI to print).
        self.notices: list[str] = []
        #: The address roots whose identity this session found to be a plan's (`check_identity`).
        self._checked: dict[str, dict[str, str]] = {}
        #: Records the held Postgres lock in its table before an apply's first write (`locked`).
        self._record_lock: Callable[[], None] | None = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for backend in self.backends:
            backend.close()

    def backend(self, root: str) -> Backend | None:
        return next((b for b in self.backends if b.root == root), None)

    def save_state(self) -> None:
        save_state(self.project.root, self.state)

    def check_identity(self, plan: Plan, roots: tuple[str, ...] | None = None) -> None:
        """Refuse `plan` when it was made for another workspace or database: each backend of
        `roots` (None: all) whose identity the plan recorded (`PlanHeader.identities`) is asked
        who it is now (`identify`: Notion one `GET /v1/users/me`, Postgres one read-only query),
        once per session. Raises `IdentityMismatchError`, `ReadError`."""
        for root, planned in sorted(plan.header.identities.items()):
            backend = self.backend(root)
            if (roots is not None and root not in roots) or backend is None \
                    or not hasattr(backend, "identify") or self._checked.get(root) == planned:
                continue
            live = backend.identify()
            if live != planned:
                raise IdentityMismatchError(root, planned, live)
            self._checked[root] = dict(planned)

    @contextlib.contextmanager
    def locked(self, plan: Plan | None = None) -> Iterator[None]:
        """The project lock (`apply.lock`), with its Postgres part when Postgres is a backend,
        keyed by the project id in `reconciler.yaml`. A project without one locks the whole
        database; once the locked work has succeeded it gets one written
        (`project.config.add_project_id`), with a notice to commit it (a failed apply changes
        no file). With a saved `plan`, the database is first checked to be the one the plan
        was made for (a read: nothing, not even the lock table, is written to another
        database). A database without the lock table gets it only once an apply has passed its
        checks (`apply.lock.record_lock`, through `apply`): a plan refused before its first
        write leaves the database as it was. Raises `LockError` when another apply holds the
        lock, `IdentityMismatchError`.
        """
        from reconciler.apply.lock import project_lock, record_lock
        from reconciler.project.config import add_project_id

        conn = getattr(self.backend("supabase"), "conn", None)
        if plan is not None and conn is not None:
            self.check_identity(plan, roots=("supabase",))
        project_id = self.project.config.project_id
        with project_lock(self.project.root, postgres=conn, project_id=project_id,
                          table_later=True) as info:
            self._record_lock = (lambda: record_lock(conn, project_id, info)) \
                if conn is not None else None
            try:
                yield
            finally:
                self._record_lock = None
            if conn is not None and project_id is None:
                added = add_project_id(self.project.root)
                self.notices.append(
                    f"reconciler.yaml: added project_id {added}. Commit it: applies from clones "
                    "that share it lock each other out on the database (until then, an apply "
                    "without it locks every apply on that database).")

    def plan(self, *, only: tuple[str, ...] = (), prune: bool = False,
             since: str | None = None) -> Plan:
        """Read every backend and plan (its `created_at` is when the read started). Raises
        `ReadError`, `ConfigError`, `PlanError`."""
        started = datetime.now(timezone.utc)
        reads = read_all(self.project, self.backends, since=since)
        plan = build_plan(self.project, self.backends, reads, only=only, prune=prune,
                          now=started)
        assessed = []
        for backend in self.backends:
            try:
                assessed += backend.assess([c for c in plan.changes if c.root == backend.root],
                                           reads[backend.root])
            except BrokenReferenceError as exc:
                if not only:
                    raise
                raise BrokenReferenceError(
                    f"{exc}\n(--target leaves out the rows of other tables: when the row "
                    "referenced, or referencing, is one of them, target its table too)") from None
        order = {c.address: i for i, c in enumerate(plan.changes)}
        plan = plan.model_copy(update={
            "changes": tuple(sorted(assessed, key=lambda c: order[c.address]))})
        self._read = (plan.header.fingerprints, reads)
        return plan

    def apply(self, plan: Plan, *, allow_destroy: bool, content_only: bool = False,
              on_applied: OnApplied = lambda c, s: None, force: bool = False) -> ApplyResult:
        """Carry out `plan`; the caller holds `locked()`. Uses this session's own read when the
        plan was just made from it, else reads again (the stale check). `force` lets a sync
        that trips a circuit breaker run."""
        reads = self._read[1] if self._read and self._read[0] == plan.header.fingerprints \
            else None
        return apply_plan(plan, self.project, self.backends, allow_destroy=allow_destroy,
                          content_only=content_only, on_applied=on_applied, reads=reads,
                          force=force, on_checked=self._record_lock or (lambda: None))

    def reveal(self, plan: Plan) -> Plan:
        """`plan` with its sealed sensitive values read from their sources (the live state is
        read now; `apply.sealed.reveal_plan`). Raises `ReadError`, `DigestKeyError`."""
        from reconciler.apply.sealed import reveal_plan

        return reveal_plan(plan, self.project, self.backends,
                           read_all(self.project, self.backends))

    def forget_read(self) -> None:
        """Make the next `apply` read the live state again (e.g. after a prompt: time passed
        since the plan's read)."""
        self._read = None

    def record_unchanged(self, plan: Plan) -> None:
        """Ledger lines for the rows an apply with nothing to do left as they were."""
        if not self.project.content:
            return
        reads = self._read[1] if self._read else read_all(self.project, self.backends)
        record_unchanged(plan, self.project, self.backends, reads)

    def interrupted(self, plan: Plan) -> bool:
        """True when the last apply in the journal was of this very plan (same digest) and did
        not finish."""
        from reconciler.apply.journal import interrupted_run, plan_digest

        run = interrupted_run(journal_path(self.project.root))
        return run is not None and run.plan_digest == plan_digest(plan)

    def resume(self, plan: Plan) -> Plan | None:
        """The plan that finishes an interrupted apply of `plan`, or None when there is none.

        When the last apply of this same plan (same digest) was interrupted, its partial writes
        make the saved plan stale; a fresh plan from the live state holds exactly the rest of the
        work. It is used only if it does nothing the saved plan did not already say (its
        addresses are a subset), so apply never does more than the reviewed plan. Raises
        `StalePlanError` otherwise. Before anything is planned, every backend is checked to be
        the workspace or database of the plan (`check_identity`): a fresh plan of another
        workspace or database is never made to finish this one. Raises `IdentityMismatchError`.
        """
        if not self.interrupted(plan):
            return None
        self.check_identity(plan)
        prune = any(isinstance(c, (ArchivePage, DeleteRow)) for c in plan.changes)
        fresh = self.plan(prune=prune)
        extra = sorted({c.address for c in fresh.changes} - {c.address for c in plan.changes})
        if extra:
            raise StalePlanError(extra)
        return fresh

