"""The Notion backend: read, diff, compile and execute for the addresses under `notion.`.

Reading costs two calls per known database (`GET /v1/databases/{id}`, `GET /v1/data_sources/{id}`)
plus ceil(rows/100) queries per content set, one `users.list` when content names people
(DESIGN.md "Performance, by design") and one `GET /v1/users/me`, who the integration is (the
plan header's identity, so a plan is never applied to another workspace). The desired side is the project's databases with the
connection's defaults: the default parent page, and property ids known from `.reconciler/state.json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from notion_client import APIResponseError

from reconciler.backends.base import Diff, Known, Live, Report
from reconciler.backends.notion.client import (NotionConnection, integration_identity,
                                               notion_refusal)
from reconciler.backends.notion.compile import CompileContext, compile_changes
from reconciler.backends.notion.execute import NotionExecutor
from reconciler.backends.notion.reader import read_notion
from reconciler.backends.notion.rows import (key_text, load_snapshot, notion_rows, people_ids,
                                             save_snapshot, settle_rows, snapshot_path)
from reconciler.backends.notion.steps import NotionStep, PageStep, RelateStep
from reconciler.diff.content import ContentSchema, RowChanges, diff_content
from reconciler.diff.notion import diff_notion
from reconciler.errors import ConfigError, ReadError
from reconciler.model.changes import (ArchivePage, ChangeBase, CreateDatabase, CreatePage,
                                      NotionChange, UpdatePage)
from reconciler.model.content import ContentSet, LiveRow
from reconciler.model.notion import NotionDatabases
from reconciler.model.sensitive import row_namer
from reconciler.state import DatabaseState, NotionState, State, save_state

__all__ = ["NotionBackend", "NotionLive", "key_text"]


@dataclass
class NotionLive:
    """The live model of the Notion backend: the desired databases with the connection's defaults
    (`desired`), the live ones found for them (`databases`), and the user ids of the e-mails
    content names (`people`, None when none is named)."""

    desired: NotionDatabases
    databases: NotionDatabases
    people: dict[str, str] | None = None
    trashed: dict[str, str] = field(default_factory=dict)


class NotionBackend:
    """The Notion backend open on its connection for one command. `state` is the whole `.reconciler/state.json`
    (saved after every request that changes ids); `parent_page_id` the default parent of new
    databases."""

    root = "notion"
    row_noun = "page"
    #: The Notion side of a sync reads from the watermark the Postgres side keeps.
    reads_after = ("supabase",)

    def __init__(self, project_root: Path, connection: NotionConnection, state: State,
                 parent_page_id: str | None):
        self.project_root = project_root
        self.connection = connection
        self.state = state
        self.parent_page_id = parent_page_id

    @property
    def description(self) -> str:
        return self.connection.description

    @property
    def client(self):
        return self.connection.client

    @property
    def notion_state(self) -> NotionState:
        return self.state.notion.setdefault(self.connection.state_key, NotionState())

    def save_state(self) -> None:
        save_state(self.project_root, self.state)

    def close(self) -> None:
        """Close the HTTP client (and, for the local Notion, its store)."""
        self.client.close()

    # --- read --------------------------------------------------------------------------------
    def desired(self, project: Any) -> NotionDatabases:
        """The project's databases with the default parent on those that name none, and the
        property ids the state knows."""
        databases = []
        for db in project.notion.databases:
            known = self.notion_state.databases.get(db.name)
            props = db.properties
            if known is not None:
                props = tuple(
                    p.model_copy(update={"id": known.properties[p.name].id})
                    if p.name in known.properties and p.id is None else p for p in props)
            databases.append(db.model_copy(update={
                "parent_page_id": db.parent_page_id or self.parent_page_id,
                "properties": props}))
        return project.notion.model_copy(update={"databases": tuple(databases)})

    def read(self, project: Any, *, since: str | None = None, check: bool = False,
             earlier: Any = None) -> Live:
        """Databases, content rows and people of the project, who the integration is
        (`client.integration_identity`, one call), and the Notion side of each synced table
        (`sync_read`; `earlier["supabase"]` is the Postgres read). Raises `ReadError`.

        With `check` (apply's stale check) the identity is not read (`identify()` reads it when
        the fingerprints do not already prove the workspace: `apply.runner.check_identity`), and,
        with the snapshots of the last full read at hand, the rows are read incrementally: one `last_edited_time` query per content set for the pages
        edited since that read (a minute of overlap), merged with the snapshot, whose
        fingerprint equals a full read's when nothing changed; no page is fetched one by one.
        """
        desired = self.desired(project)
        fetch = True
        if check and since is None and self._snapshots_complete(project):
            since, fetch = self.state.content_watermark, False
        found = read_notion(self.client, desired, self.notion_state)
        self._remember_ids(found.databases)
        live = Live(NotionLive(desired, found.databases, trashed=dict(found.trashed)),
                    fingerprints=dict(found.fingerprints),
                    identity={} if check else integration_identity(self.client))
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        live.read_at = started
        sets = self.content_sets(project)
        for content in sets:
            db = found.databases.database(content.database)
            known = load_snapshot(self.project_root, content.address, content.hash_field)
            rows, print_ = notion_rows(self.client, content, db, fetch=fetch,
                                       since=since if known is not None else None, known=known)
            save_snapshot(self.project_root, content.address, rows, content.hash_field)
            live.rows[content.address] = rows
            live.fingerprints[content.address + ".content"] = print_
        live.model.people = people_ids(self.client, sets, desired)
        if getattr(project, "sync", ()):
            from reconciler.backends.notion.sync_read import read_sync

            postgres = (earlier or {}).get("supabase")
            live.sync = read_sync(self.client, project.sync, found.databases,
                                  postgres.sync if postgres is not None else {})
        if sets and since is None:
            self.state.content_watermark = started
            self.save_state()
        return live

    def identify(self) -> dict[str, str]:
        """Who the integration is and in which workspace (`GET /v1/users/me`, one call)."""
        return integration_identity(self.client)

    def content_sets(self, project: Any) -> tuple[ContentSet, ...]:
        return tuple(c for c in project.content if c.address.startswith("notion."))

    def _snapshots_complete(self, project: Any) -> bool:
        """True when the last full read left its time and a snapshot of every content set."""
        return self.state.content_watermark is not None and all(
            snapshot_path(self.project_root, c.address).is_file()
            for c in self.content_sets(project))

    def _remember_ids(self, live: NotionDatabases) -> None:
        """Databases found by their parent page (state lost, or an apply died before saving
        it) join the state, so apply addresses them by id."""
        for db in live.databases:
            known = self.notion_state.databases.get(db.name)
            if db.id and db.data_source_id and (known is None or known.database_id != db.id):
                self.notion_state.databases[db.name] = DatabaseState(
                    database_id=db.id, data_source_id=db.data_source_id)

    # --- diff --------------------------------------------------------------------------------
    def diff(self, project: Any, live: Live, *, prune: bool = False) -> Diff:
        """Schema and content changes. Raises `ConfigError` when a database must be created but
        no parent page is known."""
        model: NotionLive = live.model
        out = Diff(diff_notion(model.desired, model.databases))
        orphans = [c.address for c in out.changes
                   if isinstance(c, CreateDatabase) and not c.after.parent_page_id]
        if orphans:
            raise ConfigError(
                f"{', '.join(orphans)}: not found, and no parent page is set to look for it in "
                "or to create it in. Set NOTION_PARENT_PAGE_ID (or notion.parent_page_id in "
                "reconciler.yaml, or parent: in the database's file) to the page shared with "
                "the integration that holds these databases (they are then found by title "
                "under it) or that should hold them. Nothing was created.")
        for content in self.content_sets(project):
            rows = live.rows.get(content.address, {})
            changes, summary = diff_content(content, rows,
                                            self._content_schema(content, live, project),
                                            prune=prune)
            out.changes += changes
            out.content[content.address] = summary
            self._settle(content, rows, changes, live.read_at)
        return out

    def _settle(self, content: ContentSet, rows: dict[str, LiveRow],
                changes: Sequence[ChangeBase], read_at: str | None) -> None:
        """Remember in the content snapshot the edited rows the diff found equal to the
        source (`rows.settle_rows`), so the next read trusts their stored hash until they are
        edited again; rows with a change stay compared at every read until they match."""
        changed = {getattr(c.after, "key", None) for c in changes
                   if getattr(c, "after", None) is not None}
        matched = [k for k in (r.key for r in content.rows)
                   if k in rows and rows[k].edited and k not in changed]
        if not matched:
            return
        settled = settle_rows(rows, matched, read_at)
        if settled != rows:
            rows.update(settled)
            save_snapshot(self.project_root, content.address, rows, content.hash_field)

    def _content_schema(self, content: ContentSet, live: Live, project: Any = None
                        ) -> ContentSchema:
        """Relation keys resolve through the live rows of the related database's content set
        (a key no live row has becomes `{"key": <row name>}`, named as the related set names its
        rows), people e-mails through the live people ids."""
        model: NotionLive = live.model
        sealer = getattr(project, "sealer", None)
        sets = {c.address: c for c in self.content_sets(project)} if project else {}
        namers = {a: row_namer(sealer, a, c.sensitive_key) for a, c in sets.items()}
        name = content.database
        want = model.desired.database(name)
        have = model.databases.database(name)
        types = {p.name: p.type for p in want.properties} if want else {}
        related = {p.name: p.relation.database for p in (want.properties if want else ())
                   if p.type == "relation" and p.relation}
        people = model.people

        def resolve(field: str, value: Any) -> Any:
            if types.get(field) == "people" and value and people is not None:
                return tuple(people.get(str(e).strip().lower(), e) for e in value)
            if field not in related or not value:
                return value
            rows = live.rows.get(f"notion.{related[field]}", {})
            refs = value if isinstance(value, (list, tuple)) else [value]
            name = namers.get(f"notion.{related[field]}", str)
            return tuple(rows[str(k)].id if str(k) in rows else {"key": name(str(k))}
                         for k in refs)

        live_names = {p.name for p in have.properties} if have else set()
        former = {p.name: next((n for n in p.renamed_from if n in live_names), p.name)
                  for p in (want.properties if want else ()) if p.name not in live_names}
        spell = RowChanges(CreatePage, UpdatePage, ArchivePage, "page", "property",
                           {"database": name})
        return ContentSchema(spell, field_types=types, resolve=resolve,
                             live_fields=frozenset(live_names) if have else None,
                             live_name=lambda f: former.get(f, f),
                             row_name=namers.get(content.address) or
                             row_namer(sealer, content.address, content.sensitive_key))

    def assess(self, changes: Sequence[ChangeBase], live: Live) -> list[ChangeBase]:
        """`changes` as they are, once the parent page of every database they touch is known
        to be there: one `GET /v1/pages/{id}` per distinct parent page, only when there is
        something to write. Raises `ConfigError` naming the page when it is in the trash or
        not shared with the integration, where Notion would answer each write with a 404 that
        blames sharing (NOTION-API.md §1.4), and naming a database the plan would create while
        the one it made is in the trash (a duplicate, its pages left behind)."""
        model: NotionLive = live.model
        for change in changes:
            if isinstance(change, CreateDatabase) and change.database in model.trashed:
                title = change.after.title if change.after is not None else change.database
                raise ConfigError(
                    f"{change.address}: {title!r} (database {model.trashed[change.database]}) "
                    "is in Notion's trash, so the plan would create a second one and leave its "
                    "pages behind: restore it from the trash in Notion and plan again, or delete "
                    "it from the trash for good to have it created anew")
        touched = {c.database for c in changes if isinstance(c, NotionChange)}
        parents: dict[str, list[str]] = {}
        for db in live.model.desired.databases:
            if db.name in touched and db.parent_page_id:
                parents.setdefault(db.parent_page_id, []).append(db.address)
        for page_id, owners in sorted(parents.items()):
            self._check_parent(page_id, owners)
        return list(changes)

    def _check_parent(self, page_id: str, owners: list[str]) -> None:
        try:
            page = self.client.pages.retrieve(page_id)
        except APIResponseError as exc:
            if exc.status == 404:
                raise ConfigError(
                    f"{', '.join(owners)}: the parent page {page_id} does not exist or is not "
                    "shared with the integration: share it (… menu → Connections) or set "
                    "parent: to a page that is") from None
            raise ReadError(f"reading the parent page {page_id} failed: "
                            f"{notion_refusal(exc)}") from None
        if page.get("in_trash") or page.get("archived"):
            raise ConfigError(
                f"{', '.join(owners)}: the parent page {page_id} is in the trash, so Notion "
                "refuses every write under it: restore the page from the trash in Notion, or "
                "set parent: to another page, then plan again")

    # --- compile and execute -----------------------------------------------------------------
    def compile(self, changes: Sequence[ChangeBase], project: Any, live: Live
                ) -> list[NotionStep]:
        model: NotionLive = live.model
        content = {c.database: c for c in self.content_sets(project)}
        return compile_changes(changes, CompileContext(model.desired, model.databases, content))

    def executor(self, live: Live, known: Known | None = None) -> "NotionRun":
        bucket = self.connection.bucket
        return NotionRun(NotionExecutor(self.client, live.model.databases, self.notion_state,
                                        self.save_state, known,
                                        rate=bucket.rate if bucket else None))


class NotionRun:
    """An apply's executor: schema steps in order, page steps a few at a time."""

    def __init__(self, executor: NotionExecutor):
        self.executor = executor

    def run(self, steps: Sequence[NotionStep], report: Report) -> None:
        pages = [s for s in steps if isinstance(s, (PageStep, RelateStep))]
        schema = [s for s in steps if s not in pages]
        if schema:
            self.executor.run_schema(schema, report)
            self.executor.save_state()
        if pages:
            self.executor.run_pages(pages, report)
