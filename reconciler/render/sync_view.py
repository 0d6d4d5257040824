"""The two-way sync part of a plan document → view data for the templates. Pure.

Per synced table: the rows flowing each way, the conflicts with both values and their
resolution, what waits (deletes needing `--prune`, rows only one side has), how each side was
read, and the circuit breaker's message; and the cost of the plan's Notion requests.
"""

from __future__ import annotations

import json
from typing import Any


def fmt(value: Any) -> str:
    """A value on one line, as the rest of the plan shows values (JSON)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _flow(counts: dict[str, int], verbs: tuple[str, str, str]) -> str:
    parts = [f"{counts.get(k, 0)} {verb}" for k, verb in zip(("create", "update", "delete"), verbs)
             if counts.get(k)]
    return ", ".join(parts) or "nothing"


def sync_view(doc: dict[str, Any]) -> dict[str, Any]:
    """`{"tables": […], "conflicts": […], "cost": {…} | None, "moving": n}` for the templates."""
    tables, conflicts = [], []
    for address, s in sorted((doc.get("sync") or {}).items()):
        to_supabase = s.get("to_supabase", {})
        to_notion = s.get("to_notion", {})
        waiting = [f"{s[k]} {label}" for k, label in (
            ("pending_deletes", "delete(s) waiting for --prune"),
            ("not_in_source", "row(s) only one side has"), ("unlinked", "unlinked"))
            if s.get(k)]
        tables.append({
            "table": address, "database": s.get("database"), "direction": s.get("direction"),
            "policy": s.get("policy"),
            "to_supabase": _flow(to_supabase, ("insert", "update", "delete")),
            "to_notion": _flow(to_notion, ("create", "update", "archive")),
            "moving": sum(to_supabase.values()) + sum(to_notion.values()),
            "conflicts": len(s.get("conflicts") or ()), "unchanged": s.get("unchanged", 0),
            "waiting": ", ".join(waiting), "read": s.get("read", {}),
            "breaker": s.get("breaker")})
        for c in s.get("conflicts") or ():
            conflicts.append({"table": address, "row": c.get("row"), "field": c.get("field"),
                              "notion": fmt(c.get("notion")), "supabase": fmt(c.get("supabase")),
                              "base": fmt(c.get("base")), "resolution": c.get("resolution"),
                              "reason": c.get("reason", "")})
    cost = doc.get("cost")
    if cost:
        seconds = cost.get("seconds", 0)
        cost = dict(cost, rate=f"{cost.get('rate', 3):g}",
                    time=f"{seconds:g} s" if seconds < 60 else f"{seconds / 60:.1f} min")
    return {"tables": tables, "conflicts": conflicts, "cost": cost,
            "moving": sum(t["moving"] for t in tables),
            "quiet": sum(1 for t in tables if not t["moving"] and not t["conflicts"]
                         and not t["breaker"])}
