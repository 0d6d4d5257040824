"""Resource addresses, Terraform style: `notion.tasks.property["Status"]`.

Grammar: `<backend>.<name>[.<name>…]` followed by any number of `.<element>["<name>"]` parts (an element: `property`, `option`,
`page`, `column`, …), where
the quoted name escapes `"` and `\\` with a backslash (JSON string rules). Examples:
`notion.tasks`, `notion.tasks.property["Status"].option["Done"]`,
`supabase.public.tasks`, `supabase.public.tasks.column["status"]`.
"""

from __future__ import annotations

import json
import re

_PART = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)\[("(?:[^"\\]|\\.)*")\]')
_HEAD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*+(?:\.[A-Za-z0-9_][A-Za-z0-9_-]*+(?!\[))*")


def child(parent: str, element: str, name: str) -> str:
    """`parent.element["name"]` with `name` quoted as a JSON string."""
    return f"{parent}.{element}[{json.dumps(name, ensure_ascii=False)}]"


def notion_database(key: str) -> str:
    return f"notion.{key}"


def notion_property(key: str, name: str) -> str:
    return child(notion_database(key), "property", name)


def notion_option(key: str, prop: str, option: str) -> str:
    return child(notion_property(key, prop), "option", option)


def supabase_table(schema: str, table: str) -> str:
    return f"supabase.{schema}.{table}"


def parse(address: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Split an address into its dotted head and its `(element, name)` parts.

    `parse('notion.tasks.property["A"]')` → `(["notion", "tasks"], [("property", "A")])`.
    Raises ValueError for a malformed address.
    """
    head = _HEAD.match(address)
    if not head:
        raise ValueError(f"not a resource address: {address!r}")
    parts: list[tuple[str, str]] = []
    pos = head.end()
    while pos < len(address):
        m = _PART.match(address, pos)
        if not m:
            raise ValueError(f"not a resource address: {address!r} (unexpected text at {pos + 1})")
        parts.append((m.group(1), json.loads(m.group(2))))
        pos = m.end()
    return head.group(0).split("."), parts


def matches(address: str, target: str) -> bool:
    """True when `address` is `target` or lies inside it (Terraform's `-target` semantics)."""
    return address == target or address.startswith(target + ".")
