"""Data source query: filters (property, timestamp, ``and``/``or`` up to two levels) and sorts.

Rollup ``any``/``every``/``none`` conditions apply to the rolled-up values; ``every`` on an empty
relation matches nothing and ``none`` matches (REC:UN/test_query/test_query_rollup.yaml #12, #14).

Operators per type follow NOTION-API.md §1.3 (JS:common.ts ``PropertyFilter``; recorded shapes in
REC:UN/test_query/*). Unknown property names/ids in filters or sorts → 400 ``validation_error``.
Values are compared on a simple Python view of each page value (``_view``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from .common import plain
from .errors import validation
from .props import STRING_TYPES, find_property
from .render import render_value
from .store import Store

TEXT = ("title", "rich_text", *STRING_TYPES)
DATE_TYPES = ("date", "created_time", "last_edited_time")


def _parse_dt(value: Any) -> datetime | None:
    """A stored or filter date as an aware datetime (UTC when it names no offset)."""
    if not isinstance(value, str) or not value:
        return None
    s = value.replace("Z", "+00:00")
    try:
        if len(s) == 10:
            return datetime.combine(date.fromisoformat(s), datetime.min.time(), timezone.utc)
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise validation(f"body failed validation: date `{value}` should be a valid ISO 8601 date.") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _view(store: Store, ds: dict[str, Any], prop: dict[str, Any], page: dict[str, Any]) -> Any:
    v = render_value(store, ds, prop, page, full=True)
    t = prop["type"]
    x = v[t]
    if t in ("title", "rich_text"):
        return plain(x)
    if t in ("select", "status"):
        return x["name"] if x else None
    if t == "multi_select":
        return [o["name"] for o in x]
    if t in ("people", "relation"):
        return [o["id"] for o in x]
    if t in ("created_by", "last_edited_by"):
        return [x["id"]]
    if t == "date":
        return x.get("start") if x else None
    if t == "unique_id":
        return x["number"]
    if t in ("formula", "rollup"):
        return x
    return x


def _empty(x: Any) -> bool:
    return x is None or x == "" or x == [] or x is False and False


def _date_op(x: Any, op: str, arg: Any) -> bool:
    """One date condition on a stored date ``x``. Stored date-times are minute-granular (see
    ``values.date_out``) and a filter date-time is compared to the minute: ``equals`` 06:57:51 matches
    a value stored as 06:57, ``before``/``after`` 06:57:51 exclude it (REC:UN/test_query/test_date_query.yaml
    #12-16; #25, #28 for the created_time timestamp). A date-only side compares days."""
    dt = _parse_dt(x) if isinstance(x, str) else None
    if op == "is_empty":
        return dt is None
    if op == "is_not_empty":
        return dt is not None
    if dt is None:
        return False
    now = datetime.now(timezone.utc)
    spans = {"past_week": (now - timedelta(days=7), now), "past_month": (now - timedelta(days=30), now),
             "past_year": (now - timedelta(days=365), now), "next_week": (now, now + timedelta(days=7)),
             "next_month": (now, now + timedelta(days=30)), "next_year": (now, now + timedelta(days=365))}
    if op in spans:
        lo, hi = spans[op]
        return lo.date() <= dt.date() <= hi.date()
    if op == "this_week":
        monday = (now - timedelta(days=now.weekday())).date()
        return monday <= dt.date() < monday + timedelta(days=7)
    ref = _parse_dt(arg)
    if ref is None:
        raise validation(f"body failed validation: date filter `{op}` needs a date.")
    ref = ref.replace(second=0, microsecond=0)  # Notion compares to the minute (see _date_op)
    date_only = isinstance(arg, str) and len(arg) == 10 or isinstance(x, str) and len(x) == 10
    a, b = (dt.date(), ref.date()) if date_only else (dt, ref)
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "equals": lambda a, b: a == b, "before": lambda a, b: a < b, "after": lambda a, b: a > b,
        "on_or_before": lambda a, b: a <= b, "on_or_after": lambda a, b: a >= b}
    if op not in ops:
        raise validation(f"body failed validation: unsupported date filter condition `{op}`.")
    return ops[op](a, b)


