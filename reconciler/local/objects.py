"""Notion response objects built from the store: database, data source, page, block, list.

Key order as recorded (NOTION-API.md §1.1): database — REC:RA/test_databases_create.yaml; data source —
REC:RA/test_data_sources_retrieve.yaml; page — REC:UN/test_schema/test_all_createable_props_schema.yaml;
block (``DELETE /v1/blocks``) — REC:RA/test_data_sources_update.yaml #5.
"""

from __future__ import annotations

import re
from typing import Any

from .schema import find_property, render_properties
from .store import Store, plain
from .values import render_value

BASE_URL = "https://www.notion.so/"


def _user_ref(store: Store, uid: str | None = None) -> dict[str, Any]:
    return {"object": "user", "id": uid or store.data["bot_id"]}


def page_parent(store: Store, parent: dict[str, Any]) -> dict[str, Any]:
    """Response form of a stored parent (data source parents also carry ``database_id``)."""
    if "data_source_id" in parent:
        ds = store.data_sources.get(parent["data_source_id"], {})
        return {"type": "data_source_id", "data_source_id": parent["data_source_id"],
                "database_id": ds.get("database_id")}
    if "page_id" in parent:
        return {"type": "page_id", "page_id": parent["page_id"]}
    return {"type": "workspace", "workspace": True}


def database_object(store: Store, db: dict[str, Any]) -> dict[str, Any]:
    """``object: "database"`` (no properties; ``data_sources: [{id, name}]``)."""
    sources = [{"id": i, "name": plain(store.data_sources[i]["title"]) or plain(db["title"])}
               for i in db["data_sources"] if not store.data_sources[i]["in_trash"]]
    return {"object": "database", "id": db["id"], "title": db["title"], "description": db["description"],
            "parent": {"type": "page_id", "page_id": db["parent"]["page_id"]}, "is_inline": db["is_inline"],
            "in_trash": db["in_trash"], "is_locked": db["is_locked"], "created_time": db["created_time"],
            "last_edited_time": db["last_edited_time"], "data_sources": sources, "icon": db["icon"],
            "cover": db["cover"], "url": BASE_URL + db["id"].replace("-", ""), "public_url": None,
            "archived": db["in_trash"]}


def data_source_object(store: Store, ds: dict[str, Any]) -> dict[str, Any]:
    """``object: "data_source"`` with ``properties`` name → schema."""
    db = store.databases[ds["database_id"]]
    return {"object": "data_source", "id": ds["id"], "cover": ds["cover"], "icon": ds["icon"],
            "created_time": ds["created_time"], "created_by": _user_ref(store),
            "last_edited_by": _user_ref(store), "last_edited_time": ds["last_edited_time"],
            "title": ds["title"], "description": db["description"], "is_inline": db["is_inline"],
            "properties": render_properties(store, ds),
            "parent": {"type": "database_id", "database_id": db["id"]},
            "database_parent": {"type": "page_id", "page_id": db["parent"]["page_id"]},
            "url": BASE_URL + db["id"].replace("-", ""), "public_url": None,
            "in_trash": ds["in_trash"] or db["in_trash"], "archived": ds["in_trash"] or db["in_trash"]}


def page_title(store: Store, page: dict[str, Any]) -> str:
    """Plain title of a page (its title property's text)."""
    ds = store.data_sources.get(page["parent"].get("data_source_id", ""))
    if ds is None:
        return plain(page["values"].get("title"))
    return plain(page["values"].get("title"))


def page_object(store: Store, page: dict[str, Any], only: list[str] | None = None) -> dict[str, Any]:
    """``object: "page"``; ``only`` (``filter_properties``) trims ``properties`` to those names/ids."""
    ds = store.data_sources.get(page["parent"].get("data_source_id", ""))
    if ds is None:
        props = {"title": {"id": "title", "type": "title", "title": page["values"].get("title", [])}}
    else:
        wanted = None
        if only:
            wanted = {p["id"] for p in (find_property(ds, k) for k in only) if p}
        ordered = render_properties(store, ds)
        by_id = {p["id"]: p for p in ds["properties"]}
        props = {name: render_value(store, ds, by_id[schema["id"]], page) for name, schema in ordered.items()
                 if wanted is None or schema["id"] in wanted}
    slug = re.sub(r"[^A-Za-z0-9]+", "-", page_title(store, page)).strip("-")
    hexid = page["id"].replace("-", "")
    return {"object": "page", "id": page["id"], "created_time": page["created_time"],
            "last_edited_time": page["last_edited_time"], "created_by": _user_ref(store, page.get("created_by")),
            "last_edited_by": _user_ref(store, page.get("last_edited_by")), "cover": page["cover"],
            "icon": page["icon"], "parent": page_parent(store, page["parent"]), "in_trash": page["in_trash"],
            "is_archived": False, "is_locked": page["is_locked"], "properties": props,
            "url": BASE_URL + (f"{slug}-{hexid}" if slug else hexid), "public_url": None,
            "archived": page["in_trash"]}


def block_object(store: Store, obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """The block-ish answer of ``DELETE /v1/blocks/{id}`` for a page (``child_page``) or database
    (``child_database``)."""
    if kind == "database":
        parent = {"type": "page_id", "page_id": obj["parent"]["page_id"]}
        created = obj["created_time"][:16] + ":00.000Z"
        edited = obj["last_edited_time"][:16] + ":00.000Z"
        title = plain(obj["title"])
        children = any(p["parent"].get("data_source_id") in obj["data_sources"] for p in store.pages.values())
        btype = "child_database"
    else:
        parent = page_parent(store, obj["parent"])
        created, edited = obj["created_time"], obj["last_edited_time"]
        title = page_title(store, obj)
        children = any(p["parent"].get("page_id") == obj["id"] for p in store.pages.values()) or any(
            d["parent"].get("page_id") == obj["id"] for d in store.databases.values())
        btype = "child_page"
    return {"object": "block", "id": obj["id"], "parent": parent, "created_time": created,
            "last_edited_time": edited, "created_by": _user_ref(store), "last_edited_by": _user_ref(store),
            "has_children": children, "in_trash": obj["in_trash"], "type": btype, btype: {"title": title},
            "archived": obj["in_trash"]}


def list_object(results: list[Any], next_cursor: str | None) -> dict[str, Any]:
    """Paginated list shape of query and search (REC:RA/test_data_sources_query.yaml)."""
    return {"object": "list", "results": results, "next_cursor": next_cursor, "has_more": next_cursor is not None,
            "type": "page_or_data_source", "page_or_data_source": {}}
