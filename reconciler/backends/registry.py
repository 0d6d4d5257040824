"""Backends by the root of the addresses they own, and opening them for a project.

`BACKENDS` maps an address root to the function that opens that backend for a project, in the
order apply runs their schema changes (Notion first: mirrored tables follow Notion's schema).
A root a project does not use is not opened (no Postgres connection without Supabase tables, no
Notion connection without a Notion database declared or managed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.backends.base import Backend
from reconciler.state import State

Opener = Callable[[Any, Mapping[str, str], State], "Backend | None"]


def _open_notion(project: Any, env: Mapping[str, str], state: State) -> Backend | None:
    notion = getattr(project, "notion", None)
    if not (notion is not None and notion.databases) and \
            not any(known.databases for known in state.notion.values()):
        return None  # no Notion database declared nor managed (a Supabase-only project)
    from reconciler.backends.notion.backend import NotionBackend
    from reconciler.backends.notion.client import open_notion

    config = project.config
    connection = open_notion(project.root, env, rate_limit=config.notion.rate_limit)
    parent = config.notion.parent_page_id or None
    if parent is None and connection.local:
        from reconciler.local import root_page_id

        parent = root_page_id(connection.client)
    return NotionBackend(project.root, connection, state, parent)


def _open_postgres(project: Any, env: Mapping[str, str], state: State) -> Backend | None:
    objects = getattr(project, "supabase_objects", None)
    if not project.supabase and (objects is None or objects.empty):
        return None
    from reconciler.backends.postgres.backend import PostgresBackend
    from reconciler.backends.postgres.connect import connect, describe_database, env_database_url

    url = env_database_url(env)
    return PostgresBackend(project.root, connect(project.root, url), describe_database(url),
                           project.supabase, locations=getattr(project, "locations", None),
                           dev_url=env.get("DEV_DATABASE_URL") or None)


#: Address root → opener, in apply order.
BACKENDS: dict[str, Opener] = {"notion": _open_notion, "supabase": _open_postgres}


def open_backends(project: Any, env: Mapping[str, str], state: State) -> list[Backend]:
    """Every backend the project uses, open, in `BACKENDS` order. Raises `ConfigError` or
    `ReadError` when a backend cannot be opened (those already open are closed)."""
    opened: list[Backend] = []
    try:
        for opener in BACKENDS.values():
            backend = opener(project, env, state)
            if backend is not None:
                opened.append(backend)
    except BaseException:
        for backend in opened:
            backend.close()
        raise
    return opened
