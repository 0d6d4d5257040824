"""Notion page JSON <-> content rows (`reconciler.model.content.Row`). Pure, no I/O.

Page value shapes are Notion API 2025-09-03 as recorded in `shared/notion-recordings/`
(NOTION-API.md §2 table "Page value (response)" / "Page write / clear", Appendix A.2); request
limits from §4.2, truncation from §4.3. Each type has one reader in `_READERS` and, when writable,
one writer in `_WRITERS`.

Normalised values (what `value_from_api` returns and `value_to_api` accepts):

=====================================  ===========================================================
type                                   normalised value
=====================================  ===========================================================
title                                  plain text `str`; empty → `None`
rich_text                              plain `str`, or a tuple of styled runs when some of the
                                       text carries annotations or links (`model.rich_text`)
number                                 `int | float | None`
select, status                         option name `str | None`
multi_select                           `tuple[str, ...]` of option names
date                                   `{"start", "end"?, "time_zone"?}` (None keys dropped) | None
people                                 `tuple[str, ...]` of user ids
files                                  `tuple[{"name", "url"}, ...]`
checkbox                               `bool`
url, email, phone_number               `str | None`
relation                               `tuple[str, ...]` of page ids (see `Row.truncated`)
formula                                its string / number / boolean / date value
rollup                                 number / date / tuple of normalised array items
created_time, last_edited_time         ISO `str`
created_by, last_edited_by             user id `str`
unique_id                              `"PREFIX-N"` or `"N"`
place                                  `{"lat","lon","name"?,"address"?,…}` (None keys dropped) | None
verification                           `{"state","date"?,"verified_by"?}` (None keys dropped)
button                                 `None`
any other type                         the raw value as returned
=====================================  ===========================================================
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler.notion_docs import REQUEST_LIMITS
from reconciler.backends.notion.rich_text import (
    MAX_ARRAY_ITEMS,
    MAX_RICH_TEXT_LENGTH,
    MAX_TEXT_LENGTH,
    rich_text_from_api,
    rich_text_problem,
    rich_text_to_api,
    utf16_len as _utf16_len,
)
from reconciler.backends.notion.schema import plain_text
from reconciler.model.content import Row
from reconciler.model.property_types import PROPERTY_TYPES

__all__ = [
    "MAX_ARRAY_ITEMS",
    "MAX_TEXT_LENGTH",
    "READ_ONLY_TYPES",
    "payload_problem",
    "rich_text_problem",
    "WRITABLE_TYPES",
    "rich_text_to_api",
    "row_from_page",
    "value_from_api",
    "value_to_api",
]

#: Maximum length of a URL / of an email or phone number (NOTION-API.md §4.2).
MAX_URL_LENGTH = 2000
MAX_EMAIL_PHONE_LENGTH = 200
#: Maximum length of a select option name (NOTION-API.md §3.4).
MAX_OPTION_NAME_LENGTH = 100
#: Largest request body, in bytes of JSON: "500KB" (NOTION-API.md §4.2, "whole payload").
MAX_PAYLOAD_BYTES = 500_000
#: Largest integer a number value can hold exactly. Notion's numbers are JSON numbers that its
#: JavaScript side reads as IEEE-754 doubles (notion-sdk-js types them `number`, JS:common.ts);
#: a larger integer comes back rounded, so a plan writing it would never converge.
MAX_SAFE_INTEGER = 2 ** 53 - 1


# --------------------------------------------------------------------------------------------
# reading


def _text(value: Any, _: Mapping) -> str | None:
    return plain_text(value) or None


def _rich_text(value: Any, _: Mapping) -> Any:
    return rich_text_from_api(value)


def _identity(value: Any, _: Mapping) -> Any:
    return value


def _option_name(value: Any, _: Mapping) -> str | None:
    return value.get("name") if value else None


def _option_names(value: Any, _: Mapping) -> tuple[str, ...]:
    return tuple(o.get("name") for o in value or ())


def _drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _date(value: Any, _: Mapping | None = None) -> dict[str, Any] | None:
    if not value:
        return None
    return _drop_none({"start": value.get("start"), "end": value.get("end"),
                       "time_zone": value.get("time_zone")})


def _user_id(value: Any, _: Mapping | None = None) -> str | None:
    return value.get("id") if value else None


def _user_ids(value: Any, _: Mapping) -> tuple[str, ...]:
    return tuple(u.get("id") for u in value or ())


def _file(item: Mapping[str, Any]) -> dict[str, Any]:
    # External files: `{"name","type":"external","external":{"url"}}`; hosted files:
    # `{"name","type":"file","file":{"url","expiry_time"}}` (§2 files row).
    kind = item.get("type")
    url = (item.get(kind) or {}).get("url") if kind else None
    return {"name": item.get("name"), "url": url}


def _files(value: Any, _: Mapping) -> tuple[dict[str, Any], ...]:
    return tuple(_file(f) for f in value or ())


def _checkbox(value: Any, _: Mapping) -> bool:
    return bool(value)


def _page_ids(value: Any, _: Mapping) -> tuple[str, ...]:
    return tuple(r.get("id") for r in value or ())


def _typed(value: Any, readers: Mapping[str, Callable[[Any, Mapping], Any]]) -> Any:
    """A `{"type": t, t: …}` union (formula, rollup results): its value through `readers[t]`."""
    if not value:
        return None
    kind = value.get("type")
    reader = readers.get(kind)
    if reader is None:  # "unsupported", "incomplete" or a newer type: nothing to normalise
        return None if kind in ("unsupported", "incomplete") else value.get(kind, value)
    return reader(value.get(kind), value)


_FORMULA_READERS: dict[str, Callable[[Any, Mapping], Any]] = {
    "string": _identity,
    "number": _identity,
    "boolean": _identity,
    "date": _date,
}


def _formula(value: Any, _: Mapping) -> Any:
    return _typed(value, _FORMULA_READERS)


def _rollup_array(value: Any, _: Mapping) -> tuple[Any, ...]:
    # Array items are page-value shaped (`{"type":"title","title":[…]}`), read like page values.
    return tuple(value_from_api(item) for item in value or ())


_ROLLUP_READERS: dict[str, Callable[[Any, Mapping], Any]] = {
    "number": _identity,
    "date": _date,
    "array": _rollup_array,
}


def _rollup(value: Any, _: Mapping) -> Any:
    return _typed(value, _ROLLUP_READERS)


def _unique_id(value: Any, _: Mapping) -> str | None:
    if not value or value.get("number") is None:
        return None
    prefix = value.get("prefix")
    return f"{prefix}-{value['number']}" if prefix else str(value["number"])


def _place(value: Any, _: Mapping) -> dict[str, Any] | None:
    return _drop_none(value) if value else None


def _verification(value: Any, _: Mapping) -> dict[str, Any] | None:
    if not value:
        return None
    return _drop_none({"state": value.get("state"), "date": _date(value.get("date")),
                       "verified_by": _user_id(value.get("verified_by"))})


def _nothing(value: Any, _: Mapping) -> None:
    return None


_READERS: dict[str, Callable[[Any, Mapping], Any]] = {
    "title": _text,
    "rich_text": _rich_text,
    "number": _identity,
    "select": _option_name,
    "status": _option_name,
    "multi_select": _option_names,
    "date": _date,
    "people": _user_ids,
    "files": _files,
    "checkbox": _checkbox,
    "url": _identity,
    "email": _identity,
    "phone_number": _identity,
    "relation": _page_ids,
    "formula": _formula,
    "rollup": _rollup,
    "created_time": _identity,
    "last_edited_time": _identity,
    "created_by": _user_id,
    "last_edited_by": _user_id,
    "unique_id": _unique_id,
    "place": _place,
    "verification": _verification,
    "button": _nothing,
}


def value_from_api(prop_value: Mapping[str, Any]) -> Any:
    """One page property value `{"id", "type": t, t: <value>, "has_more"?}` normalised (see the
    module table). Unknown types give the raw `<value>`; a value without `type` gives `None`.
    Never raises for well-formed API JSON (every type in NOTION-API.md §2 / Appendix A.2 is read).
    """
    kind = prop_value.get("type")
    if kind is None:
        return None
    raw = prop_value.get(kind)
    reader = _READERS.get(kind)
    return reader(raw, prop_value) if reader is not None else raw


def row_from_page(page: Mapping[str, Any]) -> Row:
    """A page object (GET /v1/pages/{id}, query results; NOTION-API.md §1.1, Appendix A.2) as a `Row`.

    `data_source_id` comes from `parent.data_source_id` (pages of a data source; `None` for other
    parents). `in_trash` is `in_trash`, else the deprecated `archived` (§1.4). A property whose value
    carries `has_more: true` (relations beyond 25 references, §4.3) is listed in `truncated`.
    """
    properties = page.get("properties") or {}
    values = {name: value_from_api(value) for name, value in properties.items()}
    truncated = tuple(name for name, value in properties.items() if value.get("has_more"))
    in_trash = page.get("in_trash")
    if in_trash is None:
        in_trash = page.get("archived", False)
    return Row(
        id=page.get("id"),
        data_source_id=(page.get("parent") or {}).get("data_source_id"),
        values=values,
        in_trash=bool(in_trash),
        truncated=truncated,
        created_time=page.get("created_time"),
        last_edited_time=page.get("last_edited_time"),
    )


# --------------------------------------------------------------------------------------------
# writing


def payload_problem(types: Mapping[str, str], values: Mapping[str, Any]) -> str | None:
    """Why a page write of `values` (property name → normalised value, typed by `types`) would
    exceed Notion's 500 KB request body (§4.2), or None. Values must be valid for
    `value_to_api`; the size counted is that of the `properties` JSON (UTF-8 bytes)."""
    size = len(json.dumps({name: value_to_api(types[name], value)
                           for name, value in values.items() if types.get(name) in _WRITERS},
                          ensure_ascii=False).encode())
    if size <= MAX_PAYLOAD_BYTES:
        return None
    return (f"the page's properties are {size:,} bytes of JSON; Notion accepts request bodies "
            f"of at most {MAX_PAYLOAD_BYTES:,} ({REQUEST_LIMITS}): shorten the longest values")


def _shape_error(kind: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"a {kind} value must be {expected}, not {value!r} ({type(value).__name__})")


def _sequence(kind: str, value: Any, expected: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _shape_error(kind, expected, value)
    items = list(value)
    if len(items) > MAX_ARRAY_ITEMS:
        raise ValueError(f"a {kind} value holds at most {MAX_ARRAY_ITEMS} items per write, "
                         f"got {len(items)}")
    return items


def _string(kind: str, value: Any, *, max_length: int | None = None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _shape_error(kind, "a string or None", value)
    if max_length is not None and _utf16_len(value) > max_length:
        raise ValueError(f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} value holds at most "
                         f"{max_length} characters, "
                         f"got {_utf16_len(value)}")
    return value


def _option(kind: str, name: Any) -> dict[str, str]:
    if not isinstance(name, str) or not name:
        raise _shape_error(kind, "a non-empty option name", name)
    if "," in name:  # "Invalid select option, commas not allowed" (§3.4)
        raise ValueError(f"{kind} option names cannot contain commas: {name!r}")
    if len(name) > MAX_OPTION_NAME_LENGTH:
        raise ValueError(f"{kind} option names hold at most {MAX_OPTION_NAME_LENGTH} characters: "
                         f"{name[:20]!r}… has {len(name)}")
    return {"name": name}


def _write_text(kind: str, value: Any) -> list[dict[str, Any]]:
    if value is not None and not isinstance(value, str):
        raise _shape_error(kind, "a string or None", value)
    return rich_text_to_api(value)


def _write_rich_text(kind: str, value: Any) -> list[dict[str, Any]]:
    if value is not None and not isinstance(value, (str, list, tuple)):
        raise _shape_error(kind, "a string, a list of runs or None", value)
    return rich_text_to_api(value)


def _write_number(kind: str, value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _shape_error(kind, "a number or None", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a {kind} value must be finite, not {value!r}")
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(f"a {kind} value holds integers up to ±{MAX_SAFE_INTEGER:,} exactly "
                         "(Notion keeps numbers as 64-bit floats); write it as a decimal or "
                         "store it as text")
    return value


def _write_select(kind: str, value: Any) -> dict[str, str] | None:
    return None if value is None else _option(kind, value)


def _write_multi_select(kind: str, value: Any) -> list[dict[str, str]]:
    names = _sequence(kind, value, "a list of option names")
    return [_option(kind, name) for name in names]


def _date_text(kind: str, field: str, value: Any) -> str:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if not isinstance(value, str) or not value:
        raise _shape_error(kind, f"an ISO date string for {field!r}", value)
    return value


def _write_date(kind: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, (str, _dt.date)):
        value = {"start": value}
    if not isinstance(value, Mapping):
        raise _shape_error(kind, 'an ISO string or {"start", "end"?, "time_zone"?}', value)
    unknown = set(value) - {"start", "end", "time_zone"}
    if unknown or "start" not in value:
        raise _shape_error(kind, '{"start", "end"?, "time_zone"?}', value)
    body: dict[str, Any] = {"start": _date_text(kind, "start", value["start"])}
    if value.get("end") is not None:
        body["end"] = _date_text(kind, "end", value["end"])
    if value.get("time_zone") is not None:
        if not isinstance(value["time_zone"], str):
            raise _shape_error(kind, "an IANA time zone name", value["time_zone"])
        body["time_zone"] = value["time_zone"]
    return body


def _ids(kind: str, value: Any) -> list[dict[str, str]]:
    items = _sequence(kind, value, "a list of ids")
    for item in items:
        if not isinstance(item, str) or not item:
            raise _shape_error(kind, "a list of id strings", value)
    return [{"id": item} for item in items]


def _write_files(kind: str, value: Any) -> list[dict[str, Any]]:
    body = []
    for item in _sequence(kind, value, 'a list of {"name", "url"}'):
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, Mapping) or set(item) - {"name", "url"} or \
                not isinstance(item.get("url"), str) or not item["url"]:
            raise _shape_error(kind, 'a list of {"name"?, "url"} with an external url', value)
        url = _string(kind, item["url"], max_length=MAX_URL_LENGTH)
        name = item.get("name")
        if name is None:
            name = url
        elif not isinstance(name, str) or not name:
            raise _shape_error(kind, "a file name string", name)
        body.append({"name": name, "type": "external", "external": {"url": url}})
    return body


def _write_checkbox(kind: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _shape_error(kind, "true or false", value)
    return value


def _write_url(kind: str, value: Any) -> str | None:
    return _string(kind, value, max_length=MAX_URL_LENGTH)


def _write_short(kind: str, value: Any) -> str | None:
    return _string(kind, value, max_length=MAX_EMAIL_PHONE_LENGTH)


_PLACE_TEXT_KEYS = ("name", "address", "aws_place_id", "google_place_id")


def _write_place(kind: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    expected = '{"lat", "lon", "name"?, "address"?, "aws_place_id"?, "google_place_id"?}'
    if not isinstance(value, Mapping) or set(value) - {"lat", "lon", *_PLACE_TEXT_KEYS}:
        raise _shape_error(kind, expected, value)
    body: dict[str, Any] = {}
    for axis in ("lat", "lon"):
        number = value.get(axis)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or \
                not math.isfinite(number):
            raise _shape_error(kind, f"{expected} with a numeric {axis!r}", value)
        body[axis] = number
    for key in _PLACE_TEXT_KEYS:
        if value.get(key) is not None:
            if not isinstance(value[key], str):
                raise _shape_error(kind, f"{expected} with a string {key!r}", value)
            body[key] = value[key]
    return body


_WRITERS: dict[str, Callable[[str, Any], Any]] = {
    "title": _write_text,
    "rich_text": _write_rich_text,
    "number": _write_number,
    "select": _write_select,
    "status": _write_select,
    "multi_select": _write_multi_select,
    "date": _write_date,
    "people": _ids,
    "relation": _ids,
    "files": _write_files,
    "checkbox": _write_checkbox,
    "url": _write_url,
    "email": _write_short,
    "phone_number": _write_short,
    "place": _write_place,
}

#: Types `value_to_api` writes: the writable rows of `model.property_types` (§2, column W).
WRITABLE_TYPES: frozenset[str] = frozenset(_WRITERS)
#: Types Notion computes or that this tool does not write (§1.4: sending them fails validation).
READ_ONLY_TYPES: frozenset[str] = frozenset(PROPERTY_TYPES) - WRITABLE_TYPES


def value_to_api(type: str, value: Any) -> dict[str, Any]:  # noqa: A002 - the API's own word
    """A normalised value (module table) as a page write `{"type": type, type: payload}`.

    Payloads per NOTION-API.md §2 "Page write / clear": title/rich_text → rich text pieces of
    ≤ 2000 characters (`rich_text_to_api`; rich_text also takes styled runs), number,
    select/status `{"name"}` (unknown select names create the option, §3.4), multi_select `[{"name"}]`, date `{"start","end"?,"time_zone"?}` (a
    string or `datetime.date` is the start), people/relation `[{"id"}]`, files
    `[{"name","type":"external","external":{"url"}}]` (a bare URL string or a missing name uses the
    URL as name), checkbox bool, url/email/phone_number str, place `{"lat","lon",…}`. `None`
    clears (`[]`, `null` or `false` as the type wants); `""` is written as a clear.

    Raises `ValueError` for a read-only or unknown type, a value of the wrong shape, or a value
    over the request limits of §4.2 (2000-character URLs, 200-character emails/phones, 100 items
    per array, 100-character option names without commas).
    """
    writer = _WRITERS.get(type)
    if writer is None:
        if type in READ_ONLY_TYPES:
            raise ValueError(f"{type} values are read-only: Notion computes them or rejects "
                             f"them in page writes")
        raise ValueError(f"unknown property type {type!r}; writable types: "
                         f"{', '.join(sorted(WRITABLE_TYPES))}")
    return {"type": type, type: writer(type, value)}
