"""Page property values: validate and store writes, render Notion's response shapes, property items.

Stored per page as ``values[prop id]`` (internal): rich text arrays (response shape), numbers, option ids
(select/status), option id lists (multi_select), date dicts, user id lists, page id lists (relation),
file lists, booleans, strings, unique_id numbers. Rendered per NOTION-API.md §2 (table), §4.3 (relations
truncated to 25 with ``has_more``) and A.2 (REC:UN/fixtures/mod_notion_cleanups.yaml).

Write rules (§1.4, §3.4, §4.2): names or ids as keys; unknown property → 400; read-only types (formula,
rollup, created_*, last_edited_*, unique_id, button) → 400; ``text.content`` ≤ 2000; arrays ≤ 100; select/
multi_select by unknown name creates the option (option names: no commas, ≤ 100 chars); status by
unknown name → 400.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import too_long, validation
from .schema import COLORS, _check_option_name, find_property
from .store import Store, new_uuid, parse_uuid, plain

READ_ONLY = ("formula", "rollup", "created_time", "created_by", "last_edited_time", "last_edited_by",
             "unique_id", "button", "verification")
LIST_FORM = ("title", "rich_text", "relation", "people", "rollup")
ANNOTATIONS = {"bold": False, "italic": False, "strikethrough": False, "underline": False, "code": False,
               "color": "default"}
MAX_REFS = 25


def _rich_item(store: Store, item: Any, path: str) -> dict[str, Any]:
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
        m = dict(item.get("mention") or {})
        mt = m.get("type") or next((k for k in m if k != "type"), None)
        label = item.get("plain_text")
        if mt == "user":
            uid = parse_uuid((m.get("user") or {}).get("id"), f"{path}.mention.user.id")
            user = store.users.get(uid)
            m = {"type": "user", "user": _user(store, uid)}
            label = label or "@" + (user["name"] if user else "Anonymous")
        elif mt in ("page", "database"):
            m = {"type": mt, mt: {"id": parse_uuid((m.get(mt) or {}).get("id"), f"{path}.mention.{mt}.id")}}
        elif mt == "date":
            m = {"type": "date", "date": dict({"end": None, "time_zone": None}, **(m.get("date") or {}))}
            label = label or m["date"].get("start", "")
        return {"type": "mention", "mention": m, "annotations": ann, "plain_text": label or "", "href": None}
    if kind == "equation":
        expr = (item.get("equation") or {}).get("expression", "")
        if len(expr) > 1000:
            raise too_long(f"{path}.equation.expression", 1000, len(expr))
        return {"type": "equation", "equation": {"expression": expr}, "annotations": ann, "plain_text": expr,
                "href": None}
    raise validation(f"body failed validation: {path}.text should be defined, instead was `undefined`.")


def rich_text_in(store: Store, items: Any, path: str) -> list[dict[str, Any]]:
    """Validate a request rich text array and return it in response shape (≤ 100 items, ≤ 2000 chars each)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise validation(f"body failed validation: {path} should be an array, instead was `{items!r}`.")
    if len(items) > 100:
        raise too_long(path, 100, len(items))
    return [_rich_item(store, it, f"{path}[{i}]") for i, it in enumerate(items)]


def _user(store: Store, uid: str) -> dict[str, Any]:
    user = store.users.get(uid)
    if user is None:
        return {"object": "user", "id": uid}
    return {"object": "user", "id": uid, "name": user["name"], "avatar_url": user["avatar_url"],
            "type": user["type"], user["type"]: {} if user["type"] == "bot" else user.get(user["type"], {})}


def _ids(value: Any, path: str, what: str) -> list[str]:
    if not isinstance(value, list):
        raise validation(f"body failed validation: {path} should be an array, instead was `{value!r}`.")
    if len(value) > 100:
        raise too_long(path, 100, len(value))
    out: list[str] = []
    for i, v in enumerate(value):
        ident = parse_uuid(v.get("id") if isinstance(v, dict) else v, f"{path}[{i}].id")
        if ident not in out:
            out.append(ident)
    return out


