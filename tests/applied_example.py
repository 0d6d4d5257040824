"""The bundled example applied once per test run, and private copies of it for each test.

Applying the whole example (about 300 changes through the CLI, the local Notion and Postgres)
costs about 2 s; a private copy costs about 0.1 s: the project folder is copied file by file
(`.reconciler/` included, whatever format the local Notion's store has) and the database with
`CREATE DATABASE … TEMPLATE` (PostgreSQL's file-level copy; the template must have no open
session, see https://www.postgresql.org/docs/current/manage-ag-templatedbs.html).

The fixtures live in `tests/conftest.py` (`applied_example`, `applied_database`,
`applied_project`); this module holds what they call.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg


@dataclass(frozen=True)
class Ran:
    """One CLI command as it ran: its arguments (without `--dir`), exit code and output."""

    argv: tuple[str, ...]
    exit_code: int
    output: str


@dataclass(frozen=True)
class AppliedExample:
    """The template: `root` (a project folder, applied), `plan` (the plan file saved for the fresh
    project, beside `root`, not inside), `planned` and `applied` (the two commands that made
    it: `plan --detailed-exitcode --out <plan>`, then `apply <plan> --auto-approve`) and
    `database` (its database's name) on the server `server`. `digest` fingerprints every file of
    the template (`root` and `plan`) as built."""

    root: Path
    plan: Path
    planned: Ran
    applied: Ran
    database: str
    server: str
    digest: str

    def copy_to(self, dest: Path) -> Path:
        """Copy the project folder to `dest` (which must not exist) and prove the copy private:
        no symbolic or hard link into the template, and no file naming the template's folder or
        database (which would make a test reach the shared state). Returns `dest`."""
        shutil.copytree(self.root, dest, symlinks=False)
        assert_private(dest, self.root, self.database)
        return dest

    def check_unchanged(self) -> None:
        """Raise AssertionError when a file under `root` changed since it was built."""
        gc.collect()  # a store some test left open is closed (and flushed) now, not later
        now = tree_digest(self.root.parent)
        assert now == self.digest, (
            f"the applied example's template under {self.root} changed during the run: a test "
            "wrote to it instead of to its private copy (use the applied_project fixture)")


def build_applied_example(root: Path, url: str, server: str) -> AppliedExample:
    """Plan the fresh project at `root` to a plan file beside it (not inside: a plan's header
    names its database, the template's) and apply that plan (the CLI, in process, with
    `DATABASE_URL=url` already exported by the caller); return the template.

    Raises AssertionError (with the CLI's output) when apply fails, or when a session is still
    open on the database afterwards (it could then not serve as a template). The plan's exit
    code is recorded, not checked: tests assert on it."""
    from tests.cli_runner import CliRunner

    from reconciler.cli import app

    runner = CliRunner()
    plan = root.parent / "fresh-plan.yaml"
    ran = []
    for argv in (("plan", "--detailed-exitcode", "--out", str(plan)),
                 ("apply", str(plan), "--auto-approve")):
        result = runner.invoke(app, [*argv, "--dir", str(root)], catch_exceptions=False)
        ran.append(Ran(argv, result.exit_code, result.output))
    planned, applied = ran
    assert applied.exit_code == 0, planned.output + applied.output
    gc.collect()  # clients and connections the commands dropped are closed now
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server, autocommit=True) as admin:
        open_sessions = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]
    assert open_sessions == 0, f"{open_sessions} session(s) still open on {name} after apply"
    return AppliedExample(root=root, plan=plan, planned=planned, applied=applied, database=name,
                          server=server, digest=tree_digest(root.parent))


def tree_digest(root: Path) -> str:
    """sha256 over every file's relative path and bytes under `root`, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def assert_private(copy: Path, template: Path, database: str) -> None:
    """Raise AssertionError when anything under `copy` is shared with `template`: a symbolic
    link, the same inode (a hard link), a file the template lacks, or a file whose bytes name the
    template's folder or its database."""
    needles = (str(template).encode(), database.encode())
    for path in copy.rglob("*"):
        rel = path.relative_to(copy)
        original = template / rel
        assert not path.is_symlink(), f"{rel} is a symbolic link"
        assert original.exists(), f"{rel} is not in the template"
        mine, theirs = os.stat(path), os.stat(original)
        assert (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino), f"{rel} is shared"
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in needles), f"{rel} names the template"
