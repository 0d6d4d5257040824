"""Two-way sync end to end (issue 11, point 9): edits on each side flow across field by field,
conflicts follow the policy (a tie goes to Notion), an edit made between plan and apply is not
overwritten, and a second run writes nothing and reads only what changed. Through the CLI, the
real notion-client on the local Notion and a real Postgres."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import notion_client
import pytest

from tests.e2e.sync_helpers import example_database, sync_database  # noqa: F401
from tests.e2e.sync_helpers import (backdate_pages, create_page, edit_page, page_named, pages,
                                    plan_json, project, run, schema_of, set_edited, set_updated,
                                    sql, summary, text, title)


@pytest.fixture
def synced(tmp_path: Path, example_database: str) -> Path:
    """The small project applied, with Acme in Notion and Globex in Supabase, synced."""
    root = project(tmp_path / "p")
    run(root, "apply", "--auto-approve")
    create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Acme"}}]},
                                    "Stage": {"select": {"name": "Lead"}}, "Score": {"number": 3}})
    sql(example_database, "INSERT INTO companies (name, stage, notes) VALUES "
                          "('Globex', 'Client', 'big account')")
    run(root, "apply", "--auto-approve")
    run(root, "plan", "--detailed-exitcode")
    return root


def company(url: str, name: str) -> dict:
    rows = sql(url, "SELECT row_to_json(c) FROM companies c WHERE name = %s", [name])
    assert len(rows) == 1, rows
    return rows[0][0]


def test_rows_created_on_each_side_reach_the_other_with_their_page_ids(synced: Path,
                                                                       example_database: str):
    acme, globex = company(example_database, "Acme"), company(example_database, "Globex")
    assert acme["stage"] == "Lead" and acme["score"] == 3
    page = page_named(synced, "companies", "Globex")
    assert globex["notion_page_id"] == page["id"], "the page id written back in the same apply"
    assert page["properties"]["Notes"]["rich_text"][0]["plain_text"] == "big account"
    assert acme["notion_page_id"] == page_named(synced, "companies", "Acme")["id"]
    assert sorted(title(p) for p in pages(synced, "companies")) == ["Acme", "Globex"]
    base = sql(example_database, "SELECT count(*) FROM reconciler.sync_base "
                                 "WHERE table_address LIKE '%%.companies'")
    assert base == [(2,)]


def test_edits_of_different_fields_on_both_sides_merge_without_conflict(synced: Path,
                                                                        example_database: str):
    page = page_named(synced, "companies", "Acme")
    edit_page(synced, page["id"], {"Notes": text("from notion")})
    sql(example_database, "UPDATE companies SET score = 9, tags = '{vip}' WHERE name = 'Acme'")
    doc = plan_json(synced)
    sync = summary(doc)
    assert sync["conflicts"] == [] and sync["to_notion"]["update"] == 1
    moved = {c["kind"]: set(c["after"]["values"]) for c in doc["changes"]
             if c["kind"] in ("update_page", "update_row")}
    assert moved == {"update_page": {"Score", "Tags"}, "update_row": {"notes"}}
    run(synced, "apply", "--auto-approve")
    assert company(example_database, "Acme")["notes"] == "from notion"
    props = page_named(synced, "companies", "Acme")["properties"]
    assert props["Score"]["number"] == 9 and props["Tags"]["multi_select"][0]["name"] == "vip"
    run(synced, "plan", "--detailed-exitcode")


def _both_edit_notes(root: Path, url: str, notion_at: str, supabase_at: str) -> None:
    page = page_named(root, "companies", "Acme")
    edit_page(root, page["id"], {"Notes": text("notion says")})
    set_edited(root, page["id"], notion_at)
    sql(url, "UPDATE companies SET notes = 'supabase says' WHERE name = 'Acme'")
    set_updated(url, "companies", "name = 'Acme'", supabase_at)


@pytest.mark.parametrize("notion_at, supabase_at, winner", [
    ("2030-01-01T10:05:00.000Z", "2030-01-01T10:02:00+00", "notion says"),
    ("2030-01-01T10:02:00.000Z", "2030-01-01T10:05:00+00", "supabase says"),
    ("2030-01-01T10:05:00.000Z", "2030-01-01T10:05:59+00", "notion says"),  # a tie: Notion
], ids=["notion-later", "supabase-later", "same-minute-tie"])
def test_a_field_edited_on_both_sides_goes_to_the_later_edit_and_a_tie_to_notion(
        synced: Path, example_database: str, notion_at: str, supabase_at: str, winner: str):
    _both_edit_notes(synced, example_database, notion_at, supabase_at)
    doc = plan_json(synced)
    (conflict,) = summary(doc)["conflicts"]
    assert (conflict["field"], conflict["notion"], conflict["supabase"], conflict["base"]) == \
        ("notes", "notion says", "supabase says", None)
    assert conflict["resolution"] == ("notion" if winner == "notion says" else "supabase")
    if supabase_at.startswith("2030-01-01T10:05:59"):
        assert "a tie goes to Notion" in conflict["reason"]
    shown = run(synced, "show", str(synced / "plans" / "sync.yaml"), "--format", "markdown")
    assert "| `notes` |" in shown.output and "supabase says" in shown.output
    run(synced, "apply", str(synced / "plans" / "sync.yaml"), "--auto-approve")
    assert company(example_database, "Acme")["notes"] == winner
    notes = page_named(synced, "companies", "Acme")["properties"]["Notes"]["rich_text"]
    assert notes[0]["plain_text"] == winner
    run(synced, "plan", "--detailed-exitcode")


@pytest.mark.parametrize("policy, winner", [("notion_wins", "notion says"),
                                            ("supabase_wins", "supabase says")])
def test_fixed_policies_pick_their_side(tmp_path: Path, example_database: str, policy: str,
                                        winner: str):
    root = project(tmp_path / "p", conflicts=policy, deals=False)
    run(root, "apply", "--auto-approve")
    create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Acme"}}]}})
    run(root, "apply", "--auto-approve")
    # the losing side edits later: the policy, not the time, decides
    later = ("2030-01-01T10:05:00+00", "2030-01-01T10:00:00.000Z") if policy == "notion_wins" \
        else ("2030-01-01T10:00:00+00", "2030-01-01T10:05:00.000Z")
    _both_edit_notes(root, example_database, later[1], later[0])
    run(root, "apply", "--auto-approve")
    assert company(example_database, "Acme")["notes"] == winner
    run(root, "plan", "--detailed-exitcode")


def test_a_manual_conflict_is_listed_left_alone_then_resolved_in_yaml(tmp_path: Path,
                                                                      example_database: str):
    root = project(tmp_path / "p", conflicts="manual", deals=False)
    run(root, "apply", "--auto-approve")
    create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Acme"}}]}})
    run(root, "apply", "--auto-approve")
    _both_edit_notes(root, example_database, "2030-01-01T10:00:00.000Z",
                     "2030-01-01T10:05:00+00")
    doc = plan_json(root)
    (manual,) = [c for c in doc["changes"] if c["kind"] == "sync_conflict"]
    assert manual["action"] == "manual" and manual["conflict"]["resolution"] == "manual"
    assert "resolve:" in manual["manual"]
    run(root, "apply", "--auto-approve")
    assert company(example_database, "Acme")["notes"] == "supabase says", "left alone"
    run(root, "plan", "--detailed-exitcode", code=2)  # still listed until resolved
    row = company(example_database, "Acme")["id"]
    spec = root / "schemas" / "supabase" / "companies.yaml"
    spec.write_text(spec.read_text().replace(
        "deletes: unlink}", "deletes: unlink, resolve: {" + row + ": {notes: notion}}}"))
    run(root, "apply", "--auto-approve")
    assert company(example_database, "Acme")["notes"] == "notion says"
    run(root, "plan", "--detailed-exitcode")


def test_a_row_edited_between_plan_and_apply_is_stale_and_not_overwritten(
        synced: Path, example_database: str):
    page = page_named(synced, "companies", "Globex")
    edit_page(synced, page["id"], {"Notes": text("notion edit")})
    out = synced / "plans" / "x.yaml"
    run(synced, "plan", "--out", str(out))
    sql(example_database, "UPDATE companies SET notes = 'edited after the plan' "
                          "WHERE name = 'Globex'")
    applied = run(synced, "apply", str(out), "--auto-approve")
    assert "edited after the plan" in applied.output
    assert company(example_database, "Globex")["notes"] == "edited after the plan"
    ledger = [json.loads(line) for line in
              (synced / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    assert any(e["status"] == "stale" and e["kind"] == "update_row" for e in ledger)
    doc = plan_json(synced)  # the next plan sees both edits: a conflict, by policy
    assert summary(doc)["conflicts"][0]["field"] == "notes"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Notion calls by method and path kind, and pages returned by queries."""
    counter: Counter = Counter()
    original = notion_client.Client.request

    def counting(self, path, method, *args, **kwargs):
        out = original(self, path, method, *args, **kwargs)
        counter[method.upper() + (" query" if path.endswith("/query") else " " +
                                  path.split("/")[0])] += 1
        if path.endswith("/query"):
            counter["pages read"] += len(out.get("results", []))
        return out

    monkeypatch.setattr(notion_client.Client, "request", counting)
    return counter


