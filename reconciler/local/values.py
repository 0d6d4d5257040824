"""Page property writes: validate a written value and return its stored form.

Stored per page as ``values[prop id]`` (internal): rich text arrays (response shape), numbers, option ids
(select/status), option id lists (multi_select), date dicts, user id lists, page id lists (relation),
file lists, booleans, strings. Rendering back is ``render``'s job.

Write rules (NOTION-API.md §1.4, §2, §3.4, §4.2): names or ids as keys; unknown property → 400;
read-only types (formula, rollup, created_*, last_edited_*, unique_id, button) → 400; ``text.content`` ≤
2000; arrays ≤ 100; select/multi_select by unknown name creates the option (option names: no commas,
≤ 100 chars); status by unknown name → 400; ``""`` for a url, email, phone number or file url → 400
("Empty strings are not supported; use null", §2); a date-only ``start`` with ``time_zone`` → 400 ("if
``time_zone`` is given, ``start``/``end`` must have a time and no UTC offset", §2 Dates).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .common import new_uuid, parse_uuid
from .errors import too_long, validation
from .props import COLORS, STRING_TYPES, check_option_name
from .render import user_ref
from .store import Store

Obj = dict[str, Any]
READ_ONLY = ("formula", "rollup", "created_time", "created_by", "last_edited_time", "last_edited_by",
             "unique_id", "button", "verification")
ANNOTATIONS = {"bold": False, "italic": False, "strikethrough": False, "underline": False, "code": False,
               "color": "default"}
_STRING_LIMITS = STRING_TYPES


def _mention(store: Store, item: Obj, path: str) -> tuple[Obj, str]:
    m = dict(item.get("mention") or {})
    mt = m.get("type") or next((k for k in m if k != "type"), None)
    label = item.get("plain_text")
    if mt == "user":
        uid = parse_uuid((m.get("user") or {}).get("id"), f"{path}.mention.user.id")
        user = store.user(uid)
        m = {"type": "user", "user": user_ref(store, uid)}
        label = label or "@" + (user["name"] if user else "Anonymous")
    elif mt in ("page", "database"):
        m = {"type": mt, mt: {"id": parse_uuid((m.get(mt) or {}).get("id"), f"{path}.mention.{mt}.id")}}
    elif mt == "date":
        m = {"type": "date", "date": dict({"end": None, "time_zone": None}, **(m.get("date") or {}))}
        label = label or m["date"].get("start", "")
    return m, label or ""


def _rich_item(store: Store, item: Any, path: str) -> Obj:
    if not isinstance(item, dict):
        raise validation(f"body failed validation: {path} should be an object, instead was `{item!r}`.")
    kind = item.get("type") or next((k for k in ("text", "mention", "equation") if k in item), None)
    ann = dict(ANNOTATIONS, **(item.get("annotations") or {}))
    if kind == "text":
        text = item.get("text") or {}
        content = text.get("content")
        if not isinstance(content, str):
            raise validation(f"body failed validation: {path}.text.content should be a string, instead was `{content!r}`.")
        if len(content) > 2000:
            raise too_long(f"{path}.text.content", 2000, len(content))
        link = text.get("link")
        if link is not None and len(str(link.get("url", ""))) > 2000:
            raise too_long(f"{path}.text.link.url", 2000, len(str(link.get("url", ""))))
        return {"type": "text", "text": {"content": content, "link": link}, "annotations": ann,
                "plain_text": content, "href": link.get("url") if link else None}
    if kind == "mention":
        mention, label = _mention(store, item, path)
        return {"type": "mention", "mention": mention, "annotations": ann, "plain_text": label, "href": None}
    if kind == "equation":
        expr = (item.get("equation") or {}).get("expression", "")
        if len(expr) > 1000:
            raise too_long(f"{path}.equation.expression", 1000, len(expr))
        return {"type": "equation", "equation": {"expression": expr}, "annotations": ann, "plain_text": expr,
                "href": None}
    raise validation(f"body failed validation: {path}.text should be defined, instead was `undefined`.")


def rich_text_in(store: Store, items: Any, path: str) -> list[Obj]:
    """Validate a request rich text array and return it in response shape (≤ 100 items, ≤ 2000 chars each)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise validation(f"body failed validation: {path} should be an array, instead was `{items!r}`.")
    if len(items) > 100:
        raise too_long(path, 100, len(items))
    return [_rich_item(store, it, f"{path}[{i}]") for i, it in enumerate(items)]


