"""Notion response objects built from the store: database, data source, page, block, list.

Key order as recorded (NOTION-API.md §1.1): database — REC:RA/test_databases_create.yaml; data source —
REC:RA/test_data_sources_retrieve.yaml; page — REC:UN/test_schema/test_all_createable_props_schema.yaml;
block — REC:RA/test_data_sources_update.yaml #5 (``DELETE /v1/blocks`` on a database) and
REC:RA/test_iterate_paginated_api.yaml #2 (a children list).
"""

from __future__ import annotations

import re
from typing import Any

from .common import plain
from .props import find_property, ordered_properties
from .render import render_value
from .schema import render_properties
from .store import Store

BASE_URL = "https://www.notion.so/"
Obj = dict[str, Any]


def _user_ref(store: Store, uid: str | None = None) -> Obj:
    return {"object": "user", "id": uid or store.bot_id}


def page_parent(store: Store, parent: Obj) -> Obj:
    """Response form of a stored parent (data source parents also carry ``database_id``)."""
    if "data_source_id" in parent:
        ds = store.data_source(parent["data_source_id"]) or {}
        return {"type": "data_source_id", "data_source_id": parent["data_source_id"],
                "database_id": ds.get("database_id")}
    if "page_id" in parent:
        return {"type": "page_id", "page_id": parent["page_id"]}
    return {"type": "workspace", "workspace": True}


def database_object(store: Store, db: Obj) -> Obj:
    """``object: "database"`` (no properties; ``data_sources: [{id, name}]``)."""
    sources = [{"id": ds["id"], "name": plain(ds["title"]) or plain(db["title"])}
               for ds in store.sources_of(db) if not ds["in_trash"]]
    return {"object": "database", "id": db["id"], "title": db["title"], "description": db["description"],
            "parent": {"type": "page_id", "page_id": db["parent"]["page_id"]}, "is_inline": db["is_inline"],
            "in_trash": db["in_trash"], "is_locked": db["is_locked"], "created_time": db["created_time"],
            "last_edited_time": db["last_edited_time"], "data_sources": sources, "icon": db["icon"],
            "cover": db["cover"], "url": BASE_URL + db["id"].replace("-", ""), "public_url": None,
            "archived": db["in_trash"]}


def data_source_object(store: Store, ds: Obj) -> Obj:
    """``object: "data_source"`` with ``properties`` name → schema."""
    db = store.database(ds["database_id"]) or {}
    return {"object": "data_source", "id": ds["id"], "cover": ds["cover"], "icon": ds["icon"],
            "created_time": ds["created_time"], "created_by": _user_ref(store),
            "last_edited_by": _user_ref(store), "last_edited_time": ds["last_edited_time"],
            "title": ds["title"], "description": db["description"], "is_inline": db["is_inline"],
            "properties": render_properties(store, ds),
            "parent": {"type": "database_id", "database_id": db["id"]},
            "database_parent": {"type": "page_id", "page_id": db["parent"]["page_id"]},
            "url": BASE_URL + db["id"].replace("-", ""), "public_url": None,
            "in_trash": ds["in_trash"] or db["in_trash"], "archived": ds["in_trash"] or db["in_trash"]}


def page_title(page: Obj) -> str:
    """Plain title of a page (its title property's text; the title property's id is always ``title``)."""
    return plain(page["values"].get("title"))


def page_object(store: Store, page: Obj, only: list[str] | None = None) -> Obj:
    """``object: "page"``; ``only`` (``filter_properties``) trims ``properties`` to those names/ids."""
    ds = store.data_source(page["parent"].get("data_source_id"))
    if ds is None:
        props = {"title": {"id": "title", "type": "title", "title": page["values"].get("title", [])}}
    else:
        wanted = None
        if only:
            wanted = {p["id"] for p in (find_property(ds, k) for k in only) if p}
        props = {p["name"]: render_value(store, ds, p, page) for p in ordered_properties(ds)
                 if wanted is None or p["id"] in wanted}
    slug = re.sub(r"[^A-Za-z0-9]+", "-", page_title(page)).strip("-")
    hexid = page["id"].replace("-", "")
    return {"object": "page", "id": page["id"], "created_time": page["created_time"],
            "last_edited_time": page["last_edited_time"], "created_by": _user_ref(store, page.get("created_by")),
            "last_edited_by": _user_ref(store, page.get("last_edited_by")), "cover": page["cover"],
            "icon": page["icon"], "parent": page_parent(store, page["parent"]), "in_trash": page["in_trash"],
            "is_archived": False, "is_locked": page["is_locked"], "properties": props,
            "url": BASE_URL + (f"{slug}-{hexid}" if slug else hexid), "public_url": None,
            "archived": page["in_trash"]}


def block_object(store: Store, obj: Obj, kind: str) -> Obj:
    """A page (``child_page``) or database (``child_database``) as a block: the answer of ``DELETE
    /v1/blocks/{id}`` and an item of ``GET /v1/blocks/{id}/children``."""
    if kind == "database":
        parent = {"type": "page_id", "page_id": obj["parent"]["page_id"]}
        created = obj["created_time"][:16] + ":00.000Z"
        edited = obj["last_edited_time"][:16] + ":00.000Z"
        title = plain(obj["title"])
        children = store.has_rows(obj["data_sources"])
        btype = "child_database"
    else:
        parent = page_parent(store, obj["parent"])
        created, edited = obj["created_time"], obj["last_edited_time"]
        title = page_title(obj)
        children = store.has_children(obj["id"])
        btype = "child_page"
    return {"object": "block", "id": obj["id"], "parent": parent, "created_time": created,
            "last_edited_time": edited, "created_by": _user_ref(store), "last_edited_by": _user_ref(store),
            "has_children": children, "in_trash": obj["in_trash"], "type": btype, btype: {"title": title},
            "archived": obj["in_trash"]}


def list_object(results: list[Any], next_cursor: str | None, kind: str = "page_or_data_source") -> Obj:
    """Paginated list shape: query and search (``page_or_data_source``, REC:RA/test_data_sources_query.yaml),
    block children (``block``, REC:RA/test_iterate_paginated_api.yaml #2)."""
    return {"object": "list", "results": results, "next_cursor": next_cursor, "has_more": next_cursor is not None,
            "type": kind, kind: {}}
