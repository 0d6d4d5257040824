"""`reconciler status`: per database and table, what is there and what waits. Read-only.

For each declared Notion database and Postgres table: whether it exists, its rows and the latest
edit (Notion: one `POST /v1/data_sources/{id}/query` per 100 pages, only `last_edited_time` used;
Postgres: `count(*)` and `max(updated_at)` when the table has that column), the rows waiting on
schema lag and the changes a plan would make now (from a plan built as `reconciler plan` builds
it), the fields deferred by the last apply and the time of the last apply (from the ledger,
`.reconciler/ledger.ndjson`), and an unfinished apply (from the journal). The before/after audit
the seeds' teams wrote by hand.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from notion_client import APIResponseError
from notion_client.helpers import iterate_paginated_api
from psycopg import sql

from reconciler.addresses import matches
from reconciler.apply.journal import interrupted_run
from reconciler.apply.runner import journal_path, ledger_path, read_all
from reconciler.backends.notion.client import notion_refusal
from reconciler.errors import ReadError
from reconciler.plan.build import build_plan


@dataclass
class ResourceStatus:
    """One database or table. `exists`: found live; `rows`/`latest_edit`: None when unknown;
    `changes`: schema changes a plan makes now, by action; `rows_to_write`: content rows a plan
    creates, updates or archives; `lag`: field → rows waiting for it; `deferred`: field → rows
    the last apply wrote without it; `last_apply`: ISO time of the last ledger line of an
    applied change under this address."""

    address: str
    exists: bool
    rows: int | None = None
    latest_edit: str | None = None
    changes: dict[str, int] = field(default_factory=dict)
    rows_to_write: int = 0
    lag: dict[str, int] = field(default_factory=dict)
    deferred: dict[str, int] = field(default_factory=dict)
    last_apply: str | None = None

    @property
    def in_sync(self) -> bool:
        return self.exists and not self.changes and not self.rows_to_write and not self.lag


@dataclass
class StatusReport:
    """Every declared resource, where each backend is, and an apply left unfinished."""

    resources: list[ResourceStatus]
    backends: dict[str, str]
    interrupted: dict[str, Any] | None = None

    def as_json(self) -> str:
        return json.dumps({"backends": self.backends, "interrupted": self.interrupted,
                           "resources": [dict(asdict(r), in_sync=r.in_sync)
                                         for r in self.resources]}, indent=2)


def ledger_lines(root: Path) -> list[dict[str, Any]]:
    """The ledger's lines (unreadable lines skipped; none when there is no ledger)."""
    try:
        text = ledger_path(root).read_text(encoding="utf-8")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def ledger_summary(lines: list[dict[str, Any]], address: str) -> tuple[str | None, dict[str, int]]:
    """For the resource `address`: the time of the last applied (or deferred) change under it,
    and the fields still deferred: field → rows whose latest line is `deferred` with it."""
    last, latest_row = None, {}
    for line in lines:
        where = line.get("address", "")
        if not matches(where, address):
            continue
        if line.get("status") in ("applied", "deferred"):
            last = line.get("time") or last
        if line.get("kind") in ("create_page", "update_page", "insert_row", "update_row") or \
                "deferred" in line:
            latest_row[where] = line
    deferred: Counter = Counter()
    for line in latest_row.values():
        if line.get("status") == "deferred":
            deferred.update(line.get("deferred") or ())
    return last, dict(deferred)


def _notion_rows(client, data_source_id: str) -> tuple[int, str | None]:
    """Pages of a data source and the latest `last_edited_time` (one query per 100 pages)."""
    count, latest = 0, None
    try:
        for page in iterate_paginated_api(client.data_sources.query, data_source_id=data_source_id,
                                          page_size=100, filter_properties=["title"]):
            count += 1
            stamp = page.get("last_edited_time")
            latest = max(latest, stamp) if latest and stamp else (stamp or latest)
    except APIResponseError as exc:
        raise ReadError(f"counting the pages of {data_source_id} failed: {notion_refusal(exc)}") from None
    return count, latest


def _table_rows(conn, table) -> tuple[int, str | None]:
    table_sql = sql.Identifier(table.schema_name, table.name)
    # the latest edit in UTC and ISO 8601, as Notion's last_edited_time (one format in `status`)
    latest = sql.SQL("to_char(max({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')").format(
        sql.Identifier("updated_at")) if table.column("updated_at") else sql.SQL("NULL")
    row = conn.execute(sql.SQL("SELECT count(*), {} FROM {}").format(latest, table_sql)).fetchone()
    conn.rollback()
    return row[0], row[1]


def project_status(project: Any, backends: list) -> StatusReport:
    """The status of every resource `project` declares, read through the open `backends`
    (`backends.registry.open_backends`). Raises `ReadError`, `SpecError` (content values the
    live database refuses)."""
    reads = read_all(project, backends)
    plan = build_plan(project, backends, reads)
    lines = ledger_lines(project.root)
    by_resource: dict[str, Counter] = defaultdict(Counter)
    rows_to_write: Counter = Counter()
    for change in plan.changes:
        resource = _resource_of(change.address, project)
        if change.kind in ("create_page", "update_page", "archive_page", "insert_row",
                           "update_row", "delete_row"):
            rows_to_write[resource] += 1
        else:
            by_resource[resource][change.action.value] += 1
    resources = []
    notion = reads.get("notion")
    for db in project.notion.databases:
        live = notion.model.databases.database(db.name) if notion else None
        resources.append(_status(db.address, live is not None, by_resource, rows_to_write, plan,
                                 lines, _count(backends, "notion", live)))
    postgres = reads.get("supabase")
    for table in project.supabase:
        live = next((t for t in (postgres.model if postgres else ())
                     if (t.schema_name, t.name) == (table.schema_name, table.name)), None)
        resources.append(_status(table.address, live is not None, by_resource, rows_to_write,
                                 plan, lines, _count(backends, "supabase", live)))
    run = interrupted_run(journal_path(project.root))
    return StatusReport(resources, dict(plan.header.backends),
                        {"run": run.run_id, "started_at": run.started_at, "done": len(run.done),
                         "total": run.total} if run else None)


def _resource_of(address: str, project: Any) -> str:
    for db in project.notion.databases:
        if matches(address, db.address):
            return db.address
    for table in project.supabase:
        if matches(address, table.address):
            return table.address
    return address


def _count(backends: list, root: str, live: Any) -> tuple[int | None, str | None]:
    backend = next((b for b in backends if b.root == root), None)
    if backend is None or live is None:
        return None, None
    if root == "notion":
        return _notion_rows(backend.client, live.data_source_id)
    return _table_rows(backend.conn, live)


def _status(address: str, exists: bool, changes: Mapping[str, Counter],
            rows_to_write: Counter, plan, lines, counted: tuple) -> ResourceStatus:
    last, deferred = ledger_summary(lines, address)
    summary = plan.content.get(address)
    return ResourceStatus(address=address, exists=exists, rows=counted[0],
                          latest_edit=counted[1], changes=dict(changes.get(address, {})),
                          rows_to_write=rows_to_write[address],
                          lag=dict(summary.lag) if summary else {}, deferred=deferred,
                          last_apply=last)
