"""The local Notion behaves as the real one where the recordings and NOTION-API.md say how (issue 14,
points 1-6). Each test names its source: a recording (REC:…, file and interaction) or a NOTION-API.md
section. All go through the real notion-client."""

from __future__ import annotations

import pytest

from tests.local.test_local_notion import error_of, make_db, text


def _row(notion, ds: str, **props) -> dict:
    return notion.pages.create(parent={"data_source_id": ds}, properties=props)


# -- 1. writes under a trashed ancestor ------------------------------------------------------------
def test_writes_under_a_trashed_page_answer_404_while_reads_still_work(notion, root):
    """A database under a trashed ancestor page "reads as alive but refuses every write", and Notion
    answers 404 object_not_found blaming sharing (NOTION-API.md §1.4, from NS:README.md)."""
    parent = notion.pages.create(parent={"page_id": root}, properties={"title": {"title": text("Parent")}})
    db, ds = make_db(notion, parent["id"], props={"Name": {"title": {}}, "N": {"number": {}}})
    row = _row(notion, ds, Name={"title": text("r")})
    notion.blocks.delete(parent["id"])
    assert notion.databases.retrieve(db["id"])["in_trash"] is False
    assert notion.data_sources.query(ds)["results"][0]["id"] == row["id"]
    writes = {
        "property": lambda: notion.data_sources.update(ds, properties={"M": {"number": {}}}),
        "row create": lambda: _row(notion, ds, Name={"title": text("s")}),
        "row update": lambda: notion.pages.update(row["id"], properties={"N": {"number": 1}}),
        "database": lambda: notion.databases.update(db["id"], title=text("Renamed")),
        "database create": lambda: make_db(notion, parent["id"], "Another"),
        "data source create": lambda: notion.data_sources.create(parent={"database_id": db["id"]}, title=text("B")),
    }
    for what, write in writes.items():
        err = error_of(write)
        assert (err.status, err.code) == (404, "object_not_found"), what
        assert "shared with your integration" in str(err), what
    notion.pages.update(parent["id"], in_trash=False)
    assert notion.pages.update(row["id"], properties={"N": {"number": 1}})["properties"]["N"]["number"] == 1


# -- 2. a date-only start with a time zone -----------------------------------------------------------
def test_a_date_only_start_with_a_time_zone_is_refused(notion, root):
    """"If time_zone is given, start/end must have a time and no UTC offset" (NOTION-API.md §2, Dates;
    DOC26:page-property-values): a date-only start with a time zone → 400 validation_error."""
    _, ds = make_db(notion, root, props={"Name": {"title": {}}, "When": {"date": {}}})
    err = error_of(_row, notion, ds, When={"date": {"start": "2026-06-27", "time_zone": "Europe/London"}})
    assert (err.status, err.code) == (400, "validation_error")
    ok = _row(notion, ds, When={"date": {"start": "2026-06-27T10:00:00", "time_zone": "Europe/London"}})
    assert ok["properties"]["When"]["date"]["start"] == "2026-06-27T10:00:00.000+01:00"


# -- 3. retyping converts values ------------------------------------------------------------------
RETYPE_SCHEMA = {"Name": {"title": {}}, "Num": {"number": {}}, "Sel": {"select": {"options": [{"name": "A"}]}},
                 "Multi": {"multi_select": {"options": [{"name": "A"}, {"name": "B"}]}},
                 "Yes": {"checkbox": {}}, "No": {"checkbox": {}}, "Amount": {"rich_text": {}},
                 "Pick": {"rich_text": {}}, "Choice": {"select": {"options": [{"name": "Red"}]}},
                 "Day": {"rich_text": {}}}


