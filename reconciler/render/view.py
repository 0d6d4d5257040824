"""Plan document → view model for the templates: grouped, ordered, counted. Pure.

Reads the same document the plan file holds (`plan.planfile.to_document`), so `plan` and
`show FILE` print the same thing. Field-level detail of updates comes from `render.fields`.
A sealed row's sensitive values (keyed digests in the document, `plan.seal`) show as
`(sensitive)`, an update's as `(sensitive) -> (sensitive, changed)` (or `unchanged`, when the
two digests are equal).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reconciler.addresses import child, parse
from reconciler.model.changes import ROW_KINDS
from reconciler.model.sensitive import SHOWN
from reconciler.render.fields import field_changes, fmt

from reconciler.render.sync_view import sync_view

SYMBOLS = {"create": "+", "update": "~", "rename": ">", "delete": "-", "archive": "-",
           "manual": "!", "no-op": " "}
VERBS = {"create": "will be created", "update": "will be updated in place",
         "rename": "will be renamed", "delete": "will be DELETED", "archive": "will be archived",
         "manual": "needs a manual step", "no-op": "is unchanged"}


def _flat(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _flat(value, path + ".")
        else:
            rows.append((path, value))
    return rows


def _hidden(row: dict[str, Any]) -> set[str]:
    """The fields of a row (a `RowState` in the document) whose values are sealed digests."""
    return set(row.get("sensitive") or ()) if row.get("sealed") else set()


def _row_fields(change: dict[str, Any]) -> list[dict[str, str]]:
    """Field rows of a content update: each written field, live value → source value."""
    before_row, after_row = change.get("before") or {}, change.get("after") or {}
    before, hidden = before_row.get("values", {}), _hidden(after_row) | _hidden(before_row)
    out = []
    for f, v in sorted((after_row.get("values") or {}).items()):
        if f in hidden:
            same = "unchanged" if before.get(f) == v else "changed"
            out.append({"field": f, "before": SHOWN, "after": f"{SHOWN[:-1]}, {same})"})
        else:
            out.append({"field": f, "before": fmt(before.get(f)), "after": fmt(v)})
    return out


#: Fields besides the key a page or row create shows in the pull-request report.
ROW_FIELDS_SHOWN = 3
#: Longest value shown there, in characters.
ROW_VALUE_CHARS = 40


def _row_summary(change: dict[str, Any]) -> list[dict[str, str]]:
    """A created row in brief: its key, then up to `ROW_FIELDS_SHOWN` set fields, shortened."""
    after = change.get("after") or {}
    values = {k: v for k, v in (after.get("values") or {}).items() if v not in (None, "", [], {})}
    hidden = _hidden(after)
    key = SHOWN if after.get("sealed") and after.get("sensitive_key") else after.get("key", "")
    shown = [{"field": "key", "value": str(key)}]
    for name, value in list(values.items())[:ROW_FIELDS_SHOWN]:
        text = SHOWN if name in hidden else value if isinstance(value, str) else fmt(value)
        text = " ".join(text.split())
        cut = text[:ROW_VALUE_CHARS] + ("…" if len(text) > ROW_VALUE_CHARS else "")
        shown.append({"field": name, "value": cut})
    return shown


#: Lines of SQL the pull-request report shows per change; the plan file has them all.
SQL_LINES_SHOWN = 20


def _sql_brief(statements: list[str]) -> tuple[list[str], int]:
    """The first statements, up to `SQL_LINES_SHOWN` lines (at least one), and how many more."""
    shown, lines = [], 0
    for statement in statements:
        lines += statement.count("\n") + 1
        if shown and lines > SQL_LINES_SHOWN:
            break
        shown.append(statement)
    return shown, len(statements) - len(shown)


#: Settings a created or deleted property, column or table shows in brief, in this order.
BRIEF = ("type", "number_format", "relation.database", "rollup.function", "formula", "vocabulary")


def _brief(data: dict[str, Any]) -> list[dict[str, str]]:
    """A created or deleted resource's main settings as plain text: `type rich_text`,
    `options Todo, Done`."""
    flat = dict(_flat(data))
    out = [{"field": f, "value": v if isinstance(v, str) else fmt(v)}
           for f in BRIEF for v in [flat.get(f)] if v not in (None, "", [], ())]
    options = [o.get("name") for o in data.get("options") or () if isinstance(o, dict)]
    if options:
        out.append({"field": "options", "value": ", ".join(str(o) for o in options)})
    return out


def change_view(change: dict[str, Any]) -> dict[str, Any]:
    action = change["action"]
    is_row = change["kind"] in ROW_KINDS
    shown = change.get("after") if action != "delete" else change.get("before")
    return {
        "address": change["address"], "action": action, "kind": change["kind"], "is_row": is_row,
        "description": (shown or {}).get("description") if not is_row and action == "create" else None,
        "row_summary": _row_summary(change) if is_row and action == "create" else [],
        "brief": _brief(shown or {}) if not is_row and action in ("create", "delete") else [],
        "conflict": _conflict(change.get("conflict")),
        "symbol": SYMBOLS.get(action, "?"), "verb": VERBS.get(action, action),
        "destructive": bool(change.get("destructive")), "rows_affected": change.get("rows_affected"),
        "manual": change.get("manual"), "note": change.get("note"),
        "attributes": _attributes(shown or {}, is_row) if action in ("create", "delete") else [],
        "fields": _row_fields(change) if is_row and action == "update" else
        field_changes(change.get("before"), change.get("after"))
        if action in ("update", "rename", "manual") else [],
        "lagging": list(change.get("lagging") or []),
        "lint": lint_view(change),
        "sql": list(change.get("sql") or []),
        "sql_brief": _sql_brief(list(change.get("sql") or []))[0],
        "sql_more": _sql_brief(list(change.get("sql") or []))[1],
        "requests": [_request_line(r) for r in change.get("requests") or []],
    }


def _conflict(conflict: dict[str, Any] | None) -> dict[str, Any] | None:
    """A manual conflict as shown: a sealed one's values as `(sensitive)`."""
    if not conflict or not conflict.get("sealed"):
        return conflict
    return {k: SHOWN if k in ("notion", "supabase", "base") and v is not None else v
            for k, v in conflict.items() if k not in ("sensitive", "sealed")}


