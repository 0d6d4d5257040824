"""Building a plan from what every backend read: diff, order, select, attach compiled steps.

Pure (SQLMesh's plan builder, kept apart from evaluation): the reads come in, a `Plan` comes
out; the backends' `diff` and `compile` are pure too. Each change carries the previews of the
steps its backend compiled it to (`sql`, `requests`), so the plan shows exactly what apply
sends.

Besides each backend's own diff, `CROSS_DIFFS` run differs that need several backends' reads
(the two-way sync of mirrored tables, `diff.sync_plan`): their changes are compiled by the
backends like any others, their summaries go into the plan, and their problems stop the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from reconciler import __version__
from reconciler.addresses import matches, parse
from reconciler.diff.preflight import content_problems
from reconciler.diff.sync_plan import plan_sync, stale_sync
from reconciler.errors import ConfigError, PlanError, SpecError
from reconciler.model.changes import ChangeBase
from reconciler.model.sync import PlanCost
from reconciler.plan.model import Plan, PlanHeader


class CrossDiff(Protocol):
    """A differ over several backends' reads: `diff(project, reads, prune=)` gives an object
    with `changes`, `summaries` (by address) and `problems` (messages); `stale(changes,
    project, reads)` names the changes a fresh read shows were overtaken (address → why)."""

    def diff(self, project: Any, reads: Mapping[str, Any], *, prune: bool = False) -> Any: ...

    def stale(self, changes: Sequence[ChangeBase], project: Any,
              reads: Mapping[str, Any]) -> dict[str, str]: ...


class _Sync:
    diff = staticmethod(plan_sync)
    stale = staticmethod(stale_sync)


#: Differs over several backends' reads, in the order they run.
CROSS_DIFFS: tuple[CrossDiff, ...] = (_Sync(),)


class Planner(Protocol):
    """What the builder needs of a backend (see `backends.base.Backend`)."""

    root: str
    description: str

    def diff(self, project: Any, live: Any, *, prune: bool = False) -> Any: ...

    def compile(self, changes: Sequence[ChangeBase], project: Any, live: Any) -> list[Any]: ...


def check_targets(targets: Sequence[str]) -> None:
    """Raise ConfigError for a `--target` that is not a resource address."""
    for target in targets:
        try:
            head, _ = parse(target)
        except ValueError:
            head = []
        if not head or head[0] not in ("notion", "supabase"):
            raise ConfigError(f"--target {target!r} is not a resource address: use one like "
                              'notion.tasks, notion.tasks.property["Status"] or '
                              "supabase.public.tasks")


def select_targets(changes: Sequence[ChangeBase], targets: Sequence[str]) -> list[ChangeBase]:
    """Only the changes at or inside one of `targets` (Terraform's `-target`); all when empty.
    Raises ConfigError for a target that is not a resource address."""
    if not targets:
        return list(changes)
    check_targets(targets)
    return [c for c in changes if any(matches(c.address, t) for t in targets)]


def with_steps(changes: Sequence[ChangeBase], backends: Sequence[Planner], project: Any,
               reads: Mapping[str, Any]) -> list[ChangeBase]:
    """`changes` with the previews of the steps each backend compiles them to. Raises
    `PlanError` when a change cannot be compiled."""
    previews: dict[str, dict[str, tuple]] = {}
    for backend in backends:
        mine = [c for c in changes if c.root == backend.root]
        for step in backend.compile(mine, project, reads[backend.root]):
            for address, fields in step.previews().items():
                shown = previews.setdefault(address, {})
                for name, items in fields.items():
                    shown[name] = shown.get(name, ()) + tuple(items)
    return [c.model_copy(update=previews[c.address]) if c.address in previews else c
            for c in changes]


def build_plan(project: Any, backends: Sequence[Planner], reads: Mapping[str, Any], *,
               only: Sequence[str] = (), prune: bool = False,
               now: datetime | None = None) -> Plan:
    """A `Plan` of every change from the live state (`reads`, by backend root) to `project`,
    sorted by (phase, address), limited to `only` addresses when given, each with the previews
    of its compiled steps. Raises `SpecError` when content values are outside what the live
    database accepts (`diff.preflight.content_problems`), before anything is diffed."""
    preflight = content_problems(getattr(project, "content", ()),
                                 getattr(reads.get("supabase"), "model", ()),
                                 getattr(project, "supabase", ()))
    if preflight:  # values the live database would refuse: before any write (diff.preflight)
        raise SpecError(preflight)
    changes: list[ChangeBase] = []
    content = {}
    fingerprints: dict[str, str] = {}
    for backend in backends:
        live = reads[backend.root]
        found = backend.diff(project, live, prune=prune)
        changes += found.changes
        content.update(found.content)
        fingerprints.update(live.fingerprints)
    synced, problems = {}, []
    for cross in CROSS_DIFFS:
        found = cross.diff(project, reads, prune=prune)
        changes += found.changes
        synced.update(found.summaries)
        problems += found.problems
    if problems:
        raise PlanError("values that cannot cross between Notion and Supabase (nothing was "
                        "written; fix them on one side):\n  " + "\n  ".join(problems))
    changes = sorted(select_targets(changes, only), key=lambda c: c.sort_key)
    changes = with_steps(changes, backends, project, reads)
    created = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = PlanHeader(tool_version=__version__, created_at=created,
                        spec_hash=project.spec_hash,
                        backends={b.root: b.description for b in backends},
                        fingerprints=fingerprints)
    return Plan(header=header, changes=tuple(changes), content=content, sync=synced,
                cost=plan_cost(changes, project) if synced else None)


def plan_cost(changes: Sequence[ChangeBase], project: Any) -> PlanCost:
    """The Notion requests `changes` are sent in, and the seconds they take at the project's
    configured rate (`notion.rate_limit` requests per second)."""
    calls = sum(len(c.requests) for c in changes)
    rate = float(getattr(getattr(project.config, "notion", None), "rate_limit", 3) or 3)
    return PlanCost(calls=calls, rate=rate, seconds=round(calls / rate, 1))


def stale_changes(changes: Sequence[ChangeBase], project: Any, reads: Mapping[str, Any]
                  ) -> dict[str, str]:
    """Address → why, for the changes a fresh read shows were overtaken (`CROSS_DIFFS`)."""
    out: dict[str, str] = {}
    for cross in CROSS_DIFFS:
        out.update(cross.stale(changes, project, reads))
    return out
