"""Property lookups and the names Notion allows, shared by schemas (``schema``) and values (``values``).

Sources: property types and option colours NOTION-API.md §2; option name rules §3.4.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from .errors import too_long, validation

TYPES = ("title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files",
         "checkbox", "url", "email", "phone_number", "formula", "relation", "rollup", "created_time",
         "created_by", "last_edited_time", "last_edited_by", "unique_id", "place", "button", "verification")
COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
OPTION_TYPES = ("select", "multi_select", "status")
#: Types whose value is a bare string (``{"url": "…"}``), with its length limit (§2): written,
#: rendered, filtered (as text) and retyped to alike, so a new one needs only its name here and in
#: ``TYPES``.
STRING_TYPES = {"url": 2000, "email": 200, "phone_number": 200}


def find_property(ds: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """The stored property of ``ds`` whose id (encoded or not) or else name equals ``key``."""
    if ds is None:
        return None
    dkey = unquote(key)
    for prop in ds["properties"]:
        if unquote(prop["id"]) == dkey:
            return prop
    for prop in ds["properties"]:
        if prop["name"] == key:
            return prop
    return None


def title_property(ds: dict[str, Any]) -> dict[str, Any]:
    """The data source's title property (id ``title``)."""
    return next(p for p in ds["properties"] if p["type"] == "title")


def check_option_name(name: Any, path: str) -> str:
    """An option name as Notion accepts it: a non-empty string, no commas, ≤ 100 characters (400 otherwise)."""
    if not isinstance(name, str) or not name:
        raise validation(f"body failed validation: {path}.name should be a string, instead was `{name!r}`.")
    if "," in name:
        raise validation(f"Invalid select option, commas not allowed: {name}")
    if len(name) > 100:
        raise too_long(f"{path}.name", 100, len(name))
    return name


def option_named(options: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The option called ``name``: exactly, else ignoring case (names are unique ignoring case, §3.4)."""
    exact = next((o for o in options if o["name"] == name), None)
    if exact is not None:
        return exact
    folded = name.casefold()
    return next((o for o in options if o["name"].casefold() == folded), None)


def ordered_properties(ds: dict[str, Any]) -> list[dict[str, Any]]:
    """Properties in Notion's response order: by id, the title last (REC:UN/fixtures/mod_all_props_db.yaml)."""
    return sorted(ds["properties"], key=lambda p: (p["type"] == "title", unquote(p["id"])))
