"""Plan document → view model for the templates: grouped, ordered, counted. Pure.

Reads the same document the plan file holds (`plan.planfile.to_document`), so `plan` and
`show FILE` print the same thing. Field-level detail of updates comes from deepdiff.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from deepdiff import DeepDiff

from reconciler.render.sync_view import sync_view

SYMBOLS = {"create": "+", "update": "~", "rename": ">", "delete": "-", "archive": "-",
           "manual": "!", "no-op": " "}
VERBS = {"create": "will be created", "update": "will be updated in place",
         "rename": "will be renamed", "delete": "will be DELETED", "archive": "will be archived",
         "manual": "needs a manual step", "no-op": "is unchanged"}


def fmt(value: Any) -> str:
    """A value on one line: JSON for data, as Terraform shows attribute values."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _flat(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _flat(value, path + ".")
        else:
            rows.append((path, value))
    return rows


def _path(diff_path: str) -> str:
    return diff_path.replace("root", "", 1).replace("']['", ".").replace("['", "").replace("']", "") \
        .lstrip(".") or "value"


def field_changes(before: dict | None, after: dict | None) -> list[dict[str, str]]:
    """`[{"field", "before", "after"}]` for an update: what differs, field by field.

    The `id` a change carries to address the live resource is not a difference and is left out.
    """
    if not before or not after:
        return []
    diff = DeepDiff(before, after, ignore_order=False, verbose_level=2)
    rows = []
    for kind in ("values_changed", "type_changes"):
        for path, item in diff.get(kind, {}).items():
            rows.append({"field": _path(path), "before": fmt(item["old_value"]),
                         "after": fmt(item["new_value"])})
    for path, value in diff.get("dictionary_item_added", {}).items():
        rows.append({"field": _path(path), "before": "(none)", "after": fmt(value)})
    for path, value in diff.get("dictionary_item_removed", {}).items():
        rows.append({"field": _path(path), "before": fmt(value), "after": "(none)"})
    for kind, label in (("iterable_item_added", "after"), ("iterable_item_removed", "before")):
        for path, value in diff.get(kind, {}).items():
            other = "(none)"
            rows.append({"field": _path(path), "before": fmt(value) if label == "before" else other,
                         "after": fmt(value) if label == "after" else other})
    return sorted((r for r in rows if r["field"] != "id"), key=lambda r: r["field"])


def _row_fields(change: dict[str, Any]) -> list[dict[str, str]]:
    """Field rows of a content update: each written field, live value → source value."""
    before = (change.get("before") or {}).get("values", {})
    return [{"field": f, "before": fmt(before.get(f)), "after": fmt(v)}
            for f, v in sorted(((change.get("after") or {}).get("values") or {}).items())]


def change_view(change: dict[str, Any]) -> dict[str, Any]:
    action = change["action"]
    is_row = "values" in (change.get("after") or {})
    shown = change.get("after") if action != "delete" else change.get("before")
    return {
        "address": change["address"], "action": action, "kind": change["kind"], "is_row": is_row
        or change["kind"] in ("archive_page", "delete_row"),
        "symbol": SYMBOLS.get(action, "?"), "verb": VERBS.get(action, action),
        "destructive": bool(change.get("destructive")), "rows_affected": change.get("rows_affected"),
        "manual": change.get("manual"), "note": change.get("note"),
        "attributes": [{"field": k, "value": fmt(v)} for k, v in
                       _flat((shown or {}).get("values", {}) if is_row else (shown or {}))]
        if action in ("create", "delete") else [],
        "fields": _row_fields(change) if is_row and action == "update" else
        field_changes(change.get("before"), change.get("after"))
        if action in ("update", "rename", "manual") else [],
        "lagging": list(change.get("lagging") or []),
        "sql": list(change.get("sql") or []),
        "requests": [_request_line(r) for r in change.get("requests") or []],
    }


def _request_line(request: dict[str, Any]) -> str:
    """`PATCH /v1/data_sources/… (Status, Tags)`: a Notion request as the plan shows it."""
    keys = request.get("keys") or []
    return f"{request['method']} {request['path']}" + (f" ({', '.join(keys)})" if keys else "")


def resource_of(address: str) -> str:
    """The top resource of an address: `notion.tasks`, `supabase.public.tasks`."""
    return address.split("[")[0].rsplit(".", 1)[0] if "[" in address else address


#: Row changes listed per content target in the terminal view; the rest are counted.
TEXT_ROWS_PER_TARGET = 20


def content_view(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Per content target: counts and schema lag (`[{"field", "rows"}]`), in address order."""
    return [{"target": target, **{k: v for k, v in summary.items() if k != "lag"},
             "lag": [{"field": f, "rows": n} for f, n in sorted(summary.get("lag", {}).items())]}
            for target, summary in sorted(content.items())]


def _shown_in_text(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Schema changes all; row changes up to `TEXT_ROWS_PER_TARGET` per target, then a count."""
    shown, rows = [], Counter()
    for change in changes:
        target = resource_of(change["address"])
        if change["is_row"]:
            rows[target] += 1
            if rows[target] == TEXT_ROWS_PER_TARGET + 1:
                shown.append({"more": True, "target": target})
            if rows[target] > TEXT_ROWS_PER_TARGET:
                continue
        shown.append(change)
    for item in shown:
        if item.get("more"):
            item["count"] = rows[item["target"]] - TEXT_ROWS_PER_TARGET
    return shown


def plan_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the templates print: header, summary, attention list, content summaries and
    schema lag, groups of changes (and, for the terminal, the changes shown)."""
    changes = [change_view(c) for c in doc.get("changes", [])]
    groups: dict[str, list[dict]] = {}
    for change in changes:
        groups.setdefault(resource_of(change["address"]), []).append(change)
    attention = [c for c in changes if c["destructive"]] + \
        [c for c in changes if c["action"] == "manual" and not c["destructive"]]
    content = content_view(doc.get("content", {}))
    return {"sync": sync_view(doc) if doc.get("sync") else None,
        "header": doc.get("header", {}), "summary": doc.get("summary", {}),
        "total": len(changes), "changes": changes, "attention": attention,
        "shown": _shown_in_text(changes), "content": content,
        "lag": [dict(item, target=c["target"]) for c in content for item in c["lag"]],
        "groups": [{"resource": k, "changes": v} for k, v in sorted(groups.items())],
    }
