"""Search is eventually consistent in Notion (NOTION-API.md §1.5: "indexing is not immediate"); the
local Notion can lag the same way, and a page's child blocks list what it holds at once."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import reconciler.local
from reconciler.local import blocks, local_client, root_page_id
from reconciler.local.faults import Faults, parse_faults
from tests.local.test_local_notion import make_db, text

LAG = 30.0


def _titles(client, query: str) -> list[str]:
    found = client.search(query=query, filter={"property": "object", "value": "data_source"})["results"]
    return [r["title"][0]["plain_text"] for r in found]


def test_new_objects_stay_out_of_search_for_the_lag(tmp_path: Path, monkeypatch):
    client = local_client(tmp_path, search_lag=LAG)
    root = root_page_id(client)  # the root page existed before: always found
    make_db(client, root, "Lagging")
    page = client.pages.create(parent={"page_id": root}, properties={"title": {"title": text("Lagging page")}})
    assert _titles(client, "Lagging") == []
    assert client.search(query="Lagging page")["results"] == []
    later = time.time() + LAG + 1
    monkeypatch.setattr(blocks, "time", SimpleNamespace(time=lambda: later))
    assert _titles(client, "Lagging") == ["Lagging"]
    assert [r["id"] for r in client.search(query="Lagging page")["results"]] == [page["id"]]


def test_the_lag_comes_from_the_faults_config(tmp_path: Path):
    faults = parse_faults("search_lag=30")
    assert faults == Faults(search_lag=30.0) and not faults.active, "a lag alone injects no fault"
    client = local_client(tmp_path, faults=faults)
    make_db(client, root_page_id(client), "Lagging")
    assert _titles(client, "Lagging") == []
    assert _titles(local_client(tmp_path), "Lagging") == ["Lagging"], "no lag by default"


def test_local_serve_takes_a_search_lag(tmp_path: Path, monkeypatch):
    from tests.cli_runner import CliRunner

    from reconciler.cli import app

    seen = {}
    monkeypatch.setattr(reconciler.local, "serve", lambda root, host, port, faults, token=None: seen.update(faults=faults, token=token))
    monkeypatch.delenv("RECONCILER_FAULTS", raising=False)
    result = CliRunner().invoke(app, ["local", "serve", "--dir", str(tmp_path), "--search-lag", "5"])
    assert result.exit_code == 0, result.output
    assert seen["faults"] == Faults(search_lag=5.0)


def test_child_blocks_list_databases_and_pages_at_once(tmp_path: Path):
    """``GET /v1/blocks/{id}/children``: ``{"object":"list","results":[block…],"type":"block","block":{}}``
    (REC:RA/test_iterate_paginated_api.yaml #2); a database is a ``child_database`` block whose id is the
    database id and whose title is its title (REC:RA/test_data_sources_update.yaml #5); trashed blocks
    are not listed (REC:RA/test_iterate_paginated_api.yaml #10)."""
    client = local_client(tmp_path, search_lag=LAG)
    root = root_page_id(client)
    db, _ = make_db(client, root, "Tasks")
    page = client.pages.create(parent={"page_id": root}, properties={"title": {"title": text("Notes")}})
    gone, _ = make_db(client, root, "Old")
    client.blocks.delete(gone["id"])
    listing = client.blocks.children.list(root)
    assert {k: listing[k] for k in ("object", "type", "block", "has_more", "next_cursor")} == {
        "object": "list", "type": "block", "block": {}, "has_more": False, "next_cursor": None}
    assert [(b["type"], b["id"], b[b["type"]]["title"]) for b in listing["results"]] == [
        ("child_database", db["id"], "Tasks"), ("child_page", page["id"], "Notes")]
    assert listing["results"][0]["parent"] == {"type": "page_id", "page_id": root}
    first = client.blocks.children.list(root, page_size=1)
    assert first["has_more"] and len(first["results"]) == 1
    rest = client.blocks.children.list(root, start_cursor=first["next_cursor"])
    assert [b["id"] for b in rest["results"]] == [page["id"]]


def test_find_database_does_not_need_the_search_index(tmp_path: Path):
    import pytest

    from reconciler.backends.notion.discover import find_database
    from reconciler.errors import ReadError

    client = local_client(tmp_path, search_lag=LAG)
    root = root_page_id(client)
    db, _ = make_db(client, root, "Tasks")
    make_db(client, root, "Tasks (old)")
    assert _titles(client, "Tasks") == [], "search has not indexed it yet"
    assert find_database(client, root, "Tasks")["id"] == db["id"]
    assert find_database(client, root, "Missing") is None
    assert find_database(client, "5f3c1e2a-1111-4222-8333-444455556666", "Tasks") is None, "no such parent"
    assert find_database(client, None, "Tasks") is None
    client.blocks.delete(db["id"])
    assert find_database(client, root, "Tasks") is None, "a trashed database is not the declared one"
    make_db(client, root, "Twice")
    make_db(client, root, "Twice")
    with pytest.raises(ReadError, match="2 databases titled 'Twice'"):
        find_database(client, root, "Twice")
