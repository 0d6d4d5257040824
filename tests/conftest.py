"""Shared fixtures: model factories and a copy of the bundled example project."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from reconciler.model.notion import Database, Property, Relation, SelectOption

REPO = Path(__file__).resolve().parents[1]
SUPABASE_ROLES = ("anon", "authenticated", "service_role")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server tests may create databases on: `DATABASE_URL` when set (CI and the
    development machines have one on 127.0.0.1:5432), else an embedded `pgserver`."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """Create `reconciler_test_<hex>` (with Supabase's roles in the cluster), yield its URL,
    drop it afterwards. Tests never touch the database `DATABASE_URL` names."""
    name = f"reconciler_test_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        for role in SUPABASE_ROLES:
            admin.execute(sql.SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) "
                "THEN CREATE ROLE {} NOLOGIN; END IF; END $$").format(
                sql.Literal(role), sql.Identifier(role)))
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: text}` under `root` (folders created); returns `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def make_property(name: str, type: str = "rich_text", **fields) -> Property:
    """A property with sensible defaults; `options` may be given as plain names."""
    options = fields.pop("options", ())
    fields["options"] = tuple(o if isinstance(o, SelectOption) else SelectOption(name=o, color="blue")
                              for o in options)
    if isinstance(fields.get("relation"), str):
        fields["relation"] = Relation(database=fields["relation"])
    return Property(name=name, type=type, **fields)


def make_database(key: str = "tasks", *props: Property, **fields) -> Database:
    """A database with a `Name` title property first unless one is given."""
    if not any(p.type == "title" for p in props):
        props = (Property(name="Name", type="title", id="title"),) + props
    fields.setdefault("title", key.replace("_", " ").title())
    return Database(name=key, properties=tuple(props), **fields)


@pytest.fixture(scope="session")
def dev_database(server_url: str) -> Iterator[str]:
    """An empty database that plans check their migrations on (the dev database), one per
    test session: every check runs in a transaction that is rolled back, so it stays empty."""
    with fresh_database(server_url) as url:
        yield url


@pytest.fixture(autouse=True)
def _dev_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans that reach Postgres check migrations on the session's dev database rather than
    starting an embedded server in each test's project (only when a server is configured, so
    tests that never touch Postgres start none)."""
    if os.environ.get("DATABASE_URL") and not os.environ.get("DEV_DATABASE_URL"):
        monkeypatch.setenv("DEV_DATABASE_URL", request.getfixturevalue("dev_database"))


@pytest.fixture
def example_database(server_url: str, dev_database: str,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database for one test, exported as `DATABASE_URL` for the CLI to use (and the
    session's dev database as `DEV_DATABASE_URL`)."""
    with fresh_database(server_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DEV_DATABASE_URL", dev_database)
        yield url


@pytest.fixture
def example_project(tmp_path: Path, example_database: str) -> Path:
    """A private copy of the bundled example (reconciler.yaml + schemas/), without local state,
    whose Supabase tables go to a fresh database."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    shutil.copytree(REPO / "schemas", root / "schemas",
                    ignore=shutil.ignore_patterns(".schema"))
    shutil.copytree(REPO / "content", root / "content")  # sources of the content: sections
    return root


@pytest.fixture(autouse=True)
def _no_real_notion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a real Notion: drop tokens and base URLs from the environment."""
    for name in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "NOTION_PARENT_PAGE_ID"):
        monkeypatch.delenv(name, raising=False)
