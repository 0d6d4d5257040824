"""Two-way sync found by a QA pass, end to end through the CLI, the real notion-client on the
local Notion and a real Postgres: a targeted apply never loses an edit (the watermark stays
behind what it did not apply), a source edited between plan and apply is left alone and reported
stale, unlinks are shown to reviewers and recorded, and two rows swapping a unique value apply."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.sync_helpers import example_database, sync_database  # noqa: F401
from tests.e2e.sync_helpers import (backdate_pages, create_page, edit_page, page_named,
                                    plan_json, project, run, schema_of, sql, summary, text)
from tests.e2e.sync_helpers import notion as notion_of


def synced_project(root: Path, url: str, **options) -> Path:
    """Acme and Initech in Notion, Globex in Supabase, synced."""
    root = project(root, deals=False, **options)
    run(root, "apply", "--auto-approve")
    for name in ("Acme", "Initech"):
        create_page(root, "companies", {"Name": {"title": [{"text": {"content": name}}]},
                                        "Stage": {"select": {"name": "Lead"}}})
    sql(url, "INSERT INTO companies (name, stage) VALUES ('Globex', 'Lead')")
    run(root, "apply", "--auto-approve")
    run(root, "plan", "--detailed-exitcode")
    return root


def stage(root: Path, url: str, name: str) -> tuple[str, str]:
    """`(Supabase, Notion)` stage of a company."""
    (row,) = sql(url, "SELECT stage FROM companies WHERE name = %s", [name])
    page = page_named(root, "companies", name)
    return row[0], (page["properties"]["Stage"]["select"] or {}).get("name")


def age_watermarks(url: str, root: Path) -> None:
    """Make the last apply ten minutes old: its watermark, and every page's edit stamp."""
    sql(url, "UPDATE reconciler.sync_state SET watermark = watermark - interval '10 minutes'")
    backdate_pages(root, "2020-01-01T00:00:00.000Z")


def row_edit_minutes_ago(url: str, where: str, minutes: int) -> None:
    """An edit made `minutes` ago (its `updated_at`), before the plan that follows."""
    from datetime import datetime, timedelta, timezone

    from tests.e2e.sync_helpers import set_updated

    when = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    set_updated(url, "companies", where, when.isoformat())


# --- 1. a targeted apply never advances the watermark past what it did not apply -------------


def test_a_targeted_apply_keeps_a_supabase_edit_it_did_not_sync(tmp_path: Path,
                                                                example_database: str):
    root = synced_project(tmp_path / "p", example_database)
    table = f"supabase.{schema_of(example_database)}.companies"
    age_watermarks(example_database, root)
    sql(example_database, "UPDATE companies SET stage = 'Client' WHERE name = 'Acme'")
    row_edit_minutes_ago(example_database, "name = 'Acme'", 5)
    doc = plan_json(root, "--target", table)
    to_notion = [c for c in doc["changes"] if c["kind"] == "update_page"]
    assert len(to_notion) == 1, "targeting the table brings its row flows both ways"
    assert summary(doc)["to_notion"]["update"] == 1
    run(root, "apply", str(root / "plans" / "sync.yaml"), "--auto-approve")
    assert stage(root, example_database, "Acme") == ("Client", "Client")
    run(root, "plan", "--detailed-exitcode")


def test_a_plan_targeting_only_the_base_keeps_the_watermark_and_the_edit(
        tmp_path: Path, example_database: str):
    root = synced_project(tmp_path / "p", example_database)
    table = f"supabase.{schema_of(example_database)}.companies"
    age_watermarks(example_database, root)
    sql(example_database, "UPDATE companies SET stage = 'Client' WHERE name = 'Acme'")
    row_edit_minutes_ago(example_database, "name = 'Acme'", 5)
    doc = plan_json(root, "--target", f'{table}.sync["base"]')
    assert [c["kind"] for c in doc["changes"]] == ["update_sync_base"]
    assert summary(doc)["to_notion"]["update"] == 0, "the summary counts what the plan does"
    run(root, "apply", str(root / "plans" / "sync.yaml"), "--auto-approve")
    doc = plan_json(root)
    assert summary(doc)["to_notion"]["update"] == 1, "the edit is still seen"
    run(root, "apply", "--auto-approve")
    assert stage(root, example_database, "Acme") == ("Client", "Client")
    run(root, "plan", "--detailed-exitcode")


