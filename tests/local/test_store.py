"""The local Notion's store: safe across processes, O(change) writes, pages indexed by data source,
and the former ``workspace.json`` imported on first open."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest
from notion_client import APIResponseError

from reconciler.local import local_client, make_server, root_page_id
from reconciler.local.store import DB_FILE, Store
from tests.local.test_local_notion import make_db, text

WRITES = 40


def _write_rows(root: str, ds: str, who: str, base_url: str | None, ready, go) -> None:
    """In another process: create WRITES rows in `ds`, in process or over HTTP."""
    from notion_client import Client

    client = Client(auth="x", base_url=base_url) if base_url else local_client(Path(root))
    ready.set()
    go.wait(30)
    for i in range(WRITES):
        client.pages.create(parent={"data_source_id": ds}, properties={"Name": {"title": text(f"{who} {i}")}})
    client.close()


def test_two_processes_and_a_server_interleaving_writes_lose_nothing(tmp_path: Path):
    """`reconciler local serve` and embedded runs on one directory: every write survives, and the
    per-data-source unique_id counter (a read-modify-write) never hands out a number twice."""
    root = tmp_path / "notion"
    client = local_client(root)
    _, ds = make_db(client, root_page_id(client), props={"Name": {"title": {}}, "ID": {"unique_id": {}}})
    server = make_server(root, "127.0.0.1", 0)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    workers, readies = [], []
    for who, url in (("embedded", None), ("http", f"http://127.0.0.1:{server.server_port}")):
        ready = ctx.Event()
        workers.append(ctx.Process(target=_write_rows, args=(str(root), ds, who, url, ready, go)))
        readies.append(ready)
    try:
        for w in workers:
            w.start()
        for r in readies:
            assert r.wait(60)
        go.set()
        for i in range(WRITES):  # this process writes too, at the same time
            client.pages.create(parent={"data_source_id": ds}, properties={"Name": {"title": text(f"parent {i}")}})
        for w in workers:
            w.join(120)
            assert w.exitcode == 0
    finally:
        server.shutdown()
        serving.join(5)
    rows = []
    cursor = None
    while True:
        page = client.data_sources.query(ds, **({"start_cursor": cursor} if cursor else {}))
        rows += page["results"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    titles = {r["properties"]["Name"]["title"][0]["plain_text"] for r in rows}
    assert len(rows) == len(titles) == 3 * WRITES
    assert sorted(r["properties"]["ID"]["unique_id"]["number"] for r in rows) == list(range(1, 3 * WRITES + 1))
    client.close()


def test_a_workspace_json_of_the_former_store_is_imported_on_first_open(tmp_path: Path):
    old = local_client(tmp_path / "old")
    root = root_page_id(old)
    _, ds = make_db(old, root, "Kept", {"Name": {"title": {}}, "N": {"number": {}}})
    row = old.pages.create(parent={"data_source_id": ds}, properties={"Name": {"title": text("r")}, "N": {"number": 7}})
    store = Store(tmp_path / "old")
    with store.transaction():  # the former store's file: every object under its table, plus the ids
        legacy = {"workspace_id": store.workspace_id, "bot_id": store.bot_id, "seq": 9,
                  "users": {u["id"]: u for u in store.users()},
                  "databases": {d["id"]: d for d in store.databases_under(root)},
                  "data_sources": {ds: store.data_source(ds)},
                  "pages": {p["id"]: p for p in [store.page(root), *store.pages_in(ds)]}}
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "workspace.json").write_text(json.dumps(legacy))
    new = local_client(tmp_path / "new")
    assert root_page_id(new) == root
    assert new.pages.retrieve(row["id"])["properties"]["N"]["number"] == 7
    assert [r["id"] for r in new.data_sources.query(ds)["results"]] == [row["id"]]
    assert not (tmp_path / "new" / "workspace.json").exists()
    assert (tmp_path / "new" / "workspace.json.migrated").exists() and (tmp_path / "new" / DB_FILE).exists()
    later = new.pages.create(parent={"data_source_id": ds}, properties={"Name": {"title": text("s")}})
    assert later["properties"]["Name"]["title"][0]["plain_text"] == "s"


def test_a_query_reads_its_data_source_through_the_index(tmp_path: Path):
    """A query of one data source does not scan the pages of the others (pages are indexed by data
    source); the side-by-side timing is in benchmarks/local_notion.py."""
    store = Store(tmp_path)
    plan = store._db.execute("EXPLAIN QUERY PLAN SELECT id, data FROM pages WHERE ds_id = ? AND in_trash = ? "
                             "ORDER BY seq", ("x", 0)).fetchall()
    assert any("USING INDEX pages_ds" in row[-1] for row in plan), plan
    store.close()


def test_a_write_touches_only_what_changed(tmp_path: Path):
    """A page update rewrites that page's row, not the workspace: the other rows keep their bytes."""
    client = local_client(tmp_path)
    _, ds = make_db(client, root_page_id(client), props={"Name": {"title": {}}, "N": {"number": {}}})
    rows = [client.pages.create(parent={"data_source_id": ds}, properties={"N": {"number": i}}) for i in range(5)]
    store = Store(tmp_path)

    def snapshot() -> dict[str, str]:
        return dict(store._db.execute("SELECT id, data FROM pages"))

    before = snapshot()
    client.pages.update(rows[2]["id"], properties={"N": {"number": 99}})
    after = snapshot()
    assert {k for k in before if before[k] != after[k]} == {rows[2]["id"]}
    store.close()
    client.close()


def test_reading_a_data_source_page_by_page_loads_each_page_once(tmp_path: Path, monkeypatch):
    """A query in creation order (no sorts, or `created_time` ascending as the reconciler asks)
    reads from its cursor on and stops when the page is full, so reading N rows 100 at a time
    loads each stored page once, not once per page of results (issue 15: a 10,000-row read
    loaded 1,000,000). Filters and cursors page as before."""
    import reconciler.local.store as store_module

    client = local_client(tmp_path)
    _, ds = make_db(client, root_page_id(client), props={"Name": {"title": {}}, "N": {"number": {}}})
    for i in range(250):
        client.pages.create(parent={"data_source_id": ds}, properties={"N": {"number": i}})
    decoded = [0]
    loads = json.loads
    monkeypatch.setattr(store_module.json, "loads", lambda text: decoded.__setitem__(0, decoded[0] + 1) or loads(text))

    def read(**body) -> list[int]:
        numbers, cursor = [], None
        while True:
            page = client.data_sources.query(ds, **body, **({"start_cursor": cursor} if cursor else {}))
            numbers += [r["properties"]["N"]["number"] for r in page["results"]]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return numbers

    assert read(sorts=[{"timestamp": "created_time", "direction": "ascending"}]) == list(range(250))
    assert decoded[0] <= 250 + 3 * 10  # each page once, plus the data source and cursors per request
    odd = {"property": "N", "number": {"greater_than": 120}}
    assert read(filter=odd, page_size=50) == list(range(121, 250))
    assert read(sorts=[{"property": "N", "direction": "descending"}], page_size=100) == list(range(249, -1, -1))
    first = client.data_sources.query(ds, page_size=10)
    with pytest.raises(APIResponseError):  # a cursor naming a page the filter leaves out
        client.data_sources.query(ds, start_cursor=first["results"][0]["id"], filter=odd)
    client.close()
