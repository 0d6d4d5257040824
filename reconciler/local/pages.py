"""Endpoints on pages (NOTION-API.md §1.4, §4.3): create, retrieve, update, property items.

Each handler takes ``(ctx, request, body, **path arguments)`` and returns the response body.
"""

from __future__ import annotations

import time
from typing import Any

from werkzeug.wrappers import Request

from .common import new_uuid, now_minute
from .context import Context
from .errors import not_found, too_long, validation
from .objects import page_object
from .paging import page_size
from .props import find_property
from .render import property_item
from .values import sync_dual, value_in

Body = dict[str, Any]


def _write_values(ctx: Context, page: Body, ds: Body | None, props: Any) -> None:
    if props is None:
        return
    if not isinstance(props, dict):
        raise validation("body failed validation: body.properties should be an object.")
    if len(props) > 100:
        raise too_long("body.properties", 100, len(props))
    for key, raw in props.items():
        if ds is None:
            if key != "title" and not (isinstance(raw, dict) and "title" in raw):
                raise validation(f"{key} is not a property that exists.")
            prop = {"id": "title", "name": key, "type": "title", "config": {}}
        else:
            prop = find_property(ds, key)
            if prop is None:
                raise validation(f"{key} is not a property that exists.")
        value = value_in(ctx.store, prop, key, raw)
        old = page["values"].get(prop["id"]) or []
        page["values"][prop["id"]] = value
        if ds is not None and prop["type"] == "relation":
            sync_dual(ctx.store, prop, page["id"], old, value)


def _parent(ctx: Context, parent: Any) -> tuple[Body, Body | None]:
    """The stored parent a create names, and its data source (None for a page or workspace parent)."""
    if not isinstance(parent, dict):
        raise validation("body failed validation: body.parent should be defined, instead was `undefined`.")
    if parent.get("data_source_id"):
        ds = ctx.data_source(parent["data_source_id"], "body.parent.data_source_id")
        ctx.ensure_writable({"data_source_id": ds["id"]}, "data source", ds["id"])
        return {"data_source_id": ds["id"]}, ds
    if parent.get("database_id"):
        db = ctx.database(parent["database_id"], "body.parent.database_id")
        if len(db["data_sources"]) != 1:
            raise validation("Databases with multiple data sources are not supported as page parents; "
                             "use a data_source_id parent.")
        ctx.ensure_writable({"database_id": db["id"]}, "database", db["id"])
        return {"data_source_id": db["data_sources"][0]}, ctx.store.data_source(db["data_sources"][0])
    if parent.get("page_id"):
        page = ctx.page(parent["page_id"], "body.parent.page_id")
        ctx.ensure_writable({"page_id": page["id"]}, "page", page["id"])
        return {"page_id": page["id"]}, None
    if parent.get("workspace") is True:
        return {"workspace": True}, None
    raise validation("body failed validation: body.parent.page_id should be defined, instead was `undefined`.")


def create_page(ctx: Context, request: Request, body: Body) -> Body:
    """``POST /v1/pages`` under a data source, a single-source database, a page or the workspace."""
    store = ctx.store
    stored_parent, ds = _parent(ctx, body.get("parent"))
    ts = now_minute()
    page = {"id": new_uuid(), "parent": stored_parent, "values": {}, "icon": body.get("icon"),
            "cover": body.get("cover"), "in_trash": False, "is_locked": False, "created_time": ts,
            "last_edited_time": ts, "created_by": store.bot_id, "last_edited_by": store.bot_id,
            "seq": store.next_seq(), "created_at": time.time()}
    _write_values(ctx, page, ds, body.get("properties"))
    if ds is not None:
        for prop in ds["properties"]:
            if prop["type"] == "unique_id":
                counters = ds.setdefault("counters", {})
                counters[prop["id"]] = counters.get(prop["id"], 0) + 1
                page["values"][prop["id"]] = counters[prop["id"]]
    store.add("pages", page)
    return page_object(store, page)


def get_page(ctx: Context, request: Request, body: Body, page_id: str) -> Body:
    """``GET /v1/pages/{id}`` (``filter_properties`` trims the properties)."""
    return page_object(ctx.store, ctx.page(page_id), request.args.getlist("filter_properties") or None)


def update_page(ctx: Context, request: Request, body: Body, page_id: str) -> Body:
    """``PATCH /v1/pages/{id}``: properties (omitted kept, arrays replace), in_trash/archived, icon, cover."""
    store = ctx.store
    page = ctx.page(page_id)
    ctx.ensure_writable(page["parent"], "page", page["id"])
    trash = next((body[k] for k in ("in_trash", "archived") if body.get(k) is not None), None)
    if page["in_trash"] and trash is not False and body.get("properties"):
        raise validation("Can't edit block that is archived. You must unarchive the block before editing.")
    ds = store.data_source(page["parent"].get("data_source_id"))
    _write_values(ctx, page, ds, body.get("properties"))
    for key in ("icon", "cover", "is_locked"):
        if key in body:
            page[key] = body[key]
    if trash is not None:
        page["in_trash"] = bool(trash)
    page["last_edited_time"] = now_minute()
    page["last_edited_by"] = store.bot_id
    return page_object(store, page)


def move_page(ctx: Context, request: Request, body: Body, page_id: str) -> Body:
    """``POST /v1/pages/{id}/move`` with ``{"parent": {"page_id": …}}``: the page, now under that page
    (REC:RA/test_move_pages.yaml #3). Moving into a data source is not supported locally (400)."""
    page = ctx.page(page_id)
    ctx.ensure_writable(page["parent"], "page", page["id"])
    parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
    if not parent.get("page_id"):
        raise validation("body failed validation: body.parent.page_id should be defined, instead was `undefined`.")
    new_parent = ctx.page(parent["page_id"], "body.parent.page_id")
    ctx.ensure_writable({"page_id": new_parent["id"]}, "page", new_parent["id"])
    if new_parent["id"] == page["id"] or ctx.is_below(new_parent, page["id"]):
        raise validation("A page cannot be moved into itself or one of its descendants.")
    page["parent"] = {"page_id": new_parent["id"]}
    page["last_edited_time"] = now_minute()
    return page_object(ctx.store, page)


def get_property_item(ctx: Context, request: Request, body: Body, page_id: str, prop_id: str) -> Body:
    """``GET /v1/pages/{id}/properties/{property_id}`` (§4.3)."""
    store = ctx.store
    page = ctx.page(page_id)
    ds = store.data_source(page["parent"].get("data_source_id"))
    if ds is None:
        if prop_id != "title":
            raise not_found("property", prop_id)
        prop = {"id": "title", "name": "title", "type": "title", "config": {}}
    else:
        prop = find_property(ds, prop_id)
        if prop is None:
            raise not_found("property", prop_id)
    size = page_size(request.args.get("page_size"), "query.page_size")
    base = f"{request.host_url.rstrip('/')}/v1/pages/{page['id']}/properties/{prop['id']}"
    return property_item(store, ds, prop, page, request.args.get("start_cursor"), size, base)


HANDLERS = {"create_page": create_page, "get_page": get_page, "update_page": update_page,
            "property_item": get_property_item, "move_page": move_page}
