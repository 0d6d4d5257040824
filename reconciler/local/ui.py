"""What only Notion's UI can do, done on the local Notion (``reconciler local ui``).

The API cannot rename or recolour an option, edit status options and groups reliably, create a
button or verification property, or move a database (NOTION-API.md §3.4, §3.5; DESIGN.md "manual"
changes). A plan lists such changes as ``manual``; on the local Notion these functions perform them
the way a person in the UI would, so the next plan is clean. Each works in one write transaction on
the store under ``root`` and returns a sentence saying what it did; a request the UI would refuse
raises ``UIError`` with what to do instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import new_property_id, new_uuid, now_minute, now_ms
from .errors import NotionError
from .props import COLORS, OPTION_TYPES, check_option_name, option_named
from .store import DB_FILE, LEGACY_FILE, Store

Obj = dict[str, Any]
STATUS_GROUPS = ("To-do", "In progress", "Complete")
UI_ONLY_TYPES = ("button", "verification")


class UIError(ValueError):
    """A UI action that cannot be done (unknown property or option, a name or colour Notion refuses)."""


def _open(root: Path) -> Store:
    if not (Path(root) / DB_FILE).exists() and not (Path(root) / LEGACY_FILE).exists():
        raise UIError(f"no local Notion under {root}: run `reconciler apply` first")
    return Store(Path(root))


def _data_source(store: Store, ds_id: str) -> Obj:
    ds = store.data_source(ds_id)
    if ds is None:
        raise UIError(f"data source {ds_id} is not in the local Notion")
    return ds


def _property(ds: Obj, name: str, types: tuple[str, ...]) -> Obj:
    prop = next((p for p in ds["properties"] if p["name"] == name), None)
    if prop is None:
        names = ", ".join(repr(p["name"]) for p in ds["properties"])
        raise UIError(f"no property {name!r} (there are {names})")
    if prop["type"] not in types:
        raise UIError(f"property {name!r} is a {prop['type']}, not a {' or '.join(types)}")
    return prop


def _color(color: str | None) -> str | None:
    if color is not None and color not in COLORS:
        raise UIError(f"colour {color!r} is not one of {', '.join(COLORS)}")
    return color


def _option_name(name: str) -> str:
    try:
        return check_option_name(name, "option")
    except NotionError as err:
        raise UIError(err.message) from None


def _touch(ds: Obj) -> None:
    ds["last_edited_time"] = now_minute()


def edit_option(root: Path, ds_id: str, prop_name: str, option: str, *, name: str | None = None,
                color: str | None = None) -> str:
    """Rename and/or recolour option ``option`` of select, multi_select or status ``prop_name``; the
    option keeps its id, so every page keeps its value."""
    store = _open(root)
    try:
        with store.transaction(write=True):
            prop = _property(_data_source(store, ds_id), prop_name, OPTION_TYPES)
            found = option_named(prop["config"]["options"], option)
            if found is None:
                raise UIError(f"{prop_name!r} has no option {option!r}")
            if name is not None:
                name = _option_name(name)
                clash = option_named(prop["config"]["options"], name)
                if clash is not None and clash is not found:
                    raise UIError(f"{prop_name!r} already has an option {clash['name']!r}")
                found["name"] = name
            found["color"] = _color(color) or found["color"]
            _touch(_data_source(store, ds_id))
            return f"option {option!r} of {prop_name!r} is now {found['name']!r}, {found['color']}"
    finally:
        store.close()


def set_status_options(root: Path, ds_id: str, prop_name: str,
                       options: list[tuple[str, str | None, str | None]]) -> str:
    """Replace the options of status ``prop_name`` by ``options`` ``(name, colour or None, group or
    None)`` in order. An option named like an existing one (ignoring case) keeps its id and, unless
    given, its colour and group; a new one goes to the first group (NOTION-API.md §3.4 Status). Rows
    whose option is gone show the first option, as Notion shows rows without a status."""
    if not options:
        raise UIError("give at least one status option")
    store = _open(root)
    try:
        with store.transaction(write=True):
            ds = _data_source(store, ds_id)
            prop = _property(ds, prop_name, ("status",))
            old, groups = prop["config"]["options"], prop["config"]["groups"]
            home = {oid: g["name"] for g in groups for oid in g["option_ids"]}
            for group in groups:
                group["option_ids"] = []
            chosen: list[Obj] = []
            for name, color, group_name in options:
                name = _option_name(name)
                if option_named(chosen, name) is not None:
                    raise UIError(f"status option {name!r} is given twice")
                kept = option_named(old, name)
                opt = {"id": kept["id"] if kept else new_uuid(), "name": name,
                       "color": _color(color) or (kept["color"] if kept else "default"),
                       "description": kept.get("description") if kept else None}
                in_group = group_name or home.get(opt["id"]) or groups[0]["name"]
                group = next((g for g in groups if g["name"].casefold() == in_group.casefold()), None)
                if group is None:
                    raise UIError(f"no status group {in_group!r} (there are {', '.join(g['name'] for g in groups)})")
                group["option_ids"].append(opt["id"])
                chosen.append(opt)
            prop["config"]["options"] = chosen
            _touch(ds)
            return f"status {prop_name!r} has options " + ", ".join(o["name"] for o in chosen)
    finally:
        store.close()


def add_property(root: Path, ds_id: str, prop_name: str, prop_type: str) -> str:
    """Add a ``button`` or ``verification`` property (response-only in the API, §3.5)."""
    if prop_type not in UI_ONLY_TYPES:
        raise UIError(f"only {' and '.join(UI_ONLY_TYPES)} properties need the UI; apply creates {prop_type}")
    store = _open(root)
    try:
        with store.transaction(write=True):
            ds = _data_source(store, ds_id)
            if any(p["name"] == prop_name for p in ds["properties"]):
                raise UIError(f"a property {prop_name!r} exists already")
            pid = "verification" if prop_type == "verification" else \
                new_property_id({p["id"] for p in ds["properties"]})
            ds["properties"].append({"id": pid, "name": prop_name, "description": None, "type": prop_type,
                                     "config": {}})
            _touch(ds)
            return f"added {prop_type} property {prop_name!r}"
    finally:
        store.close()


def move_database(root: Path, database_id: str, parent_page_id: str) -> str:
    """Move database ``database_id`` under page ``parent_page_id`` (Notion's "Move to")."""
    store = _open(root)
    try:
        with store.transaction(write=True):
            db = store.database(database_id)
            if db is None:
                raise UIError(f"database {database_id} is not in the local Notion")
            page = store.page(_dashed(parent_page_id.strip()))
            if page is None or page["in_trash"]:
                raise UIError(f"no page {parent_page_id} to move the database to")
            db["parent"] = {"page_id": page["id"]}
            db["last_edited_time"] = now_ms()
            return f"moved the database under page {page['id']}"
    finally:
        store.close()


def _dashed(ident: str) -> str:
    h = ident.replace("-", "").lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" if len(h) == 32 else ident