def _option(prop: dict[str, Any], value: Any, path: str, create: bool) -> str:
    if not isinstance(value, dict):
        raise validation(f"body failed validation: {path} should be an object, instead was `{value!r}`.")
    options = prop["config"]["options"]
    if value.get("id"):
        found = next((o for o in options if o["id"] == value["id"]), None)
        if found is None:
            raise validation(f"Invalid select option id: {value['id']}")
        return found["id"]
    name = _check_option_name(value.get("name"), path)
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


def _file(f: Any, path: str) -> dict[str, Any]:
    if not isinstance(f, dict):
        raise validation(f"body failed validation: {path} should be an object.")
    kind = f.get("type") or next((k for k in ("external", "file_upload", "file") if k in f), None)
    if kind == "external":
        url = (f.get("external") or {}).get("url", "")
        if len(url) > 2000:
            raise too_long(f"{path}.external.url", 2000, len(url))
        return {"name": f.get("name") or url, "type": "external", "external": {"url": url}}
    if kind in ("file", "file_upload"):
        inner = f.get(kind) or {}
        return {"name": f.get("name") or "file", "type": "file",
                "file": {"url": inner.get("url", ""), "expiry_time": inner.get("expiry_time")}}
    raise validation(f"body failed validation: {path}.external should be defined, instead was `undefined`.")


def _date_out(text: Any, zone: Any, path: str) -> str:
    """A written date as Notion stores it: a date as given; a date-time to the minute with its offset,
    ``2026-06-27T06:57:00.000+01:00``, a ``time_zone`` folded into the offset (and dropped), no zone and
    no offset taken as UTC. Real Notion answers ``{"start": "2026-06-27T06:57:51.462999", "time_zone":
    "Europe/London"}`` with ``{"start": "2026-06-27T06:57:00.000+01:00", "time_zone": null}``
    (REC:UN/test_query/test_date_query.yaml #3-4; REC:UN/test_query/test_query_rollup.yaml for UTC)."""
    if not isinstance(text, str):
        raise validation(f"body failed validation: {path} should be a string, instead was `{text!r}`.")
    try:
        if len(text) == 10:
            return _dt.date.fromisoformat(text).isoformat()
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
    moment = moment.replace(second=0, microsecond=0)
    return moment.isoformat(timespec="milliseconds")


def value_in(store: Store, prop: dict[str, Any], key: str, raw: Any) -> Any:
    """Validate one written value for ``prop`` and return its stored form (raises 400)."""
    t = prop["type"]
    path = f"body.properties.{key}"
    if t in READ_ONLY:
        raise _readonly_error(key)
    if isinstance(raw, list) and t in ("title", "rich_text"):
        raw = {t: raw}
    if not isinstance(raw, dict) or t not in raw:
        raise validation(f"body failed validation: {path}.{t} should be defined, instead was `undefined`.")
    v = raw[t]
    path = f"{path}.{t}"
    if t in ("title", "rich_text"):
        return rich_text_in(store, v, path)
    if t == "number":
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise validation(f"body failed validation: {path} should be a number or `null`, instead was `{v!r}`.")
        return v
    if t in ("select", "status"):
        return None if v is None else _option(prop, v, path, create=t == "select")
    if t == "multi_select":
        if not isinstance(v, list):
            raise validation(f"body failed validation: {path} should be an array, instead was `{v!r}`.")
        if len(v) > 100:
            raise too_long(path, 100, len(v))
        out: list[str] = []
        for i, o in enumerate(v):
            oid = _option(prop, o, f"{path}[{i}]", create=True)
            if oid not in out:
                out.append(oid)
        return out
    if t == "date":
        if v is None:
            return None
        if not isinstance(v, dict) or not isinstance(v.get("start"), str):
            raise validation(f"body failed validation: {path}.start should be defined, instead was `undefined`.")
        zone = v.get("time_zone")
        return {"start": _date_out(v["start"], zone, f"{path}.start"),
                "end": None if v.get("end") is None else _date_out(v["end"], zone, f"{path}.end"),
                "time_zone": None}
    if t in ("people", "relation"):
        return _ids(v, path, t)
    if t == "files":
        if not isinstance(v, list):
            raise validation(f"body failed validation: {path} should be an array.")
        if len(v) > 100:
            raise too_long(path, 100, len(v))
        return [_file(f, f"{path}[{i}]") for i, f in enumerate(v)]
    if t == "checkbox":
        if not isinstance(v, bool):
            raise validation(f"body failed validation: {path} should be a boolean, instead was `{v!r}`.")
        return v
    if t in ("url", "email", "phone_number"):
        if v is not None and not isinstance(v, str):
            raise validation(f"body failed validation: {path} should be a string or `null`, instead was `{v!r}`.")
        limit = 2000 if t == "url" else 200
        if v is not None and len(v) > limit:
            raise too_long(path, limit, len(v))
        return v
    if t == "place":
        return v
    return v


