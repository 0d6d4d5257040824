"""Two-way sync safety end to end (issue 11, points 3, 5 and 9): deletes on each side follow the
delete policy, the circuit breaker stops mass changes unless --force, values that cannot cross
and unknown related pages stop the plan before any write, naming the row and the field, and an
apply killed at any point then run again converges with no duplicate page or row."""

from __future__ import annotations

import shutil
from pathlib import Path

import notion_client
import pytest

from tests.e2e.kills import Killed, count_calls, kill_after
from tests.e2e.sync_helpers import example_database, sync_database  # noqa: F401
from tests.e2e.sync_helpers import (create_page, edit_page, page_named, pages, plan_json, project,
                                    run, schema_of, sql, summary, text, title)
from tests.e2e.sync_helpers import notion as notion_of


def synced_project(root: Path, url: str, **options) -> Path:
    """Acme and Initech in Notion, Globex in Supabase, synced."""
    root = project(root, deals=False, **options)
    run(root, "apply", "--auto-approve")
    for name in ("Acme", "Initech"):
        create_page(root, "companies", {"Name": {"title": [{"text": {"content": name}}]}})
    sql(url, "INSERT INTO companies (name) VALUES ('Globex')")
    run(root, "apply", "--auto-approve")
    return root


def names(url: str) -> list[str]:
    return [r[0] for r in sql(url, "SELECT name FROM companies ORDER BY name")]


def test_unlink_keeps_both_sides_and_stops_syncing_the_pair(tmp_path: Path,
                                                           example_database: str):
    root = synced_project(tmp_path / "p", example_database)
    notion = notion_of(root)
    notion.pages.update(page_named(root, "companies", "Acme")["id"], in_trash=True)
    sql(example_database, "DELETE FROM companies WHERE name = 'Globex'")
    doc = plan_json(root)
    assert summary(doc)["unlinked"] == 2
    assert not [c for c in doc["changes"] if c["kind"] in ("delete_row", "archive_page")]
    run(root, "apply", "--auto-approve")
    assert names(example_database) == ["Acme", "Initech"], "the row of the trashed page stays"
    assert "Globex" in [title(p) for p in pages(root, "companies")], "the page stays"
    run(root, "plan", "--detailed-exitcode")  # nothing comes back to life


def test_delete_policy_deletes_on_the_other_side_only_with_prune(tmp_path: Path,
                                                                example_database: str):
    root = synced_project(tmp_path / "p", example_database, deletes="delete")
    notion = notion_of(root)
    notion.pages.update(page_named(root, "companies", "Acme")["id"], in_trash=True)
    sql(example_database, "DELETE FROM companies WHERE name = 'Globex'")
    doc = plan_json(root)
    assert summary(doc)["pending_deletes"] == 2
    run(root, "apply", "--auto-approve")
    assert names(example_database) == ["Acme", "Initech"]
    doc = plan_json(root, "--prune")
    assert sorted(c["kind"] for c in doc["changes"] if c["kind"] != "update_sync_base") == \
        ["archive_page", "delete_row"]
    run(root, "apply", "--prune", "--allow-destroy", "--auto-approve")
    assert names(example_database) == ["Initech"]
    assert [title(p) for p in pages(root, "companies")] == ["Initech"]
    run(root, "plan", "--detailed-exitcode")


def test_the_circuit_breaker_stops_a_mass_change_unless_forced(tmp_path: Path,
                                                              example_database: str):
    root = synced_project(tmp_path / "p", example_database,
                          extra=", circuit_breaker: {max_share: 50%, min_rows: 1}")
    sql(example_database, "UPDATE companies SET notes = 'bulk edit'")
    doc = plan_json(root)
    breaker = summary(doc)["breaker"]
    assert "3 of 3 row(s) in Notion" in breaker and "--force" in breaker
    refused = run(root, "apply", "--auto-approve", code=1)
    assert "circuit breaker" in refused.output
    assert all(not p["properties"]["Notes"]["rich_text"] for p in pages(root, "companies"))
    run(root, "apply", "--auto-approve", "--force")
    assert all(p["properties"]["Notes"]["rich_text"][0]["plain_text"] == "bulk edit"
               for p in pages(root, "companies"))
    run(root, "plan", "--detailed-exitcode")


