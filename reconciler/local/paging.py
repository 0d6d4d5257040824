"""Pagination of list endpoints: ``page_size`` (≤ 100) and ``start_cursor`` (NOTION-API.md §1.3).

Cursors are the next item's id; opaque Notion cursors (``"s:<…>:<page id>"``,
REC:UN/test_database/test_more_than_max_page_size_pages.yaml #114) are accepted when they end with one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import validation

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def page_size(value: Any, where: str) -> int:
    """The requested page size: default 100, 1 ≤ n ≤ 100 (400 otherwise)."""
    if value is None:
        return 100
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise validation(f"body failed validation: {where} should be a positive integer, instead was `{value!r}`.")
    if value > 100:
        raise validation(f"body failed validation: {where} should be ≤ `100`, instead was `{value}`.")
    return value


def cursor_id(cursor: Any) -> Any:
    """The item id a cursor names (an opaque Notion cursor's trailing id, or the cursor itself)."""
    found = _UUID.findall(cursor) if isinstance(cursor, str) else []
    return found[-1] if found else cursor


def bad_cursor(cursor: Any) -> Exception:
    """The 400 for a cursor that names no item of the list."""
    return validation(f"body failed validation: body.start_cursor should be a valid cursor, instead was `\"{cursor}\"`.")


def paginate(items: list[Any], cursor: Any, size: int, ident: Callable[[Any], str]) -> tuple[list[Any], str | None]:
    """``size`` items from the one ``cursor`` names (the first when None) and the next cursor, or None."""
    start = 0
    if cursor is not None:
        ids = [ident(i) for i in items]
        cursor = cursor_id(cursor)
        if cursor not in ids:
            raise bad_cursor(cursor)
        start = ids.index(cursor)
    chunk = items[start:start + size]
    nxt = ident(items[start + size]) if start + size < len(items) else None
    return chunk, nxt
