"""`reconciler doctor` on a healthy setup and on deliberately broken ones: a bad token, a
database not shared with the integration, one the integration may not read, a transaction
pooler URL, a missing role and a missing extension. Notion is the local Notion served over HTTP
behind a gate that answers as Notion does for an integration without those rights
(NOTION-API.md §4.4: 401 `unauthorized`, 404 `object_not_found`, 403 `restricted_resource`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from reconciler.local import LocalNotion
from reconciler.ops.doctor import run_checks
from reconciler.project.loader import load_project
from tests.conftest import fresh_database, write_files
from tests.ops.conftest import cli

SPEC = {
    "reconciler.yaml": "notion: {parent_page_id: '${NOTION_PARENT_PAGE_ID:-}'}\n",
    "schemas/notion/tasks.yaml": "title: Tasks\nproperties:\n  Name: {type: title}\n",
    "schemas/notion/notes.yaml": "title: Notes\nproperties:\n  Name: {type: title}\n",
    "schemas/notion/ideas.yaml": "title: Ideas\nproperties:\n  Name: {type: title}\n",
}


class Gate:
    """WSGI middleware: a token check, databases hidden from the integration (404) and data
    sources it may not query (403), answered with Notion's error bodies."""

    def __init__(self, app):
        self.app, self.token = app, "good-token"
        self.hidden: set[str] = set()
        self.unreadable: set[str] = set()

    def _error(self, start_response, status: int, code: str, message: str):
        body = json.dumps({"object": "error", "status": status, "code": code,
                           "message": message}).encode()
        start_response(f"{status} {code}", [("Content-Type", "application/json"),
                                            ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "").replace("-", "")
        if environ.get("HTTP_AUTHORIZATION") != f"Bearer {self.token}":
            return self._error(start_response, 401, "unauthorized", "API token is invalid.")
        if any(f"/databases/{i}" in path for i in self.hidden):
            return self._error(start_response, 404, "object_not_found",
                               "Could not find database. Make sure the relevant pages and "
                               "databases are shared with your integration.")
        if any(path.endswith(f"/data_sources/{i}/query") for i in self.unreadable):
            return self._error(start_response, 403, "restricted_resource",
                               "Insufficient permissions for this endpoint.")
        return self.app(environ, start_response)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, dict, Gate]]:
    """The small project applied to a local Notion served over HTTP behind a `Gate`."""
    root = write_files(tmp_path / "p", SPEC)
    gate = Gate(LocalNotion(tmp_path / "workspace"))
    server = make_server("127.0.0.1", 0, gate, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from reconciler.local import local_client, root_page_id

        parent = root_page_id(local_client(tmp_path / "workspace"))
        env = {"NOTION_BASE_URL": f"http://127.0.0.1:{server.server_port}",
               "NOTION_TOKEN": "good-token", "NOTION_PARENT_PAGE_ID": parent,
               "NOTION_RATE_LIMIT": "100"}
        cli("apply", "--auto-approve", "--dir", str(root), env=env)
        yield root, env, gate
    finally:
        server.shutdown()
        thread.join(5)


def _ids(root: Path, name: str) -> tuple[str, str]:
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    db = target["databases"][name]
    return db["database_id"].replace("-", ""), db["data_source_id"].replace("-", "")


def _by_name(checks) -> dict:
    return {c.name: c for c in checks}


def test_a_healthy_setup_passes(served):
    root, env, _ = served
    result = cli("doctor", "--dir", str(root), env=env)
    assert "Everything is in place." in result.output
    assert "[  ok] notion.tasks" in result.output and "Notion-Version: 2025-09-03" in result.output


def test_a_bad_token_fails_with_what_to_do_and_exit_1(served):
    root, env, _ = served
    result = cli("doctor", "--dir", str(root), env=dict(env, NOTION_TOKEN="stale"), code=1)
    assert "[FAIL] Notion token" in result.output and "401" in result.output
    assert "my-integrations" in result.output and "stale" not in result.output


def test_unshared_and_unreadable_databases_are_named(served):
    root, env, gate = served
    gate.hidden.add(_ids(root, "notes")[0])
    gate.unreadable.add(_ids(root, "ideas")[1])
    checks = _by_name(run_checks(root, env, load_project))
    assert checks["notion.tasks"].status == "ok"
    assert checks["notion.notes"].status == "fail"
    assert "not shared" in checks["notion.notes"].detail
    assert "Connections" in checks["notion.notes"].fix
    assert checks["notion.ideas"].status == "fail"
    assert "Read content" in checks["notion.ideas"].detail
    assert "Capabilities" in checks["notion.ideas"].fix


def test_an_unreachable_notion_is_a_failed_check(tmp_path: Path):
    root = write_files(tmp_path / "p", SPEC)
    result = cli("doctor", "--dir", str(root), code=1,
                 env={"NOTION_BASE_URL": "http://127.0.0.1:9", "NOTION_TOKEN": "t"})
    assert "[FAIL] Notion token: cannot reach" in result.output and "Traceback" not in result.output


def test_an_unshared_parent_page_fails(served):
    root, env, gate = served
    checks = _by_name(run_checks(root, dict(env, NOTION_PARENT_PAGE_ID="0" * 32), load_project))
    assert checks["parent page"].status == "fail" and "shared" in checks["parent page"].detail


PG_SPEC = {
    "reconciler.yaml": "notion: {}\n",
    "schemas/supabase/people.yaml": (
        "columns:\n  id: {type: uuid, primary_key: true}\n  email: {type: citext}\n"
        "rls: true\npolicies:\n  mine: {command: select, roles: [ghost_role], using: 'true'}\n"
        "grants: {anon: [select], other_ghost: [select]}\n"),
}


def test_postgres_findings_pooler_missing_role_and_extension(tmp_path: Path, server_url: str):
    root = write_files(tmp_path / "pg", PG_SPEC)
    pooler = "postgresql://me:s3cr3t-pass@127.0.0.1:6543/postgres"
    result = cli("doctor", "--dir", str(root), env={"DATABASE_URL": pooler}, code=1)
    assert "[FAIL] Postgres connection" in result.output and "6543" in result.output
    assert "session pooler (port 5432)" in result.output and "s3cr3t-pass" not in result.output
    with fresh_database(server_url) as url:
        checks = _by_name(run_checks(root, {"DATABASE_URL": url}, load_project))
    assert checks["Postgres connection"].status == "ok"
    assert checks["roles"].status == "fail" and "ghost_role" in checks["roles"].detail
    assert "CREATE ROLE ghost_role NOLOGIN" in checks["roles"].fix
    assert "other_ghost" in checks["roles"].detail
    assert checks["extensions"].status == "fail" and "citext" in checks["extensions"].detail
    assert 'CREATE EXTENSION IF NOT EXISTS "citext"' in checks["extensions"].fix
    assert checks["schema public"].status == "ok"


def test_a_broken_spec_is_one_failed_check(tmp_path: Path):
    root = write_files(tmp_path / "bad", {"schemas/notion/x.yaml": "title: X\nproperties: {}\n"})
    result = cli("doctor", "--dir", str(root), code=1)
    assert "[FAIL] spec" in result.output and "reconciler validate" in result.output