def text_of_stored(store: Store, ds: dict[str, Any], prop: dict[str, Any], stored: Any, old_config: Any) -> str:
    """Plain text of a stored value (used when a property is retyped to text)."""
    t = prop["type"]
    if t in ("title", "rich_text"):
        return plain(stored)
    if t in ("select", "status"):
        opt = next((o for o in prop["config"].get("options", []) if o["id"] == stored), None)
        return opt["name"] if opt else ""
    if t == "multi_select":
        names = {o["id"]: o["name"] for o in prop["config"].get("options", [])}
        return ",".join(names.get(i, "") for i in stored or [])
    if t == "checkbox":
        return "Yes" if stored else "No"
    if t == "date":
        return (stored or {}).get("start") or ""
    if stored is None or isinstance(stored, (list, dict)):
        return ""
    return str(stored)


def _rollup(store: Store, ds: dict[str, Any], prop: dict[str, Any], page: dict[str, Any]) -> dict[str, Any]:
    c = prop["config"]
    fn = c["function"]
    rel = find_property(ds, c["relation_property_id"])
    refs = list(page["values"].get(rel["id"], [])) if rel else []
    related = [store.pages[r] for r in refs if r in store.pages and not store.pages[r]["in_trash"]]
    target = store.data_sources.get(rel["config"]["data_source_id"]) if rel else None
    rolled = find_property(target, c["rollup_property_id"]) if target else None
    if fn == "count":
        return {"type": "number", "number": len(related), "function": fn}
    if fn == "show_original":
        items = []
        if rolled is not None:
            for p in related[:MAX_REFS]:
                v = render_value(store, target, rolled, p)
                items.append({"type": v["type"], v["type"]: v[v["type"]]})
        return {"type": "array", "array": items, "function": fn}
    if fn in ("earliest_date", "latest_date", "date_range"):
        starts = sorted(p["values"][rolled["id"]]["start"] for p in related
                        if rolled is not None and rolled["type"] == "date" and p["values"].get(rolled["id"]))
        if not starts:
            return {"type": "date", "date": None, "function": fn}
        start, end = {"earliest_date": (starts[0], None), "latest_date": (starts[-1], None)}.get(fn, (starts[0], starts[-1]))
        return {"type": "date", "date": {"start": start, "end": end, "time_zone": None}, "function": fn}
    nums: list[float] = []
    if rolled is not None and rolled["type"] == "number":
        nums = [p["values"].get(rolled["id"]) for p in related]
        nums = [n for n in nums if isinstance(n, (int, float))]
    agg = {"sum": sum, "min": min, "max": max, "average": lambda xs: sum(xs) / len(xs),
           "count_values": len, "not_empty": len}.get(fn)
    value = agg(nums) if agg and (nums or fn in ("sum", "count_values", "not_empty")) else None
    return {"type": "number", "number": value, "function": fn}


