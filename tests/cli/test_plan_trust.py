"""A plan you can trust and a CLI that talks (issue 10): through the CLI, on a tiny project
on the local Notion (and a real Postgres where the test needs one).

Each refusal has its own word: an edited plan, a plan made for another workspace or
database, a plan already applied, a stale plan; --target names something or is refused with
a did-you-mean; apply says what it did, resource by resource, and counts it.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import time
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.conftest import fresh_database, write_files

runner = CliRunner()

TASKS = ("title: Tasks\nproperties:\n  Name: {type: title}\n"
         "  Status:\n    type: select\n    options: [Todo, Done]\n  Notes: {type: rich_text}\n"
         "  SHA: {type: rich_text}\n"
         "content:\n  key: Name\n  hash: SHA\n  source:\n    json: content/t/*.json\n"
         "    fields: {Name: name, Status: status}\n")
CONFIG = "notion:\n  rate_limit: 100\nsupabase: {}\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A `tasks` database with two rows of content, on the local Notion, no tables."""
    return write_files(tmp_path / "ws", {
        "reconciler.yaml": CONFIG, "schemas/notion/tasks.yaml": TASKS,
        "content/t/a.json": json.dumps({"name": "Third Note", "status": "Todo"}),
        "content/t/b.json": json.dumps({"name": "Fourth Note", "status": "Done"})})


def run(root: Path | None, *args: str, code: int | None = 0):
    argv = [*args, "--dir", str(root)] if root is not None else list(args)
    result = runner.invoke(app, argv)
    if code is not None:
        assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def saved_plan(root: Path, name: str = "x.yaml") -> Path:
    out = root / "plans" / name
    run(root, "plan", "--out", str(out))
    return out


def live_databases(root: Path) -> dict:
    path = root / ".reconciler" / "state.json"
    if not path.exists():
        return {}
    return next(iter(json.loads(path.read_text())["notion"].values()), {}).get("databases", {})


@pytest.mark.parametrize(("before", "after"), [
    ("Name: Third Note", "Name: Third Nota"),
    ("name: Notes\n    type: rich_text", "name: Notes\n    type: number"),
    ("spec_hash: sha256:", "spec_hash: sha256:0"),
])
def test_a_hand_edited_plan_is_refused_before_any_write(project: Path, before: str, after: str):
    plan = saved_plan(project)
    text = plan.read_text()
    assert before in text, text[:2000]
    plan.write_text(text.replace(before, after, 1))
    refused = run(project, "apply", str(plan), "--auto-approve", code=1)
    assert "was edited after reconciler wrote it" in refused.output
    assert live_databases(project) == {}  # nothing was created
    run(None, "show", str(plan), code=1)  # nor is it shown as if it were the reviewed plan


def test_apply_says_what_it_did_and_counts_resources_and_rows(project: Path):
    applied = run(project, "apply", str(saved_plan(project)), "--auto-approve")
    lines = applied.output.splitlines()
    assert "notion.tasks: created" in lines
    assert 'notion.tasks.property["Status"]: created' in lines
    assert 'notion.tasks.page["Third Note"]: created' in lines
    assert lines[-1] == ("Apply complete! Resources: 4 added, 0 changed, 0 destroyed. "
                         "Rows: 2 added, 0 changed, 0 removed.")


def test_the_same_plan_twice_is_already_applied_not_stale(project: Path):
    plan = saved_plan(project)
    run(project, "apply", str(plan), "--auto-approve")
    again = run(project, "apply", str(plan), "--auto-approve", code=1)
    assert re.search(r"The plan was already applied, at 20\d\d-\d\d-\d\dT[\d:.]+\+00:00 "
                     r"\(run [0-9a-f-]+ in \.reconciler/journal\.ndjson\)", again.output)
    assert "stale" not in again.output


def test_a_live_change_makes_it_stale_naming_the_resources(project: Path):
    from reconciler.local import local_client

    run(project, "apply", "--auto-approve")
    (project / "schemas" / "notion" / "tasks.yaml").write_text(
        TASKS.replace("  SHA:", "  Owner: {type: rich_text}\n  SHA:"))
    plan = saved_plan(project)
    notion = local_client(project / ".reconciler" / "notion")
    notion.data_sources.update(live_databases(project)["tasks"]["data_source_id"],
                               properties={"Sneaky": {"checkbox": {}}})
    stale = run(project, "apply", str(plan), "--auto-approve", code=1)
    assert "Saved plan is stale: these resources changed since it was made: notion.tasks" \
        in stale.output


def test_a_plan_made_for_another_notion_workspace_is_refused(project: Path):
    plan = saved_plan(project)
    shutil.rmtree(project / ".reconciler" / "notion")  # another (local) workspace from here on
    refused = run(project, "apply", str(plan), "--auto-approve", code=1)
    assert re.search(r"The plan was made for another workspace or database: notion was bot \S+, workspace \S+ "
                     r"when it was planned, and is bot \S+, workspace \S+ now", refused.output)