def test_a_second_run_writes_nothing_and_reads_only_changed_rows(synced: Path,
                                                                example_database: str,
                                                                counted: Counter):
    before = sql(example_database, "SELECT id, updated_at FROM companies ORDER BY id")
    counted.clear()
    again = run(synced, "apply", "--auto-approve")
    assert "No changes" in again.output
    assert counted["POST pages"] + counted["PATCH pages"] == 0
    assert sql(example_database, "SELECT id, updated_at FROM companies ORDER BY id") == before
    backdate_pages(synced)  # nothing edited since the last apply …
    set_updated(example_database, "companies", "true", "2020-01-01T00:00:00+00")
    page = page_named(synced, "companies", "Acme")
    edit_page(synced, page["id"], {"Score": {"number": 4}})  # … but this page
    counted.clear()
    doc = plan_json(synced)
    assert counted["pages read"] == 1, counted
    assert summary(doc)["read"] == {
        "notion": "incremental", "supabase": "incremental"}
    assert [c["address"].split(".")[2] for c in doc["changes"] if c["kind"] == "update_row"] \
        == ["companies"]
    from reconciler.apply.runner import read_all
    from reconciler.project.loader import load_project
    from reconciler.session import Session

    project_ = load_project(synced)
    with Session(project_, dict(os.environ)) as session:
        reads = read_all(project_, session.backends)
    companies = next(a for a in reads["supabase"].sync if a.endswith(".companies"))
    assert len(reads["supabase"].sync[companies].rows) == 0  # none edited since
    assert len(reads["notion"].sync[companies].pages) == 1


