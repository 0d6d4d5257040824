"""What the two-way sync costs, measured side by side, against the local Notion and a Postgres.

One synced table (Notion database `companies` ⇄ Supabase table `companies`). N pages are made in
Notion and M rows in Supabase, then the first sync runs; then k pages and k rows are edited and
the next sync runs. Printed for each run: Notion API calls (by endpoint), Postgres statements (and COPY streams), and the local time; then the ratios the design
promises: an incremental read costs ceil(edited/100) + 1 queries where a full read costs
ceil(N/100), and Postgres writes cost a constant number of statements per table, never one per
row.

    DATABASE_URL=postgresql://… python benchmarks/sync_costs.py [N] [M] [k]

A database `reconciler_bench_<hex>` is created on the server DATABASE_URL names and dropped at
the end (without DATABASE_URL, the embedded server of a temporary project is used).
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from calls import calls, count_calls  # benchmarks/calls.py
from reconciler.local import local_client
from reconciler.project.loader import load_project
from reconciler.session import Session

REPO = Path(__file__).resolve().parents[1]
SPEC = {
    "schemas/notion/companies.yaml": "title: Companies\nproperties:\n  Name: {type: title}\n"
                                     "  Notes: {type: rich_text}\n  Score: {type: number}\n",
    "schemas/supabase/companies.yaml": "mirror: companies\nsync: {direction: both, "
                                       "circuit_breaker: {max_share: 100%}}\n",
}
statements: Counter[str] = Counter()


def count_statements() -> None:
    """Count every statement psycopg sends (and every COPY stream)."""
    execute, copy = psycopg.Cursor.execute, psycopg.Cursor.copy

    def counting_execute(self, query, *args, **kwargs):
        statements["statements"] += 1
        return execute(self, query, *args, **kwargs)

    def counting_copy(self, statement, *args, **kwargs):
        statements["COPY streams"] += 1
        return copy(self, statement, *args, **kwargs)

    psycopg.Cursor.execute, psycopg.Cursor.copy = counting_execute, counting_copy


def measure(label: str, fn):
    calls.clear()
    statements.clear()
    start = time.perf_counter()
    result = fn()
    queries = calls["POST /v1/data_sources/{id}/query"]
    print(f"{label}: {sum(calls.values())} Notion calls ({queries} queries), "
          f"{statements['statements']} Postgres statements + {statements['COPY streams']} COPY, "
          f"{time.perf_counter() - start:.2f} s locally")
    for endpoint, count in sorted(calls.items()):
        print(f"    {count:5d}  {endpoint}")
    return result, queries


def seed(root: Path, url: str, n: int, m: int) -> None:
    client = local_client(root / ".reconciler" / "notion")
    ds = client.search(query="Companies", filter={"property": "object",
                                                   "value": "data_source"})["results"][0]["id"]
    for i in range(n):
        client.pages.create(parent={"type": "data_source_id", "data_source_id": ds}, properties={
            "Name": {"title": [{"text": {"content": f"notion-{i:05d}"}}]},
            "Score": {"number": i}})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO companies (name, score) SELECT 'supabase-' || i, i "
                     "FROM generate_series(1, %s) AS i", [m])


def edit(root: Path, url: str, k: int) -> None:
    client = local_client(root / ".reconciler" / "notion")
    ds = client.search(query="Companies", filter={"property": "object",
                                                   "value": "data_source"})["results"][0]["id"]
    found = client.data_sources.query(ds, page_size=k, filter={
        "property": "Name", "title": {"starts_with": "notion-"}})["results"]
    for page in found[:k]:
        client.pages.update(page["id"], properties={"Notes": {"rich_text": [
            {"text": {"content": "edited in Notion"}}]}})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE companies SET notes = 'edited in Supabase' WHERE id IN (SELECT id "
                     "FROM companies WHERE name LIKE 'supabase-%%' LIMIT %s)", [k])


def an_hour_later(root: Path, url: str) -> None:
    """Every page and row last edited an hour ago, and the watermark of the last apply too."""
    from reconciler.local.store import Store

    store = Store(root / ".reconciler" / "notion")
    with store.transaction(write=True):
        for ds in store.data_sources():
            for page in store.pages_in(ds["id"]):
                page["last_edited_time"] = "2020-01-01T00:00:00.000Z"
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE companies SET updated_at = '2020-01-01T00:00:00+00'")
        conn.execute("UPDATE reconciler.sync_state SET watermark = '2020-01-01T01:00:00+00'")


def run(root: Path, url: str, n: int, m: int, k: int) -> None:
    env = {"DATABASE_URL": url}
    session = Session(load_project(root, env), env)
    plan = session.plan()
    session.apply(plan, allow_destroy=False)
    seed(root, url, n, m)
    plan, full = measure(f"first sync plan ({n} pages, {m} rows: full read)", session.plan)
    measure("first sync apply", lambda: session.apply(plan, allow_destroy=False))
    measure("plan right after (the pages and rows it wrote are re-read once)", session.plan)
    an_hour_later(root, url)
    _, quiet = measure("converged plan an hour later (incremental read)", session.plan)
    edit(root, url, k)
    plan, _ = measure(f"plan after {k} edits on each side", session.plan)
    _, writes = measure(f"apply of {k} + {k} edits", lambda: session.apply(
        plan, allow_destroy=False))
    session.close()
    print(f"\nreading: full read {full} queries (ceil({n}/100) = {math.ceil(n / 100)}); "
          f"an incremental read with nothing edited {quiet} queries (one for the pages edited, "
          "one for those trashed since the last apply)")
    print(f"writing {k} pages: {calls['PATCH /v1/pages/{id}']} page writes; Postgres: "
          f"{statements['statements']} statements for {k} rows and the base")


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 250
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    count_calls()
    count_statements()
    server = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
        for rel, text in SPEC.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        if not server:
            from reconciler.backends.postgres.connect import embedded_url

            run(root, embedded_url(root), n, m, k)
            return 0
        name = f"reconciler_bench_{secrets.token_hex(4)}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            run(root, urlunsplit(urlsplit(server)._replace(path="/" + name)), n, m, k)
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                    sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
