"""Small Supabase-only projects for tests against a real Postgres, run through `Session` (the
library the CLI calls): plan, apply, and a look at the database."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from reconciler.model.changes import ChangeBase
from reconciler.plan.model import Plan
from reconciler.project.loader import load_project
from reconciler.session import Session
from tests.conftest import write_files

CONFIG = "notion: {}\nsupabase: {}\n"

SOT_TABLE = """\
columns:
  id: {type: uuid, primary_key: true, default_sql: gen_random_uuid()}
  project_id: {type: text, nullable: false}
  file_type: {type: enum, values: [build, decision, debug], nullable: false}
  entry_id: {type: text, nullable: false, unique: true}
  title: {type: text}
  content: {type: text}
  content_hash: {type: text}
content:
  key: entry_id
  hash: content_hash
  source:
    markdown: content/sot/*.md
    fields: {entry_id: entry_id, project_id: project_id, file_type: file_type, title: title,
             content: $body}
"""


def sot_entry(entry_id: str, title: str, project: str = "autopack") -> str:
    return (f"---\nproject_id: {project}\nfile_type: build\nentry_id: {entry_id}\n"
            f"title: {title}\n---\nBody of {entry_id}.\n")


def make_project(root: Path, files: Mapping[str, str], schema: str | None = None) -> Path:
    """A project at `root` with a `reconciler.yaml` and `files` ({relative path: text}); with
    `schema`, every table and object file (but extensions') declares it first (`schema: …`: one
    line more before the rest), and tests share one database, each in a schema of its own."""
    if schema is not None:
        files = {rel: text if not rel.startswith("schemas/supabase/")
                 or "kind: extension" in text else f"schema: {schema}\n{text}"
                 for rel, text in files.items()}
    return write_files(root, {"reconciler.yaml": CONFIG, **files})


def _env(url: str, env: Mapping[str, str]) -> dict[str, str]:
    return {"DATABASE_URL": url, "DEV_DATABASE_URL": os.environ.get("DEV_DATABASE_URL", ""),
            **env}


def plan(root: Path, url: str, *, prune: bool = False, **env: str) -> Plan:
    project = load_project(root, _env(url, env))
    with Session(project, _env(url, env)) as session:
        return session.plan(prune=prune)


def apply(root: Path, url: str, *, allow_destroy: bool = False, prune: bool = False,
          **env: str) -> Plan:
    """Plan and apply under the lock, like `reconciler apply --auto-approve`; returns the plan."""
    project = load_project(root, _env(url, env))
    with Session(project, _env(url, env)) as session, session.locked():
        the_plan = session.plan(prune=prune)
        if the_plan.has_changes:
            session.apply(the_plan, allow_destroy=allow_destroy)
        return the_plan


def kinds(changes: tuple[ChangeBase, ...] | list[ChangeBase]) -> list[tuple[str, str]]:
    return [(c.kind, c.address) for c in changes]  # type: ignore[attr-defined]
