"""Page property values in Notion's response shapes, formula and rollup results, property items.

Rendered per NOTION-API.md §2 (table), §4.3 (relations truncated to 25 with ``has_more``) and A.2
(REC:UN/fixtures/mod_notion_cleanups.yaml). Formulas are evaluated by ``formula``; rollups are
computed over the related pages (REC:UN/test_query/test_query_rollup.yaml).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common import plain
from .formula import DateValue, evaluate
from .props import STRING_TYPES, find_property
from .store import Store

Obj = dict[str, Any]
LIST_FORM = ("title", "rich_text", "relation", "people", "rollup")
MAX_REFS = 25
_MAX_FORMULA_DEPTH = 8


def user_ref(store: Store, uid: str) -> Obj:
    """A user as page values show it (partial ``{object, id}`` when unknown, NOTION-API.md §2 people row)."""
    user = store.user(uid)
    if user is None:
        return {"object": "user", "id": uid}
    return {"object": "user", "id": uid, "name": user["name"], "avatar_url": user["avatar_url"],
            "type": user["type"], user["type"]: {} if user["type"] == "bot" else user.get(user["type"], {})}


def _option_value(prop: Obj, stored: Any) -> Obj | None:
    options = prop["config"]["options"]
    opt = next((o for o in options if o["id"] == stored), None)
    if opt is None and prop["type"] == "status" and options:
        opt = options[0]  # rows without a status show the default option (A.2)
    return {"id": opt["id"], "name": opt["name"], "color": opt["color"]} if opt else None


def _multi(prop: Obj, stored: Any) -> list[Obj]:
    by_id = {o["id"]: o for o in prop["config"]["options"]}
    return [{"id": i, "name": by_id[i]["name"], "color": by_id[i]["color"]} for i in stored or [] if i in by_id]


def _formula_input(store: Store, ds: Obj, prop: Obj, page: Obj, depth: int) -> tuple[str, Any]:
    """A property's value as a formula sees it: (number|string|boolean|date|list, value)."""
    t = prop["type"]
    if t == "formula":
        out = _formula(store, ds, prop, page, depth + 1)
        kind, value = out["type"], out[out["type"]]
        if kind == "date":
            return "date", DateValue(value["start"], value.get("end")) if value else None
        return kind, value
    value = render_value(store, ds, prop, page, full=True)[t]
    if t in ("number",):
        return "number", value
    if t == "checkbox":
        return "boolean", bool(value)
    if t == "date":
        return "date", DateValue(value["start"], value.get("end")) if value else None
    if t in ("created_time", "last_edited_time"):
        return "date", DateValue(value)
    if t == "unique_id":
        return ("number", value["number"]) if not value["prefix"] else ("string", f"{value['prefix']}-{value['number']}")
    if t in ("multi_select", "people", "relation", "files"):
        return "list", [text_of({"type": t, t: [item]}) for item in value]
    if t == "rollup":
        inner = value["type"]
        if inner == "array":
            return "list", [text_of(item) for item in value["array"]]
        return ("date", DateValue(value["date"]["start"]) if value["date"] else None) if inner == "date" \
            else ("number", value.get("number"))
    return "string", text_of({"type": t, t: value})


def _formula(store: Store, ds: Obj | None, prop: Obj, page: Obj, depth: int = 0) -> Obj:
    if ds is None or depth > _MAX_FORMULA_DEPTH:
        return {"type": "string", "string": None}

    def lookup(kind: str, key: str) -> tuple[str, Any]:
        found = find_property(ds, key) if kind == "id" else next(
            (p for p in ds["properties"] if p["name"] == key), None)
        if found is None or found is prop:
            raise KeyError(key)
        return _formula_input(store, ds, found, page, depth)

    return evaluate(prop["config"].get("expression", ""), lookup)


def _related(store: Store, ds: Obj, prop: Obj, page: Obj) -> tuple[list[Obj], Obj | None, Obj | None]:
    c = prop["config"]
    rel = find_property(ds, c["relation_property_id"])
    refs = list(page["values"].get(rel["id"], [])) if rel else []
    related = [p for p in (store.page(r) for r in refs) if p is not None and not p["in_trash"]]
    data_source = store.data_source(rel["config"]["data_source_id"]) if rel and rel["type"] == "relation" else None
    rolled = find_property(data_source, c["rollup_property_id"]) if data_source else None
    return related, data_source, rolled


def _rollup(store: Store, ds: Obj, prop: Obj, page: Obj) -> Obj:
    fn = prop["config"]["function"]
    related, data_source, rolled = _related(store, ds, prop, page)
    if fn == "count":
        return {"type": "number", "number": len(related), "function": fn}
    if fn == "show_original":
        items = []
        if rolled is not None:
            for p in related[:MAX_REFS]:
                v = render_value(store, data_source, rolled, p)
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
        nums = [n for n in (p["values"].get(rolled["id"]) for p in related) if isinstance(n, (int, float))]
    agg = {"sum": sum, "min": min, "max": max, "average": lambda xs: sum(xs) / len(xs),
           "count_values": len, "not_empty": len}.get(fn)
    value = agg(nums) if agg and (nums or fn in ("sum", "count_values", "not_empty")) else None
    return {"type": "number", "number": value, "function": fn}


