"""Finding a declared database that the state does not know (state lost, or a create that may
have committed before its answer was lost).

A database is looked for by its title under its parent page: search for data sources with that
title, kept when their parent is the expected page (NOTION-API.md §1.5). Notion's search index
is eventually consistent, so a database created a moment ago may not be found yet.
"""

from __future__ import annotations

from notion_client.helpers import iterate_paginated_api

from reconciler.backends.notion.schema import plain_text
from reconciler.model.notion import bare_id


def find_database(client, parent_page_id: str, title: str) -> dict | None:
    """The database object (GET /v1/databases/{id}) titled `title` whose parent is
    `parent_page_id`, or None. Raises notion-client's `APIResponseError` when search fails."""
    for found in iterate_paginated_api(
            client.search, query=title,
            filter={"property": "object", "value": "data_source"}, page_size=100):
        parent = (found.get("database_parent") or {}).get("page_id", "")
        if plain_text(found.get("title", [])) == title and not found.get("in_trash") \
                and bare_id(parent) == bare_id(parent_page_id):
            return client.databases.retrieve(found["parent"]["database_id"])
    return None
