"""Which Notion databases an import reads, and reading them (`notion-client`).

A reference is a database id, a data source id, a page id (every database directly under the
page) or a Notion URL holding one of them (`https://www.notion.so/<workspace>/<Title>-<32 hex
id>?v=…`: the 32 hex digits before `?`). With none, every data source the integration can see
(`POST /v1/search` filtered on `data_source`, NOTION-API.md §1.2). Relations are followed: a
database another one relates to is imported with it, so relations can name it by its logical
name.

Cost: one `GET /v1/databases/{id}` and one `GET /v1/data_sources/{id}` per database, plus one
or two lookups per reference that is not a database id, ceil(n/100) searches for "every", and
ceil(children/100) block listings per page given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from notion_client import APIResponseError
from notion_client.helpers import iterate_paginated_api

from reconciler.backends.notion.client import notion_refusal
from reconciler.errors import ConfigError, ReadError
from reconciler.model.notion import bare_id

_ID = re.compile(r"([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                 r"[0-9a-fA-F]{12})")


@dataclass(frozen=True)
class RawDatabase:
    """A database and its first data source, as the API returns them; `extra_sources` counts
    the data sources beyond the first (not imported)."""

    database: dict
    data_source: dict
    extra_sources: int = 0

    @property
    def data_source_id(self) -> str:
        return self.data_source["id"]


def parse_reference(text: str) -> str:
    """The Notion id in `text` (an id with or without dashes, or a URL): the last 32-hex run
    before any `?` or `#`. Raises `ConfigError` when there is none."""
    path = re.split(r"[?#]", text.strip(), maxsplit=1)[0]
    found = _ID.findall(path)
    if not found:
        raise ConfigError(f"{text!r} is not a Notion id or URL: give a database id, a page id, "
                          "or a link copied from Notion (… → Copy link)")
    return bare_id(found[-1])


def _get(method, object_id: str) -> dict | None:
    try:
        return method(object_id)
    except APIResponseError as exc:
        if exc.status in (400, 404):
            return None
        raise ReadError(f"reading {object_id} failed: {notion_refusal(exc)}") from None


def read_database(client, database: dict) -> RawDatabase:
    """`database` with its first data source. Raises `ReadError` when it has none or it is not
    shared."""
    sources = database.get("data_sources") or []
    if not sources:
        raise ReadError(f"database {database['id']} has no data source (was it created with an "
                        "older Notion-Version?)")
    data_source = _get(client.data_sources.retrieve, sources[0]["id"])
    if data_source is None:
        raise ReadError(f"the data source {sources[0]['id']} of database {database['id']} is "
                        "not shared with the integration: share the database (… → Connections)")
    return RawDatabase(database, data_source, len(sources) - 1)


def resolve(client, reference: str) -> list[RawDatabase]:
    """The databases `reference` names: a database, a data source's database, or the databases
    directly under a page. Raises `ConfigError` when it names none the integration can read."""
    object_id = parse_reference(reference)
    database = _get(client.databases.retrieve, object_id)
    if database is None:
        data_source = _get(client.data_sources.retrieve, object_id)
        parent = (data_source or {}).get("parent") or {}
        if parent.get("database_id"):
            database = _get(client.databases.retrieve, parent["database_id"])
    if database is not None:
        return [read_database(client, database)]
    page = _get(client.pages.retrieve, object_id)
    if page is not None:
        found = [read_database(client, db) for db in child_databases(client, object_id)]
        if found:
            return found
        raise ConfigError(f"{reference}: the page holds no database the integration can read")
    raise ConfigError(f"{reference}: no database, data source or page with id {object_id} is "
                      "shared with the integration: share it in Notion (… → Connections) and "
                      "run the import again")


def child_databases(client, page_id: str) -> list[dict]:
    """The untrashed databases directly under page `page_id` (`child_database` blocks)."""
    try:
        blocks = [b for b in iterate_paginated_api(client.blocks.children.list, block_id=page_id,
                                                   page_size=100)
                  if b.get("type") == "child_database" and not b.get("in_trash")]
    except APIResponseError as exc:
        raise ReadError(f"listing the blocks of page {page_id} failed: {notion_refusal(exc)}") from None
    found = (_get(client.databases.retrieve, b["id"]) for b in blocks)
    return [db for db in found if db is not None and not db.get("in_trash")]


def every_database(client) -> list[RawDatabase]:
    """Every untrashed database the integration can see, through search (which lags a little
    behind new databases: NOTION-API.md §1.5)."""
    try:
        sources = list(iterate_paginated_api(
            client.search, filter={"property": "object", "value": "data_source"}, page_size=100))
    except APIResponseError as exc:
        raise ReadError(f"searching for data sources failed: {notion_refusal(exc)}") from None
    seen: set[str] = set()
    out = []
    for source in sources:
        database_id = ((source.get("parent") or {}).get("database_id"))
        if not database_id or bare_id(database_id) in seen or source.get("in_trash"):
            continue
        seen.add(bare_id(database_id))
        database = _get(client.databases.retrieve, database_id)
        if database is not None and not database.get("in_trash"):
            out.append(read_database(client, database))
    return out


def related_ids(raw: RawDatabase) -> set[str]:
    """Bare ids of the data sources `raw`'s relations point to."""
    return {bare_id(schema["relation"]["data_source_id"])
            for schema in (raw.data_source.get("properties") or {}).values()
            if schema.get("type") == "relation"
            and (schema.get("relation") or {}).get("data_source_id")}


def with_related(client, found: Iterable[RawDatabase]) -> tuple[list[RawDatabase], list[str]]:
    """`found` plus, transitively, the databases their relations point to; and the bare ids of
    related data sources the integration cannot read."""
    out = {bare_id(r.data_source_id): r for r in found}
    missing: list[str] = []
    todo = [i for r in out.values() for i in related_ids(r)]
    while todo:
        source_id = todo.pop()
        if source_id in out or source_id in missing:
            continue
        data_source = _get(client.data_sources.retrieve, source_id)
        database_id = ((data_source or {}).get("parent") or {}).get("database_id")
        database = _get(client.databases.retrieve, database_id) if database_id else None
        if database is None:
            missing.append(source_id)
            continue
        out[source_id] = RawDatabase(database, data_source,
                                     len(database.get("data_sources") or []) - 1)
        todo += related_ids(out[source_id])
    return list(out.values()), missing
