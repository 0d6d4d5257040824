"""Reading the Notion side of the synced tables: the pages of each mirrored database.

Per synced table whose database exists: with no watermark (nothing synced yet), every page
(ceil(pages/100) queries, `pages.read_rows`); otherwise only the pages edited since the last
apply's Notion watermark minus a minute (Notion's `last_edited_time` is minute-rounded,
NOTION-API.md §1.3 "Incremental reads": ceil(edited/100) queries, de-duplicated by page id), the
pages trashed since then (a query with `in_trash: true` and the same filter: trashed pages never
come back from a plain query, §1.3), and one `GET /v1/pages/{id}` per page a Supabase row names
that the base does not know. Relations truncated at 25 references are completed
(`pages.complete_row`). Values are in normal form (`convert.row_from_page`), by property name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from reconciler.backends.notion.convert import row_from_page
from reconciler.backends.notion.pages import OVERLAP, PAGE_SIZE, complete_row, read_rows
from reconciler.model.content import Row
from reconciler.model.notion import Database, NotionDatabases
from reconciler.model.sync import NotionSide, PostgresSide, SideRow, SyncTable


def read_sync(client, specs: Sequence[SyncTable], databases: NotionDatabases,
              supabase: Mapping[str, PostgresSide]) -> dict[str, NotionSide]:
    """Each synced table's `NotionSide`, by the table's address. `supabase` is the Postgres
    side already read (its watermark and base). Raises what notion-client raises."""
    out = {}
    for spec in specs:
        db = databases.database(spec.database)
        if db is None or not db.data_source_id:
            out[spec.address] = NotionSide(complete=True)
            continue
        out[spec.address] = _read(client, db, supabase.get(spec.address))
    return out


def _read(client, db: Database, pg: PostgresSide | None) -> NotionSide:
    since = pg.watermark if pg is not None else None
    ids = {p.name: p.id for p in db.properties if p.id}
    side = NotionSide(complete=since is None, exists=True)
    for row in read_rows(client, db.data_source_id, since=since):
        side.pages[row.id] = _side_row(client, row, ids)
    if since is None:
        return side
    for page in _trashed(client, db.data_source_id, since):
        side.trashed.add(page["id"])
        side.pages.pop(page["id"], None)
    known = {b.page for b in pg.base if b.page} if pg is not None else set()
    for page_id in sorted({p for p in (pg.keys.values() if pg else ()) if p} - known -
                          set(side.pages) - side.trashed):
        row = row_from_page(client.pages.retrieve(page_id))
        if row.in_trash or row.data_source_id is None:
            side.trashed.add(page_id)
        else:
            side.pages[row.id] = _side_row(client, row, ids)
    return side


def _side_row(client, row: Row, ids: dict[str, str]) -> SideRow:
    if row.truncated:
        row = complete_row(client, row, ids)
    return SideRow(id=row.id or "", values=dict(row.values), stamp=row.last_edited_time,
                   created=row.created_time)


def _trashed(client, data_source_id: str, since: str) -> list[dict]:
    """Pages trashed since `since` (minus the overlap). A server that ignores `in_trash` answers
    with live pages, which are left out here: their trash is then seen by the next full read."""
    start = datetime.fromisoformat(since.replace("Z", "+00:00")) - OVERLAP
    body: dict[str, Any] = {"in_trash": True, "page_size": PAGE_SIZE, "filter": {
        "timestamp": "last_edited_time", "last_edited_time": {"on_or_after": start.isoformat()}}}
    found, cursor = [], None
    while True:
        answer = client.data_sources.query(data_source_id, start_cursor=cursor, **body)
        found += [p for p in answer.get("results", []) if p.get("in_trash")]
        cursor = answer.get("next_cursor")
        if not answer.get("has_more") or not cursor:
            return found


def find_created_page(client, data_source_id: str, values: Mapping[str, Any],
                      same: Any) -> dict | None:
    """The page created in the last few minutes whose properties hold `values` (normal form),
    for a create that may have committed and has no key to look it up by. `same(name, live,
    wanted)` compares one property's values."""
    start = datetime.now(timezone.utc) - timedelta(minutes=3)
    answer = client.data_sources.query(
        data_source_id, page_size=PAGE_SIZE,
        filter={"timestamp": "created_time", "created_time": {"on_or_after": start.isoformat()}})
    for page in answer.get("results", []):
        row = row_from_page(page)
        if all(same(name, row.values.get(name), value) for name, value in values.items()):
            return {"id": page["id"]}
    return None
