"""Postgres content writes beside a raw COPY of the same rows (issue 15 point 3).

A project of one table of N rows (CSV source, `projects.postgres_project`) is planned and applied
on a Postgres (a scratch database on `DATABASE_URL`, else the embedded pgserver). Measured side
by side in the same run, on the same server:

- the write phase: `content.write_rows` as the apply calls it (values converted for their
  columns, the COPY into the staging table, the INSERT … SELECT / UPDATE … FROM), for the first
  apply (N rows created) and for an apply that changes every row (N rows updated);
- the whole apply (`Session.apply`: stale check, recompile, steps, journal, ledger);
- a raw COPY of the same rows (the same Python values, `cursor.copy().write_row`) into a bare
  table of the same columns (no key, index or trigger): the floor; and the same COPY into a
  copy of the table with its keys and defaults (`LIKE … INCLUDING ALL`): what the table itself
  costs. Neither counts the commit, nor does the write phase.

Figures: raw COPY ÷ write phase (goal ≥ 0.5) and raw COPY ÷ whole apply (goal ≥ 0.1); and the
ceiling of the first, raw COPY ÷ the COPY into the table itself: no write into this table, a
COPY straight into it included, can do better than that.

    python benchmarks/postgres_writes.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from projects import environment, postgres_project, scratch_database, write_csv


def _raw_copy(conn, table: str, columns: list[str], rows: list[list], like: bool) -> float:
    """Seconds to COPY `rows` into a bare table of `table`'s columns (`like`: a table made
    `LIKE` it, with its indexes, defaults and constraints), without the commit."""
    from psycopg import sql

    bare = sql.Identifier("public", "bench_bare")
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(bare))
    made = "CREATE TABLE {} (LIKE {} INCLUDING ALL)" if like else \
        "CREATE TABLE {} AS SELECT * FROM {} WITH NO DATA"
    conn.execute(sql.SQL(made).format(bare, sql.Identifier("public", table)))
    conn.commit()
    start = time.perf_counter()
    with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(bare, names)) as copy:
        for values in rows:
            copy.write_row(values)
    seconds = time.perf_counter() - start
    conn.rollback()
    conn.execute(sql.SQL("DROP TABLE {}").format(bare))
    conn.commit()
    return seconds


def _rows_of(plan, table) -> tuple[list[str], list[list]]:
    """The rows the plan writes, as the Python values a COPY sends (`from_normal`)."""
    from reconciler.backends.postgres.values import from_normal

    types = {c.name: c.type for c in table.columns}
    changes = [c for c in plan.changes if c.kind in ("insert_row", "update_row")]
    columns = sorted({k for c in changes for k in c.after.values} | {"key", "content_hash"})
    rows = [[from_normal({**c.after.values, "key": c.after.key,
                          "content_hash": c.after.hash}.get(name), types[name])
             for name in columns] for c in changes]
    return columns, rows


def _apply(session, plan) -> float:
    with session.locked():
        start = time.perf_counter()
        session.apply(plan, allow_destroy=False)
        return time.perf_counter() - start


def measure(n: int, url: str | None) -> dict[str, float]:
    """Seconds and ratios for the first apply (creates) and an apply that updates every row."""
    import reconciler.backends.postgres.content as content
    from reconciler.project.loader import load_project
    from reconciler.session import Session

    timer: dict[str, float] = {}
    original = content.write_rows

    def timed_rows(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timer["write"] = time.perf_counter() - start

    content.write_rows = timed_rows
    out: dict[str, float] = {"rows": n}
    env = {"DATABASE_URL": url} if url else {}
    try:
        with tempfile.TemporaryDirectory() as tmp, environment(DATABASE_URL=url, NOTION_TOKEN=None,
                                                               RECONCILER_FAULTS=None):
            root = postgres_project(Path(tmp), n)
            for phase, edits in (("create", None), ("update", {i: -i for i in range(n)})):
                if edits:
                    write_csv(root, n, edits)
                with Session(load_project(root, env), env) as session:
                    plan = session.plan()
                    backend = session.backend("supabase")
                    applied = _apply(session, plan)
                    columns, rows = _rows_of(plan, next(t for t in backend.tables
                                                        if t.name == "bench"))
                    raw = min(_raw_copy(backend.conn, "bench", columns, rows, False)
                              for _ in range(3))
                    like = min(_raw_copy(backend.conn, "bench", columns, rows, True)
                               for _ in range(3))
                out |= {f"{phase}_write_s": timer["write"], f"{phase}_apply_s": applied,
                        f"{phase}_copy_s": raw, f"{phase}_like_s": like,
                        f"{phase}_write_ratio": raw / timer["write"],
                        f"{phase}_like_ratio": like / timer["write"],
                        f"{phase}_ceiling_ratio": raw / like,
                        f"{phase}_apply_ratio": raw / applied}
    finally:
        content.write_rows = original
    return out


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    server = os.environ.get("DATABASE_URL")
    with (scratch_database(server) if server else _embedded()) as url:
        got = measure(n, url)
    for phase in ("create", "update"):
        print(f"{phase} {n} rows: write phase {got[f'{phase}_write_s'] * 1000:.0f} ms, whole apply "
              f"{got[f'{phase}_apply_s'] * 1000:.0f} ms, raw COPY {got[f'{phase}_copy_s'] * 1000:.0f} ms "
              f"(into the table's like {got[f'{phase}_like_s'] * 1000:.0f} ms); "
              f"COPY/write {got[f'{phase}_write_ratio']:.2f} (goal >= 0.5; like {got[f'{phase}_like_ratio']:.2f}; "
              f"ceiling {got[f'{phase}_ceiling_ratio']:.2f}), "
              f"COPY/apply {got[f'{phase}_apply_ratio']:.3f} (goal >= 0.1)")
    return 0


class _embedded:
    """No `DATABASE_URL`: the project's own embedded Postgres (None: the session starts it)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
