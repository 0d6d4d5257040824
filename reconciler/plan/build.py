"""Building a plan from what every backend read: diff, order, select, attach compiled steps.

Pure (SQLMesh's plan builder, kept apart from evaluation): the reads come in, a `Plan` comes
out; the backends' `diff` and `compile` are pure too. Each change carries the previews of the
steps its backend compiled it to (`sql`, `requests`), so the plan shows exactly what apply
sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from reconciler import __version__
from reconciler.addresses import matches, parse
from reconciler.errors import ConfigError
from reconciler.model.changes import ChangeBase
from reconciler.plan.model import Plan, PlanHeader


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
    """`changes` with the previews of the steps each backend compiles them to. When several
    changes share an address (a column renamed and retyped; a primary key dropped and added
    again) and the backend compiles each into a step of its own, in order, each change gets its
    own step's previews, never its neighbours'. Raises `PlanError` when a change cannot be
    compiled."""
    shown: dict[int, dict[str, tuple]] = {}
    at: dict[str, list[int]] = {}
    for index, change in enumerate(changes):
        at.setdefault(change.address, []).append(index)
    pending = {address: list(indexes) for address, indexes in at.items()}
    for backend in backends:
        mine = [c for c in changes if c.root == backend.root]
        for step in backend.compile(mine, project, reads[backend.root]):
            for address, fields in step.previews().items():
                owners = at.get(address, [])
                if len(owners) > 1 and len(step.changes) == 1 and pending[address]:
                    owners = [pending[address].pop(0)]
                for index in owners:
                    target = shown.setdefault(index, {})
                    for name, items in fields.items():
                        target[name] = target.get(name, ()) + tuple(items)
    return [c.model_copy(update=shown[i]) if i in shown else c for i, c in enumerate(changes)]


def build_plan(project: Any, backends: Sequence[Planner], reads: Mapping[str, Any], *,
               only: Sequence[str] = (), prune: bool = False,
               now: datetime | None = None) -> Plan:
    """A `Plan` of every change from the live state (`reads`, by backend root) to `project`,
    sorted by (phase, address), limited to `only` addresses when given, each with the previews
    of its compiled steps."""
    changes: list[ChangeBase] = []
    content = {}
    fingerprints: dict[str, str] = {}
    for backend in backends:
        live = reads[backend.root]
        found = backend.diff(project, live, prune=prune)
        changes += found.changes
        content.update(found.content)
        fingerprints.update(live.fingerprints)
    changes = sorted(select_targets(changes, only), key=lambda c: c.sort_key)
    changes = with_steps(changes, backends, project, reads)
    created = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = PlanHeader(tool_version=__version__, created_at=created,
                        spec_hash=project.spec_hash,
                        backends={b.root: b.description for b in backends},
                        fingerprints=fingerprints)
    return Plan(header=header, changes=tuple(changes), content=content)