def _relation(store: Store, ds: Obj | None, prop: Obj, page: Obj, stored: Any, full: bool) -> Any:
    refs = stored or []
    return [{"id": r} for r in (refs if full else refs[:MAX_REFS])]


#: type → renderer(store, ds, prop, page, stored value, full) → the value under the type's key.
RENDERERS: dict[str, Callable[[Store, Obj | None, Obj, Obj, Any, bool], Any]] = {
    "title": lambda s, d, p, pg, v, f: v or [],
    "rich_text": lambda s, d, p, pg, v, f: v or [],
    "select": lambda s, d, p, pg, v, f: _option_value(p, v),
    "status": lambda s, d, p, pg, v, f: _option_value(p, v),
    "multi_select": lambda s, d, p, pg, v, f: _multi(p, v),
    "people": lambda s, d, p, pg, v, f: [user_ref(s, u) for u in v or []],
    "relation": _relation,
    "files": lambda s, d, p, pg, v, f: v or [],
    "checkbox": lambda s, d, p, pg, v, f: bool(v),
    "formula": lambda s, d, p, pg, v, f: _formula(s, d, p, pg),
    "rollup": lambda s, d, p, pg, v, f: _rollup(s, d, p, pg) if d else {"type": "number", "number": None,
                                                                         "function": "count"},
    "created_time": lambda s, d, p, pg, v, f: pg["created_time"],
    "last_edited_time": lambda s, d, p, pg, v, f: pg["last_edited_time"],
    "created_by": lambda s, d, p, pg, v, f: user_ref(s, pg.get("created_by") or s.bot_id),
    "last_edited_by": lambda s, d, p, pg, v, f: user_ref(s, pg.get("last_edited_by") or s.bot_id),
    "unique_id": lambda s, d, p, pg, v, f: {"prefix": p["config"].get("prefix"), "number": v},
    "button": lambda s, d, p, pg, v, f: {},
    "verification": lambda s, d, p, pg, v, f: v or {"state": "unverified", "date": None, "verified_by": None},
}


def render_value(store: Store, ds: Obj | None, prop: Obj, page: Obj, *, full: bool = False) -> Obj:
    """``{"id", "type", "<type>": value}`` (+ ``has_more`` for relations) as in a page object;
    ``full`` returns every relation reference (property items) instead of the first 25."""
    t, pid = prop["type"], prop["id"]
    stored = page["values"].get(pid)
    renderer = RENDERERS.get(t)
    out: Obj = {"id": pid, "type": t, t: renderer(store, ds, prop, page, stored, full) if renderer else stored}
    if t == "relation":
        out["has_more"] = (not full) and len(stored or []) > MAX_REFS
    return out


def _number_text(n: Any) -> str:
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    return str(n)


#: type → plain text of a rendered value (``{"type": t, t: …}``), None when it has none.
_TEXT: dict[str, Callable[[Any], str | None]] = {
    "title": lambda v: plain(v) or None,
    "rich_text": lambda v: plain(v) or None,
    "number": lambda v: None if v is None else _number_text(v),
    "select": lambda v: v["name"] if v else None,
    "status": lambda v: v["name"] if v else None,
    "multi_select": lambda v: ",".join(o["name"] for o in v) or None,
    "date": lambda v: v["start"] if v else None,
    "checkbox": lambda v: "Yes" if v else "No",
    **{t: lambda v: v or None for t in STRING_TYPES},
    "people": lambda v: ",".join(u.get("name") or u["id"] for u in v) or None,
    "relation": lambda v: ",".join(r["id"] for r in v) or None,
    "files": lambda v: ",".join(f.get("name") or "" for f in v) or None,
    "created_time": lambda v: v, "last_edited_time": lambda v: v,
    "created_by": lambda v: v.get("name") or v["id"], "last_edited_by": lambda v: v.get("name") or v["id"],
    "unique_id": lambda v: None if v["number"] is None else
    (f"{v['prefix']}-{v['number']}" if v["prefix"] else str(v["number"])),
    "formula": lambda v: text_of(v), "rollup": lambda v: text_of(v),
    "string": lambda v: v, "boolean": lambda v: None if v is None else ("true" if v else "false"),
    "array": lambda v: ",".join(t for t in (text_of(i) for i in v) if t) or None,
    "place": lambda v: (v or {}).get("name") or (v or {}).get("address"),
}


def text_of(value: Obj) -> str | None:
    """Plain text of a rendered value ``{"type": t, t: …}`` as Notion shows it: ``42``, ``A``,
    ``A,B``, ``Yes``/``No``, a date's start (NOTION-API.md §3.3 matrix); None when empty."""
    t = value.get("type")
    reader = _TEXT.get(t or "")
    return reader(value.get(t)) if reader else None


def property_item(store: Store, ds: Obj | None, prop: Obj, page: Obj, start_cursor: str | None, page_size: int,
                  base_url: str) -> Obj:
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
