"""Projects of N rows for the benchmarks (not a test helper, not shipped).

`notion_project(root, n)`: one Notion database (`bench`: a title key, a number, a select, a rich
text, a date and the content hash) whose rows come from `content/bench.csv`;
`postgres_project(root, n)`: one Supabase table of the same columns (plus an `id` primary key,
`updated_at` with its touch trigger: what a mirrored table has), from the same CSV.
`edit_rows(root, keys)` changes the number of the given rows in the CSV. `cli(root, *args)` runs
the `reconciler` command in this process (its calls are counted by `calls.py`); `scratch_database`
makes a database of its own on `DATABASE_URL` and drops it afterwards (never another one).
"""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

CONFIG = "notion:\n  rate_limit: 3\nsupabase: {}\n"
FIELDS = "    fields: {Key: key, N: n, Tag: tag, Note: note, When: when}\n"
NOTION_DB = ("title: Bench\nproperties:\n  Key: {type: title}\n  N: {type: number}\n"
             "  Tag:\n    type: select\n    options: [a, b, c]\n  Note: {type: rich_text}\n"
             "  When: {type: date}\n  Hash: {type: rich_text}\n"
             "content:\n  key: Key\n  hash: Hash\n  source:\n    csv: content/bench.csv\n" + FIELDS)
POSTGRES_TABLE = (
    "columns:\n  id: {type: uuid, primary_key: true, default_sql: gen_random_uuid()}\n"
    "  key: {type: text, nullable: false, unique: true}\n  n: {type: integer}\n"
    "  tag: {type: text}\n  note: {type: text}\n  day: {type: date}\n"
    "  content_hash: {type: text}\n"
    "  updated_at: {type: timestamptz, nullable: false, default_sql: now()}\n"
    "updated_at_trigger: true\n"
    "content:\n  key: key\n  hash: content_hash\n  source:\n    csv: content/bench.csv\n"
    "    fields: {key: key, n: n, tag: tag, note: note, day: when}\n")


def row(i: int, n: int | None = None) -> dict[str, Any]:
    """Row `i` of the CSV (`n` replaces its number: an edit)."""
    return {"key": f"row-{i:06d}", "n": i if n is None else n, "tag": "abc"[i % 3],
            "note": f"Note {i}: " + "x" * 40, "when": f"2026-01-{1 + i % 28:02d}"}


def write_csv(root: Path, n: int, edits: Mapping[int, int] | None = None) -> None:
    path = root / "content" / "bench.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(row(0)))
        writer.writeheader()
        writer.writerows(row(i, (edits or {}).get(i)) for i in range(n))


def _files(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def notion_project(root: Path, n: int) -> Path:
    """A project of one Notion database of `n` rows (CSV source) at `root`."""
    _files(root, {"reconciler.yaml": CONFIG, "schemas/notion/bench.yaml": NOTION_DB})
    write_csv(root, n)
    return root


def postgres_project(root: Path, n: int) -> Path:
    """A project of one Supabase table of `n` rows (CSV source) at `root`."""
    _files(root, {"reconciler.yaml": CONFIG, "schemas/supabase/bench.yaml": POSTGRES_TABLE})
    write_csv(root, n)
    return root


def local_root_page(root: Path) -> str:
    """The id of the root page of the project's local Notion (created when missing)."""
    from reconciler.local import local_client, root_page_id

    client = local_client(root / ".reconciler" / "notion", retry=False)
    try:
        return root_page_id(client)
    finally:
        client.close()


def age_pages(root: Path, hours: float = 1.0) -> None:
    """Make every page of the project's local Notion look created and last edited `hours` ago,
    as if the rows had been written before the plan being measured (the local Notion stamps
    times to the minute, like Notion, and a stale check reads with a minute of overlap: rows
    written a moment before would all look recently edited)."""
    import sqlite3
    from datetime import datetime, timedelta, timezone

    then = (datetime.now(timezone.utc) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    with contextlib.closing(sqlite3.connect(root / ".reconciler" / "notion" / "notion.sqlite3")) as db:
        db.execute("UPDATE pages SET data = json_set(data, '$.last_edited_time', ?, "
                   "'$.created_time', ?)", (then, then))
        db.commit()


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """`os.environ` with `values` set (None: removed) while the block runs."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def cli(root: Path, *args: str) -> str:
    """Run `reconciler ARGS --dir ROOT` in this process; returns its output. Raises
    RuntimeError (with the output) when it exits with another code than 0 or 2."""
    from typer.testing import CliRunner

    from reconciler.cli import app

    result = CliRunner().invoke(app, [*args, "--dir", str(root)])
    if result.exit_code not in (0, 2):
        raise RuntimeError(f"reconciler {' '.join(args)} exited {result.exit_code}:\n"
                           f"{result.output[-3000:]}")
    return result.output


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A database of its own (`reconciler_bench_<hex>`) on the server of `server_url`; dropped
    afterwards. Yields its URL."""
    import psycopg
    from psycopg import sql

    name = f"reconciler_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """`(fn(), seconds)` (wall clock)."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def converged_notion_project(root: Path, n: int) -> dict[str, float]:
    """`notion_project(root, n)` with its `n` rows already in the local Notion (the database and
    the first row through `apply`, the others written straight into the local Notion's store:
    the bodies the plan's own compiled requests would send, through the local Notion's own
    `create_page`, 5,000 per transaction; N creates through the API would take N ÷ ~700 s).
    Returns `{"rows", "build_s"}`."""
    from reconciler.local.app import LocalNotion
    from reconciler.local.pages import create_page
    from reconciler.project.loader import load_project
    from reconciler.session import Session
    from reconciler.backends.notion.steps import PageStep

    start = time.perf_counter()
    notion_project(root, 1)
    cli(root, "apply", "--auto-approve")  # the database and its first row
    write_csv(root, n)
    with Session(load_project(root, {}), {}) as session:
        plan = session.plan()
        backend = session.backend("notion")
        steps = backend.compile(plan.changes, session.project, session._read[1]["notion"])
    bodies = [s.body for s in steps if isinstance(s, PageStep) and s.method == "POST"]
    app = LocalNotion(root / ".reconciler" / "notion")
    try:
        for first in range(0, len(bodies), 5000):
            with app.store.transaction(write=True):
                for body in bodies[first:first + 5000]:
                    create_page(app.context, None, body)
    finally:
        app.close()
    return {"rows": n, "build_s": time.perf_counter() - start}