# --- 2. a source edited between plan and apply is left alone, reported stale ------------------


def _apply_edited_after_plan(root: Path, edit) -> None:
    """Save a plan, run `edit()` on one source row, apply the saved plan: it says it left that
    row alone."""
    saved = root / "plans" / "s2.yaml"
    run(root, "plan", "--out", str(saved))
    edit()
    out = run(root, "apply", str(saved), "--auto-approve").output
    assert "1 row(s) left alone: edited after the plan" in out, out


def test_a_source_row_edited_after_the_plan_is_reported_stale_and_not_copied(
        tmp_path: Path, example_database: str):
    root = synced_project(tmp_path / "p", example_database)
    sql(example_database, "UPDATE companies SET stage = 'Client' WHERE name IN ('Acme', 'Globex')")
    _apply_edited_after_plan(root, lambda: sql(
        example_database, "UPDATE companies SET stage = 'Partner' WHERE name = 'Acme'"))
    assert stage(root, example_database, "Globex") == ("Client", "Client")
    assert stage(root, example_database, "Acme") == ("Partner", "Lead"), \
        "the page keeps its value: the plan's Client is not written over the newer edit"
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    assert [e for e in ledger if e.get("status") == "stale"
            and "source" in e.get("reason", "")], "the ledger says which change was left alone"
    run(root, "apply", "--auto-approve")
    assert stage(root, example_database, "Acme") == ("Partner", "Partner")
    run(root, "plan", "--detailed-exitcode")


def test_a_source_page_edited_after_the_plan_is_reported_stale_and_not_copied(
        tmp_path: Path, example_database: str):
    root = synced_project(tmp_path / "p", example_database)
    acme = page_named(root, "companies", "Acme")["id"]
    edit_page(root, acme, {"Notes": text("first")})
    _apply_edited_after_plan(root, lambda: edit_page(root, acme, {"Notes": text("second")}))
    assert sql(example_database, "SELECT notes FROM companies WHERE name = 'Acme'") == [(None,)]
    run(root, "apply", "--auto-approve")
    assert sql(example_database, "SELECT notes FROM companies WHERE name = 'Acme'") == \
        [("second",)]


# --- 3. unlinks are shown to reviewers, recorded, and not reported again ---------------------


def test_unlinks_are_shown_in_text_and_markdown_recorded_and_not_shown_again(
        tmp_path: Path, example_database: str):
    root = synced_project(tmp_path / "p", example_database)
    table = f"supabase.{schema_of(example_database)}.companies"
    acme = page_named(root, "companies", "Acme")["id"]
    (globex,) = sql(example_database, "SELECT id::text FROM companies WHERE name = 'Globex'")[0]
    notion_of(root).pages.update(acme, in_trash=True)
    sql(example_database, "DELETE FROM companies WHERE name = 'Globex'")
    text_view = run(root, "plan", "--out", str(root / "plans" / "u.yaml"), code=None).output
    assert "in step" not in text_view, text_view
    assert f'unlink {table}.row["{globex}"]' in text_view, text_view
    assert f'notion.companies.page["{acme}"]: its Notion page was trashed' in text_view
    markdown = run(root, "show", str(root / "plans" / "u.yaml"), "--format", "markdown").output
    assert "are in step" not in markdown and f'`{table}.row["{globex}"]`' in markdown, markdown
    assert "its Supabase row was deleted" in markdown
    run(root, "apply", str(root / "plans" / "u.yaml"), "--auto-approve")
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    (base,) = [e for e in ledger if e["kind"] == "update_sync_base"][-1:]
    assert f'{table}.row["{globex}"]' in base["unlinked"] and len(base["unlinked"]) == 2
    doc = plan_json(root)
    assert summary(doc)["unlinked"] == 0 and not summary(doc)["unlinks"], \
        "an unlink done is not reported again"
    assert "1 table(s) in step" in run(root, "plan", "--detailed-exitcode").output


# --- 4. two pages swapping a unique value ---------------------------------------------------


