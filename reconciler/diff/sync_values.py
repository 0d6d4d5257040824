"""Sync form: one canonical value per synced field, that Notion and Postgres values convert to.

The merge (`diff.sync`) compares a page's value, its row's value and the base in this form, so a
value that went through the other system and came back compares equal (echo suppression), and
writes values converted back from it. Pure. A field's *kind* follows from its Notion property
type and its column type (`KINDS`, `field_kind`):

==================  ===========================================  ==================================
kind                property → column                            sync form
==================  ===========================================  ==================================
text                title, rich_text, url, email, phone_number,  str (empty → None)
                    select, status, unique_id → text types
json_text           title, rich_text → jsonb/json                the JSON value the text holds (text
                                                                 that is not JSON: the text)
number              number → numeric, integer types, real, …     int when integral, else float
checkbox            checkbox → boolean                           bool (NULL → False)
instant             date, created_time, last_edited_time →       `YYYY-MM-DDTHH:MM+00:00`: UTC, to
                    timestamptz / timestamp                      the minute (Notion keeps minutes)
day                 date → date                                  `YYYY-MM-DD`
multi               multi_select → text[]                        sorted list of option names
relation            relation → uuid[] (or a join table)          sorted list of page ids
reference           relation → uuid (a single foreign key)       a page id or None
json                people, files, place, formula, rollup, … →   plain JSON of the Notion value
                    jsonb/json                                   (people sorted, file URLs without
                                                                 their signed query string)
==================  ===========================================  ==================================

A page id in a relation may be a reference to a page created by the same apply:
`{"known_after_apply": "<address>"}` (`ref`).

Limits checked before any write (`problem_to_notion`): Notion's, from NOTION-API.md §4.2 (2,000
characters per rich text object and at most 100 of them, 100 items per array, option names
without commas and at most 100 characters) and a closed select vocabulary; Postgres's through
`backends`-free checks of the column (NOT NULL, enum values) and `check_column`, which the caller
supplies (the Postgres value converter).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from reconciler.model.content import plain_data
from reconciler.model.property_types import PROPERTY_TYPES, TEXT_COLUMN_TYPES
from reconciler.model.sync import SyncField

#: Notion property types whose values Notion computes (the property-type table's read-only
#: rows): they only flow to Supabase.
READ_ONLY = frozenset(name for name, t in PROPERTY_TYPES.items() if t.read_only)
TEXT_COLUMNS = frozenset({"text", "character varying", "character", "citext"})
NUMBER_COLUMNS = frozenset({"numeric", "integer", "smallint", "bigint", "real",
                            "double precision"})
#: Notion's limits (NOTION-API.md §4.2): characters per rich text object, objects per value.
MAX_TEXT_OBJECT = 2000
MAX_ITEMS = 100
REF = "known_after_apply"


def ref(address: str) -> dict[str, str]:
    """The sync-form stand-in for the id of the page created at `address` by the same apply."""
    return {REF: address}


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REF}


def plain(value: Any) -> Any:
    """`value` with every str, int, float, list and dict as the plain built-in type (sources may
    hand in subclasses, such as ruamel.yaml's scalars, that serialisers refuse)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _base(column_type: str) -> str:
    return column_type.split("(")[0].strip()


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


# --- per kind ----------------------------------------------------------------------------------


def _text(value: Any) -> Any:
    if _empty(value):
        return None
    return value if isinstance(value, str) else str(value)


def _json_text_from_notion(value: Any) -> Any:
    if _empty(value):
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _json_text_to_notion(value: Any) -> Any:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)


def _number(value: Any) -> Any:
    if _empty(value):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


def _checkbox(value: Any) -> bool:
    return bool(value)


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def instant(text: Any) -> str | None:
    """An ISO date or date-time as `YYYY-MM-DDTHH:MM+00:00` (UTC, seconds dropped); a date
    alone is midnight UTC. None for anything else."""
    moment = _moment(text)
    if moment is None:
        return None
    moment = moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
    return moment.isoformat(timespec="minutes")


def _start(value: Any) -> Any:
    return value.get("start") if isinstance(value, dict) else value


def _instant_from_notion(value: Any) -> Any:
    return instant(_start(value)) if not _empty(value) else None


def _instant_to_notion(value: Any) -> Any:
    if value is None:
        return None
    if value.endswith("T00:00+00:00"):
        return {"start": value[:10]}
    return {"start": value[:16] + ":00+00:00"}


def _instant_to_supabase(value: Any) -> Any:
    return None if value is None else value[:16] + ":00+00:00"


def _day_from_notion(value: Any) -> Any:
    start = _start(value)
    return start[:10] if isinstance(start, str) and len(start) >= 10 else None


def _day_to_notion(value: Any) -> Any:
    return None if value is None else {"start": value}


def _sorted(items: Any) -> Any:
    if _empty(items):
        return []
    return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))


def _page_id(value: Any) -> Any:
    if is_ref(value):
        return value
    text = str(value).lower()
    if len(text) == 32 and "-" not in text:
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def _pages(value: Any) -> list:
    return _sorted([_page_id(v) for v in value or ()])


def _reference_from_notion(value: Any) -> Any:
    items = list(value or ())
    if not items:
        return None
    return _page_id(items[0]) if len(items) == 1 else [_page_id(v) for v in items]


def _reference_to_notion(value: Any) -> Any:
    return () if value is None else (value,)


