"""A process dying at any API call, for the crash tests: `kill_after` makes the notion-client
call after the first `calls` ones die (before it is sent, or right after it committed) and every
later one too; `count_calls` counts the calls a run makes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import notion_client


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def count_calls(monkeypatch, run: Callable[[], Any]) -> int:
    """The notion-client calls `run()` makes."""
    seen = Counter()
    original = notion_client.Client.request

    def counting(self, *args, **kwargs):
        seen["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(notion_client.Client, "request", counting)
    try:
        run()
    finally:
        monkeypatch.setattr(notion_client.Client, "request", original)
    return seen["n"]


def kill_after(monkeypatch, calls: int, *, after_commit: bool) -> None:
    """Make the `calls`+1-th API call die, before it is sent or right after it committed, and
    every call after it (a dead process sends nothing more)."""
    original = notion_client.Client.request
    seen = Counter()

    def dying(self, *args, **kwargs):
        seen["n"] += 1
        if seen["n"] > calls + 1:
            raise Killed()
        if seen["n"] == calls + 1:
            if after_commit:
                original(self, *args, **kwargs)
            raise Killed()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(notion_client.Client, "request", dying)