def _scalar_op(kind: str, x: Any, op: str, arg: Any) -> bool:
    """Apply one condition of filter ``kind`` (``rich_text``, ``number``, …) to view value ``x``."""
    if kind in DATE_TYPES:
        return _date_op(x, op, arg)
    if op == "is_empty":
        return x is None or x == "" or x == []
    if op == "is_not_empty":
        return not (x is None or x == "" or x == [])
    if kind in ("multi_select", "people", "relation", "created_by", "last_edited_by"):
        vals = x or []
        if op == "contains":
            return arg in vals
        if op == "does_not_contain":
            return arg not in vals
    elif kind in ("select", "status"):
        args = arg if isinstance(arg, list) else [arg]
        if op == "equals":
            return x in args
        if op == "does_not_equal":
            return x not in args
    elif kind == "checkbox":
        if op == "equals":
            return bool(x) == arg
        if op == "does_not_equal":
            return bool(x) != arg
    elif kind in ("number", "unique_id"):
        if x is None or not isinstance(arg, (int, float)):
            return op == "does_not_equal" and x is None
        cmp = {"equals": x == arg, "does_not_equal": x != arg, "greater_than": x > arg, "less_than": x < arg,
               "greater_than_or_equal_to": x >= arg, "less_than_or_equal_to": x <= arg}
        if op in cmp:
            return cmp[op]
    elif kind in TEXT + ("string", "text"):
        s, a = x or "", arg if isinstance(arg, str) else ""
        cmp = {"equals": s == a, "does_not_equal": s != a, "contains": a in s, "does_not_contain": a not in s,
               "starts_with": s.startswith(a), "ends_with": s.endswith(a)}
        if op in cmp:
            return cmp[op]
    elif kind == "files":
        pass
    raise validation(f"body failed validation: unsupported filter condition `{kind}.{op}`.")


def _cond(kind: str, x: Any, cond: Any) -> bool:
    if not isinstance(cond, dict) or len(cond) != 1:
        raise validation(f"body failed validation: body.filter.{kind} should have exactly one condition.")
    (op, arg), = cond.items()
    return _scalar_op(kind, x, op, arg)


def _typed(value: dict[str, Any]) -> Any:
    t = value.get("type")
    x = value.get(t) if t else None
    if t in ("title", "rich_text"):
        return plain(x)
    if t == "date":
        return x.get("start") if x else None
    if t in ("select", "status"):
        return x["name"] if x else None
    if t in ("multi_select", "people", "relation"):
        return [o.get("name") or o.get("id") for o in x or []]
    return x


def _match_property(store: Store, ds: dict[str, Any], flt: dict[str, Any], page: dict[str, Any]) -> bool:
    key = flt["property"]
    prop = find_property(ds, key) if isinstance(key, str) else None
    if prop is None:
        raise validation(f"Could not find property with name or id: {key}")
    kind = next((k for k in flt if k not in ("property", "type")), None)
    if kind is None:
        raise validation("body failed validation: body.filter should have a condition.")
    x = _view(store, ds, prop, page)
    if kind == "formula":
        (sub, cond), = flt[kind].items()
        return _cond({"checkbox": "checkbox", "number": "number", "date": "date"}.get(sub, "string"), _typed(x), cond)
    if kind == "rollup":
        (sub, cond), = flt[kind].items()
        if sub in ("any", "every", "none"):
            items = [_typed(i) for i in (x.get("array") or [])]
            (ik, ic), = cond.items()
            hits = [_cond(ik, i, ic) for i in items]
            if sub == "every":  # an empty relation matches no `every` (test_query_rollup.yaml #12)
                return bool(hits) and all(hits)
            return any(hits) if sub == "any" else not any(hits)
        return _cond(sub, _typed(x), cond)
    return _cond(kind, x, flt[kind])


