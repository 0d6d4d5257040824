"""The two-way sync part of a plan document → view data for the templates. Pure.

Per synced table: the rows flowing each way, the conflicts with both values and their
resolution, what waits (deletes needing `--prune`, rows only one side has), how each side was
read, and the circuit breaker's message; and the cost of the plan's Notion requests.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.addresses import child
from reconciler.model.sensitive import SHOWN

#: Why a pair is unlinked, by the side that is gone.
_GONE = {"notion": "its Notion page was trashed; the Supabase row stays",
         "supabase": "its Supabase row was deleted; the Notion page stays"}


def fmt(value: Any) -> str:
    """A value on one line, as the rest of the plan shows values (JSON)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _hidden(value: Any) -> str:
    """A sealed value of a conflict on a sensitive field (`plan.seal`): never the value."""
    return "null" if value is None else SHOWN


def _flow(counts: dict[str, int], verbs: tuple[str, str, str]) -> str:
    parts = [f"{counts.get(k, 0)} {verb}" for k, verb in zip(("create", "update", "delete"), verbs)
             if counts.get(k)]
    return ", ".join(parts) or "nothing"


def sync_view(doc: dict[str, Any]) -> dict[str, Any]:
    """`{"tables": […], "conflicts": […], "cost": {…} | None, "moving": n, "pending": n,
    "quiet": n}` for the templates; each table lists the pairs the plan unlinks (`unlinks`: row
    and page addresses, and why) and counts the deletes waiting for `--prune` (`pending`),
    either of which makes it not quiet (not "in step")."""
    tables, conflicts = [], []
    for address, s in sorted((doc.get("sync") or {}).items()):
        to_supabase = s.get("to_supabase", {})
        to_notion = s.get("to_notion", {})
        waiting = [f"{s[k]} {label}" for k, label in (
            ("pending_deletes", "delete(s) waiting for --prune"),
            ("not_in_source", "row(s) only one side has"),) if s.get(k)]
        unlinks = [{"row": child(address, "row", str(u.get("row"))),
                    "page": child(f"notion.{s.get('database')}", "page", str(u.get("page"))),
                    "why": _GONE.get(str(u.get("gone")), "one side is gone")}
                   for u in s.get("unlinks") or ()]
        tables.append({
            "table": address, "database": s.get("database"), "direction": s.get("direction"),
            "policy": s.get("policy"),
            "to_supabase": _flow(to_supabase, ("insert", "update", "delete")),
            "to_notion": _flow(to_notion, ("create", "update", "archive")),
            "moving": sum(to_supabase.values()) + sum(to_notion.values()),
            "conflicts": len(s.get("conflicts") or ()), "unchanged": s.get("unchanged", 0),
            "unlinks": unlinks, "pending": s.get("pending_deletes", 0),
            "waiting": ", ".join(waiting), "read": s.get("read", {}),
            "breaker": s.get("breaker")})
        for c in s.get("conflicts") or ():
            show = _hidden if c.get("sealed") else fmt
            conflicts.append({"table": address, "row": c.get("row"), "field": c.get("field"),
                              "notion": show(c.get("notion")),
                              "supabase": show(c.get("supabase")),
                              "base": show(c.get("base")), "resolution": c.get("resolution"),
                              "reason": c.get("reason", "")})
    cost = doc.get("cost")
    if cost:
        seconds = cost.get("seconds", 0)
        cost = dict(cost, rate=f"{cost.get('rate', 3):g}",
                    time=f"{seconds:g} s" if seconds < 60 else f"{seconds / 60:.1f} min")
    return {"tables": tables, "conflicts": conflicts, "cost": cost,
            "moving": sum(t["moving"] for t in tables),
            "pending": sum(t["pending"] for t in tables),
            "quiet": sum(1 for t in tables if not t["moving"] and not t["conflicts"]
                         and not t["breaker"] and not t["unlinks"] and not t["pending"])}