def test_a_plan_made_for_another_database_is_refused(project: Path, server_url: str,
                                                     monkeypatch: pytest.MonkeyPatch):
    write_files(project, {"schemas/supabase/tasks.yaml": "mirror: tasks\n"})
    with fresh_database(server_url) as first, fresh_database(server_url) as second:
        monkeypatch.setenv("DATABASE_URL", first)
        plan = saved_plan(project)
        monkeypatch.setenv("DATABASE_URL", second)
        refused = run(project, "apply", str(plan), "--auto-approve", code=1)
        assert not schema_exists(second, "reconciler")  # no lock table in a foreign database
    was, now = (conninfo_to_dict(url)["dbname"] for url in (first, second))
    assert f"supabase was database {was}, system_identifier " in refused.output
    assert f"is database {now}, system_identifier " in refused.output


def schema_exists(url: str, schema: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", [schema]).fetchone()[0]


def fail_part_way(project: Path, plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apply `plan` with Notion refusing the create of the page "Fourth Note" (a 400), so the
    journal holds an unfinished run of it."""
    import httpx
    import notion_client

    original = notion_client.Client.request

    def refuse(self, path, method, query=None, body=None, **kwargs):
        title = ((body or {}).get("properties") or {}).get("Name", {}).get("title") or [{}]
        if method == "POST" and path == "pages" and \
                title[0].get("text", {}).get("content") == "Fourth Note":
            raise notion_client.APIResponseError("validation_error", 400, "body failed validation",
                                                 httpx.Headers(), "{}")
        return original(self, path, method, query, body, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(notion_client.Client, "request", refuse)
        failed = run(project, "apply", str(plan), "--auto-approve", code=1)
    assert 'notion.tasks.page["Fourth Note"]' in failed.output


def test_a_failed_apply_resumed_on_another_notion_workspace_is_refused(
        project: Path, monkeypatch: pytest.MonkeyPatch):
    plan = saved_plan(project)
    fail_part_way(project, plan, monkeypatch)
    shutil.rmtree(project / ".reconciler" / "notion")  # another (local) workspace from here on
    refused = run(project, "apply", str(plan), "--auto-approve", code=1)
    assert re.search(r"The plan was made for another workspace or database: notion was bot \S+, workspace \S+ "
                     r"when it was planned, and is bot \S+, workspace \S+ now", refused.output)
    assert "Finishing the interrupted apply" not in refused.output
    assert "stopped after" not in refused.output  # the target is checked first
    from reconciler.local import local_client

    other = local_client(project / ".reconciler" / "notion")
    assert other.search(filter={"property": "object", "value": "data_source"})["results"] == []


def test_a_failed_apply_resumed_on_another_database_is_refused_writing_nothing_there(
        project: Path, server_url: str, monkeypatch: pytest.MonkeyPatch):
    write_files(project, {"schemas/supabase/tasks.yaml": "mirror: tasks\n"})
    with fresh_database(server_url) as first, fresh_database(server_url) as second:
        monkeypatch.setenv("DATABASE_URL", first)
        plan = saved_plan(project)
        fail_part_way(project, plan, monkeypatch)
        monkeypatch.setenv("DATABASE_URL", second)
        refused = run(project, "apply", str(plan), "--auto-approve", code=1)
        assert not schema_exists(second, "reconciler")
        monkeypatch.setenv("DATABASE_URL", first)
        finished = run(project, "apply", str(plan), "--auto-approve")
    assert "The plan was made for another workspace or database: supabase was database " in refused.output
    assert "stale" not in refused.output and "Finishing" not in refused.output
    assert "Finishing the interrupted apply" in finished.output


def test_a_spec_changed_since_the_plan_is_said_and_the_plan_applied_as_reviewed(project: Path):
    plan = saved_plan(project)
    spec = project / "schemas" / "notion" / "tasks.yaml"
    spec.write_text("# reviewed elsewhere\n" + TASKS)
    applied = run(project, "apply", str(plan), "--auto-approve")
    assert "the spec changed since this plan was made" in applied.stderr
    assert "Apply complete!" in applied.stdout


def test_target_typos_are_refused_with_a_did_you_mean(project: Path):
    typo = run(project, "plan", "--target", "notion.task", code=1)
    assert "--target notion.task: nothing in this project has this address; " \
        "did you mean notion.tasks?" in typo.output
    prop = run(project, "plan", "--target", 'notion.tasks.property["status"]', code=1)
    assert 'did you mean notion.tasks.property["Status"]?' in prop.output
    ok = run(project, "plan", "--target", 'notion.tasks.property["Status"]')
    assert ok.output.startswith("Targeting is in effect: this plan holds only the changes at or "
                                'inside notion.tasks.property["Status"] (--target)')
    assert "Plan: 1 to create" in ok.output and "Content:" not in ok.output
    page = run(project, "plan", "--target", 'notion.tasks.page["Third Note"]')
    assert "notion.tasks: 1 to create, 0 to update, 0 to archive, 0 unchanged" in page.output


def test_cli_details(project: Path):
    assert run(None, "--version").output.startswith("reconciler 0.")
    since = run(project, "plan", "--since", "yesterday", code=1)
    assert "--since 'yesterday' is not an ISO 8601 time" in since.output
    future = run(project, "plan", "--since", "2099-01-01", code=1)
    assert "--since 2099-01-01 is in the future (it is now 20" in future.output
    assert "Give a past time, or 'last'" in future.output
    assert run(project, "validate").output == \
        "The spec is valid: 1 Notion database, 0 tables, 0 vocabularies.\n"
    plan = saved_plan(project)
    assert json.loads(run(None, "show", str(plan), "--format", "JSON").output)["summary"]
    for command in (["plan"], ["apply"], ["show"], ["validate"], ["local", "serve"], []):
        assert "<bool>" not in run(None, *command, "--help").output


def test_debug_works_after_the_command_and_patches_no_library_class(project: Path):
    import httpx
    import psycopg

    sends, executes = httpx.Client.send, psycopg.Cursor.execute
    logged = run(project, "plan", "--debug")
    assert re.search(r"HTTP GET /v1/users/me -> 200 \(\d+\.\d ms\)", logged.stderr)
    assert (httpx.Client.send, psycopg.Cursor.execute) == (sends, executes)


def test_a_refused_connection_fails_within_seconds(project: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("NOTION_TOKEN", "secret_test")
    monkeypatch.setenv("NOTION_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NOTION_PARENT_PAGE_ID", "b497ef7c-52b2-4c7b-8af5-5c6a4e34f620")
    started = time.monotonic()
    failed = run(project, "plan", code=1)
    assert time.monotonic() - started < 5
    assert f"cannot reach http://127.0.0.1:{port}/v1/" in failed.output
    assert "Connection refused" in failed.output and "secret_test" not in failed.output


def test_apply_content_only_previews_only_what_it_will_do(project: Path):
    run(project, "apply", "--auto-approve")
    spec = project / "schemas" / "notion" / "tasks.yaml"
    spec.write_text(TASKS.replace("  SHA:", "  Owner: {type: rich_text}\n  SHA:")
                    .replace("Status: status}", "Status: status, Owner: owner}"))
    write_files(project, {"content/t/a.json": json.dumps(
        {"name": "Third Note", "status": "Todo", "owner": "ada"})})
    preview = run(project, "apply", "--content-only", "--auto-approve")
    assert '+ notion.tasks.property["Owner"]' not in preview.output
    assert '~ notion.tasks.page["Third Note"]' in preview.output
    assert re.search(r"request: PATCH /v1/pages/\S+ \(SHA\)\n", preview.output)  # not Owner
    assert "--content-only: 1 schema change(s) of the plan are left out" in preview.output
    assert "Plan: 0 to create, 1 to update" in preview.output
    assert 'notion.tasks.page["Third Note"]: written' in preview.output


@pytest.mark.parametrize(("before", "after", "says"), [
    ("format_version: 5", "format_version: '5'",
     "plan format_version is text '5'; it must be the number 5"),
    ("digest: sha256:", "digest: 12345\nold_digest: sha256:",
     "the plan file's digest is a number 12345, not a digest string (sha256:…)"),
    ("digest: sha256:", "digest: [a, b]\nold_digest: sha256:",
     "the plan file's digest is a list ['a', 'b'], not a digest string (sha256:…)"),
    ("  kind: create_page", "  kind: update_page",
     "an update_page change is an update, not 'create'"),
    ("changes:\n", "changes: {}\nold_changes:\n",
     "invalid plan file at changes: it is a mapping, not a list of changes"),
])
def test_a_broken_plan_file_is_said_in_the_plan_files_terms(project: Path, before: str,
                                                            after: str, says: str):
    plan = saved_plan(project)
    text = plan.read_text()
    assert before in text
    plan.write_text(text.replace(before, after, 1))
    for command in (["show", str(plan)], ["apply", str(plan), "--auto-approve"]):
        refused = run(project if command[0] == "apply" else None, *command, code=1)
        assert says in refused.output, refused.output
        assert "Input should" not in refused.output and "valid tuple" not in refused.output


def test_an_over_long_email_names_the_row_and_the_field_never_the_value(project: Path):
    spec = project / "schemas" / "notion" / "tasks.yaml"
    spec.write_text(TASKS.replace("  SHA:", "  Email: {type: email}\n  SHA:")
                    .replace("Status: status}", "Status: status, Email: email}"))
    long_email = "x" * 260 + "@example.com"
    write_files(project, {"content/t/a.json": json.dumps(
        {"name": "Third Note", "status": "Todo", "email": long_email})})
    refused = run(project, "plan", code=1)
    assert ("content/t/a.json:1:51: row 'Third Note': Email cannot be written: an email value "
            "holds at most 200 characters, got 272") in refused.output
    assert long_email not in refused.output