def test_retyping_converts_values_as_notion_does(notion, root):
    """NOTION-API.md §3.3 (matrix measured against API 2025-09-03, NS:core/change/typechange.go):
    number/select/multi_select/checkbox → rich_text keep their text (multi_select joined by ",",
    checkbox "Yes"/"No"); rich_text → number keeps a leading number; → select keeps values where an
    option of that name is declared; select → multi_select keeps the value; → date keeps ISO dates."""
    _, ds = make_db(notion, root, props=RETYPE_SCHEMA)
    kept = _row(notion, ds, Name={"title": text("kept")}, Num={"number": 42}, Sel={"select": {"name": "A"}},
                Multi={"multi_select": [{"name": "A"}, {"name": "B"}]}, Yes={"checkbox": True},
                Amount={"rich_text": text("12.5 kg")}, Pick={"rich_text": text("Green")},
                Choice={"select": {"name": "Red"}}, Day={"rich_text": text("2026-01-15")})
    lost = _row(notion, ds, Name={"title": text("lost")}, Amount={"rich_text": text("about ten")},
                Pick={"rich_text": text("Purple")}, Day={"rich_text": text("next Tuesday")})
    notion.data_sources.update(ds, properties={
        "Num": {"rich_text": {}}, "Sel": {"rich_text": {}}, "Multi": {"rich_text": {}}, "Yes": {"rich_text": {}},
        "No": {"rich_text": {}}, "Amount": {"number": {}},
        "Pick": {"select": {"options": [{"name": "Green"}]}}, "Choice": {"multi_select": {}},
        "Day": {"date": {}}})
    got = notion.pages.retrieve(kept["id"])["properties"]

    def plain(name):
        return "".join(t["plain_text"] for t in got[name]["rich_text"])

    assert [plain(n) for n in ("Num", "Sel", "Multi", "Yes", "No")] == ["42", "A", "A,B", "Yes", "No"]
    assert got["Amount"]["number"] == 12.5
    assert got["Pick"]["select"]["name"] == "Green"
    assert [o["name"] for o in got["Choice"]["multi_select"]] == ["Red"]
    assert got["Day"]["date"]["start"] == "2026-01-15"
    other = notion.pages.retrieve(lost["id"])["properties"]
    assert other["Amount"]["number"] is None and other["Pick"]["select"] is None and other["Day"]["date"] is None
    schema = notion.data_sources.retrieve(ds)["properties"]
    assert [o["name"] for o in schema["Pick"]["select"]["options"]] == ["Green"], "the API creates no option"


# -- 4. date precision -----------------------------------------------------------------------------
@pytest.mark.parametrize("condition, matched", [
    ("equals", True), ("before", False), ("after", False), ("on_or_before", True), ("on_or_after", True)])
def test_date_filters_compare_to_the_minute_as_recorded(notion, root, condition, matched):
    """REC:UN/test_query/test_date_query.yaml: a start written as 06:57:51.462999 (Europe/London) is stored
    as 06:57:00.000+01:00 (#3), and filters given 06:57:51.462999+01:00 treat it as the same moment:
    equals matches (#12), before/after do not (#13, #15), on_or_before/on_or_after do (#14, #16)."""
    _, ds = make_db(notion, root, props={"Name": {"title": {}}, "Date": {"date": {}}})
    _row(notion, ds, Name={"title": text("this week")},
         Date={"date": {"start": "2026-06-27T06:57:51.462999", "time_zone": "Europe/London"}})
    found = notion.data_sources.query(ds, filter={"property": "Date", "date": {
        condition: "2026-06-27T06:57:51.462999+01:00"}})["results"]
    assert bool(found) is matched


# -- 5. select options without the description -------------------------------------------------------
def test_changing_options_without_the_description_clears_it(notion, root):
    """"When changing select/multi_select settings, re-send the property-level description or it is
    cleared" (NOTION-API.md §3.4, DOC26:update-property-schema-object)."""
    _, ds = make_db(notion, root, props={"Name": {"title": {}}, "Tag": {
        "select": {"options": [{"name": "a"}]}, "description": "Kind of thing"}})
    kept = notion.data_sources.update(ds, properties={"Tag": {"select": {"options": [{"name": "a"}, {"name": "b"}]},
                                                              "description": "Kind of thing"}})
    assert kept["properties"]["Tag"]["description"] == "Kind of thing"
    cleared = notion.data_sources.update(ds, properties={"Tag": {"select": {"options": [{"name": "a"}]}}})
    assert cleared["properties"]["Tag"]["description"] is None
    renamed = notion.data_sources.update(ds, properties={"Tag": {"name": "Kind", "description": "again"}})
    renamed = notion.data_sources.update(ds, properties={"Kind": {"name": "Tag"}})
    assert renamed["properties"]["Tag"]["description"] == "again", "a rename alone keeps it (§3.1)"


# -- 6. smaller points ------------------------------------------------------------------------------
def test_rollup_property_ids_are_returned_decoded(notion, root):
    """Notion returns rollup ids decoded (``"relation_property_id": "v_]<"``, while the property's own
    id is ``"v_%5D%3C"``: NOTION-API.md A.1, REC:UN/fixtures/mod_all_props_db.yaml)."""
    _, ds = make_db(notion, root, props={"Name": {"title": {}}})
    for _ in range(20):  # property ids are random: make one that needs encoding
        schema = notion.data_sources.update(ds, properties={"Rel": {"relation": {
            "data_source_id": ds, "single_property": {}}}})["properties"]
        if "%" in schema["Rel"]["id"]:
            break
        notion.data_sources.update(ds, properties={"Rel": None})
    rel_id = schema["Rel"]["id"]
    assert "%" in rel_id
    schema = notion.data_sources.update(ds, properties={"Count": {"rollup": {
        "function": "count", "relation_property_name": "Rel", "rollup_property_name": "Name"}}})["properties"]
    from urllib.parse import unquote

    assert schema["Count"]["rollup"]["relation_property_id"] == unquote(rel_id)
    assert schema["Count"]["rollup"]["rollup_property_id"] == "title"


