"""Endpoints on databases and data sources (NOTION-API.md §1.2): create, retrieve, update, query.

Each handler takes ``(ctx, request, body, **path arguments)`` and returns the response body.
"""

from __future__ import annotations

import time
from typing import Any

from werkzeug.wrappers import Request

from .common import new_uuid, now_minute, now_ms
from .context import Context
from .errors import validation
from .objects import data_source_object, database_object, list_object, page_object
from .paging import bad_cursor, cursor_id, page_size, paginate
from .query import check_filter, matches, sort_pages
from .schema import new_data_source, update_properties
from .values import rich_text_in

Body = dict[str, Any]


def create_database(ctx: Context, request: Request, body: Body) -> Body:
    """``POST /v1/databases`` with a page parent; creates the first data source (§1.2). The data source
    gets the database's icon (NOTION-API.md §3.1 "Icon")."""
    store = ctx.store
    parent = body.get("parent")
    if not isinstance(parent, dict) or not parent.get("page_id"):
        raise validation("body failed validation: body.parent.page_id should be defined, instead was `undefined`.")
    parent_page = ctx.page(parent["page_id"], "body.parent.page_id")
    ctx.ensure_writable({"page_id": parent_page["id"]}, "page", parent_page["id"])
    title = rich_text_in(store, body.get("title"), "body.title") if "title" in body else []
    ts = now_ms()
    db = {"id": new_uuid(), "title": title or rich_text_in(store, [{"text": {"content": "New database"}}], "t"),
          "description": rich_text_in(store, body.get("description"), "body.description"),
          "parent": {"page_id": parent_page["id"]}, "is_inline": bool(body.get("is_inline", False)),
          "in_trash": False, "is_locked": False, "created_time": ts, "last_edited_time": ts,
          "data_sources": [], "icon": body.get("icon"), "cover": body.get("cover"), "seq": store.next_seq(),
          "created_at": time.time()}
    store.add("databases", db)
    initial = body.get("initial_data_source") or {}
    ds = new_data_source(store, db["id"], title, initial.get("properties"), body.get("icon"))
    db["data_sources"].append(ds["id"])
    return database_object(store, db)


def get_database(ctx: Context, request: Request, body: Body, db_id: str) -> Body:
    """``GET /v1/databases/{id}`` (reads work under a trashed ancestor)."""
    return database_object(ctx.store, ctx.database(db_id))


def update_database(ctx: Context, request: Request, body: Body, db_id: str) -> Body:
    """``PATCH /v1/databases/{id}``: title, description, icon, cover, in_trash/archived, is_locked, is_inline.
    An icon written on the database reaches its data sources too (NOTION-API.md §3.1 "Icon")."""
    store = ctx.store
    db = ctx.database(db_id)
    ctx.ensure_writable(db["parent"], "database", db["id"])
    if "title" in body:
        db["title"] = rich_text_in(store, body["title"], "body.title")
    if "description" in body:
        db["description"] = rich_text_in(store, body["description"], "body.description")
    for key in ("icon", "cover"):
        if key in body:
            db[key] = body[key]
    if "icon" in body:
        for ds in store.sources_of(db):
            ds["icon"] = body["icon"]
    for key in ("is_locked", "is_inline"):
        if key in body:
            db[key] = bool(body[key])
    for key in ("in_trash", "archived"):
        if key in body and body[key] is not None:
            db["in_trash"] = bool(body[key])
    db["last_edited_time"] = now_ms()
    return database_object(store, db)


def create_data_source(ctx: Context, request: Request, body: Body) -> Body:
    """``POST /v1/data_sources`` adds a data source to an existing database (REC:RA/test_data_sources_create.yaml)."""
    store = ctx.store
    parent = body.get("parent") or {}
    db = ctx.database(parent.get("database_id"), "body.parent.database_id")
    ctx.ensure_writable({"database_id": db["id"]}, "database", db["id"])
    title = rich_text_in(store, body.get("title"), "body.title")
    ds = new_data_source(store, db["id"], title, body.get("properties"), body.get("icon"))
    db["data_sources"].append(ds["id"])
    return data_source_object(store, ds)


