"""`reconciler apply`: check, show (when planning now), ask, then apply with a line per
resource as it completes and a closing count, Terraform's way:

    notion.tasks: created
    notion.tasks.property["Status"]: updated
    …
    Apply complete! Resources: 3 added, 1 changed, 0 destroyed. Rows: 18 added, 0 changed, 0 removed.

On a terminal a bar on stderr counts the changes (`cli.progress`).
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from reconciler.cli import DebugOption, DirOption, app, output, user_errors
from reconciler.cli.commands import DevUrlOption, _load, _open, _print_plan
from reconciler.errors import ConfigError

if TYPE_CHECKING:  # imported by the command when it runs (start-up: issue 15 point 1)
    from reconciler.cli.progress import Screen
    from reconciler.model.changes import ChangeBase
    from reconciler.plan.model import Plan

#: What a change applied did, by its action, for its line and for the closing count.
DONE = {"create": "created", "update": "updated", "rename": "renamed", "delete": "destroyed",
        "archive": "archived", "manual": "done by hand"}
TALLY = {"create": "added", "update": "changed", "rename": "changed", "delete": "destroyed",
         "archive": "destroyed"}
#: Statuses other than `applied`, as their line and their closing phrase say them.
OTHER = {
    "deferred": ("written, its fields the live schema lacks deferred (schema lag)",
                 "written with deferred fields (schema lag)"),
    "skipped": ("skipped (--content-only)", "schema change(s) skipped (--content-only)"),
    "waiting": ("not written: its table or key column does not exist yet (a later apply "
                "writes it)", "row(s) not written: their table or key column does not exist yet"),
    "manual-pending": ("needs a manual step (see the plan)", "manual step(s) still to do by hand"),
    "stale": ("left alone: edited after the plan (the next plan picks it up)",
              "row(s) left alone: edited after the plan"),
}


def line(change: ChangeBase, status: str) -> str:
    """`notion.tasks: created`: what apply did to one resource."""
    if status == "applied":
        return f"{change.address}: {DONE.get(change.action.value, status)}"
    return f"{change.address}: {OTHER[status][0] if status in OTHER else status}"


class Tally:
    """Counts of what an apply did (thread-safe: rows are written a few at a time)."""

    def __init__(self) -> None:
        self.resources: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.other: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, change: ChangeBase, status: str) -> None:
        from reconciler.model.changes import Phase

        with self._lock:
            if status in ("applied", "deferred") and change.action.value in TALLY:
                rows = self.rows if change.phase is Phase.CONTENT else self.resources
                rows[TALLY[change.action.value]] += 1
            if status != "applied":
                self.other[status] += 1

    def summary(self) -> str:
        """`Apply complete! Resources: 3 added, 1 changed, 0 destroyed. Rows: …` and what was
        deferred, skipped or left to do by hand."""
        text = (f"Apply complete! Resources: {self.resources['added']} added, "
                f"{self.resources['changed']} changed, {self.resources['destroyed']} destroyed.")
        if sum(self.rows.values()):
            text += (f" Rows: {self.rows['added']} added, {self.rows['changed']} changed, "
                     f"{self.rows['destroyed']} removed.")
        extra = [f"{self.other[k]} {OTHER[k][1]}" for k in OTHER if self.other.get(k)]
        return text + (" " + "; ".join(extra) + "." if extra else "")


@app.command()
@user_errors
def apply(
    plan_file: Annotated[Optional[Path], typer.Argument(
        metavar="FILE", help="A saved plan. Without it, apply plans now and asks before changing anything.",
        show_default=False)] = None,
    directory: DirOption = None,
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help="Do not ask for confirmation.")] = False,
    allow_destroy: Annotated[bool, typer.Option(
        "--allow-destroy", help="Allow destructive changes (deleting properties, options, columns).")] = False,
    content_only: Annotated[bool, typer.Option(
        "--content-only", help="Make no schema change; write content without the fields the "
        "live schema lacks (they are deferred to a later apply).")] = False,
    prune: Annotated[bool, typer.Option(
        "--prune", help="When planning now: archive/delete rows the sources no longer have.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Apply a sync that trips a table's circuit breaker (it would change or "
        "delete more than the declared share of the rows).")] = False,
    target: Annotated[Optional[list[str]], typer.Option(
        "--target", metavar="ADDRESS", help="When planning now: only changes at or inside this "
        "address, e.g. notion.tasks (repeatable), as plan --target.")] = None,
    dev_url: DevUrlOption = None,
    debug: DebugOption = False,
) -> None:
    """Make the live systems match the plan (refusing edited, foreign, stale or already applied
    plans and unapproved destruction)."""
    from reconciler.cli.progress import screen
    from reconciler.plan import planfile
    from reconciler.plan.build import check_targets

    if target and plan_file is not None:
        raise ConfigError("--target applies to a plan made now: a saved plan is applied as "
                          "reviewed (target it when planning: reconciler plan --target … --out FILE)")
    check_targets(target or ())
    saved = planfile.load_for_apply(plan_file) if plan_file is not None else None
    project, env = _load(directory)
    if saved is not None and saved.header.spec_hash != project.spec_hash:
        output.err.print("Note: the spec changed since this plan was made; apply makes the "
                         "changes of the plan as reviewed. Run `reconciler plan` afterwards for "
                         "what the spec asks for now.")
    with screen() as shown, _open(project, env, dev_url) as session:
        try:
            with session.locked(saved):
                _apply(saved, session, shown, auto_approve, allow_destroy, content_only, prune,
                       force, tuple(target or ()))
        finally:
            for notice in session.notices:
                output.err.print(notice)


def _apply(saved: Plan | None, session, shown: Screen, auto_approve: bool, allow_destroy: bool,
           content_only: bool, prune: bool, force: bool = False,
           target: tuple[str, ...] = ()) -> None:
    """Under the project lock, taken before the read apply acts on and held through the
    prompt, so no other apply slips in between what was shown and what runs; after the prompt
    the live state is read again and a change made meanwhile (by hand, in Notion or Postgres)
    makes the plan stale instead of being overwritten. A saved plan that finishes an
    interrupted apply has its workspace and database checked first (`Session.check_identity`)."""
    if saved is not None and session.interrupted(saved):
        session.check_identity(saved)
    _explain_interrupted(session.project)
    if saved is not None:
        the_plan = _resumed(saved, session)
    else:
        the_plan = session.plan(only=target, prune=prune)
        preview = content_preview(the_plan) if content_only else the_plan
        with shown.paused():
            _print_plan(preview)
            if content_only and len(preview.changes) < len(the_plan.changes):
                output.out.print(f"\n--content-only: {len(the_plan.changes) - len(preview.changes)}"
                                 " schema change(s) of the plan are left out and will not be made.")
            if not preview.has_changes:
                session.record_unchanged(the_plan)
                return
            if not auto_approve:
                _confirm()
                session.forget_read()
    if not the_plan.has_changes:
        output.out.print("No changes. Nothing to apply.")
        return
    tally = Tally()

    def applied(change: ChangeBase, status: str) -> None:
        tally.add(change, status)
        output.out.print(line(change, status))
        shown.advance(change.address[:60])

    shown.bar(len(the_plan.changes))
    session.apply(the_plan, allow_destroy=allow_destroy, content_only=content_only,
                  on_applied=applied, force=force)
    output.out.print("\n" + tally.summary())


def content_preview(plan: Plan) -> Plan:
    """What `apply --content-only` will do of `plan`: its content changes only, each request
    without the fields the live schema lacks (they are deferred, not sent)."""
    from reconciler.model.changes import Phase

    changes = []
    for change in plan.changes:
        if change.phase is not Phase.CONTENT:
            continue
        lagging = set(getattr(change, "lagging", ()) or ())
        if lagging:
            change = change.model_copy(update={"requests": tuple(
                r.model_copy(update={"keys": tuple(k for k in r.keys if k not in lagging)})
                for r in change.requests)})
        changes.append(change)
    return plan.model_copy(update={"changes": tuple(changes)})


def _confirm() -> None:
    if not output.stdin_is_terminal():
        raise ConfigError("apply needs confirmation: run it on a terminal, or pass "
                          "--auto-approve (or apply a saved plan file)")
    if not typer.confirm("\nDo you want to perform these actions?"):
        output.out.print("Apply cancelled.")
        raise typer.Exit(1)


def _explain_interrupted(project) -> None:
    from reconciler.apply.journal import interrupted_run
    from reconciler.apply.runner import journal_path

    run = interrupted_run(journal_path(project.root))
    if run is None:
        return
    output.err.print(
        f"An earlier apply (run {run.run_id}, started {run.started_at}) stopped after "
        f"{len(run.done)} of {run.total} change(s):" + "".join(f"\n  done: {a}" for a in run.done[:20])
        + (f"\n  … and {len(run.done) - 20} more" if len(run.done) > 20 else "")
        + "\nNothing it wrote is lost or repeated: rows are found again by their key.")


def _resumed(the_plan: Plan, session) -> Plan:
    fresh = session.resume(the_plan)
    if fresh is None:
        return the_plan
    output.err.print(f"Finishing the interrupted apply of this plan: {len(fresh.changes)} "
                     "change(s) left, planned afresh from the live state.")
    return fresh
