"""The pure two-way sync diff (`diff.sync`, `diff.sync_merge`, `diff.sync_values`): pairing,
the field-level three-way merge, echo suppression, conflicts, deletes, the circuit breaker and
values that cannot cross, on hand-made reads."""

from __future__ import annotations

import pytest

from reconciler.diff import sync_values as sv
from reconciler.diff.sync import SyncInput, diff_sync, row_id_for
from reconciler.diff.sync_merge import later_side
from reconciler.model.sync import (BaseRow, NotionSide, PostgresSide, SideRow, SyncField,
                                   SyncTable)

PAGE = "11111111-1111-4111-8111-111111111111"
ROW = "22222222-2222-4222-8222-222222222222"
FIELDS = (
    SyncField(column="name", property="Name", notion_type="title", column_type="text",
              nullable=False),
    SyncField(column="stage", property="Stage", notion_type="select", column_type="text",
              options=("Lead", "Client")),
    SyncField(column="tags", property="Tags", notion_type="multi_select", column_type="text[]"),
    SyncField(column="since", property="Since", notion_type="date", column_type="timestamptz"),
    SyncField(column="score", property="Score", notion_type="number", column_type="integer"),
)
BASE = {"name": "Acme", "stage": "Lead", "tags": ["a", "b"], "since": None, "score": 1}


def table(**fields) -> SyncTable:
    return SyncTable(address="supabase.public.companies", schema_name="public",
                     name="companies", database="companies", fields=FIELDS, **fields)


def notion(values: dict | None = None, stamp: str = "2030-01-01T10:00:00.000Z",
           **side) -> NotionSide:
    page = {"Name": "Acme", "Stage": "Lead", "Tags": ("b", "a"), "Since": None, "Score": 1}
    page |= values or {}
    return NotionSide(pages={PAGE: SideRow(PAGE, page, stamp=stamp)}, exists=True, **side)


def supabase(values: dict | None = None, stamp: str = "2030-01-01T10:00:30+00:00",
             base: bool = True, **side) -> PostgresSide:
    row = {"name": "Acme", "stage": "Lead", "tags": ["a", "b"], "since": None, "score": 1}
    row |= values or {}
    return PostgresSide(rows={ROW: SideRow(ROW, row, stamp=stamp, page=PAGE)}, keys={ROW: PAGE},
                        base=[BaseRow(row=ROW, page=PAGE, values=dict(BASE))] if base else [],
                        exists=True, **side)


def diff(t: SyncTable, n: NotionSide, s: PostgresSide, **kw):
    return diff_sync([SyncInput(t, n, s)], **kw)


def moved(result) -> dict[str, dict]:
    return {c.kind: dict(c.after.values) for c in result.changes if hasattr(c, "after")}


def test_equal_sides_matching_the_base_plan_nothing():
    result = diff(table(), notion(), supabase())
    assert result.changes == [] and result.summaries["supabase.public.companies"].unchanged == 1


def test_an_edit_on_one_side_flows_to_the_other_and_only_its_field():
    assert moved(diff(table(), notion({"Score": 7}), supabase()))["update_row"] == {"score": 7}
    assert moved(diff(table(), notion(), supabase({"stage": "Client"})))["update_page"] == \
        {"Stage": "Client"}


def test_what_came_back_from_the_other_system_is_no_edit():
    """Echo suppression: a date Notion keeps to the minute, a list in another order, an integral
    float are the values the base holds."""
    base = dict(BASE, since="2030-01-01T10:00+00:00")
    n = notion({"Since": {"start": "2030-01-01T11:00:00.000+01:00"}, "Score": 1.0})
    s = supabase({"since": "2030-01-01T10:00:42.5+00:00", "tags": ["b", "a"]})
    s.base = [BaseRow(row=ROW, page=PAGE, values=base)]
    assert diff(table(), n, s).changes == []


def test_different_fields_edited_on_both_sides_merge_without_conflict():
    result = diff(table(), notion({"Score": 7}), supabase({"stage": "Client"}))
    assert (moved(result)["update_row"], moved(result)["update_page"]) == \
        ({"score": 7}, {"Stage": "Client"})
    assert result.summaries["supabase.public.companies"].conflicts == ()
    base = next(c for c in result.changes if c.kind == "update_sync_base").pairs[0].values
    assert (base["score"], base["stage"]) == (7, "Client")


