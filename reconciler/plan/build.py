"""Building a plan from desired and live models: diff, order, target filter. Pure.

Fills what the spec leaves to the target before diffing: the default parent page of new
databases and the property ids the state knows (so a property renamed in the Notion UI is
matched by id and renamed back, never dropped and re-added).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from reconciler import __version__
from reconciler.addresses import matches, parse
from reconciler.errors import ConfigError
from reconciler.diff.notion import diff_notion
from reconciler.model.notion import NotionDatabases
from reconciler.plan.changes import Change
from reconciler.plan.model import Plan, PlanHeader
from reconciler.state import NotionState


def with_target_defaults(desired: NotionDatabases, state: NotionState,
                         parent_page_id: str | None) -> NotionDatabases:
    """`desired` with the default parent on databases that name none, and known property ids."""
    databases = []
    for db in desired.databases:
        known = state.databases.get(db.name)
        props = db.properties
        if known is not None:
            props = tuple(
                p.model_copy(update={"id": known.properties[p.name].id})
                if p.name in known.properties and p.id is None else p for p in props)
        databases.append(db.model_copy(update={
            "parent_page_id": db.parent_page_id or parent_page_id, "properties": props}))
    return desired.model_copy(update={"databases": tuple(databases)})


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


def select_targets(changes: Sequence[Change], targets: Sequence[str]) -> list[Change]:
    """Only the changes at or inside one of `targets` (Terraform's `-target`); all when empty.
    Raises ConfigError for a target that is not a resource address."""
    if not targets:
        return list(changes)
    check_targets(targets)
    return [c for c in changes if any(matches(c.address, t) for t in targets)]


def build_plan(*, desired: NotionDatabases, live: NotionDatabases, fingerprints: dict[str, str],
               spec_hash: str, targets: dict[str, str], extra_changes: Sequence[Change] = (),
               only: Sequence[str] = (), now: datetime | None = None) -> Plan:
    """A `Plan` of every change from `live` to `desired` (plus `extra_changes`, e.g. Postgres's),
    sorted by (phase, address), limited to `only` addresses when given."""
    changes = diff_notion(desired, live) + list(extra_changes)
    changes = sorted(select_targets(changes, only), key=lambda c: c.sort_key)
    created = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = PlanHeader(tool_version=__version__, created_at=created, spec_hash=spec_hash,
                        targets=targets, fingerprints=fingerprints)
    return Plan(header=header, changes=tuple(changes))