@pytest.mark.parametrize("column, value, phrase", [
    ("stage", "'Prospect'", "not one of the options of the closed vocabulary of 'Stage'"),
    ("notes", "repeat('x', 200001)", "rich text objects of 2000; Notion takes at most 100"),
    ("tags", "(SELECT array_agg('t' || i) FROM generate_series(1, 101) i)",
     "101 items; Notion takes at most 100"),
], ids=["closed-vocabulary", "long-text", "too-many-items"])
def test_values_that_cannot_cross_stop_the_plan_naming_row_and_field(
        tmp_path: Path, example_database: str, column: str, value: str, phrase: str):
    root = synced_project(tmp_path / "p", example_database)
    sql(example_database, f"UPDATE companies SET {column} = {value} WHERE name = 'Globex'")
    page = page_named(root, "companies", "Globex")["id"]
    before = [(title(p), p["last_edited_time"]) for p in pages(root, "companies")]
    failed = run(root, "apply", "--auto-approve", code=1)
    assert phrase in failed.output
    assert f'notion.companies.page["{page}"]: {column.title()}:' in failed.output
    assert [(title(p), p["last_edited_time"]) for p in pages(root, "companies")] == before


def test_an_unknown_related_page_stops_the_plan(tmp_path: Path, example_database: str):
    root = project(tmp_path / "p")
    run(root, "apply", "--auto-approve")
    stranger = "00000000-0000-4000-8000-00000000beef"
    sql(example_database, "INSERT INTO deals (deal, partners) VALUES ('Odd', %s)", [[stranger]])
    failed = run(root, "plan", code=1)
    assert "Partners" in failed.output and stranger in failed.output
    assert "unknown related page" in failed.output


# --- a kill at any point -----------------------------------------------------------------------


def _edits(root: Path, url: str) -> None:
    """Work for both directions: a row and a page created, a field edited on each side."""
    sql(url, "INSERT INTO companies (name, notes) VALUES ('Hooli', 'from supabase')")
    create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Umbrella"}}]}})
    edit_page(root, page_named(root, "companies", "Acme")["id"], {"Notes": text("n")})
    sql(url, "UPDATE companies SET score = 5 WHERE name = 'Initech'")


def _converged(root: Path, url: str) -> None:
    run(root, "plan", "--detailed-exitcode")
    assert names(url) == ["Acme", "Globex", "Hooli", "Initech", "Umbrella"], "no duplicate row"
    assert sorted(title(p) for p in pages(root, "companies")) == \
        ["Acme", "Globex", "Hooli", "Initech", "Umbrella"], "no duplicate page"
    links = sql(url, "SELECT count(DISTINCT notion_page_id), count(*) FROM companies")
    assert links == [(5, 5)]


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-send", "after-commit"])
def test_a_sync_apply_killed_after_any_call_then_rerun_converges(
        tmp_path: Path, example_database: str, monkeypatch, after_commit: bool):
    """Every run starts from the same state (a copy of the project folder with its local Notion,
    and the database's tables restored from a snapshot), killed one call later each time."""
    root = synced_project(tmp_path / "template", example_database)
    _edits(root, example_database)
    snapshot(example_database)
    copy = shutil.copytree(root, tmp_path / "count")
    total = count_calls(monkeypatch, lambda: run(copy, "apply", "--auto-approve"))
    assert total >= 4
    for calls in range(total):
        restore(example_database)
        here = shutil.copytree(root, tmp_path / f"k{calls}")
        kill_after(monkeypatch, calls, after_commit=after_commit)
        with pytest.raises(Killed):
            run(here, "apply", "--auto-approve", code=None)
        monkeypatch.setattr(notion_client.Client, "request", _ORIGINAL)
        run(here, "apply", "--auto-approve")
        _converged(here, example_database)


#: The tables an apply of the small project writes, copied aside and back.
TABLES = ("companies", "reconciler.sync_base", "reconciler.sync_state",
          "reconciler.reconciler_lock")


def snapshot(url: str) -> None:
    sql(url, f"CREATE SCHEMA snapshot_{schema_of(url)}")
    for table in TABLES:
        sql(url, f"CREATE TABLE snapshot_{schema_of(url)}.{table.replace('.', '_')} "
                 f"AS TABLE {table}")


def restore(url: str) -> None:
    sql(url, f"TRUNCATE {', '.join(TABLES)}")
    for table in TABLES:
        sql(url, f"INSERT INTO {table} SELECT * FROM "
                 f"snapshot_{schema_of(url)}.{table.replace('.', '_')}")


_ORIGINAL = notion_client.Client.request


def test_a_kill_before_the_postgres_side_commits_then_rerun_converges(
        tmp_path: Path, example_database: str, monkeypatch):
    from reconciler.backends.postgres import sync_apply

    root = synced_project(tmp_path / "p", example_database)
    _edits(root, example_database)

    def dying(*args, **kwargs):
        raise Killed()

    with monkeypatch.context() as patched:
        patched.setattr(sync_apply, "run_rows", dying)
        with pytest.raises(Killed):
            run(root, "apply", "--auto-approve", code=None)
    rerun = run(root, "apply", "--auto-approve")
    assert "An earlier apply" in rerun.output
    _converged(root, example_database)