@pytest.mark.parametrize("notion_at, supabase_at, side", [
    ("2030-01-01T10:05:00.000Z", "2030-01-01T10:04:59+00:00", "notion"),
    ("2030-01-01T10:04:00.000Z", "2030-01-01T10:05:01+00:00", "supabase"),
    ("2030-01-01T10:05:00.000Z", "2030-01-01T10:05:59.999+00:00", "notion"),
], ids=["notion-later", "supabase-later", "same-minute"])
def test_latest_compares_minutes_and_a_tie_goes_to_notion(notion_at, supabase_at, side):
    assert later_side(notion_at, supabase_at)[0] == side
    result = diff(table(), notion({"Score": 7}, stamp=notion_at),
                  supabase({"score": 8}, stamp=supabase_at))
    (conflict,) = result.summaries["supabase.public.companies"].conflicts
    assert (conflict["notion"], conflict["supabase"], conflict["base"],
            conflict["resolution"]) == (7, 8, 1, side)
    kind = "update_row" if side == "notion" else "update_page"
    assert moved(result)[kind] == ({"score": 7} if side == "notion" else {"Score": 8})


def test_manual_leaves_the_field_alone_and_yaml_resolves_it():
    result = diff(table(conflicts="manual"), notion({"Score": 7}), supabase({"score": 8}))
    (change,) = [c for c in result.changes if c.kind == "sync_conflict"]
    assert change.conflict.field == "score" and "resolve:" in change.manual
    assert not [c for c in result.changes if c.kind in ("update_row", "update_page")]
    settled = diff(table(conflicts="manual", resolutions={ROW: {"score": "supabase"}}),
                   notion({"Score": 7}), supabase({"score": 8}))
    assert moved(settled)["update_page"] == {"Score": 8}


def test_a_one_way_table_reverts_its_copy():
    result = diff(table(direction="notion_to_supabase"), notion(), supabase({"score": 9}))
    assert moved(result)["update_row"] == {"score": 1}


def test_new_rows_on_each_side_and_a_page_created_for_a_row():
    s = supabase(base=False)
    s.keys[ROW] = None  # a row inserted in Supabase, no page yet
    s.rows[ROW] = SideRow(ROW, dict(s.rows[ROW].values), page=None)
    other = "33333333-3333-4333-8333-333333333333"
    n = NotionSide(pages={other: SideRow(other, {"Name": "Globex", "Score": 2})}, exists=True)
    result = diff(table(), n, s)
    kinds = sorted(c.kind for c in result.changes)
    assert kinds == ["create_page", "insert_row", "update_sync_base"]
    insert = next(c for c in result.changes if c.kind == "insert_row")
    assert insert.after.values["notion_page_id"] == other
    assert insert.after.key == row_id_for(f'notion.companies.page["{other}"]')
    pairs = next(c for c in result.changes if c.kind == "update_sync_base").pairs
    created = next(p for p in pairs if p.row == ROW)
    assert created.link and created.intent and created.page_ref.startswith("notion.companies.page")


def test_a_page_sent_by_a_killed_apply_is_found_by_its_intent_not_created_again():
    s = supabase(base=False)
    s.keys[ROW] = None
    s.rows[ROW] = SideRow(ROW, dict(s.rows[ROW].values), page=None)
    sent = {"name": "Acme", "stage": "Lead", "tags": ["a", "b"], "since": None, "score": 1}
    s.base = [BaseRow(row=ROW, page=None, state="pending", values=sent,
                      synced_at="2030-01-01T10:00:10+00:00")]
    n = notion(stamp="2030-01-01T10:00:00.000Z")
    n.pages[PAGE] = SideRow(PAGE, n.pages[PAGE].values, created="2030-01-01T10:00:00.000Z")
    result = diff(table(), n, s)
    assert [c.kind for c in result.changes] == ["update_sync_base"]
    (pair,) = result.changes[0].pairs
    assert (pair.row, pair.page, pair.link) == (ROW, PAGE, True)