def _json_from_notion_for(notion_type: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if _empty(value):
            return None
        if notion_type == "people":
            return _sorted(list(value))
        if notion_type == "files":
            return [{"name": f.get("name"), "url": str(f.get("url") or "").split("?")[0]}
                    for f in value]
        return plain_data(value)
    return convert


def _json_to_notion(value: Any) -> Any:
    if value is None:
        return None
    return tuple(value) if isinstance(value, list) else value


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Kind:
    """How one kind converts: from each side's normal form to sync form, and back."""

    name: str
    from_notion: Callable[[Any], Any]
    from_supabase: Callable[[Any], Any]
    to_notion: Callable[[Any], Any]
    to_supabase: Callable[[Any], Any]


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("text", _text, _text, _identity, _identity),
    Kind("json_text", _json_text_from_notion, lambda v: v, _json_text_to_notion, _identity),
    Kind("number", _number, _number, _identity, _identity),
    Kind("checkbox", _checkbox, _checkbox, _identity, _identity),
    Kind("instant", _instant_from_notion, lambda v: instant(v) if v else None,
         _instant_to_notion, _instant_to_supabase),
    Kind("day", _day_from_notion, lambda v: v[:10] if isinstance(v, str) else None,
         _day_to_notion, _identity),
    Kind("multi", _sorted, _sorted, tuple, _identity),
    Kind("relation", _pages, _pages, tuple, _identity),
    Kind("reference", _reference_from_notion, lambda v: _page_id(v) if v else None,
         _reference_to_notion, _identity),
    Kind("json", plain_data, plain_data, _json_to_notion, _identity),
)}

#: Property types whose values are text in a text column (`model.property_types`).
_TEXTY = TEXT_COLUMN_TYPES


def field_kind(notion_type: str, column_type: str, *, join: bool = False) -> str | None:
    """The kind of a property of `notion_type` mirrored in a column of `column_type` (or a join
    table), or None when the two cannot hold the same values."""
    base = _base(column_type)
    if notion_type == "relation":
        return "relation" if join or base == "uuid[]" or column_type == "uuid[]" else \
            "reference" if base == "uuid" else None
    if base in ("jsonb", "json"):
        return "json_text" if notion_type in ("title", "rich_text") else \
            None if notion_type in _TEXTY or \
            notion_type in ("number", "checkbox", "date", "multi_select") else "json"
    table = {
        "text": notion_type in _TEXTY and base in TEXT_COLUMNS,
        "number": notion_type == "number" and base in NUMBER_COLUMNS,
        "checkbox": notion_type == "checkbox" and base == "boolean",
        "instant": notion_type in ("date", "created_time", "last_edited_time")
        and base in ("timestamptz", "timestamp"),
        "day": notion_type == "date" and base == "date",
        "multi": notion_type == "multi_select" and column_type.replace(" ", "") in
        ("text[]", "charactervarying[]"),
    }
    return next((k for k, ok in table.items() if ok), None)


def kind_of(field: SyncField) -> Kind:
    name = field_kind(field.notion_type, field.column_type, join=field.join is not None)
    return KINDS[name or "json"]


def from_notion(field: SyncField, value: Any) -> Any:
    """A page's normal-form value (`backends.notion.convert`) in sync form."""
    return kind_of(field).from_notion(plain(value))


def from_supabase(field: SyncField, value: Any) -> Any:
    """A row's normal-form value (`backends.postgres.values.to_normal`) in sync form."""
    return kind_of(field).from_supabase(plain(value))


def to_notion(field: SyncField, value: Any) -> Any:
    """A sync-form value as the normal form a page write takes (`value_to_api`)."""
    return kind_of(field).to_notion(value)


def to_supabase(field: SyncField, value: Any) -> Any:
    """A sync-form value as the normal form a row write takes (`from_normal`)."""
    return kind_of(field).to_supabase(value)


# --- what cannot cross -------------------------------------------------------------------------


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def problem_to_notion(field: SyncField, value: Any) -> str | None:
    """Why `value` (sync form) cannot be written to the Notion property, or None."""
    if value is None:
        return None
    kind = kind_of(field).name
    if field.notion_type in ("select", "status", "multi_select"):
        names = value if isinstance(value, list) else [value]
        for name in names:
            if "," in str(name) or len(str(name)) > 100:
                return (f"{name!r} cannot be a Notion option name (no commas, at most 100 "
                        "characters)")
            if field.options is not None and name not in field.options:
                return (f"{name!r} is not one of the options of the closed vocabulary of "
                        f"{field.property!r} ({', '.join(field.options) or 'none'})")
    if isinstance(value, list) and len(value) > MAX_ITEMS:
        return f"{len(value)} items; Notion takes at most {MAX_ITEMS} per value"
    text = _json_text_to_notion(value) if kind == "json_text" else value
    if field.notion_type in ("title", "rich_text") and isinstance(text, str):
        pieces = -(-_utf16(text) // MAX_TEXT_OBJECT)
        if pieces > MAX_ITEMS:
            return (f"text of {_utf16(text)} characters needs {pieces} rich text objects of "
                    f"{MAX_TEXT_OBJECT}; Notion takes at most {MAX_ITEMS}")
    return None


def problem_to_supabase(field: SyncField, value: Any, check_column: Callable[[Any, str], Any]
                        ) -> str | None:
    """Why `value` (sync form) cannot be written to the column, or None. `check_column(value,
    column_type)` raises ValueError for a normal-form value the column cannot hold."""
    if value is None:
        return None if field.nullable else f"column {field.column!r} is NOT NULL"
    kind = kind_of(field).name
    if kind == "reference" and isinstance(value, list):
        return (f"{len(value)} related pages; column {field.column!r} ({field.column_type}) holds "
                "one")
    if field.values is not None and value not in field.values:
        return f"{value!r} is not one of the values of column {field.column!r}"
    if field.join is not None or _has_ref(value):
        return None
    try:
        check_column(to_supabase(field, value), field.column_type)
    except ValueError as exc:
        return str(exc)
    return None


def _has_ref(value: Any) -> bool:
    return is_ref(value) or isinstance(value, list) and any(is_ref(v) for v in value)