def get_data_source(ctx: Context, request: Request, body: Body, ds_id: str) -> Body:
    """``GET /v1/data_sources/{id}``: the schema."""
    return data_source_object(ctx.store, ctx.data_source(ds_id))


def update_data_source(ctx: Context, request: Request, body: Body, ds_id: str) -> Body:
    """``PATCH /v1/data_sources/{id}``: title, icon, cover, in_trash/archived, properties (see ``schema``)."""
    store = ctx.store
    ds = ctx.data_source(ds_id)
    ctx.ensure_writable({"database_id": ds["database_id"]}, "data source", ds["id"])
    if "title" in body:
        ds["title"] = rich_text_in(store, body["title"], "body.title")
    for key in ("icon", "cover"):
        if key in body:
            ds[key] = body[key]
    for key in ("in_trash", "archived"):
        if key in body and body[key] is not None:
            ds["in_trash"] = bool(body[key])
    if body.get("properties") is not None:
        update_properties(store, ds, body["properties"])
    ds["last_edited_time"] = now_minute()
    return data_source_object(store, ds)


def query(ctx: Context, request: Request, body: Body, ds_id: str) -> Body:
    """``POST /v1/data_sources/{id}/query``: filter, sorts, start_cursor, page_size ≤ 100, filter_properties;
    trashed pages excluded unless ``in_trash``/``archived`` is true (§1.3). Reads only this data source's
    pages (the store indexes pages by data source)."""
    store = ctx.store
    ds = ctx.data_source(ds_id)
    size = page_size(body.get("page_size"), "body.page_size")
    trashed = bool(body.get("in_trash") or body.get("archived"))
    flt = body.get("filter")
    if flt:
        check_filter(ds, flt)
    if body.get("sorts") in (None, CREATION_ORDER):
        chunk, nxt = _in_creation_order(ctx, ds, trashed, flt, body.get("start_cursor"), size)
    else:
        rows = store.pages_in(ds["id"], in_trash=trashed)
        if flt:
            rows = [p for p in rows if matches(store, ds, flt, p)]
        rows = sort_pages(store, ds, rows, body.get("sorts"))
        chunk, nxt = paginate(rows, body.get("start_cursor"), size, lambda p: p["id"])
    only = request.args.getlist("filter_properties") or None
    return list_object([page_object(store, p, only) for p in chunk], nxt)


#: Sorts that ask for creation order, the order pages are stored in: `created_time` is stamped
#: with the creation number and never changes, so pages in `seq` order are in `created_time` order.
CREATION_ORDER = [{"timestamp": "created_time", "direction": "ascending"}]


def _in_creation_order(ctx: Context, ds: Body, trashed: bool, flt: Any, cursor: Any,
                       size: int) -> tuple[list[Body], str | None]:
    """One page of a query in creation order, read from the cursor's page on and only until the
    page is full: reading a data source page by page costs its rows once, not once per page."""
    store, start = ctx.store, 0
    if cursor is not None:
        first = store.page(cursor_id(cursor))
        if first is None or first["parent"].get("data_source_id") != ds["id"] \
                or bool(first["in_trash"]) != trashed:
            raise bad_cursor(cursor_id(cursor))
        start = first["seq"]
    chunk: list[Body] = []
    for page in store.iter_pages_in(ds["id"], trashed, start):
        if flt and not matches(store, ds, flt, page):
            if not chunk and cursor is not None:
                raise bad_cursor(cursor_id(cursor))  # the cursor's page is not in the results
            continue
        if len(chunk) == size:
            return chunk, page["id"]
        chunk.append(page)
    return chunk, None


HANDLERS = {"create_database": create_database, "get_database": get_database, "update_database": update_database,
            "create_data_source": create_data_source, "get_data_source": get_data_source,
            "update_data_source": update_data_source, "query": query}
