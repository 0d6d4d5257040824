"""Field-level detail of an update: what differs between `before` and `after`, field by field.

The differences come from DeepDiff's tree view (deepdiff docs, "Tree View": each report item
knows its path as a list of keys and its parent level), so paths are built from real keys,
not by rewriting DeepDiff's text paths:

- nested keys join with dots, keys that are not identifiers are quoted: `relation.database`,
  `values["SLA p95"]`;
- lists of named mappings (select options, …) are compared by name, so an option is named, not
  numbered: `options["Done"].color`, and a reordering reads `options (order)`;
- a list of plain values (grant privileges, index columns) is shown whole, before → after.

Pure.
"""

from __future__ import annotations

import json
import re
from typing import Any

from deepdiff import DeepDiff

NONE = "(none)"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Named(str):
    """A key that was an item's `name` in a list: always shown quoted, `options["Done"]`."""


def fmt(value: Any) -> str:
    """A value on one line: JSON for data, as Terraform shows attribute values."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _is_named_list(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    names = [v.get("name") if isinstance(v, dict) else None for v in value]
    return all(isinstance(n, str) for n in names) and len(set(names)) == len(names)


def keyed(value: Any) -> Any:
    """`value` with every list of uniquely named mappings turned into a mapping by name."""
    if isinstance(value, dict):
        return {k: keyed(v) for k, v in value.items()}
    if _is_named_list(value):
        return {_Named(v["name"]): keyed({k: x for k, x in v.items() if k != "name"})
                for v in value}
    if isinstance(value, list):
        return [keyed(v) for v in value]
    return value


def path_text(parts: list[Any]) -> str:
    """`["options", Named("Done"), "color"]` → `options["Done"].color`; `[]` → `value`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, _Named) or not _IDENT.fullmatch(str(part)):
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
        else:
            out += ("." if out else "") + part
    return out or "value"


def _shown(level: Any) -> tuple[list[Any], Any, Any]:
    """Path, before and after of one report item; an item of a plain list stands for the
    whole list (its parent level)."""
    parts = level.path(output_format="list")
    if parts and isinstance(parts[-1], int) and level.up is not None and \
            not isinstance(level.t1, dict) and not isinstance(level.t2, dict):
        return parts[:-1], level.up.t1, level.up.t2
    return parts, level.t1, level.t2


def _value(value: Any) -> str:
    return NONE if type(value).__name__ == "NotPresent" else fmt(value)


def _orders(before: Any, after: Any, parts: list[Any]) -> list[dict[str, str]]:
    """`options (order)` rows where a named list kept its names but changed their order."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    rows = []
    names_b, names_a = list(before), list(after)
    if names_b and all(isinstance(k, _Named) for k in names_b + names_a) and \
            set(names_b) == set(names_a) and names_b != names_a:
        rows.append({"field": path_text(parts) + " (order)", "before": fmt(names_b),
                     "after": fmt(names_a)})
    for key in before.keys() & after.keys():
        rows += _orders(before[key], after[key], parts + [key])
    return rows


def field_changes(before: dict | None, after: dict | None) -> list[dict[str, str]]:
    """`[{"field", "before", "after"}]` for an update, sorted by field: what differs.

    The `id` a change carries to address the live resource is not a difference and is left out.
    """
    if not before or not after:
        return []
    old, new = keyed(before), keyed(after)
    rows: dict[str, dict[str, str]] = {}
    for items in DeepDiff(old, new, ignore_order=False, view="tree").values():
        for level in items:
            parts, was, now = _shown(level)
            field = path_text(parts)
            rows.setdefault(field, {"field": field, "before": _value(was), "after": _value(now)})
    for row in _orders(old, new, []):
        rows.setdefault(row["field"], row)
    return sorted((r for r in rows.values() if r["field"] != "id"), key=lambda r: r["field"])
