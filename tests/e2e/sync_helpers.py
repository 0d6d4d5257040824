"""A small synced project (two Notion databases mirrored by two Supabase tables) and the tools
the two-way sync tests use: the CLI, the real notion-client on the local Notion, SQL on the real
Postgres, and setting the edit stamps of each side (to make `latest` decisions deterministic)."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
import notion_client
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.local import local_client
from tests.conftest import REPO, fresh_database, write_files

runner = CliRunner()

COMPANIES = """\
title: Companies
properties:
  Name: {type: title}
  Stage: {type: select, options: [Lead, Client, Partner]}
  Tags: {type: multi_select}
  Score: {type: number}
  Notes: {type: rich_text}
  Since: {type: date}
"""
DEALS = """\
title: Deals
properties:
  Deal: {type: title}
  Won: {type: checkbox}
  Company: {type: relation, database: companies}
  Partners: {type: relation, database: companies}
"""
SYNC = "sync: {{direction: {direction}, conflicts: {conflicts}, deletes: {deletes}{extra}}}\n"


# --- one database per test module, one schema per test ----------------------------------------


@pytest.fixture(scope="module")
def sync_database(server_url: str) -> Iterator[str]:
    """A database shared by the tests of a module (creating one per test costs seconds)."""
    with fresh_database(server_url) as url:
        yield url


@pytest.fixture
def example_database(sync_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's Postgres: a schema of its own in the module's database, first on the
    `search_path` of the connection string (exported as `DATABASE_URL`), so the tables of the
    test project (`project()` puts them in that schema) and the test's own SQL meet there. The
    string is the module's with `options` added (libpq's keyword form, `make_conninfo`): every
    other parameter stays, such as the socket folder (`host=`) of the embedded server's URL."""
    schema = f"t_{secrets.token_hex(4)}"
    sql(sync_database, f"CREATE SCHEMA {schema}")
    url = make_conninfo(sync_database, options=f"-csearch_path={schema}")
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def schema_of(url: str) -> str:
    """The schema a connection string of `example_database` puts first on the search path."""
    options = conninfo_to_dict(url).get("options", "-csearch_path=public")
    return options.split("search_path=", 1)[1]


def project(root: Path, *, direction: str = "both", conflicts: str = "latest",
            deletes: str = "unlink", extra: str = "", deals: bool = True,
            schema: str | None = None) -> Path:
    """The project at `root`: companies (and deals) in Notion, mirrored and synced, the tables
    in `schema` (default: the `search_path` schema of `DATABASE_URL`)."""
    import os

    schema = schema or schema_of(os.environ.get("DATABASE_URL", ""))
    sync = f"schema: {schema}\n" + SYNC.format(direction=direction, conflicts=conflicts,
                                                deletes=deletes, extra=extra)
    files = {"schemas/notion/companies.yaml": COMPANIES,
             "schemas/supabase/companies.yaml": "mirror: companies\n" + sync}
    if deals:
        files |= {"schemas/notion/deals.yaml": DEALS,
                  "schemas/supabase/deals.yaml": "mirror: deals\n" + sync + (
                      "columns:\n  company: {type: uuid, references: {table: companies, "
                      "column: notion_page_id}}\n")}
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    return write_files(root, files)


def run(root: Path, *args: str, code: int | None = 0):
    argv = list(args) if args[0] == "show" else [*args, "--dir", str(root)]
    result = runner.invoke(app, argv, catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


def plan_json(root: Path, *args: str) -> dict:
    out = root / "plans" / "sync.yaml"
    run(root, "plan", "--out", str(out), *args, code=None)
    shown = runner.invoke(app, ["show", str(out), "--format", "json"], catch_exceptions=False)
    return json.loads(shown.output)


def summary(doc: dict, table: str = "companies") -> dict:
    """The sync summary of `table` in a plan document."""
    return next(v for k, v in doc["sync"].items() if k.endswith("." + table))


def kinds(doc: dict) -> list[tuple[str, str]]:
    """`(kind, database or table)` of every row change of a plan document."""
    return sorted((c["kind"], c["address"].split("[")[0].rsplit(".", 1)[0])
                  for c in doc["changes"])


# --- Notion ------------------------------------------------------------------------------------


def notion(root: Path):
    return local_client(root / ".reconciler" / "notion")


def data_source(root: Path, db: str) -> str:
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    return target["databases"][db]["data_source_id"]


def pages(root: Path, db: str) -> list[dict]:
    return notion_client.helpers.collect_paginated_api(
        notion(root).data_sources.query, data_source_id=data_source(root, db))


def title(page: dict) -> str:
    prop = next(p for p in page["properties"].values() if p["type"] == "title")
    return "".join(t["plain_text"] for t in prop["title"])


def page_named(root: Path, db: str, name: str) -> dict:
    (page,) = [p for p in pages(root, db) if title(p) == name]
    return page


def text(value: str) -> dict:
    return {"rich_text": [{"text": {"content": value}}]}


def create_page(root: Path, db: str, properties: dict) -> str:
    page = notion(root).pages.create(
        parent={"type": "data_source_id", "data_source_id": data_source(root, db)},
        properties=properties)
    return page["id"]


def edit_page(root: Path, page_id: str, properties: dict) -> None:
    notion(root).pages.update(page_id, properties=properties)


def set_edited(root: Path, page_id: str, when: str) -> None:
    """Set a page's `last_edited_time` in the local Notion's store (`2026-01-01T10:00:00.000Z`)."""
    from reconciler.local.store import Store

    store = Store(root / ".reconciler" / "notion")
    with store.transaction(write=True):
        store.page(page_id)["last_edited_time"] = when
    store.close()


def backdate_pages(root: Path, when: str = "2020-01-01T00:00:00.000Z") -> None:
    """Every page of every data source edited long ago."""
    from reconciler.local.store import Store

    store = Store(root / ".reconciler" / "notion")
    with store.transaction(write=True):
        for ds in store.data_sources():
            for page in store.pages_in(ds["id"]):
                page["last_edited_time"] = when
    store.close()


# --- Postgres ----------------------------------------------------------------------------------


def sql(url: str, query: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def set_updated(url: str, table: str, where: str, when: str) -> None:
    """Set `updated_at` of rows without firing the trigger that keeps it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"UPDATE {table} SET updated_at = %s WHERE {where}", [when])
