"""`reconciler local sql`: run SQL on the project's Postgres (the embedded one by default).

With no `DATABASE_URL`, a project's Supabase tables live in an embedded PostgreSQL under
`.reconciler/postgres` that no other tool knows how to reach: this is the `psql -c` for it (and
for `DATABASE_URL` when set), e.g. to edit a synced row and watch the sync carry it to Notion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli import DebugOption, DirOption, local_app, output, user_errors


@local_app.command("sql")
@user_errors
def local_sql(
    statement: Annotated[str, typer.Argument(help="One SQL statement, e.g. \"UPDATE tasks SET "
                                             "status = 'Done' WHERE task_id = 'TASK-0001'\".",
                                             show_default=False)],
    directory: DirOption = None,
    debug: DebugOption = False,
) -> None:
    """Run one SQL statement on the project's Postgres (DATABASE_URL, else the embedded one)
    and print its rows, or how many rows it changed; it is committed."""
    import psycopg
    from rich.table import Table

    from reconciler.backends.postgres.connect import connect
    from reconciler.errors import ConfigError
    from reconciler.project.loader import find_root
    from reconciler.project.yaml import environment

    root = find_root(directory or Path.cwd())
    conn = connect(root, environment(root).get("DATABASE_URL") or None)
    try:
        cur = conn.execute(statement)  # type: ignore[arg-type]  (the user's own statement)
        rows = cur.fetchall() if cur.description else None
        conn.commit()
    except psycopg.Error as exc:
        raise ConfigError(f"the statement failed: {str(exc).splitlines()[0]}") from None
    finally:
        conn.close()
    if rows is None:
        output.out.print(f"{cur.statusmessage}")
        return
    table = Table(*(c.name for c in cur.description or ()))
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    output.out.print(table)