def _attributes(shown: dict[str, Any], is_row: bool) -> list[dict[str, str]]:
    """`field = value` lines of a created or deleted resource (a row: its values, sealed ones
    as `(sensitive)`)."""
    if not is_row:
        return [{"field": k, "value": fmt(v)} for k, v in _flat(shown)]
    hidden = _hidden(shown)
    return [{"field": k, "value": SHOWN if k.split(".")[0] in hidden else fmt(v)}
            for k, v in _flat(shown.get("values", {}))]


def lint_view(change: dict[str, Any]) -> list[dict[str, Any]]:
    """A change's analyzer findings: `[{"code", "severity", "message", "address"}]`."""
    return [{"code": d["code"], "severity": d.get("severity", "warning"),
             "message": d["message"], "address": change["address"]}
            for d in change.get("lint") or []]


def _request_line(request: dict[str, Any]) -> str:
    """`PATCH /v1/data_sources/… (Status, Tags)`: a Notion request as the plan shows it, with
    `, one request for 2 changes` when it carries others too."""
    keys = request.get("keys") or []
    shared = request.get("shared_by")
    return f"{request['method']} {request['path']}" + (f" ({', '.join(keys)})" if keys else "") \
        + (f", one request for {shared} changes" if shared else "")


def resource_of(address: str) -> str:
    """The top resource of an address: `notion.tasks`, `supabase.public.tasks`, and for names
    that need quotes `supabase.public.table["My Notes"]` (its rows, columns and pages belong to
    it)."""
    try:
        head, parts = parse(address)
    except ValueError:
        return address.split("[")[0].rsplit(".", 1)[0] if "[" in address else address
    out = ".".join(head)
    for element, name in parts:
        if element not in ("schema", "table"):
            break
        out = child(out, element, name)
    return out


#: Row changes listed per resource in the terminal view; the rest are counted.
TEXT_ROWS_PER_RESOURCE = 20


def content_view(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Per content set (by its resource): counts and schema lag (`[{"field", "rows"}]`), in
    address order."""
    return [{"resource": resource, **{k: v for k, v in summary.items() if k != "lag"},
             "lag": [{"field": f, "rows": n} for f, n in sorted(summary.get("lag", {}).items())]}
            for resource, summary in sorted(content.items())]


def _shown_in_text(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Schema changes all; row changes up to `TEXT_ROWS_PER_RESOURCE` per resource, then a count."""
    shown, rows = [], Counter()
    for change in changes:
        resource = resource_of(change["address"])
        if change["is_row"]:
            rows[resource] += 1
            if rows[resource] == TEXT_ROWS_PER_RESOURCE + 1:
                shown.append({"more": True, "resource": resource})
            if rows[resource] > TEXT_ROWS_PER_RESOURCE:
                continue
        shown.append(change)
    for item in shown:
        if item.get("more"):
            item["count"] = rows[item["resource"]] - TEXT_ROWS_PER_RESOURCE
    return shown


def _groups(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changes by resource: schema groups first, then the rows of each content set; each
    with its counts by action (`counts`: `[{"action", "n"}]`, in `SYMBOLS` order)."""
    groups: dict[tuple[bool, str], list[dict]] = {}
    for change in changes:
        groups.setdefault((change["is_row"], resource_of(change["address"])), []).append(change)
    out = []
    for (rows, resource), items in sorted(groups.items()):
        counts = Counter(c["action"] for c in items)
        out.append({"resource": resource, "rows": rows, "changes": items,
                    "counts": [{"action": a, "n": counts[a]} for a in SYMBOLS if counts[a]]})
    return out


def _attention(changes: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """What a reviewer must see: destructive schema changes, manual steps and conflicts, each
    in full; destructive row changes counted per content set (`[{"resource", "action", "n"}]`)."""
    rows: Counter[tuple[str, str]] = Counter()
    listed = []
    for change in changes:
        if change["destructive"] and change["is_row"]:
            rows[(resource_of(change["address"]), change["action"])] += 1
        elif change["destructive"] or change["action"] == "manual" or change["conflict"]:
            listed.append(change)
    listed.sort(key=lambda c: 0 if c["destructive"] else 1 if c["action"] == "manual" else 2)
    return listed, [{"resource": r, "action": a, "n": n} for (r, a), n in sorted(rows.items())]


def plan_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the templates print: header, summary, attention list, content summaries and
    schema lag, groups of changes (and, for the terminal, the changes shown)."""
    changes = [change_view(c) for c in doc.get("changes", [])]
    attention, attention_rows = _attention(changes)
    content = content_view(doc.get("content", {}))
    return {"sync": sync_view(doc) if doc.get("sync") else None,
        "header": doc.get("header", {}), "summary": doc.get("summary", {}),
        "digest": doc.get("digest", ""), "total": len(changes), "changes": changes,
        "attention": attention, "attention_rows": attention_rows,
        "attention_count": len(attention) + sum(r["n"] for r in attention_rows),
        "shown": _shown_in_text(changes), "content": content,
        "lint": [d for c in changes for d in c["lint"]],
        "lag": [dict(item, resource=c["resource"]) for c in content for item in c["lag"]],
        "groups": _groups(changes),
    }