def test_relations_cross_as_page_ids_and_a_single_reference_as_a_foreign_key(
        synced: Path, example_database: str):
    acme = page_named(synced, "companies", "Acme")["id"]
    globex = page_named(synced, "companies", "Globex")["id"]
    create_page(synced, "deals", {"Deal": {"title": [{"text": {"content": "Big one"}}]},
                                  "Company": {"relation": [{"id": acme}]},
                                  "Partners": {"relation": [{"id": acme}, {"id": globex}]}})
    sql(example_database, "INSERT INTO deals (deal, won, company, partners) VALUES "
                          "('Small one', true, %s, %s)", [globex, [acme]])
    run(synced, "apply", "--auto-approve")
    (big,) = sql(example_database, "SELECT company::text, partners::text[] FROM deals "
                                   "WHERE deal = 'Big one'")
    assert big == (acme, sorted([acme, globex]))
    small = page_named(synced, "deals", "Small one")["properties"]
    assert [r["id"] for r in small["Company"]["relation"]] == [globex]
    assert small["Won"]["checkbox"] is True
    run(synced, "plan", "--detailed-exitcode")


def test_a_one_way_table_reverts_edits_made_on_its_copy(tmp_path: Path, example_database: str):
    root = project(tmp_path / "p", direction="notion_to_supabase", deals=False)
    run(root, "apply", "--auto-approve")
    create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Acme"}}]},
                                    "Notes": text("the source")})
    run(root, "apply", "--auto-approve")
    sql(example_database, "UPDATE companies SET notes = 'a local edit'")
    run(root, "apply", "--auto-approve")
    assert company(example_database, "Acme")["notes"] == "the source"
    run(root, "plan", "--detailed-exitcode")


def test_a_relation_kept_in_a_join_table_crosses_both_ways(tmp_path: Path, example_database: str):
    root = project(tmp_path / "p", extra=", relations: {Partners: {join_table: deal_partners}}")
    (root / "schemas" / "supabase" / "deal_partners.yaml").write_text(
        f"schema: {schema_of(example_database)}\ncolumns:\n"
        "  deal: {type: uuid, references: {table: deals, column: notion_page_id}}\n"
        "  company: {type: uuid, references: {table: companies, column: notion_page_id}}\n"
        "primary_key: [deal, company]\n")
    companies = root / "schemas" / "supabase" / "companies.yaml"  # only deals has Partners
    companies.write_text(companies.read_text().replace(
        ", relations: {Partners: {join_table: deal_partners}}", ""))
    run(root, "apply", "--auto-approve")
    columns = sql(example_database, "SELECT column_name FROM information_schema.columns "
                                    "WHERE table_name = 'deals' AND table_schema = current_schema()")
    assert ("partners",) not in columns, "the join table holds the relation"
    acme = create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Acme"}}]}})
    globex = create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Globex"}}]}})
    deal = create_page(root, "deals", {"Deal": {"title": [{"text": {"content": "Big"}}]},
                                       "Partners": {"relation": [{"id": acme}]}})
    run(root, "apply", "--auto-approve")
    assert sql(example_database, "SELECT deal::text, company::text FROM deal_partners") == \
        [(deal, acme)]
    sql(example_database, "INSERT INTO deal_partners VALUES (%s, %s)", [deal, globex])
    run(root, "apply", "--auto-approve")
    partners = page_named(root, "deals", "Big")["properties"]["Partners"]["relation"]
    assert sorted(r["id"] for r in partners) == sorted([acme, globex])
    run(root, "plan", "--detailed-exitcode")