@pytest.mark.parametrize("deletes, prune, kinds, summary", [
    ("unlink", False, ["update_sync_base"], ("unlinked", 1)),
    ("delete", False, [], ("pending_deletes", 1)),
    ("delete", True, ["delete_row", "update_sync_base"], ("unchanged", 0)),
])
def test_a_trashed_page_follows_the_delete_policy(deletes, prune, kinds, summary):
    n = NotionSide(trashed={PAGE}, exists=True, complete=False)
    result = diff(table(deletes=deletes), n, supabase(), prune=prune)
    assert sorted(c.kind for c in result.changes) == kinds
    assert getattr(result.summaries["supabase.public.companies"], summary[0]) == summary[1]


def test_the_circuit_breaker_trips_past_its_share_and_min_rows():
    rows = {f"{i:08d}-0000-4000-8000-000000000000": i for i in range(4)}
    s = PostgresSide(exists=True)
    n = NotionSide(exists=True)
    for row, i in rows.items():
        page = row.replace("-8000-", "-9000-")
        s.rows[row] = SideRow(row, {"name": f"r{i}", "score": 100}, page=page)
        s.keys[row] = page
        s.base.append(BaseRow(row=row, page=page, values={"name": f"r{i}", "score": i}))
        n.pages[page] = SideRow(page, {"Name": f"r{i}", "Score": i})
    tripped = diff(table(min_rows=1), n, s).summaries["supabase.public.companies"].breaker
    assert "4 of 4 row(s) in Notion" in tripped
    assert diff(table(min_rows=10), n, s).summaries["supabase.public.companies"].breaker is None


@pytest.mark.parametrize("values, phrase", [
    ({"stage": "Prospect"}, "closed vocabulary of 'Stage'"),
    ({"stage": "a,b"}, "cannot be a Notion option name"),
    ({"tags": [f"t{i}" for i in range(101)]}, "101 items"),
    ({"name": "x" * 200_001}, "rich text objects"),
])
def test_values_that_cannot_cross_to_notion_are_problems_naming_page_and_property(values, phrase):
    result = diff(table(), notion(), supabase(values))
    (problem,) = result.problems
    assert problem.startswith(f'notion.companies.page["{PAGE}"]: ') and phrase in problem


def test_values_that_cannot_cross_to_supabase_are_problems_naming_row_and_column():
    def check(value, column_type):
        if column_type == "integer" and isinstance(value, float):
            raise ValueError(f"needs an integer, got {value!r}")

    result = diff(table(), notion({"Score": 2.5, "Name": None}), supabase(), check_column=check)
    assert sorted(p.split(": ")[1] for p in result.problems) == ["name", "score"]
    assert all(p.startswith(f'supabase.public.companies.row["{ROW}"]') for p in result.problems)


def test_sync_forms_of_each_kind():
    date = SyncField(column="d", property="D", notion_type="date", column_type="date")
    assert sv.from_notion(date, {"start": "2030-01-02T23:30:00+02:00"}) == "2030-01-02"
    assert sv.to_notion(FIELDS[3], "2030-01-01T00:00+00:00") == {"start": "2030-01-01"}
    blob = SyncField(column="b", property="B", notion_type="rich_text", column_type="jsonb")
    assert sv.from_notion(blob, '{"a": 1}') == {"a": 1} == sv.from_supabase(blob, {"a": 1})
    assert sv.to_notion(blob, {"a": 1}) == '{"a": 1}'
    ref = SyncField(column="c", property="C", notion_type="relation", column_type="uuid",
                    relation="companies", single=True)
    assert sv.from_notion(ref, (PAGE.replace("-", ""),)) == PAGE
    assert sv.field_kind("checkbox", "text") is None


def test_a_copy_follows_its_source_when_a_row_or_page_is_gone():
    gone_page = diff(table(direction="supabase_to_notion"),
                     NotionSide(trashed={PAGE}, exists=True, complete=False),
                     supabase(stamp="2020-01-01T00:00:00+00:00"))
    create = next(c for c in gone_page.changes if c.kind == "create_page")
    assert create.after.values["Name"] == "Acme" and create.sync.direction == "to_notion"
    assert next(c for c in gone_page.changes if c.kind == "update_sync_base").pairs[0].link
    s = supabase()
    s.rows, s.keys = {}, {}
    gone_row = diff(table(direction="notion_to_supabase"), notion(), s)
    insert = next(c for c in gone_row.changes if c.kind == "insert_row")
    assert (insert.after.key, insert.after.values["notion_page_id"]) == (ROW, PAGE)