def _array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise validation(f"body failed validation: {path} should be an array, instead was `{value!r}`.")
    if len(value) > 100:
        raise too_long(path, 100, len(value))
    return value


def _ids(value: Any, path: str) -> list[str]:
    out: list[str] = []
    for i, v in enumerate(_array(value, path)):
        ident = parse_uuid(v.get("id") if isinstance(v, dict) else v, f"{path}[{i}].id")
        if ident not in out:
            out.append(ident)
    return out


def _option(prop: Obj, value: Any, path: str, create: bool) -> str:
    if not isinstance(value, dict):
        raise validation(f"body failed validation: {path} should be an object, instead was `{value!r}`.")
    options = prop["config"]["options"]
    if value.get("id"):
        found = next((o for o in options if o["id"] == value["id"]), None)
        if found is None:
            raise validation(f"Invalid select option id: {value['id']}")
        return found["id"]
    name = check_option_name(value.get("name"), path)
    found = next((o for o in options if o["name"] == name), None)
    if found is not None:
        if value.get("color") and value["color"] != found["color"]:
            raise validation("Select option color doesn't match existing")
        return found["id"]
    if not create:
        raise validation(f"Invalid status option: {name}")
    color = value.get("color") or "default"
    if color not in COLORS:
        raise validation(f"body failed validation: {path}.color should be a valid color, instead was `\"{color}\"`.")
    opt = {"id": new_uuid(), "name": name, "color": color, "description": None}
    options.append(opt)  # a page write by an unknown name creates the option (§3.4)
    return opt["id"]


def _readonly_error(key: str) -> Exception:
    fix = " ".join(f"body.properties.{key}.{t} should be defined, instead was `undefined`."
                   for t in ("title", "rich_text", "number", "url", "select", "multi_select", "people", "email",
                             "phone_number", "date", "checkbox", "relation", "files", "status"))
    return validation(f"body failed validation. Fix one: {fix}")


def _not_empty(value: str, path: str) -> str:
    """Refuse ``""`` (NOTION-API.md §2: "Empty strings are not supported; use null"; the message as
    answered in ISSUE:makenotion/notion-sdk-js#160)."""
    if value == "":
        raise validation(f"body failed validation: {path} should be populated or `null`, instead was `\"\"`.")
    return value


def _file(f: Any, path: str) -> Obj:
    if not isinstance(f, dict):
        raise validation(f"body failed validation: {path} should be an object.")
    kind = f.get("type") or next((k for k in ("external", "file_upload", "file") if k in f), None)
    if kind == "external":
        url = _not_empty((f.get("external") or {}).get("url", ""), f"{path}.external.url")
        if len(url) > 2000:
            raise too_long(f"{path}.external.url", 2000, len(url))
        return {"name": f.get("name") or url, "type": "external", "external": {"url": url}}
    if kind in ("file", "file_upload"):
        inner = f.get(kind) or {}
        return {"name": f.get("name") or "file", "type": "file",
                "file": {"url": inner.get("url", ""), "expiry_time": inner.get("expiry_time")}}
    raise validation(f"body failed validation: {path}.external should be defined, instead was `undefined`.")


def date_out(text: Any, zone: Any, path: str) -> str:
    """A written date as Notion stores it: a date as given; a date-time to the minute with its offset,
    ``2026-06-27T06:57:00.000+01:00``, a ``time_zone`` folded into the offset (and dropped), no zone and
    no offset taken as UTC. Real Notion answers ``{"start": "2026-06-27T06:57:51.462999", "time_zone":
    "Europe/London"}`` with ``{"start": "2026-06-27T06:57:00.000+01:00", "time_zone": null}``
    (REC:UN/test_query/test_date_query.yaml #3-9: the seconds are cut; test_query_rollup.yaml #4 for UTC).
    A ``time_zone`` with a date-only value or with an offset → 400 (NOTION-API.md §2 "Dates")."""
    if not isinstance(text, str):
        raise validation(f"body failed validation: {path} should be a string, instead was `{text!r}`.")
    try:
        if len(text) == 10:
            day = _dt.date.fromisoformat(text).isoformat()
            if zone is not None:
                raise validation(f"body failed validation: {path} should include a time when time_zone is "
                                 f"given, instead was `\"{text}\"`.")
            return day
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if zone is not None:
            if moment.tzinfo is not None:
                raise validation(f"body failed validation: {path} should not have a UTC offset when "
                                 f"time_zone is given, instead was `{text}`.")
            moment = moment.replace(tzinfo=ZoneInfo(str(zone)))
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.timezone.utc)
    except (ValueError, ZoneInfoNotFoundError):
        raise validation(f"body failed validation: {path} should be a valid ISO 8601 date, instead was "
                         f"`{text}`.") from None
    return moment.replace(second=0, microsecond=0).isoformat(timespec="milliseconds")


