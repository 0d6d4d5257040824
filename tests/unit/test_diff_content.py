"""The pure content diff: hashes first, only changed fields, lag counted, prune explicit."""

from __future__ import annotations

from reconciler.diff.content import ContentSchema, RowChanges, diff_content
from reconciler.model.changes import ArchivePage, CreatePage, UpdatePage
from reconciler.model.content import ContentSet, LiveRow, RowState, SourceRow, content_hash

TYPES = {"Name": "title", "Tags": "multi_select", "Score": "number", "Due": "date"}


def content(*rows: dict) -> ContentSet:
    return ContentSet(address="notion.t", key="Name", hash_field="Hash", rows=tuple(
        SourceRow(key=r["Name"], values=r, source="f.json") for r in rows))


def live_row(values: dict, *, hashed: bool = True) -> LiveRow:
    stored = dict(values, Hash=content_hash(values, exclude="Hash")) if hashed else dict(values)
    return LiveRow(values["Name"], "page-" + values["Name"], stored)


PAGES = RowChanges(CreatePage, UpdatePage, ArchivePage, "page", "property", {"database": "t"})


def target(**kw) -> ContentSchema:
    return ContentSchema(PAGES, field_types=TYPES, live_fields=frozenset(TYPES) | {"Hash"}, **kw)


def test_equal_hash_costs_no_comparison_and_no_change():
    row = {"Name": "a", "Score": 1, "Tags": ("x", "y")}
    changes, summary = diff_content(content(row), {"a": live_row(row)}, target())
    assert changes == [] and summary.unchanged == 1


def test_changed_row_writes_only_changed_fields():
    old = {"Name": "a", "Score": 1, "Tags": ("x", "y")}
    new = {"Name": "a", "Score": 2, "Tags": ("y", "x")}
    (change,), summary = diff_content(content(new), {"a": live_row(old)}, target())
    assert (change.kind, change.address) == ("update_page", 'notion.t.page["a"]')
    assert change.after.values == {"Score": 2}  # tag order is not a difference
    assert change.before == RowState(id="page-a", hash=content_hash(old, exclude="Hash"),
                                     values={"Score": 1})  # the stored hash: the ledger says it
    assert summary.update == 1


def test_dates_compare_as_instants():
    old = {"Name": "a", "Due": {"start": "2026-01-02T10:00:00.000+00:00"}}
    new = {"Name": "a", "Due": {"start": "2026-01-02T10:00:00Z"}}
    changes, _ = diff_content(content(new), {"a": live_row(old, hashed=False)}, target())
    assert changes == []


def test_new_rows_are_created_and_missing_fields_counted_as_lag():
    rows = content({"Name": "a", "Owner": "x"}, {"Name": "b", "Owner": "y"})
    changes, summary = diff_content(rows, {}, target())
    assert [c.kind for c in changes] == ["create_page", "create_page"]
    assert all(c.lagging == ("Owner",) for c in changes)
    assert summary.lag == {'notion.t.property["Owner"]': 2}


def test_gone_rows_are_archived_only_with_prune():
    live = {"gone": live_row({"Name": "gone"})}
    changes, summary = diff_content(content(), live, target())
    assert (changes, summary.not_in_source) == ([], 1)
    changes, summary = diff_content(content(), live, target(), prune=True)
    assert [(c.kind, c.address) for c in changes] == [("archive_page", 'notion.t.page["gone"]')]
    assert summary.archive == 1


def test_a_property_renamed_in_the_same_plan_is_read_under_its_old_name():
    live = {"a": live_row({"Name": "a", "Points": 3}, hashed=False)}
    changes, _ = diff_content(content({"Name": "a", "Score": 3}), live,
                              target(live_name=lambda f: "Points" if f == "Score" else f))
    assert changes == []
