"""Conformance: every data source and every data-source page in the real recorded Notion traffic
(tests/recordings, Notion-Version 2025-09-03) converts, and concrete recorded facts hold."""

from __future__ import annotations

import pytest

from reconciler.backends.notion.convert import row_from_page, value_from_api
from reconciler.backends.notion.schema import database_from_api
from reconciler.model.content import Row
from reconciler.model.notion import Database

from .conftest import Recorded, response_json, walk

ALL_PROPS_DS = "3839ce7b-60a4-802c-b152-000ba814957b"

#: NOTION-API.md Appendix A.1 (recorded in fixtures/mod_all_props_db.yaml), in response order.
ALL_PROPS_TYPES = [
    ("Text", "rich_text"), ("Files", "files"), ("Phone number", "phone_number"), ("URL", "url"),
    ("Button", "button"), ("Checkbox", "checkbox"), ("Multi-Select", "multi_select"),
    ("AI summary", "rich_text"), ("Created by", "created_by"), ("Rollup", "rollup"),
    ("AI custom", "rich_text"), ("Number", "number"), ("AI key info", "rich_text"),
    ("ID", "unique_id"), ("Select", "select"), ("Status", "status"),
    ("Relation two-way", "relation"), ("Formula", "formula"), ("Created time", "created_time"),
    ("Last edited time", "last_edited_time"), ("Place", "place"), ("Date", "date"),
    ("Relation", "relation"), ("Email", "email"), ("People", "people"),
    ("Last edited by", "last_edited_by"), ("Title", "title"),
]


def _is_row(obj: dict) -> bool:
    parent = obj.get("parent") or {}
    return obj.get("object") == "page" and parent.get("type") in ("data_source_id", "database_id")


@pytest.fixture(scope="module")
def converted(recorded_objects: list[Recorded]) -> dict[str, list[tuple[Recorded, object]]]:
    """Every recorded data source → Database and every data-source page → Row (no exception)."""
    out: dict[str, list] = {"data_sources": [], "pages": []}
    for rec in recorded_objects:
        where = f"{rec.file} #{rec.interaction}"
        if rec.obj["object"] == "data_source":
            try:
                db = database_from_api("k", None, rec.obj, database_name_for=lambda _id: None)
            except Exception as exc:  # pragma: no cover - the failure message is the point
                pytest.fail(f"database_from_api failed on {where}: {exc!r}")
            out["data_sources"].append((rec, db))
        elif _is_row(rec.obj):
            try:
                row = row_from_page(rec.obj)
            except Exception as exc:  # pragma: no cover
                pytest.fail(f"row_from_page failed on {where}: {exc!r}")
            out["pages"].append((rec, row))
    return out


def _data_source(converted, file_suffix: str, ds_id: str) -> tuple[Recorded, Database]:
    return next((rec, db) for rec, db in converted["data_sources"]
                if rec.file.endswith(file_suffix) and db.data_source_id == ds_id)


def _rows(converted, file_suffix: str) -> list[Row]:
    return [row for rec, row in converted["pages"] if rec.file.endswith(file_suffix)]


def test_every_recorded_data_source_and_page_converts(converted, cassettes) -> None:
    data_sources, pages = converted["data_sources"], converted["pages"]
    print(f"\nconverted {len(data_sources)} data sources and {len(pages)} pages "
          f"from {len(cassettes)} cassettes")
    assert len(cassettes) >= 50
    assert len(data_sources) >= 100
    assert len(pages) >= 500
    assert all(isinstance(db, Database) and db.data_source_id for _, db in data_sources)
    assert all(isinstance(row, Row) and row.id and row.data_source_id for _, row in pages)
    # the page values seen cover every type the recordings hold
    seen = {value["type"] for rec, _ in pages for value in rec.obj["properties"].values()}
    assert {"title", "rich_text", "number", "select", "multi_select", "status", "date", "people",
            "files", "checkbox", "url", "email", "phone_number", "relation", "formula", "rollup",
            "created_time", "created_by", "last_edited_time", "last_edited_by", "unique_id",
            "place", "button"} <= seen