def _date(store: Store, prop: Obj, v: Any, path: str) -> Any:
    if v is None:
        return None
    if not isinstance(v, dict) or not isinstance(v.get("start"), str):
        raise validation(f"body failed validation: {path}.start should be defined, instead was `undefined`.")
    zone = v.get("time_zone")
    return {"start": date_out(v["start"], zone, f"{path}.start"),
            "end": None if v.get("end") is None else date_out(v["end"], zone, f"{path}.end"), "time_zone": None}


def _number(store: Store, prop: Obj, v: Any, path: str) -> Any:
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
        raise validation(f"body failed validation: {path} should be a number or `null`, instead was `{v!r}`.")
    return v


def _multi(store: Store, prop: Obj, v: Any, path: str) -> list[str]:
    out: list[str] = []
    for i, o in enumerate(_array(v, path)):
        oid = _option(prop, o, f"{path}[{i}]", create=True)
        if oid not in out:
            out.append(oid)
    return out


def _checkbox(store: Store, prop: Obj, v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise validation(f"body failed validation: {path} should be a boolean, instead was `{v!r}`.")
    return v


def _string(store: Store, prop: Obj, v: Any, path: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise validation(f"body failed validation: {path} should be a string or `null`, instead was `{v!r}`.")
    limit = _STRING_LIMITS[prop["type"]]
    if len(_not_empty(v, path)) > limit:
        raise too_long(path, limit, len(v))
    return v


#: type → writer(store, prop, value under the type key, path) → stored value (raises 400).
WRITERS: dict[str, Callable[[Store, Obj, Any, str], Any]] = {
    "title": lambda s, p, v, path: rich_text_in(s, v, path),
    "rich_text": lambda s, p, v, path: rich_text_in(s, v, path),
    "number": _number,
    "select": lambda s, p, v, path: None if v is None else _option(p, v, path, create=True),
    "status": lambda s, p, v, path: None if v is None else _option(p, v, path, create=False),
    "multi_select": _multi,
    "date": _date,
    "people": lambda s, p, v, path: _ids(v, path),
    "relation": lambda s, p, v, path: _ids(v, path),
    "files": lambda s, p, v, path: [_file(f, f"{path}[{i}]") for i, f in enumerate(_array(v, path))],
    "checkbox": _checkbox,
    **{t: _string for t in STRING_TYPES},
    "place": lambda s, p, v, path: v,
}


def value_in(store: Store, prop: Obj, key: str, raw: Any) -> Any:
    """Validate one written value for ``prop`` and return its stored form (raises 400)."""
    t = prop["type"]
    path = f"body.properties.{key}"
    if t in READ_ONLY:
        raise _readonly_error(key)
    if isinstance(raw, list) and t in ("title", "rich_text"):
        raw = {t: raw}
    if not isinstance(raw, dict) or t not in raw:
        raise validation(f"body failed validation: {path}.{t} should be defined, instead was `undefined`.")
    writer = WRITERS.get(t)
    return writer(store, prop, raw[t], f"{path}.{t}") if writer else raw[t]


def sync_dual(store: Store, prop: Obj, page_id: str, old: list[str], new: list[str]) -> None:
    """Mirror a dual relation write onto the synced property of the related pages (§2 relation)."""
    if prop["type"] != "relation" or prop["config"]["type"] != "dual_property":
        return
    sid = prop["config"].get("synced_property_id")
    for ref in set(old) ^ set(new):
        other = store.page(ref)
        if other is None or not sid:
            continue
        refs = other["values"].setdefault(sid, [])
        if ref in new and page_id not in refs:
            refs.append(page_id)
        elif ref not in new and page_id in refs:
            refs.remove(page_id)
