"""Fixtures of the safety tests: tiny projects, a Postgres role with a real password, and the
local Notion served over HTTP on a thread (so a token really travels in an Authorization header).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.conftest import serving, write_files
from tests.databases import drop_role_later, fresh_database

TASKS = ("title: Tasks\nproperties:\n  Name: {type: title}\n"
         "  Status:\n    type: select\n    options: [Todo, Done]\n  Notes: {type: rich_text}\n")
TABLE = "mirror: tasks\ncolumns:\n  done: {type: boolean}\n"
CONFIG = 'notion:\n  parent_page_id: "${NOTION_PARENT_PAGE_ID:-}"\n  rate_limit: 100\nsupabase: {}\n'




@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """`make_project(files, tables=False)`: a project root with reconciler.yaml and a
    `tasks` database (and its mirrored table with `tables=True`), plus `files` on top."""
    def make(files: Mapping[str, str] = {}, *, tables: bool = False) -> Path:
        base = {"reconciler.yaml": CONFIG, "schemas/notion/tasks.yaml": TASKS}
        if tables:
            base["schemas/supabase/tasks.yaml"] = TABLE
        return write_files(tmp_path / "ws", {**base, **files})
    return make


def snapshot(root: Path) -> list[tuple[str, int, int]]:
    """Every path under `root` with size and mtime, to prove a command wrote nothing."""
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in root.rglob("*"))


@pytest.fixture
def secret_database(server_url: str) -> Iterator[str]:
    """A fresh database owned by a new LOGIN role with a password; yields a URL that carries
    that password (`postgresql://role:pw_…@host/db`). Both are dropped at the end of the run,
    the role after the database (`tests/databases.py`)."""
    role = f"reconciler_secret_{secrets.token_hex(3)}"
    password = "pw_RECONCILERSECRET"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)))
    drop_role_later(server_url, role)
    with fresh_database(server_url) as url:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(name), sql.Identifier(role)))
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(role)))
        # host and port as written: none for the embedded server, whose socket is in `?host=`
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        yield urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}"))


@pytest.fixture
def notion_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The local Notion over HTTP on a thread: yields `(base_url, root_page_id)`."""
    from reconciler.local import local_client, make_server, root_page_id

    data = tmp_path / "notion-server"
    with serving(make_server(data, port=0)) as url:
        client = local_client(data)
        try:
            yield url, root_page_id(client)
        finally:
            client.close()
