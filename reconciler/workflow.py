"""The main job, end to end: open the targets, read live state, plan, check, apply.

The library entry points the CLI calls (`make_plan`, `apply_plan`); each step lives in its own
module (reader, diff, build, executor) and this one only sequences them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.apply.ledger import Ledger
from reconciler.apply.lock import workspace_lock
from reconciler.backends.notion.client import NotionTarget, open_notion
from reconciler.backends.notion.executor import NotionExecutor
from reconciler.backends.notion.reader import LiveNotion, read_notion
from reconciler.errors import ConfigError, StalePlanError, UnsafePlanError
from reconciler.model.notion import NotionWorkspace
from reconciler.plan.build import build_plan, with_target_defaults
from reconciler.plan.changes import Change
from reconciler.plan.model import Plan
from reconciler.spec.loader import Workspace
from reconciler.state import NotionState, State, load_state, save_state

if TYPE_CHECKING:
    import psycopg

OnApplied = Callable[[Change, str], None]


@dataclass
class Targets:
    """Open connections and the state that goes with them."""

    root: Path
    notion: NotionTarget
    state: State
    parent_page_id: str | None
    postgres: "psycopg.Connection | None" = None
    postgres_description: str | None = None

    @property
    def notion_state(self) -> NotionState:
        return self.state.notion.setdefault(self.notion.state_key, NotionState())

    def save(self) -> None:
        save_state(self.root, self.state)

    def describe(self) -> dict[str, str]:
        targets = {"notion": self.notion.description}
        if self.postgres_description:
            targets["postgres"] = self.postgres_description
        return targets

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.close()


@dataclass
class ApplyResult:
    """What apply did: counts per status (`applied`, `manual-pending`)."""

    counts: dict[str, int] = field(default_factory=dict)


def open_targets(workspace: Workspace, env: Mapping[str, str]) -> Targets:
    """Open the Notion target (local by default) and load `.reconciler/state.json`."""
    config = workspace.config
    notion = open_notion(workspace.root, env, rate_limit=config.notion.rate_limit)
    parent = config.notion.parent_page_id or None
    if parent is None and notion.local:
        from reconciler.local import root_page_id

        parent = root_page_id(notion.client)
    targets = Targets(workspace.root, notion, load_state(workspace.root), parent)
    if workspace.supabase:
        from reconciler.backends.postgres.connect import connect, describe_target

        url = env.get("DATABASE_URL") or None
        targets.postgres = connect(workspace.root, url)
        targets.postgres_description = describe_target(url)
    return targets


def desired_notion(workspace: Workspace, targets: Targets) -> NotionWorkspace:
    return with_target_defaults(workspace.notion, targets.notion_state, targets.parent_page_id)


@dataclass(frozen=True)
class Live:
    """Everything read from the targets: Notion, the Postgres tables, and their fingerprints."""

    notion: LiveNotion
    tables: tuple = ()
    fingerprints: dict[str, str] = field(default_factory=dict)


def read_live(workspace: Workspace, targets: Targets) -> Live:
    """Read the live side of every declared resource. Raises `ReadError`."""
    notion = read_notion(targets.notion.client, desired_notion(workspace, targets),
                         targets.notion_state)
    fingerprints = dict(notion.fingerprints)
    tables: tuple = ()
    if targets.postgres is not None:
        from reconciler.backends.postgres.reader import read_tables

        tables, table_prints = read_tables(targets.postgres, workspace.supabase)
        fingerprints.update(table_prints)
    return Live(notion, tables, fingerprints)


def postgres_changes(workspace: Workspace, targets: Targets, live: Live) -> list[Change]:
    """The Postgres side of the plan, with the rows each destructive change would lose."""
    if targets.postgres is None:
        return []
    from reconciler.backends.postgres.reader import count_rows_at_risk
    from reconciler.diff.postgres import diff_tables

    return count_rows_at_risk(targets.postgres, diff_tables(workspace.supabase, live.tables))


def make_plan(workspace: Workspace, targets: Targets, only: tuple[str, ...] = ()) -> Plan:
    """Read live state and diff it against the spec. Raises `ConfigError` when a database must
    be created but no parent page is known, `ReadError` when live state cannot be read."""
    desired = desired_notion(workspace, targets)
    live = read_live(workspace, targets)
    plan = build_plan(desired=desired, live=live.notion.workspace, fingerprints=live.fingerprints,
                      spec_hash=workspace.spec_hash, targets=targets.describe(),
                      extra_changes=postgres_changes(workspace, targets, live), only=only)
    orphans = [c.address for c in plan.changes
               if c.kind == "create_database" and not (c.after or {}).get("parent_page_id")]
    if orphans:
        raise ConfigError(
            f"{', '.join(orphans)}: no parent page to create the database in. Set "
            "NOTION_PARENT_PAGE_ID (or notion.parent_page_id in reconciler.yaml, or parent: in the "
            "database's file) to a page shared with the integration.")
    return plan


def check_plan(plan: Plan, workspace: Workspace, targets: Targets, *,
               allow_destroy: bool) -> Live:
    """Refuse a stale plan (a fingerprint changed) or destructive changes without permission.

    Returns the fresh live read, which apply starts from. Raises `StalePlanError`,
    `UnsafePlanError`.
    """
    live = read_live(workspace, targets)
    changed = sorted(address for address, print_ in plan.header.fingerprints.items()
                     if live.fingerprints.get(address) != print_)
    if changed:
        raise StalePlanError(changed)
    if plan.destructive and not allow_destroy:
        raise UnsafePlanError([c.address for c in plan.destructive])
    return live


def apply_plan(plan: Plan, workspace: Workspace, targets: Targets, *, allow_destroy: bool,
               on_applied: OnApplied = lambda c, s: None) -> ApplyResult:
    """`_apply_plan` under the workspace lock (LockError when another apply holds it)."""
    with workspace_lock(workspace.root, postgres=targets.postgres):
        return _apply_plan(plan, workspace, targets, allow_destroy=allow_destroy,
                           on_applied=on_applied)


def _apply_plan(plan: Plan, workspace: Workspace, targets: Targets, *, allow_destroy: bool,
                on_applied: OnApplied) -> ApplyResult:
    """Check, then make every change of `plan` in order, journaling each to the ledger."""
    live = check_plan(plan, workspace, targets, allow_destroy=allow_destroy)
    ledger = Ledger(workspace.root / ".reconciler" / "ledger.ndjson")
    result = ApplyResult()

    def done(change: Change, status: str) -> None:
        ledger.record(change, status)
        result.counts[status] = result.counts.get(status, 0) + 1
        on_applied(change, status)

    notion = [c for c in plan.changes if c.address.startswith("notion.")]
    tables = [c for c in plan.changes if c.address.startswith("supabase.")]
    NotionExecutor(targets.notion.client, live.notion.workspace, targets.notion_state,
                   targets.save).apply(notion, done)
    targets.save()
    if tables:
        if targets.postgres is None:
            raise ConfigError("the plan changes Supabase tables but the spec declares none now")
        from reconciler.backends.postgres.executor import apply_changes

        apply_changes(targets.postgres, tables, on_applied=lambda c: done(c, "applied"))
    return result