def render_value(store: Store, ds: dict[str, Any] | None, prop: dict[str, Any], page: dict[str, Any],
                 *, full: bool = False) -> dict[str, Any]:
    """``{"id", "type", "<type>": value}`` (+ ``has_more`` for relations) as in a page object."""
    t, pid = prop["type"], prop["id"]
    stored = page["values"].get(pid)
    out: dict[str, Any] = {"id": pid, "type": t}
    if t in ("title", "rich_text"):
        out[t] = stored or []
    elif t in ("select", "status"):
        options = prop["config"]["options"]
        opt = next((o for o in options if o["id"] == stored), None)
        if opt is None and t == "status" and options:
            opt = options[0]  # rows without a status show the default option (A.2)
        out[t] = {"id": opt["id"], "name": opt["name"], "color": opt["color"]} if opt else None
    elif t == "multi_select":
        by_id = {o["id"]: o for o in prop["config"]["options"]}
        out[t] = [{"id": i, "name": by_id[i]["name"], "color": by_id[i]["color"]} for i in stored or [] if i in by_id]
    elif t == "people":
        out[t] = [_user(store, u) for u in stored or []]
    elif t == "relation":
        refs = stored or []
        out[t] = [{"id": r} for r in (refs if full else refs[:MAX_REFS])]
        out["has_more"] = (not full) and len(refs) > MAX_REFS
    elif t in ("files",):
        out[t] = stored or []
    elif t == "checkbox":
        out[t] = bool(stored)
    elif t == "formula":
        out[t] = {"type": "string", "string": None}  # not evaluated locally: a typed null
    elif t == "rollup":
        out[t] = _rollup(store, ds, prop, page) if ds else {"type": "number", "number": None, "function": "count"}
    elif t in ("created_time", "last_edited_time"):
        out[t] = page[t]
    elif t in ("created_by", "last_edited_by"):
        out[t] = _user(store, page.get(t) or store.data["bot_id"])
    elif t == "unique_id":
        out[t] = {"prefix": prop["config"].get("prefix"), "number": stored}
    elif t == "button":
        out[t] = {}
    elif t == "verification":
        out[t] = stored or {"state": "unverified", "date": None, "verified_by": None}
    else:
        out[t] = stored
    return out


def property_item(store: Store, ds: dict[str, Any] | None, prop: dict[str, Any], page: dict[str, Any],
                  start_cursor: str | None, page_size: int, base_url: str) -> dict[str, Any]:
    """``GET /v1/pages/{id}/properties/{prop}``: list form for title/rich_text/relation/people/rollup,
    a single ``property_item`` otherwise (§4.3; REC:UN/obj_api/.../test_retrieve_property.yaml)."""
    value = render_value(store, ds, prop, page, full=True)
    t, pid = prop["type"], prop["id"]
    if t not in LIST_FORM:
        return {"object": "property_item", "type": t, "id": pid, t: value[t]}
    if t == "rollup":
        items: list[Any] = []
        summary: Any = value[t]
    else:
        items = value[t]
        summary = {}
    start = int(start_cursor) if start_cursor and start_cursor.isdigit() else 0
    chunk = items[start:start + page_size]
    more = start + page_size < len(items)
    nxt = str(start + page_size) if more else None
    return {"object": "list",
            "results": [{"object": "property_item", "type": t, "id": pid, t: it} for it in chunk],
            "next_cursor": nxt, "has_more": more, "type": "property_item",
            "property_item": {"id": pid, "next_url": f"{base_url}?start_cursor={nxt}" if nxt else None, "type": t,
                              t: summary}}


def sync_dual(store: Store, ds: dict[str, Any], prop: dict[str, Any], page_id: str, old: list[str],
              new: list[str]) -> None:
    """Mirror a dual relation write onto the synced property of the related pages (§2 relation)."""
    if prop["type"] != "relation" or prop["config"]["type"] != "dual_property":
        return
    sid = prop["config"].get("synced_property_id")
    for ref in set(old) ^ set(new):
        other = store.pages.get(ref)
        if other is None or not sid:
            continue
        refs = other["values"].setdefault(sid, [])
        if ref in new and page_id not in refs:
            refs.append(page_id)
        elif ref not in new and page_id in refs:
            refs.remove(page_id)
