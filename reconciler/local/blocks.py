"""Endpoints on blocks and search: trash/restore a page or database block, list a page's child
blocks, search titles (NOTION-API.md §1.2, §1.5).

Each handler takes ``(ctx, request, body, **path arguments)`` and returns the response body.
"""

from __future__ import annotations

import time
from typing import Any

from werkzeug.wrappers import Request

from .common import now_minute, now_ms, parse_uuid, plain
from .context import Context
from .errors import not_found, validation
from .objects import block_object, data_source_object, list_object, page_object
from .paging import page_size, paginate

Body = dict[str, Any]


def search(ctx: Context, request: Request, body: Body) -> Body:
    """``POST /v1/search``: title substring (case-insensitive), ``filter`` page|data_source, ``sort`` by
    last_edited_time, pagination; pages and data sources, never databases; trashed excluded (§1.5).

    Search is eventually consistent in Notion ("indexing is not immediate", §1.5): with a search lag of
    N seconds (``Context.search_lag``), pages and data sources created less than N seconds ago are not
    found. Objects that existed before the first request (the root page, migrated ones) always are."""
    store = ctx.store
    size = page_size(body.get("page_size"), "body.page_size")
    flt = body.get("filter") or {}
    kind = flt.get("value") if isinstance(flt, dict) else None
    if kind not in (None, "page", "data_source"):
        raise validation("body failed validation: body.filter.value should be `\"page\"` or `\"data_source\"`.")
    query = (body.get("query") or "").lower()
    indexed_before = time.time() - ctx.search_lag
    hits: list[tuple[Body, str]] = []
    if kind in (None, "page"):
        hits += [(p, "page") for p in store.search_pages(query, indexed_before)]
    if kind in (None, "data_source"):
        for ds in store.data_sources():
            db = store.database(ds["database_id"]) or {"title": [], "in_trash": True}
            name = plain(ds["title"]) or plain(db["title"])
            if not ds["in_trash"] and not db["in_trash"] and query in name.lower() \
                    and ds.get("created_at", 0.0) <= indexed_before:
                hits.append((ds, "data_source"))
    hits.sort(key=lambda h: h[0].get("seq", 0))
    sort = body.get("sort")
    if isinstance(sort, dict) and sort.get("timestamp") == "last_edited_time":
        hits.sort(key=lambda h: h[0]["last_edited_time"][:16], reverse=sort.get("direction") == "descending")
    chunk, nxt = paginate(hits, body.get("start_cursor"), size, lambda h: h[0]["id"])
    results = [page_object(store, o) if k == "page" else data_source_object(store, o) for o, k in chunk]
    return list_object(results, nxt)


def list_children(ctx: Context, request: Request, body: Body, block_id: str) -> Body:
    """``GET /v1/blocks/{id}/children``: a page's child pages (``child_page``) and databases
    (``child_database``, the block id is the database id, ``child_database.title`` its title), in
    creation order, trashed ones left out (REC:RA/test_iterate_paginated_api.yaml #10: the children
    list is empty once they are deleted). List shape ``{"object":"list", …, "type":"block","block":{}}``
    (#2). Not subject to the search lag: it reads the page itself. A database has no child blocks here."""
    store = ctx.store
    ident = parse_uuid(block_id, "path.block_id")
    size = page_size(request.args.get("page_size"), "query.page_size")
    if store.page(ident) is not None:
        items = [(p, "page") for p in store.pages_under(ident) if not p["in_trash"]]
        items += [(d, "database") for d in store.databases_under(ident) if not d["in_trash"]]
    elif store.database(ident) is not None:
        items = []
    else:
        raise not_found("block", ident)
    items.sort(key=lambda item: (item[0].get("seq", 0), item[0]["created_time"]))
    chunk, nxt = paginate(items, request.args.get("start_cursor"), size, lambda item: item[0]["id"])
    return list_object([block_object(store, obj, kind) for obj, kind in chunk], nxt, "block")


def update_block(ctx: Context, request: Request, body: Body, block_id: str) -> Body:
    """``PATCH /v1/blocks/{id}`` with ``in_trash``/``archived``: restore or trash a page or database block
    (REC:UN/test_database/test_delete_restore_db.yaml #4)."""
    trash = next((body[k] for k in ("in_trash", "archived") if body.get(k) is not None), None)
    return delete_block(ctx, request, body, block_id, trash=True if trash is None else bool(trash))


def delete_block(ctx: Context, request: Request, body: Body, block_id: str, trash: bool = True) -> Body:
    """``DELETE /v1/blocks/{id}`` trashes a page (``child_page``) or a database (``child_database``)."""
    store = ctx.store
    ident = parse_uuid(block_id, "path.block_id")
    page = store.page(ident)
    if page is not None:
        ctx.ensure_writable(page["parent"], "block", ident)
        page["in_trash"] = trash
        page["last_edited_time"] = now_minute()
        return block_object(store, page, "page")
    db = store.database(ident)
    if db is not None:
        ctx.ensure_writable(db["parent"], "block", ident)
        db["in_trash"] = trash
        db["last_edited_time"] = now_ms()
        return block_object(store, db, "database")
    raise not_found("block", ident)


HANDLERS = {"search": search, "list_children": list_children, "update_block": update_block,
            "delete_block": delete_block}
