"""Counting Notion API calls for the benchmark scripts (not a test helper, not shipped)."""

from __future__ import annotations

import re
from collections import Counter

import notion_client

_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
#: `"METHOD /v1/path"` (ids replaced by `{id}`) → number of calls since the last `clear()`.
calls: Counter[str] = Counter()


def count_calls() -> None:
    """Wrap `notion_client.Client.request` so every call made through notion-client is counted."""
    original = notion_client.Client.request

    def counting(self, path, method, *args, **kwargs):
        calls[f"{method.upper()} /v1/{_ID.sub('{id}', path)}"] += 1
        return original(self, path, method, *args, **kwargs)

    notion_client.Client.request = counting
