"""Finding a declared database without the search index.

Notion's search is eventually consistent: a database created a moment ago may not be found
(NOTION-API.md §1.5). A declared database is instead looked for among the child blocks of its
parent page (`GET /v1/blocks/{parent}/children`), where a database is a `child_database` block
whose id is the database id and whose `child_database.title` is its title (REC:RA/test_data_sources_update.yaml
#5 for the block shape, REC:RA/test_iterate_paginated_api.yaml #2 for the list). Trashed blocks are
not listed (ibid. #10). Cost: one call per 100 child blocks of the parent, plus one
`GET /v1/databases/{id}` for the match.
"""

from __future__ import annotations

from notion_client import APIResponseError
from notion_client.helpers import iterate_paginated_api

from reconciler.backends.notion.client import notion_refusal
from reconciler.errors import ReadError


def find_database(client, parent_page_id: str | None, title: str) -> dict | None:
    """The untrashed database titled `title` directly under page `parent_page_id`, as
    `GET /v1/databases/{id}` returns it, or None (also when there is no parent page, or it is
    missing or not shared: 404).

    Raises `ReadError` when several databases under that page carry the title, or when Notion
    answers another error.
    """
    if not parent_page_id:
        return None
    try:
        matches = [block["id"] for block in iterate_paginated_api(
            client.blocks.children.list, block_id=parent_page_id, page_size=100)
            if block.get("type") == "child_database" and not block.get("in_trash")
            and (block.get("child_database") or {}).get("title") == title]
        if len(matches) > 1:
            raise ReadError(
                f"{len(matches)} databases titled {title!r} share the parent page {parent_page_id}; rename or "
                "trash the extra ones in Notion so the reconciler knows which one is declared")
        if not matches:
            return None
        database = client.databases.retrieve(matches[0])
    except APIResponseError as exc:
        if exc.status == 404:
            return None
        raise ReadError(f"listing the databases under page {parent_page_id} failed: {notion_refusal(exc)}") from None
    return None if database.get("in_trash") else database
