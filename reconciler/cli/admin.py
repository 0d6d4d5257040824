"""Administrative commands: `force-unlock` (Terraform's), for a lock left behind by a dead run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli import DebugOption, DirOption, app, output, user_errors


@app.command("force-unlock")
@user_errors
def force_unlock(
    lock_id: Annotated[str, typer.Argument(help="The id of the lock to remove (the lock error "
                                           "names it).", show_default=False)],
    directory: DirOption = None,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    debug: DebugOption = False,
) -> None:
    """Remove the project lock a dead apply left behind (file lock and Postgres lock row).

    It does not stop a running apply: only use it when the run holding the lock is gone.
    """
    from reconciler.apply import lock
    from reconciler.errors import ConfigError, SpecError
    from reconciler.project.loader import find_root, load_project
    from reconciler.project.yaml import environment

    root = find_root(directory or Path.cwd())
    env = environment(root)
    conn = None
    try:
        project = load_project(root, env)
    except SpecError:
        project = None  # a broken spec must not keep a dead lock in place: file lock only
        output.err.print("The spec does not load: only the file lock is checked.")
    if project is not None and project.supabase:
        from reconciler.backends.postgres.connect import connect

        conn = connect(root, env.get("DATABASE_URL") or None)
    try:
        current = lock.find_lock(root, lock_id, postgres=conn)
        if not force:
            if not sys.stdin.isatty():
                raise ConfigError("force-unlock needs confirmation: run it on a terminal or pass "
                                  "--force")
            output.out.print(f"Lock {current.id} is held by {current.owner} "
                             f"({current.operation} started {current.started_at}).")
            if not typer.confirm("Remove it? Only do so if that run is no longer running"):
                output.out.print("Nothing removed.")
                raise typer.Exit(1)
        removed = lock.force_unlock(root, lock_id, postgres=conn)
    finally:
        if conn is not None:
            conn.close()
    output.out.print(f"Removed the lock {removed.id} held by {removed.owner} "
                     f"since {removed.started_at}.")
