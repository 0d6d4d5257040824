"""The main job, end to end: open the targets, read live state, plan, check, apply.

The library entry points the CLI calls (`make_plan`, `apply_plan`); each step lives in its own
module (reader, diff, build, executor) and this one only sequences them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from reconciler import addresses
from reconciler.apply.journal import Journal
from reconciler.apply.ledger import Ledger
from reconciler.apply.lock import project_lock
from reconciler.backends.notion.client import NotionTarget, open_notion
from reconciler.backends.notion.content import NotionContentWriter
from reconciler.backends.notion.executor import NotionExecutor
from reconciler.backends.notion.reader import LiveNotion, read_notion
from reconciler.diff.preflight import content_problems
from reconciler.errors import ConfigError, SpecError, StalePlanError, UnsafePlanError
from reconciler.model.notion import NotionDatabases
from reconciler.plan.build import build_plan, with_target_defaults
from reconciler.content import (LiveContent, load_snapshot, notion_rows, notion_target,
                                people_ids, plan_content, postgres_rows, postgres_target, save_snapshot)
from reconciler.diff.content import content_hash
from reconciler.model.content import ContentSet
from reconciler.plan.changes import Change, Phase
from reconciler.plan.model import Plan
from reconciler.project.loader import Project
from reconciler.state import DatabaseState, NotionState, State, load_state, save_state

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
    last_read: "tuple[dict[str, str], Live] | None" = None

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


def open_targets(project: Project, env: Mapping[str, str]) -> Targets:
    """Open the Notion target (local by default) and load `.reconciler/state.json`."""
    config = project.config
    notion = open_notion(project.root, env, rate_limit=config.notion.rate_limit)
    parent = config.notion.parent_page_id or None
    if parent is None and notion.local:
        from reconciler.local import root_page_id

        parent = root_page_id(notion.client)
    targets = Targets(project.root, notion, load_state(project.root), parent)
    if project.supabase:
        from reconciler.backends.postgres.connect import connect, describe_target

        url = env.get("DATABASE_URL") or None
        targets.postgres = connect(project.root, url)
        targets.postgres_description = describe_target(url)
    return targets


def desired_notion(project: Project, targets: Targets) -> NotionDatabases:
    return with_target_defaults(project.notion, targets.notion_state, targets.parent_page_id)


@dataclass
class Live:
    """Everything read from the targets: Notion, the Postgres tables, content rows, and the
    fingerprint of each resource read."""

    notion: LiveNotion
    tables: tuple = ()
    content: LiveContent = field(default_factory=LiveContent)
    fingerprints: dict[str, str] = field(default_factory=dict)


def read_live(project: Project, targets: Targets, *, since: str | None = None) -> Live:
    """Read the live side of every declared resource and content set. Raises `ReadError`."""
    desired = desired_notion(project, targets)
    notion = read_notion(targets.notion.client, desired, targets.notion_state)
    _remember_ids(targets.notion_state, notion.databases)
    live = Live(notion, fingerprints=dict(notion.fingerprints))
    if targets.postgres is not None:
        from reconciler.backends.postgres.reader import read_tables

        live.tables, table_prints = read_tables(targets.postgres, project.supabase)
        live.fingerprints.update(table_prints)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for content in _content_sets(project):
        if content.address.startswith("notion."):
            db = notion.databases.database(content.address.split(".", 1)[1])
            known = load_snapshot(project.root, content.address, content.hash_field) \
                if since else None
            rows, print_ = notion_rows(targets.notion.client, content, db,
                                       since=since if known is not None else None, known=known)
            save_snapshot(project.root, content.address, rows, content.hash_field)
        else:
            rows, print_ = postgres_rows(targets.postgres, content,
                                         _table(live.tables, content.address))
        live.content.rows[content.address] = rows
        live.fingerprints[content.address + ".content"] = print_
    if _content_sets(project) and since is None:
        targets.state.content_watermark = started
        targets.save()
    return live


def _remember_ids(state: NotionState, live: NotionDatabases) -> None:
    """Databases found by search (state lost, or an apply died before saving it) join the state,
    so apply addresses them by id."""
    for db in live.databases:
        known = state.databases.get(db.name)
        if db.id and db.data_source_id and (known is None or known.database_id != db.id):
            state.databases[db.name] = DatabaseState(database_id=db.id,
                                                    data_source_id=db.data_source_id)


def _content_sets(project: Project) -> tuple[ContentSet, ...]:
    return tuple(getattr(project, "content", ()) or ())


def _table(tables, address: str):
    return next((t for t in tables if t.address == address), None)


def postgres_changes(project: Project, targets: Targets, live: Live) -> list[Change]:
    """The Postgres side of the plan, with the rows each destructive change would lose."""
    if targets.postgres is None:
        return []
    from reconciler.backends.postgres.reader import count_rows_at_risk
    from reconciler.diff.postgres import diff_tables

    return count_rows_at_risk(targets.postgres, diff_tables(project.supabase, live.tables))


def make_plan(project: Project, targets: Targets, only: tuple[str, ...] = (), *,
              prune: bool = False, since: str | None = None) -> Plan:
    """Read live state and diff it against the spec, schema and content. Raises `ConfigError`
    when a database must be created but no parent page is known, `ReadError` when live state
    cannot be read."""
    desired = desired_notion(project, targets)
    live = read_live(project, targets, since=since)
    preflight = content_problems(_content_sets(project), live.tables, project.supabase)
    if preflight:
        raise SpecError(preflight)
    people = people_ids(targets.notion.client, _content_sets(project), desired)

    def target_for(content: ContentSet):
        if content.address.startswith("notion."):
            return notion_target(content, desired, live.notion.databases, live.content.rows,
                                 prune, people)
        return postgres_target(content, _table(project.supabase, content.address),
                               _table(live.tables, content.address), prune)

    content_changes, summaries = plan_content(_content_sets(project), live.content, target_for)
    plan = build_plan(desired=desired, live=live.notion.databases, fingerprints=live.fingerprints,
                      spec_hash=project.spec_hash, targets=targets.describe(),
                      extra_changes=postgres_changes(project, targets, live) + content_changes,
                      only=only)
    plan = plan.model_copy(update={"content": summaries})
    orphans = [c.address for c in plan.changes
               if c.kind == "create_database" and not (c.after or {}).get("parent_page_id")]
    if orphans:
        raise ConfigError(
            f"{', '.join(orphans)}: no parent page to create the database in. Set "
            "NOTION_PARENT_PAGE_ID (or notion.parent_page_id in reconciler.yaml, or parent: in the "
            "database's file) to a page shared with the integration.")
    targets.last_read = (plan.header.fingerprints, live)
    return plan


def check_plan(plan: Plan, project: Project, targets: Targets, *,
               allow_destroy: bool) -> Live:
    """Refuse a stale plan (a fingerprint changed) or destructive changes without permission.

    Returns the live read apply starts from: the plan's own read when the plan was just made in
    this process, else a fresh one. Raises `StalePlanError`, `UnsafePlanError`.
    """
    if targets.last_read is not None and targets.last_read[0] == plan.header.fingerprints:
        live = targets.last_read[1]
    else:
        live = read_live(project, targets)
    changed = sorted(address for address, print_ in plan.header.fingerprints.items()
                     if live.fingerprints.get(address) != print_)
    if changed:
        raise StalePlanError(changed)
    if plan.destructive and not allow_destroy:
        raise UnsafePlanError([c.address for c in plan.destructive])
    return live


def apply_plan(plan: Plan, project: Project, targets: Targets, *, allow_destroy: bool,
               content_only: bool = False,
               on_applied: OnApplied = lambda c, s: None) -> ApplyResult:
    """`_apply_plan` under the project lock (LockError when another apply holds it)."""
    with project_lock(project.root, postgres=targets.postgres):
        return _apply_plan(plan, project, targets, allow_destroy=allow_destroy,
                           content_only=content_only, on_applied=on_applied)


def _apply_plan(plan: Plan, project: Project, targets: Targets, *, allow_destroy: bool,
                content_only: bool, on_applied: OnApplied) -> ApplyResult:
    """Check, then make the schema changes, then the content changes, journaling each.

    With `content_only`, schema changes are skipped (ledger status `skipped`) and content is
    written without the fields the live schema lacks (status `deferred`).
    """
    live = check_plan(plan, project, targets, allow_destroy=allow_destroy)
    ledger = Ledger(project.root / ".reconciler" / "ledger.ndjson")
    journal = Journal(project.root / ".reconciler" / "journal.ndjson")
    result = ApplyResult()
    lock = threading.Lock()

    def done(change: Change, status: str, **detail: Any) -> None:
        with lock:
            ledger.record(change, status, **detail)
            journal.done(change.address, status)
            result.counts[status] = result.counts.get(status, 0) + 1
        on_applied(change, status)

    journal.begin(plan)
    schema = [c for c in plan.changes if c.phase is not Phase.CONTENT]
    content = [c for c in plan.changes if c.phase is Phase.CONTENT]
    executor = NotionExecutor(targets.notion.client, live.notion.databases, targets.notion_state,
                              targets.save)
    if content_only:
        for change in schema:
            done(change, "skipped", reason="--content-only")
    else:
        executor.apply([c for c in schema if c.address.startswith("notion.")], done)
        targets.save()
        _apply_tables(targets, [c for c in schema if c.address.startswith("supabase.")], done)
    _apply_content(plan, project, targets, live, executor, content, done)
    _record_unchanged(plan, project, live, ledger)
    journal.end("complete")
    return result


def _apply_tables(targets: Targets, tables: list[Change], done: Callable[..., None]) -> None:
    if not tables:
        return
    if targets.postgres is None:
        raise ConfigError("the plan changes Supabase tables but the spec declares none now")
    from reconciler.backends.postgres.executor import apply_changes

    apply_changes(targets.postgres, tables, on_applied=lambda c: done(c, "applied"))


def _apply_content(plan: Plan, project: Project, targets: Targets, live: Live,
                   executor: NotionExecutor, changes: list[Change],
                   done: Callable[..., None]) -> None:
    """Write pages (Notion) and rows (Postgres), after the schema they need."""
    pages = [c for c in changes if c.address.startswith("notion.")]
    if pages:
        summaries = plan.content
        writer = NotionContentWriter(
            client=targets.notion.client, schemas=executor.schemas,
            data_sources={k: d.data_source_id for k, d in targets.notion_state.databases.items()},
            pages_by_key={t.split(".", 1)[1]: {k: r.id for k, r in rows.items() if r.id}
                          for t, rows in live.content.rows.items() if t.startswith("notion.")},
            key_fields={t.split(".", 1)[1]: s.key for t, s in summaries.items()},
            hash_fields={t.split(".", 1)[1]: s.hash_field for t, s in summaries.items()})
        writer.apply(pages, lambda c, status, detail: done(c, status, **detail))
    rows = [c for c in changes if c.address.startswith("supabase.")]
    if rows:
        from reconciler.backends.postgres.content_apply import apply_rows

        apply_rows(targets.postgres, rows, plan.content, _tables_now(project, targets), done)


def _tables_now(project: Project, targets: Targets):
    from reconciler.backends.postgres.reader import read_tables

    return read_tables(targets.postgres, project.supabase)[0]


def record_unchanged(plan: Plan, project: Project, targets: Targets) -> None:
    """Ledger lines for the rows an apply with nothing to do left as they were."""
    if not _content_sets(project):
        return
    live = targets.last_read[1] if targets.last_read is not None else read_live(project, targets)
    _record_unchanged(plan, project, live,
                      Ledger(project.root / ".reconciler" / "ledger.ndjson"))


def _record_unchanged(plan: Plan, project: Project, live: Live, ledger: Ledger) -> None:
    """One ledger line per row the source has and the live side already matches (`skipped`)."""
    planned = {c.address for c in plan.changes}
    for content in _content_sets(project):
        rows = live.content.rows.get(content.address, {})
        noun = "page" if content.address.startswith("notion.") else "row"
        for row in content.rows:
            want = content_hash(row.values, exclude=content.hash_field)
            have = rows.get(row.key)
            address = addresses.child(content.address, noun, row.key)
            if have is not None and address not in planned and \
                    have.values.get(content.hash_field) == want:
                ledger.record_row(address, "skipped", hash=want, reason="unchanged")


def journal_path(project: Project) -> Path:
    return project.root / ".reconciler" / "journal.ndjson"


def resume_plan(plan: Plan, project: Project, targets: Targets) -> Plan | None:
    """The plan that finishes an interrupted apply of `plan`, or None when there is none.

    When the last apply of this same plan (same digest) was interrupted, its partial writes
    make the saved plan stale; a fresh plan from the live state holds exactly the rest of the
    work. It is used only if it does nothing the saved plan did not already say (its addresses
    are a subset), so apply never does more than the reviewed plan. Raises `StalePlanError`
    otherwise.
    """
    from reconciler.apply.journal import interrupted_run, plan_digest

    run = interrupted_run(journal_path(project))
    if run is None or run.plan_digest != plan_digest(plan):
        return None
    fresh = make_plan(project, targets, prune=any(c.kind in ("archive_page", "delete_row")
                                                    for c in plan.changes))
    extra = sorted({c.address for c in fresh.changes} - {c.address for c in plan.changes})
    if extra:
        raise StalePlanError(extra)
    return fresh
