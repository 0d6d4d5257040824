"""Reading the pages (rows) of a data source, completely and cheaply.

Cost: ceil(rows / 100) `POST /v1/data_sources/{id}/query` calls (page_size 100 is the maximum,
NOTION-API.md §1.3), plus one `GET /v1/pages/{id}/properties/{prop}` per truncated value that
is actually compared (relations over 25 references, §4.3). A query stops at 10,000 results and
marks pages `request_status: incomplete`; reading then goes on in `created_time` windows, the
way notion-sdk-js's `iterateAllDataSourceRows` does (created_time never changes, §1.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from reconciler.backends.notion.convert import row_from_page, value_from_api
from reconciler.model.content import Row
from reconciler.progress import report

PAGE_SIZE = 100
#: `last_edited_time` is minute-rounded (NOTION-API.md §1.1): incremental reads overlap by this.
OVERLAP = timedelta(minutes=1)


def query_pages(client, data_source_id: str, *, since: str | None = None) -> Iterator[dict]:
    """Every page (not trashed) of a data source, oldest first, each once.

    `since` (ISO 8601) limits the read to pages edited at or after `since` minus one minute.
    """
    seen: set[str] = set()
    window: str | None = None
    while True:
        restart = None
        for page in _one_query(client, data_source_id, since=since, created_from=window):
            if page.get("request_status", {}).get("type") == "incomplete":
                restart = page.get("created_time")
            if page["id"] not in seen:
                seen.add(page["id"])
                yield page
        if restart is None or restart == window:
            return
        window = restart


def _one_query(client, data_source_id: str, *, since: str | None,
               created_from: str | None) -> Iterator[dict]:
    filters = []
    if since:
        start = datetime.fromisoformat(since.replace("Z", "+00:00")) - OVERLAP
        filters.append({"timestamp": "last_edited_time",
                        "last_edited_time": {"on_or_after": start.isoformat()}})
    if created_from:
        filters.append({"timestamp": "created_time", "created_time": {"on_or_after": created_from}})
    body: dict = {"page_size": PAGE_SIZE,
                  "sorts": [{"timestamp": "created_time", "direction": "ascending"}]}
    if filters:
        body["filter"] = filters[0] if len(filters) == 1 else {"and": filters}
    cursor = None
    while True:
        response = client.data_sources.query(data_source_id, start_cursor=cursor, **body)
        report("Reading rows", counts={"rows": len(response.get("results", []))})
        yield from response.get("results", [])
        cursor = response.get("next_cursor")
        if not response.get("has_more") or not cursor:
            return


def read_rows(client, data_source_id: str, *, since: str | None = None) -> list[Row]:
    """The rows of a data source as `Row`s (values in normal form, truncation marked)."""
    return [row_from_page(page) for page in query_pages(client, data_source_id, since=since)
            if page.get("object") == "page"]


def complete_row(client, row: Row, property_ids: dict[str, str]) -> Row:
    """`row` with every truncated value fetched in full (`pages.properties.retrieve`, paginated).

    `property_ids` maps property name → id. Costs one call per 100 items per truncated value.
    """
    if not row.truncated or row.id is None:
        return row
    values = dict(row.values)
    for name in row.truncated:
        items, cursor = [], None
        while True:
            got = client.pages.properties.retrieve(row.id, property_ids[name],
                                                   start_cursor=cursor, page_size=100)
            items += got.get("results", [])
            cursor = got.get("next_cursor")
            if not got.get("has_more") or not cursor:
                break
        kind = items[0]["type"] if items else "relation"
        values[name] = value_from_api({"type": kind, kind: [i[kind] for i in items]})
    return row.model_copy(update={"values": values, "truncated": ()})
