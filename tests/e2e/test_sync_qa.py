"""Two-way sync QA findings end to end (real notion-client on the local Notion, real Postgres):
a copy whose page was trashed is created again and never forgotten by incremental reads; a
relation to a page whose pair was unlinked stops the plan; `deletes: delete` with a join table
prunes in one go; the text plan shows deletes waiting for --prune."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.sync_helpers import example_database, sync_database  # noqa: F401
from tests.e2e.sync_helpers import (create_page, page_named, pages, plan_json, project, run,
                                    sql, summary, title)
from tests.e2e.sync_helpers import notion as notion_of



def names(url: str) -> list[str]:
    return [r[0] for r in sql(url, "SELECT name FROM companies ORDER BY name")]


# --- H1: a trashed copy comes back ------------------------------------------------------------


def test_a_page_trashed_under_supabase_to_notion_is_created_again(tmp_path: Path,
                                                                  example_database: str):
    root = project(tmp_path / "p", deals=False, direction="supabase_to_notion")
    run(root, "apply", "--auto-approve")
    sql(example_database, "INSERT INTO companies (name) VALUES ('Globex'), ('Hooli')")
    run(root, "apply", "--auto-approve")
    globex = page_named(root, "companies", "Globex")["id"]
    notion_of(root).pages.update(globex, in_trash=True)
    applied = run(root, "apply", "--auto-approve")
    assert "edited after the plan" not in applied.output
    assert sorted(title(p) for p in pages(root, "companies")) == ["Globex", "Hooli"]
    (page,) = sql(example_database, "SELECT notion_page_id::text FROM companies "
                                    "WHERE name = 'Globex'")
    assert page[0] == page_named(root, "companies", "Globex")["id"] != globex
    states = sql(example_database, "SELECT state, count(*) FROM reconciler.sync_base "
                                   "GROUP BY state")
    assert states == [("linked", 2)]
    doc = plan_json(root)
    assert summary(doc)["not_in_source"] == 0
    run(root, "plan", "--detailed-exitcode")


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def test_an_unfinished_create_is_read_again_however_old_its_row(tmp_path: Path,
                                                                example_database: str,
                                                                monkeypatch):
    """An apply killed after recording its page creates (`pending`) and before sending them;
    the row is not edited again (its `updated_at` long before the watermark): the next
    incremental plan still reads it and creates its page."""
    import pytest

    from reconciler.backends.postgres import sync_apply
    from tests.e2e.sync_helpers import set_updated

    root = project(tmp_path / "p", deals=False, direction="supabase_to_notion")
    run(root, "apply", "--auto-approve")
    sql(example_database, "INSERT INTO companies (name) VALUES ('Globex'), ('Hooli')")
    run(root, "apply", "--auto-approve")
    notion_of(root).pages.update(page_named(root, "companies", "Globex")["id"], in_trash=True)
    original = sync_apply.run_intents

    def dying(*args, **kwargs):
        original(*args, **kwargs)
        raise Killed()

    with monkeypatch.context() as patched:
        patched.setattr(sync_apply, "run_intents", dying)
        with pytest.raises(Killed):
            run(root, "apply", "--auto-approve", code=None)
    assert sql(example_database, "SELECT count(*) FROM reconciler.sync_base "
                                 "WHERE state = 'pending'") == [(1,)]
    set_updated(example_database, "companies", "true", "2020-01-01T00:00:00+00:00")
    doc = plan_json(root)
    assert summary(doc)["to_notion"]["create"] == 1 and summary(doc)["not_in_source"] == 0
    applied = run(root, "apply", "--auto-approve")
    assert sorted(title(p) for p in pages(root, "companies")) == ["Globex", "Hooli"], \
        applied.output
    run(root, "plan", "--detailed-exitcode")


# --- H2: a relation to a page no row has -------------------------------------------------------


JOIN = ", relations: {Partners: {join_table: deal_partners}}"


def _join_table(root: Path, url: str) -> None:
    """The deals ⇄ companies join table `deal_partners`, declared in its own file (the JOIN
    relation then lives on deals only)."""
    from tests.e2e.sync_helpers import schema_of

    (root / "schemas" / "supabase" / "deal_partners.yaml").write_text(
        f"schema: {schema_of(url)}\ncolumns:\n"
        "  deal: {type: uuid, references: {table: deals, column: notion_page_id}}\n"
        "  company: {type: uuid, references: {table: companies, column: notion_page_id}}\n"
        "primary_key: [deal, company]\n")
    companies = root / "schemas" / "supabase" / "companies.yaml"
    companies.write_text(companies.read_text().replace(JOIN, ""))


def relation_project(root: Path, url: str, *, join: bool) -> Path:
    """Companies and deals synced (deletes: unlink), Partners in a uuid[] column or a join
    table; Acme, Initech and the deals Big (company Initech) and Small synced."""
    root = project(root, extra=JOIN if join else "")
    if join:
        _join_table(root, url)
    run(root, "apply", "--auto-approve")
    for name in ("Acme", "Initech"):
        create_page(root, "companies", {"Name": {"title": [{"text": {"content": name}}]}})
    initech = page_named(root, "companies", "Initech")["id"]
    create_page(root, "deals", {"Deal": {"title": [{"text": {"content": "Big"}}]},
                                "Company": {"relation": [{"id": initech}]}})
    create_page(root, "deals", {"Deal": {"title": [{"text": {"content": "Small"}}]}})
    run(root, "apply", "--auto-approve")
    sql(url, "DELETE FROM companies WHERE name = 'Acme'")
    applied = run(root, "apply", "--auto-approve")
    assert "unlink" in applied.output
    return root


import pytest  # noqa: E402


@pytest.mark.parametrize("prop, column, join", [
    ("Company", "company", False), ("Partners", "partners", False),
    ("Partners", "partners", True)], ids=["single-reference", "uuid-array", "join-table"])
def test_a_relation_to_a_page_whose_pair_was_unlinked_stops_the_plan(
        tmp_path: Path, example_database: str, prop: str, column: str, join: bool):
    from tests.e2e.sync_helpers import edit_page

    root = relation_project(tmp_path / "p", example_database, join=join)
    acme = page_named(root, "companies", "Acme")["id"]
    big = page_named(root, "deals", "Big")["id"]
    edit_page(root, big, {prop: {"relation": [{"id": acme}]}})
    edit_page(root, page_named(root, "deals", "Small")["id"], {"Won": {"checkbox": True}})
    before = [(title(p), p["last_edited_time"]) for p in pages(root, "companies")]
    failed = run(root, "apply", "--auto-approve", code=1)
    (row,) = sql(example_database, "SELECT id::text FROM deals WHERE deal = 'Big'")
    assert f'deals.row["{row[0]}"]: {column}: names page {acme}' in failed.output
    assert "unlinked" in failed.output and "Traceback" not in failed.output
    assert sql(example_database, "SELECT won FROM deals WHERE deal = 'Small'") == [(False,)], \
        "nothing was written"
    assert [(title(p), p["last_edited_time"]) for p in pages(root, "companies")] == before


# --- M1: deletes with join rows ----------------------------------------------------------------


def test_prune_deletes_rows_with_join_rows_in_one_go(tmp_path: Path, example_database: str):
    """deletes: delete with Partners in a join table: a trashed deal (its own links) and a
    trashed company (named by another deal's links) are deleted with their join rows, and the
    page of a deleted row is archived in the same apply."""
    root = project(tmp_path / "p", deletes="delete", extra=JOIN)
    _join_table(root, example_database)
    run(root, "apply", "--auto-approve")
    acme, initech = (create_page(root, "companies", {"Name": {"title": [{"text": {
        "content": name}}]}}) for name in ("Acme", "Initech"))
    big = create_page(root, "deals", {"Deal": {"title": [{"text": {"content": "Big"}}]},
                                      "Partners": {"relation": [{"id": initech}]}})
    create_page(root, "deals", {"Deal": {"title": [{"text": {"content": "Mid"}}]},
                                "Partners": {"relation": [{"id": acme}, {"id": initech}]}})
    create_page(root, "deals", {"Deal": {"title": [{"text": {"content": "Small"}}]}})
    run(root, "apply", "--auto-approve")
    assert sql(example_database, "SELECT count(*) FROM deal_partners") == [(3,)]
    notion = notion_of(root)
    notion.pages.update(big, in_trash=True)
    notion.pages.update(acme, in_trash=True)
    sql(example_database, "DELETE FROM deals WHERE deal = 'Small'")
    doc = plan_json(root, "--prune")
    deletes = [c for c in doc["changes"] if c["kind"] == "delete_row"]
    assert len(deletes) == 2
    assert any("deal_partners" in (c.get("note") or "") for c in deletes)
    applied = run(root, "apply", "--prune", "--allow-destroy", "--auto-approve")
    assert "foreign key" not in applied.output
    assert names(example_database) == ["Initech"]
    assert sql(example_database, "SELECT deal FROM deals ORDER BY deal") == [("Mid",)]
    assert [title(p) for p in pages(root, "deals")] == ["Mid"]
    assert sql(example_database, "SELECT company::text FROM deal_partners") == [(initech,)]


# --- M2: deletes waiting for --prune are shown ---------------------------------------------------


def test_the_plan_shows_deletes_waiting_for_prune(tmp_path: Path, example_database: str):
    root = project(tmp_path / "p", deals=False, deletes="delete")
    run(root, "apply", "--auto-approve")
    for name in ("Acme", "Initech"):
        create_page(root, "companies", {"Name": {"title": [{"text": {"content": name}}]}})
    sql(example_database, "INSERT INTO companies (name) VALUES ('Globex')")
    run(root, "apply", "--auto-approve")
    notion_of(root).pages.update(page_named(root, "companies", "Acme")["id"], in_trash=True)
    sql(example_database, "DELETE FROM companies WHERE name = 'Globex'")
    shown = run(root, "plan", "--detailed-exitcode", code=0)  # nothing is planned without --prune
    assert "in step" not in shown.output
    assert "2 delete(s) waiting for --prune" in shown.output
    assert "reconciler plan --prune" in shown.output
    out = root / "plans" / "waiting.yaml"
    run(root, "plan", "--out", str(out))
    markdown = run(root, "show", str(out), "--format", "markdown").output
    assert "2 delete(s) waiting for --prune" in markdown and "are in step" not in markdown
    assert summary(plan_json(root))["pending_deletes"] == 2
