"""The Notion target: the real `notion-client`, pointed at Notion, at any Notion-compatible
server (`NOTION_BASE_URL`), or at the embedded local Notion under `.reconciler/notion`.

Tokens come from `NOTION_TOKEN` or `NOTION_API_KEY` and go only into the client's
Authorization header: never into a message, a log line, the plan or the state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import notion_client

LOCAL_DIR = Path(".reconciler") / "notion"
_LOG = logging.getLogger("reconciler.notion")


@dataclass
class NotionTarget:
    """An open Notion target.

    - `client`: a `notion_client.Client` (sync).
    - `description`: where it points, safe to print and to save in a plan (no token).
    - `state_key`: the key of this target's entry in `.reconciler/state.json`.
    - `local`: True for the embedded local Notion.
    """

    client: notion_client.Client
    description: str
    state_key: str
    local: bool


class Pacer:
    """Spaces requests at most `rate` per second (the Notion API allows an average of 3 per
    second per integration: NOTION-API.md §4.1). Thread-safe; used as an httpx request hook."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            time.sleep(wait)


def token_from(env: Mapping[str, str]) -> str | None:
    """`NOTION_TOKEN`, else `NOTION_API_KEY`, else None (→ the local Notion)."""
    return env.get("NOTION_TOKEN") or env.get("NOTION_API_KEY") or None


def open_notion(root: Path, env: Mapping[str, str], rate_limit: float = 3.0) -> NotionTarget:
    """Open the Notion target the environment asks for.

    With no token and no `NOTION_BASE_URL`: the local Notion stored in `<root>/.reconciler/notion`
    (in process, through an httpx WSGI transport). Otherwise `NOTION_BASE_URL` (default
    https://api.notion.com) with the token, paced at `rate_limit` requests per second.
    """
    token = token_from(env)
    base_url = env.get("NOTION_BASE_URL")
    if token is None and not base_url:
        from reconciler.local import local_client

        client = local_client(root / LOCAL_DIR, logger=_LOG)
        return NotionTarget(client, f"local Notion ({LOCAL_DIR})", "local", True)
    base_url = (base_url or "https://api.notion.com").rstrip("/")
    http = httpx.Client(event_hooks={"request": [Pacer(rate_limit)]} if rate_limit else {})
    client = notion_client.Client(auth=token or "local", base_url=base_url, client=http,
                                  logger=_LOG)
    parts = urlsplit(base_url)
    where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return NotionTarget(client, f"Notion API at {where}", where, False)