def test_every_recorded_property_value_normalises_to_plain_data(converted) -> None:
    """Normalised values contain only JSON data: str, int, float, bool, None, tuple, dict."""
    def plain(value) -> bool:
        if isinstance(value, (tuple, list)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        return value is None or isinstance(value, (str, int, float, bool))
    for rec, row in converted["pages"]:
        assert set(row.values) == set(rec.obj["properties"])
        assert plain(row.values), (rec.file, rec.interaction)


def test_all_props_data_source(converted) -> None:
    """fixtures/mod_all_props_db.yaml: every property type (NOTION-API.md Appendix A.1)."""
    rec, _ = _data_source(converted, "fixtures/mod_all_props_db.yaml", ALL_PROPS_DS)
    db = database_from_api("all_props", None, rec.obj,
                           database_name_for={ALL_PROPS_DS: "all_props"}.get)
    assert db.title == "All Properties DB"
    assert db.description == ""
    assert db.id == "00000000-0000-4000-8000-000000000009"
    assert db.parent_page_id == "00000000-0000-4000-8000-000000000001"
    assert [(p.name, p.type) for p in db.properties] == ALL_PROPS_TYPES
    assert db.property("Title").id == "title"
    assert db.property("Phone number").id == "%3F~%5Cw"  # kept URL-encoded

    relation, two_way = db.property("Relation"), db.property("Relation two-way")
    assert relation.relation.database == "all_props"
    assert relation.relation.two_way and relation.relation.synced_property == "Relation two-way"
    assert two_way.relation.two_way and two_way.relation.synced_property == "Relation"

    assert db.property("Number").number_format == "dollar"
    select = db.property("Select")
    assert [(o.name, o.color, o.id) for o in select.options] == [
        ("Option1", "default", "1afcbc88-118b-4b7d-9f7e-715984b6bf37"),
        ("Option2", "red", "5dd65633-bb85-47ca-baf9-be4d800c498a"),
    ]
    assert [o.id for o in db.property("Multi-Select").options] == [
        "0a1263f2-e675-48f0-b60b-2cf6906cb64c", "af12f1e2-a65a-402d-ad82-bf58c9fed1f8"]
    assert [(o.name, o.color) for o in db.property("Status").options] == [
        ("Not started", "default"), ("In progress", "blue"), ("Done", "green")]
    rollup = db.property("Rollup").rollup
    assert (rollup.relation_property, rollup.rollup_property, rollup.function) == \
        ("Relation", "Title", "count")
    assert db.property("Formula").formula == (
        "={{notion:block_property:dDR%3B:3839ce7b-60a4-802c-b152-000ba814957b:"
        "00000000-0000-4000-8000-0000000000f0}}* 2")
    assert db.property("ID").unique_id_prefix is None
    assert db.property("Button").model_dump(exclude_defaults=True) == \
        {"name": "Button", "type": "button", "id": "ImzP"}

    undeclared = database_from_api("all_props", None, rec.obj, database_name_for=lambda _id: None)
    assert undeclared.property("Relation").relation.database == f"data_source:{ALL_PROPS_DS}"


def test_ui_only_verification_property_is_kept(converted) -> None:
    rec, db = _data_source(converted, "fixtures/mod_all_props_db.yaml",
                           next(db.data_source_id for r, db in converted["data_sources"]
                                if r.file.endswith("mod_all_props_db.yaml") and db.title == "Wiki DB"))
    verification = db.property("Verification")
    assert (verification.type, verification.id) == ("verification", "verification")


def test_database_and_data_source_together(cassette) -> None:
    """test_all_createable_props_schema.yaml: #26 is the database (PATCH description), #27 its
    data source; the title comes from the database, the ids from both."""
    interactions = cassette("test_schema/test_all_createable_props_schema.yaml")
    database, data_source = response_json(interactions[26]), response_json(interactions[27])
    db = database_from_api("schema_b", database, data_source,
                           database_name_for={"1315484a-cf2b-4960-ac11-5e61f700378c": "schema_a"}.get)
    assert (db.title, db.description) == ("Schema B", "Actual interesting schema/db")
    assert db.id == "72be4834-de15-4c26-b08c-60889f4636dc"
    assert db.data_source_id == "be2a87ac-f5d4-4dbb-a4f1-49dcde865ba5"
    assert db.parent_page_id == "00000000-0000-4000-8000-000000000001"
    assert db.property("Relation").relation.model_dump() == \
        {"database": "schema_a", "two_way": False, "synced_property": None}
    assert db.property("Relation two-way").relation.two_way
    assert db.property("ID").unique_id_prefix == "ALLCOLS634"
    assert db.property("Formula").formula.startswith("{{notion:block_property:")


def test_all_props_page_values(converted) -> None:
    """The page of NOTION-API.md Appendix A.2 (fixtures/mod_notion_cleanups.yaml)."""
    row = next(row for row in _rows(converted, "fixtures/mod_notion_cleanups.yaml")
               if row.id == "38b9ce7b-60a4-810a-a3e0-d0c7fde33f0c")
    assert row.data_source_id == ALL_PROPS_DS
    assert not row.in_trash and row.truncated == ()
    assert row.created_time == "2026-06-26T13:45:00.000Z"
    bot = "00000000-0000-4000-8000-0000000000f1"
    assert row.values == {
        "Text": "Text 2", "Files": (), "Phone number": None, "URL": None, "Button": None,
        "Checkbox": True, "Multi-Select": (), "AI summary": None, "Created by": bot,
        "Rollup": 0, "AI custom": None, "Number": 2, "AI key info": None, "ID": "3",
        "Select": None, "Status": "Not started", "Relation two-way": (), "Formula": None,
        "Created time": "2026-06-26T13:45:00.000Z", "Last edited time": "2026-06-26T13:45:00.000Z",
        "Place": None, "Date": None, "Relation": (), "Email": None, "People": (),
        "Last edited by": bot, "Title": "Item 2",
    }


def test_relation_beyond_25_references_is_truncated(cassette) -> None:
    """#39: a page with 30 related pages comes back with 25 and `has_more: true` (§4.3)."""
    interactions = cassette("test_page/test_more_than_max_refs_per_relation_property.yaml")
    page = response_json(interactions[39])
    row = row_from_page(page)
    name = next(n for n, v in page["properties"].items() if v.get("has_more"))
    assert row.truncated == (name,)
    assert len(row.values[name]) == 25
    full = response_json(interactions[40])  # the property-item list: all 30
    assert len([i for i in full["results"] if i["type"] == "relation"]) == 30


def test_unique_id_with_prefix(converted) -> None:
    ids = {row.values.get("ID") for row in
           _rows(converted, "test_schema/test_all_createable_props_schema.yaml")}
    assert {"ALLCOLS634-1", "ALLCOLS634-2", "ALLCOLS634-3"} <= ids


def test_formula_values_of_every_result_type(converted) -> None:
    rows = _rows(converted, "test_query/test_query_formula.yaml")
    kinds = {name: set() for name in ("String", "Number", "Checkbox", "Date")}
    for row in rows:
        for name, found in kinds.items():
            if row.values.get(name) is not None:
                found.add(type(row.values[name]).__name__)
    assert kinds == {"String": {"str"}, "Number": {"int"}, "Checkbox": {"bool"}, "Date": {"dict"}}
    assert {"start": "2024-11-25T14:08:00.000+00:00"} in [row.values["Date"] for row in rows]


def test_rollup_values(converted) -> None:
    values = [v for row in _rows(converted, "test_query/test_query_rollup.yaml")
              for v in row.values.values()]
    assert ("Item 1",) in values  # show_original over a title: array of title items
    assert (42,) in values  # array of numbers
    assert ({"start": "2024-11-25T14:08:00.000+00:00"},) in values  # array of dates


def test_place_people_files_select_values(converted) -> None:
    places = [row.values["Location"] for row in _rows(converted, "test_schema/test_place_property.yaml")
              if row.values.get("Location")]
    assert {"lat": 52.52, "lon": 13.405, "address": "Berlin, Germany",
            "aws_place_id": "ChIJAVkDPzdOqEcRcDteW0YgIQQ",
            "google_place_id": "ChIJAVkDPzdOqEcRcDteW0"} in places
    all_values = [(name, value) for _, row in converted["pages"] for name, value in row.values.items()]
    assert ("Files", ({"name": "image", "url": "https://some-site.com/image.png"},)) in all_values
    assert ("People", ("00000000-0000-4000-8000-0000000000fa",)) in all_values
    assert ("Priority", "\u2739 High") in all_values


def test_trashed_page(cassette) -> None:
    interactions = cassette("test_page/test_delete_restore_page.yaml")
    states = [response_json(i).get("in_trash") for i in interactions]
    rows = [row_from_page(p) for i in interactions for p in walk(response_json(i))
            if p.get("object") == "page"]
    assert [r.in_trash for r in rows] == states
    assert True in states


def test_property_items_read_like_page_values(cassette) -> None:
    """obj_api/.../test_retrieve_property.yaml: single property items share the page value shape."""
    interactions = cassette("test_endpoints/test_retrieve_property.yaml",
                            base="ultimate-notion__ultimate-notion/tests/obj_api/cassettes")
    items = [response_json(i) for i in interactions]
    singles = [i for i in items if i and i.get("object") == "property_item"]
    assert singles
    for item in singles:
        value_from_api(item)