def _applied_with(tmp_path: Path, properties: str, columns: str) -> Path:
    """The small project (no deals) with `properties` added to the companies database and
    `columns` to its table's `columns:` (YAML lines), applied."""
    root = project(tmp_path / "p", deals=False)
    database = root / "schemas/notion/companies.yaml"
    database.write_text(database.read_text() + properties)
    spec = root / "schemas/supabase/companies.yaml"
    spec.write_text(spec.read_text() + "columns:\n" + columns)
    run(root, "apply", "--auto-approve")
    return root


def test_two_pages_swapping_unique_values_apply(tmp_path: Path, example_database: str):
    root = _applied_with(tmp_path, "  Email: {type: email}\n",
                         "  email: {unique: true}\n  name: {unique: true, nullable: false}\n")
    ada = create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Ada"}}]},
                                          "Email": {"email": "ada@example.com"}})
    grace = create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Grace"}}]},
                                            "Email": {"email": "grace@example.com"}})
    run(root, "apply", "--auto-approve")
    edit_page(root, ada, {"Email": {"email": "grace@example.com"},
                          "Name": {"title": [{"text": {"content": "Grace"}}]}})
    edit_page(root, grace, {"Email": {"email": "ada@example.com"},
                            "Name": {"title": [{"text": {"content": "Ada"}}]}})
    result = run(root, "apply", "--auto-approve", code=None)
    assert "example.com" not in result.output, "never a sensitive value"
    assert result.exit_code == 0, result.output
    assert sql(example_database, "SELECT notion_page_id::text, name, email FROM companies "
                                 "ORDER BY name") == [(grace, "Ada", "ada@example.com"),
                                                      (ada, "Grace", "grace@example.com")]
    run(root, "plan", "--detailed-exitcode")


def test_two_pages_changing_unique_values_without_a_trade_write_them_as_they_are(
        tmp_path: Path, example_database: str):
    """Only rows trading values are moved out of the way: two new codes in a NOT NULL
    varchar(12) column (which no placeholder id fits) apply, as they did before the swap fix."""
    root = _applied_with(tmp_path, "  Code: {type: rich_text}\n", "  code: {type: varchar(12), "
                         "unique: true, nullable: false, default: x}\n")
    pages_ = [create_page(root, "companies", {"Name": {"title": [{"text": {"content": n}}]},
                                              "Code": {"rich_text": [{"text": {"content": c}}]}})
              for n, c in (("Ada", "A-1"), ("Grace", "G-1"))]
    run(root, "apply", "--auto-approve")
    for page, code in zip(pages_, ("A-2", "G-2")):
        edit_page(root, page, {"Code": {"rich_text": [{"text": {"content": code}}]}})
    result = run(root, "apply", "--auto-approve", code=None)
    assert result.exit_code == 0, result.output
    assert sql(example_database, "SELECT name, code FROM companies ORDER BY name") == \
        [("Ada", "A-2"), ("Grace", "G-2")]
    run(root, "plan", "--detailed-exitcode")


def test_a_prune_delete_left_out_by_the_target_keeps_its_pair_in_the_base(
        tmp_path: Path, example_database: str):
    root = synced_project(tmp_path / "p", example_database, deletes="delete")
    table = f"supabase.{schema_of(example_database)}.companies"
    notion_of(root).pages.update(page_named(root, "companies", "Acme")["id"], in_trash=True)
    sql(example_database, "DELETE FROM companies WHERE name = 'Globex'")
    doc = plan_json(root, "--prune", "--target", f'{table}.sync["base"]')
    (base,) = [c for c in doc["changes"] if c["kind"] == "update_sync_base"]
    assert base.get("drop", []) == [], "no pair is dropped whose delete the plan leaves out"
    run(root, "apply", str(root / "plans" / "sync.yaml"), "--prune", "--allow-destroy",
        "--auto-approve")
    doc = plan_json(root, "--prune")  # the deletes are still planned, nothing is re-created
    assert sorted(c["kind"] for c in doc["changes"] if c["kind"] != "update_sync_base") == \
        ["archive_page", "delete_row"]
    run(root, "apply", "--prune", "--allow-destroy", "--auto-approve")
    assert [n for (n,) in sql(example_database, "SELECT name FROM companies ORDER BY name")] \
        == ["Initech"]
    run(root, "plan", "--detailed-exitcode")