def matches(store: Store, ds: dict[str, Any], flt: Any, page: dict[str, Any], depth: int = 0) -> bool:
    """Whether ``page`` passes ``flt`` (compounds nest at most two levels, §1.3)."""
    if not isinstance(flt, dict):
        raise validation("body failed validation: body.filter should be an object.")
    for comp in ("and", "or"):
        if comp in flt:
            if depth >= 2:
                raise validation("body failed validation: body.filter compound filters can be nested at most two levels deep.")
            subs = flt[comp]
            if not isinstance(subs, list) or len(subs) > 100:
                raise validation(f"body failed validation: body.filter.{comp} should be an array of at most 100 filters.")
            results = [matches(store, ds, f, page, depth + 1) for f in subs]
            return all(results) if comp == "and" else any(results)
    if "timestamp" in flt:
        ts = flt["timestamp"]
        if ts not in ("created_time", "last_edited_time"):
            raise validation(f"body failed validation: body.filter.timestamp should be `\"created_time\"` or `\"last_edited_time\"`.")
        return _cond(ts, page[ts], flt.get(ts))
    if "property" in flt:
        return _match_property(store, ds, flt, page)
    raise validation("body failed validation: body.filter should define `property`, `timestamp`, `and` or `or`.")


def _sort_key(x: Any) -> tuple[int, Any]:
    if isinstance(x, list):
        x = ",".join(map(str, x)) if x else None
    if isinstance(x, dict):
        x = _typed(x)
    if x is None or x == "":
        return (1, "")
    if isinstance(x, bool):
        return (0, int(x))
    if isinstance(x, (int, float)):
        return (0, x)
    return (0, str(x).lower())


def sort_pages(store: Store, ds: dict[str, Any], pages: list[dict[str, Any]], sorts: Any) -> list[dict[str, Any]]:
    """Stable multi-key sort; earlier sorts win; empty values last. Default: creation order."""
    pages = sorted(pages, key=lambda p: p["seq"])
    if sorts is None:
        return pages
    if not isinstance(sorts, list) or len(sorts) > 100:
        raise validation("body failed validation: body.sorts should be an array.")
    for s in reversed(sorts):
        if not isinstance(s, dict):
            raise validation("body failed validation: body.sorts[*] should be an object.")
        desc = s.get("direction", "ascending") == "descending"
        if "timestamp" in s:
            pages.sort(key=lambda p: (p[s["timestamp"]], p["seq"]), reverse=desc)
            continue
        prop = find_property(ds, s.get("property") or "")
        if prop is None:
            raise validation(f"Could not find sort property with name or id: {s.get('property')}")
        keyed = [(_sort_key(_view(store, ds, prop, p)), p) for p in pages]
        filled = [kp for kp in keyed if kp[0][0] == 0]
        empty = [kp[1] for kp in keyed if kp[0][0] == 1]
        filled.sort(key=lambda kp: kp[0][1], reverse=desc)
        pages = [p for _, p in filled] + empty
    return pages


def check_filter(ds: dict[str, Any], flt: Any, depth: int = 0) -> None:
    """Validate property references and nesting of ``flt`` without any page (400 on unknown properties)."""
    if not isinstance(flt, dict):
        raise validation("body failed validation: body.filter should be an object.")
    for comp in ("and", "or"):
        if comp in flt:
            if depth >= 2:
                raise validation("body failed validation: body.filter compound filters can be nested at most two levels deep.")
            for sub in flt[comp] if isinstance(flt[comp], list) else []:
                check_filter(ds, sub, depth + 1)
            return
    if "property" in flt and find_property(ds, flt["property"] if isinstance(flt["property"], str) else "") is None:
        raise validation(f"Could not find property with name or id: {flt['property']}")