FORMULAS = {
    "Double": ('prop("N") * 2 + 1', {"type": "number", "number": 7}),
    "Label": ('concat(prop("Name"), "-", format(prop("N")))', {"type": "string", "string": "Item 1-3"}),
    "Big": ('if(prop("N") > 2, "big", "small")', {"type": "string", "string": "big"}),
    "Done": ('prop("Tags").includes("Done")', {"type": "boolean", "boolean": True}),
    "Count": ('prop("Tags").length()', {"type": "number", "number": 2}),
    "Same": ('prop("N") == 3 and prop("Ok")', {"type": "boolean", "boolean": True}),
    "When": ('prop("Date")', {"type": "date", "date": {"start": "2024-11-25T14:08:00.000+00:00", "end": None,
                                                       "time_zone": None}}),
    "Empty": ('prop("M") * 2', {"type": "number", "number": None}),
    # date functions (Notion's help page "Formula syntax & functions"): QA found them null
    "Later": ('dateAdd(prop("Date"), 1, "days")', {"type": "date", "date": {
        "start": "2024-11-26T14:08:00.000+00:00", "end": None, "time_zone": None}}),
    "Minutes": ('dateBetween(dateAdd(prop("Date"), 90, "minutes"), prop("Date"), "minutes")',
                {"type": "number", "number": 90}),
    "Months": ('dateBetween(prop("Date"), dateSubtract(prop("Date"), 2, "months"), "months")',
               {"type": "number", "number": 2}),
}


def test_formulas_are_evaluated_with_the_right_result_type(notion, root):
    """Formula values are typed by their result: ``{"type":"string","string":"Item 2"}`` for
    ``format(prop("Name"))``, ``{"type":"boolean",…}`` for ``.includes("Done")``, ``{"type":"number",…}``
    for ``.length()``, a date for a date property (REC:UN/test_query/test_query_formula.yaml #0-#1;
    NOTION-API.md §2 formula row)."""
    props = {"Name": {"title": {}}, "N": {"number": {}}, "M": {"number": {}}, "Ok": {"checkbox": {}},
             "Tags": {"multi_select": {"options": [{"name": "Done"}, {"name": "Doing"}]}}, "Date": {"date": {}}}
    props |= {name: {"formula": {"expression": expr}} for name, (expr, _) in FORMULAS.items()}
    _, ds = make_db(notion, root, props=props)
    page = _row(notion, ds, Name={"title": text("Item 1")}, N={"number": 3}, Ok={"checkbox": True},
                Tags={"multi_select": [{"name": "Done"}, {"name": "Doing"}]},
                Date={"date": {"start": "2024-11-25T14:08:00", "time_zone": "UTC"}})
    got = {name: page["properties"][name]["formula"] for name in FORMULAS}
    assert got == {name: want for name, (_, want) in FORMULAS.items()}
    found = notion.data_sources.query(ds, filter={"property": "Label", "formula": {"string": {"starts_with": "Item"}}})
    assert [r["id"] for r in found["results"]] == [page["id"]]


def test_rollup_every_does_not_match_an_empty_relation(notion, root):
    """REC:UN/test_query/test_query_rollup.yaml #12: ``every`` ``starts_with "Item"`` returns the rows
    whose related titles all start with "Item", not the row with no related page; ``none`` does (#14)."""
    _, ds = make_db(notion, root, props={"Title": {"title": {}}})
    notion.data_sources.update(ds, properties={"Relation": {"relation": {"data_source_id": ds, "single_property": {}}}})
    notion.data_sources.update(ds, properties={"Rollup Title": {"rollup": {
        "function": "show_original", "relation_property_name": "Relation", "rollup_property_name": "Title"}}})
    one = _row(notion, ds, Title={"title": text("Item 1")})
    two = _row(notion, ds, Title={"title": text("Item 2")}, Relation={"relation": [{"id": one["id"]}]})

    def titles(sub):
        rows = notion.data_sources.query(ds, filter={"property": "Rollup Title", "rollup": sub})["results"]
        return sorted(r["id"] for r in rows)

    assert titles({"every": {"rich_text": {"starts_with": "Item"}}}) == [two["id"]]
    assert titles({"none": {"rich_text": {"is_empty": True}}}) == sorted([one["id"], two["id"]])


@pytest.mark.parametrize("prop, value", [("Link", {"url": ""}), ("Mail", {"email": ""}),
                                         ("Phone", {"phone_number": ""}),
                                         ("Files", {"files": [{"name": "x", "external": {"url": ""}}]})])
