"""Page values after a property changes type, converted as Notion converts them.

Source: NOTION-API.md §3.3 (the matrix measured against API 2025-09-03 by notion-seed,
NS:core/change/typechange.go; DOC:update-a-data-source "values are stored as text and re-interpreted"):

* → rich_text keeps the text: ``42``, ``A``, ``A,B`` (multi_select joined by ","), ``Yes``/``No``
  (checkbox), a date's start; people become user mentions;
* → url, email, phone_number keep the text;
* → number keeps a leading number (``"2026-01-15"`` → 2026), else empty;
* → select keeps the text up to the first comma where an option of that name is declared;
  → multi_select splits on commas and keeps the declared names; the API creates no option;
* → status keeps a declared option of that name; other rows show the default option;
* → date keeps ISO(-like) dates; → checkbox leaves every row unchecked; → people, files, relation and
  computed types keep nothing;
* a status row that never got an explicit status converts as empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .common import text_rich
from .errors import NotionError
from .props import STRING_TYPES, option_named
from .render import render_value, text_of, user_ref
from .store import Store
from .values import date_out

Obj = dict[str, Any]
_LEADING_NUMBER = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rich_text(store: Store, value: Obj, prop: Obj) -> Any:
    if value["type"] == "people" and value["people"]:
        items = []
        for i, user in enumerate(value["people"]):
            if i:
                items += text_rich(", ")
            name = user.get("name") or "Anonymous"
            items.append({"type": "mention", "mention": {"type": "user", "user": user_ref(store, user["id"])},
                          "annotations": text_rich("")[0]["annotations"], "plain_text": "@" + name, "href": None})
        return items
    text = text_of(value)
    return text_rich(text) if text else None


def _number(store: Store, value: Obj, prop: Obj) -> Any:
    m = _LEADING_NUMBER.match(text_of(value) or "")
    if m is None:
        return None
    number = float(m.group(1))
    return int(number) if number.is_integer() else number


def _select(store: Store, value: Obj, prop: Obj) -> Any:
    text = (text_of(value) or "").split(",", 1)[0].strip()
    opt = option_named(prop["config"]["options"], text) if text else None
    return opt["id"] if opt else None


def _multi_select(store: Store, value: Obj, prop: Obj) -> Any:
    found = []
    for name in (n.strip() for n in (text_of(value) or "").split(",")):
        opt = option_named(prop["config"]["options"], name) if name else None
        if opt is not None and opt["id"] not in found:
            found.append(opt["id"])
    return found or None


def _date(store: Store, value: Obj, prop: Obj) -> Any:
    text = text_of(value) or ""
    if not _ISO_DATE.match(text):
        return None
    try:
        start = date_out(text if len(text) == 10 else text.replace(" ", "T"), None, "start")
    except NotionError:
        return None
    return {"start": start, "end": None, "time_zone": None}


def _text(store: Store, value: Obj, prop: Obj) -> Any:
    return text_of(value)


#: new type → converter(store, rendered value before, property after) → stored value or None.
CONVERTERS: dict[str, Callable[[Store, Obj, Obj], Any]] = {
    "rich_text": _rich_text, "number": _number, "select": _select, "multi_select": _multi_select,
    "status": _select, "date": _date, **{t: _text for t in STRING_TYPES},
}


def convert_values(store: Store, ds: Obj, before: Obj, after: Obj) -> None:
    """Rewrite the values of property ``after`` (same id as ``before``, its old definition) on every
    page of ``ds``, trashed ones included."""
    convert = CONVERTERS.get(after["type"])
    for page in store.pages_in(ds["id"]):
        stored = page["values"].pop(after["id"], None)
        if convert is None or (before["type"] == "status" and stored is None):
            continue
        page["values"][before["id"]] = stored
        value = render_value(store, ds, before, page, full=True)
        page["values"].pop(before["id"], None)
        converted = convert(store, value, after)
        if converted is not None:
            page["values"][after["id"]] = converted
