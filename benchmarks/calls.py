"""Counting Notion API calls for the benchmark scripts (not a test helper, not shipped)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import notion_client

_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
#: `"METHOD /v1/path"` (ids replaced by `{id}`) → number of calls since the last `clear()`.
calls: Counter[str] = Counter()
#: `("METHOD /v1/path", start, end)` of each call since the last `timings.clear()`
#: (`time.perf_counter()` seconds).
timings: list[tuple[str, float, float]] = []
_lock = threading.Lock()


def count_calls() -> None:
    """Wrap `notion_client.Client.request` so every call made through notion-client is counted
    (and timed). Calling it again does nothing."""
    original = notion_client.Client.request
    if getattr(original, "counting", False):
        return

    def counting(self, path, method, *args, **kwargs):
        endpoint = f"{method.upper()} /v1/{_ID.sub('{id}', path)}"
        start = time.perf_counter()
        try:
            return original(self, path, method, *args, **kwargs)
        finally:
            with _lock:
                calls[endpoint] += 1
                timings.append((endpoint, start, time.perf_counter()))

    counting.counting = True  # type: ignore[attr-defined]
    notion_client.Client.request = counting


def total() -> int:
    return sum(calls.values())
