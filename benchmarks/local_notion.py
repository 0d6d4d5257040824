"""Speed of the local Notion through the real notion-client, in process (issue 15 point 5).

Prints, measured side by side in one run (this machine is shared: read the ratios, not the times):

1. creates: N `POST /v1/pages` (default 1,000) into one data source of 5 properties, in creates per
   second, beside the floor of notion-client + httpx's WSGI transport alone (the same calls answered
   by a stub that stores nothing). Goal: ≥ 200 creates/s.
2. query: reading one data source of Q rows (default 200) in full, in a workspace where it is alone
   and in one where other data sources hold B rows (default 5,000); the ratio should stay near 1
   (pages are indexed by data source, a query reads only its own).

    python benchmarks/local_notion.py [N] [Q] [B]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import notion_client
from notion_client.helpers import collect_paginated_api

from reconciler.local import local_client, root_page_id

PROPS = {"Name": {"title": {}}, "N": {"number": {}}, "Tag": {"select": {"options": [{"name": "a"}, {"name": "b"}]}},
         "Note": {"rich_text": {}}, "When": {"date": {}}}


def _row(i: int) -> dict:
    return {"Name": {"title": [{"text": {"content": f"Row {i}"}}]}, "N": {"number": i},
            "Tag": {"select": {"name": "ab"[i % 2]}}, "Note": {"rich_text": [{"text": {"content": "x" * 40}}]},
            "When": {"date": {"start": "2026-01-02"}}}


def _database(client, title: str) -> str:
    db = client.databases.create(parent={"page_id": root_page_id(client)}, title=[{"text": {"content": title}}],
                                 initial_data_source={"properties": PROPS})
    return db["data_sources"][0]["id"]


def _fill(client, ds: str, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        client.pages.create(parent={"data_source_id": ds}, properties=_row(i))
    return time.perf_counter() - start


def _stub_client() -> notion_client.Client:
    """notion-client over the WSGI transport to an app that answers a canned page: the floor."""
    page = json.dumps({"object": "page", "id": "5f3c1e2a-1111-4222-8333-444455556666", "properties": {}}).encode()

    def app(environ, start_response):
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [page]

    return notion_client.Client(auth="x", base_url="http://stub", retry=False,
                                client=httpx.Client(transport=httpx.WSGITransport(app=app)))


def _query_seconds(client, ds: str, repeat: int = 7) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        collect_paginated_api(client.data_sources.query, data_source_id=ds)
        best = min(best, time.perf_counter() - start)
    return best


def measure(n: int = 1000, q: int = 200, b: int = 5000) -> dict[str, float]:
    """`rate` (creates per second), `floor_rate`, `alone_s`/`crowded_s` (seconds for a full read
    of the q-row data source alone and beside b other rows) and their ratios."""
    with tempfile.TemporaryDirectory() as tmp:
        client = local_client(Path(tmp) / "creates", retry=False)
        ds = _database(client, "Creates")
        local = _fill(client, ds, n)
        client.close()
        floor = _fill(_stub_client(), ds, n)
        alone = local_client(Path(tmp) / "alone", retry=False)
        crowded = local_client(Path(tmp) / "crowded", retry=False)
        wanted = {}
        for name, c in (("alone", alone), ("crowded", crowded)):
            wanted[name] = _database(c, "Wanted")
            _fill(c, wanted[name], q)
        start = time.perf_counter()
        for k in range(2):
            _fill(crowded, _database(crowded, f"Other {k}"), b // 2)
        filled = time.perf_counter() - start
        t_alone = _query_seconds(alone, wanted["alone"])
        t_crowded = _query_seconds(crowded, wanted["crowded"])
        alone.close()
        crowded.close()
    return {"creates": n, "rate": n / local, "floor_rate": n / floor,
            "rate_ratio": (n / local) / (n / floor), "fill_s": filled, "query_rows": q,
            "other_rows": b, "alone_s": t_alone, "crowded_s": t_crowded,
            "query_ratio": t_crowded / t_alone}


def main(n: int = 1000, q: int = 200, b: int = 5000) -> int:
    got = measure(n, q, b)
    rate = got["rate"]
    print(f"creates: {n} at {rate:.0f}/s (goal >= 200/s: {'met' if rate >= 200 else 'NOT met'}); "
          f"client+transport floor {got['floor_rate']:.0f}/s; local/floor = {got['rate_ratio']:.2f}")
    print(f"    (filled {b} rows in other data sources in {got['fill_s']:.1f} s)")
    print(f"query of {q} rows: alone {got['alone_s'] * 1000:.1f} ms, beside {b} other rows "
          f"{got['crowded_s'] * 1000:.1f} ms; crowded/alone = {got['query_ratio']:.2f} (goal ~1)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:4])))