def test_empty_strings_are_refused_where_notion_refuses_them(notion, root, prop, value):
    """"Empty strings are not supported; use null" (NOTION-API.md §2, DOC:intro JSON conventions); an
    empty url answers 400 "…url should be … populated …, instead was `""`" (ISSUE:makenotion/notion-sdk-js#160)."""
    _, ds = make_db(notion, root, props={"Name": {"title": {}}, "Link": {"url": {}}, "Mail": {"email": {}},
                                         "Phone": {"phone_number": {}}, "Files": {"files": {}}})
    err = error_of(_row, notion, ds, **{prop: value})
    assert (err.status, err.code) == (400, "validation_error") and '`""`' in str(err)
    cleared = _row(notion, ds, **{prop: {next(iter(value)): None if prop != "Files" else []}})
    assert cleared["object"] == "page"


def test_a_database_icon_reaches_its_data_source(notion, root):
    """"Icon: writing it on the database updates database and data source" (NOTION-API.md §3.1,
    NS:README.md "Configuration")."""
    db, ds = make_db(notion, root)
    icon = {"type": "emoji", "emoji": "🚀"}
    assert notion.databases.update(db["id"], icon=icon)["icon"] == icon
    assert notion.data_sources.retrieve(ds)["icon"] == icon


def test_error_bodies_are_worded_as_recorded(notion, root):
    """404: ``… shared with your integration "<name>".`` with ``additional_data.integration_id`` (the bot)
    (REC:RA/test_build_request_error_integration.yaml #0, REC:UN/test_session/test_get_page_by_id.yaml #2);
    for users the capabilities hint (REC:UN/test_session/test_whoami_get_user.yaml #2); a malformed id:
    "path failed validation: path.page_id should be a valid uuid, instead was `"…"`."
    (REC:UN/test_cli/test_upload_invalid_page_uuid.yaml #0)."""
    import json

    bot = notion.users.me()
    missing = "00000000-0000-0000-0000-000000000000"
    err = error_of(notion.pages.retrieve, missing)
    assert str(err) == (f"Could not find page with ID: {missing}. Make sure the relevant pages and databases are "
                        f'shared with your integration "{bot["name"]}".')
    assert err.additional_data == {"integration_id": bot["id"]}
    user = error_of(notion.users.retrieve, "745e79dd-3e43-40de-9d51-39357c1c428f")
    assert "Make sure your integration has capabilities to read user information" in str(user)
    assert user.additional_data == {"integration_id": bot["id"]}
    bad = error_of(notion.pages.retrieve, "12345678-1234-1234-1234-123456789abc")
    assert str(bad) == ('path failed validation: path.page_id should be a valid uuid, instead was '
                        '`"12345678-1234-1234-1234-123456789abc"`.')
    assert "additional_data" not in json.loads(bad.body)


SAMPLES = {"number": ({"number": {}}, {"number": 42}, "42"), "url": ({"url": {}}, {"url": "https://x.example"},
                                                                     "https://x.example"),
           "select": ({"select": {"options": [{"name": "A"}]}}, {"select": {"name": "A"}}, "A"),
           "multi_select": ({"multi_select": {"options": [{"name": "A"}, {"name": "B"}]}},
                            {"multi_select": [{"name": "A"}, {"name": "B"}]}, "A,B"),
           "date": ({"date": {}}, {"date": {"start": "2026-01-15"}}, "2026-01-15"),
           "checkbox": ({"checkbox": {}}, {"checkbox": True}, "Yes"),
           "rich_text": ({"rich_text": {}}, {"rich_text": text("hello")}, "hello")}


def _lossless_pairs() -> list[tuple[str, str]]:
    from reconciler.diff.notion import LOSSLESS_RETYPES

    return sorted(LOSSLESS_RETYPES)


@pytest.mark.parametrize("before, after", _lossless_pairs())
def test_every_retype_the_plan_calls_lossless_keeps_the_value(notion, root, before, after):
    """The plan says "every value is kept" for these retypes (diff/notion.py LOSSLESS_RETYPES, from the
    NOTION-API.md §3.3 matrix): the local Notion keeps them too."""
    users = [u for u in notion.users.list()["results"] if u["type"] == "person"]
    schema, value, shown = SAMPLES.get(before) or ({"people": {}}, {"people": [{"id": users[0]["id"]}]},
                                                   users[0]["name"])
    _, ds = make_db(notion, root, props={"Name": {"title": {}}, "P": schema})
    page = _row(notion, ds, P=value)
    notion.data_sources.update(ds, properties={"P": {after: {}}})
    got = notion.pages.retrieve(page["id"])["properties"]["P"]
    if after == "multi_select":
        assert [o["name"] for o in got["multi_select"]] == [shown]
    elif after == "url":
        assert got["url"] == shown
    else:
        assert shown in "".join(t["plain_text"] for t in got["rich_text"])
