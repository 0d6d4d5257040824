"""`properties_to_api` writes what Notion was recorded accepting, and reading a live data source then
writing it back keeps option ids (recordings: ultimate-notion test_schema/*, NOTION-API.md §1.2, §3)."""

from __future__ import annotations

import copy

import pytest

from reconciler.backends.notion.schema import (
    database_from_api,
    plain_text,
    properties_to_api,
    property_to_api,
)
from reconciler.model.notion import Property, Relation, Rollup, SelectOption

from .conftest import request_json, response_json

SCHEMA_A_DS = "1315484a-cf2b-4960-ac11-5e61f700378c"
ALL_CREATABLE = "test_schema/test_all_createable_props_schema.yaml"
TYPE_ATTRS = "test_schema/test_update_prop_type_attrs.yaml"

_OPTIONS = (SelectOption(name="Option1"), SelectOption(name="Option2", color="red"))

#: "Schema B" of test_all_createable_props_schema.yaml, declared as model properties.
SCHEMA_B = (
    Property(name="Checkbox", type="checkbox"),
    Property(name="Created by", type="created_by"),
    Property(name="Created time", type="created_time"),
    Property(name="Date", type="date"),
    Property(name="Email", type="email"),
    Property(name="Files", type="files"),
    Property(name="Formula", type="formula", formula='prop("Number") * 2'),
    Property(name="Last edited by", type="last_edited_by"),
    Property(name="Last edited time", type="last_edited_time"),
    Property(name="Multi-select", type="multi_select", options=_OPTIONS),
    Property(name="Number", type="number", number_format="dollar"),
    Property(name="People", type="people"),
    Property(name="Phone number", type="phone_number"),
    Property(name="Relation", type="relation", relation=Relation(database="schema_a")),
    Property(name="Relation two-way", type="relation",
             relation=Relation(database="schema_a", two_way=True)),
    Property(name="Rollup", type="rollup",
             rollup=Rollup(relation_property="Relation", rollup_property="Name", function="count")),
    Property(name="Select", type="select", options=_OPTIONS),
    Property(name="Text", type="rich_text"),
    Property(name="Title", type="title"),
    Property(name="URL", type="url"),
    Property(name="ID", type="unique_id", unique_id_prefix="ALLCOLS634"),
)


def _data_source_id_for(key: str) -> str:
    return {"schema_a": SCHEMA_A_DS}[key]


def _recorded_config(entry: dict) -> dict:
    """A recorded request entry without the `id`/`name` echo ultimate-notion adds, with option
    colours made explicit (an option sent without colour gets `default`, see #29's response)."""
    entry = {k: v for k, v in copy.deepcopy(entry).items() if k not in ("id", "name")}
    for option in (entry.get(entry["type"]) or {}).get("options", ()):
        option.setdefault("color", "default")
    return entry


@pytest.fixture(scope="module")
def create_body(cassettes) -> dict:
    interactions = cassettes[f"ultimate-notion__ultimate-notion/tests/cassettes/{ALL_CREATABLE}"]
    body = request_json(interactions[25])
    assert plain_text(body["title"]) == "Schema B"
    return body["initial_data_source"]["properties"]


def test_schema_b_covers_every_recorded_property(create_body) -> None:
    assert {p.name for p in SCHEMA_B} == set(create_body)


@pytest.mark.parametrize("prop", SCHEMA_B, ids=lambda p: p.type + ":" + p.name)
def test_create_body_has_the_recorded_shape(prop: Property, create_body) -> None:
    """Request #25 (POST /v1/databases, every creatable type): same keys and configs."""
    key, config = property_to_api(prop, data_source_id_for=_data_source_id_for)
    assert key == prop.name  # no id yet: written by name
    assert config == _recorded_config(create_body[prop.name])


def test_properties_to_api_is_the_whole_create_body(create_body) -> None:
    body = properties_to_api(SCHEMA_B, data_source_id_for=_data_source_id_for)
    assert list(body) == [p.name for p in SCHEMA_B]
    assert body == {name: _recorded_config(entry) for name, entry in create_body.items()}


def test_place_create_body(cassette) -> None:
    """test_place_property.yaml #0: `{"type":"place","place":{}}`."""
    recorded = request_json(cassette("test_schema/test_place_property.yaml")[0])
    body = properties_to_api([Property(name="Name", type="title"),
                              Property(name="Location", type="place")],
                             data_source_id_for=_data_source_id_for)
    assert body == recorded["initial_data_source"]["properties"]


def test_live_schema_written_back_keeps_option_ids(cassette, create_body) -> None:
    """#29 is Schema B as Notion returns it: writing it back sends each option with its id and
    otherwise the configs that created it (formula excepted: Notion rewrote the expression)."""
    live = response_json(cassette(ALL_CREATABLE)[29])
    db = database_from_api("schema_b", None, live, database_name_for={SCHEMA_A_DS: "schema_a"}.get)
    body = properties_to_api(db.properties, data_source_id_for=_data_source_id_for)
    by_name = {p.name: p for p in db.properties}
    assert set(body) == {p.id for p in db.properties}  # keyed by property id once known
    assert by_name["Title"].id == "title"
    for name, entry in create_body.items():
        ours = body[by_name[name].id]
        kind = entry["type"]
        if kind in ("select", "multi_select"):
            recorded_ids = [o["id"] for o in live["properties"][name][kind]["options"]]
            assert [o["id"] for o in ours[kind]["options"]] == recorded_ids
            assert [{k: o[k] for k in ("name", "color")} for o in ours[kind]["options"]] == \
                _recorded_config(entry)[kind]["options"]
        elif kind == "formula":
            assert ours["formula"]["expression"] == live["properties"][name]["formula"]["expression"]
        else:
            assert ours == _recorded_config(entry), name


def test_all_props_roundtrip_keeps_option_ids(cassette) -> None:
    """Every type of fixtures/mod_all_props_db.yaml, status included; UI-only types give `{}`."""
    result = response_json(cassette("fixtures/mod_all_props_db.yaml")[0])
    live = next(ds for ds in result["results"] if plain_text(ds["title"]) == "All Properties DB")
    db = database_from_api("all_props", None, live, database_name_for=lambda _id: None)
    body = properties_to_api(db.properties, data_source_id_for=_data_source_id_for)
    for name, schema in live["properties"].items():
        ours = body[schema["id"]]
        assert ours["type"] == schema["type"]
        options = (schema.get(schema["type"]) or {}).get("options")
        if options is not None:
            assert [(o["id"], o["name"], o["color"]) for o in ours[schema["type"]]["options"]] == \
                [(o["id"], o["name"], o["color"]) for o in options]
    assert body["ImzP"] == {"type": "button", "button": {}}
    assert body["rulX"] == {"type": "place", "place": {}}
    # an undeclared relation target is written back to the same data source
    assert body["v_%5D%3C"]["relation"] == {"type": "dual_property", "dual_property": {},
                                            "data_source_id": live["id"]}


@pytest.mark.parametrize(("before", "request_index", "change"), [
    (32, 33, lambda p: p.model_copy(update={"options": p.options + (SelectOption(name="Cat3", color="red"),)})),
    (36, 37, lambda p: p.model_copy(update={"options": p.options + (SelectOption(name="Cat3", color="red"),)})),
    (27, 28, lambda p: p.model_copy(update={"number_format": "percent"})),
    (29, 30, lambda p: p.model_copy(update={"number_format": "euro"})),
    (18, 19, lambda p: p.model_copy(update={"relation": p.relation.model_copy(
        update={"two_way": False, "synced_property": None})})),
], ids=["add select option", "add multi_select option", "number format", "number format 2",
        "dual to single relation"])
def test_schema_updates_match_recorded_patches(cassette, before, request_index, change) -> None:
    """test_update_prop_type_attrs.yaml: read the live schema, change one property, and the PATCH
    entry is the one recorded (ultimate-notion's `id`/`name` echo aside)."""
    interactions = cassette(TYPE_ATTRS)
    live = response_json(interactions[before])
    (name, entry), = request_json(interactions[request_index])["properties"].items()
    db = database_from_api("c", None, live, database_name_for=lambda _id: None)
    updated = change(db.property(name))
    key, config = property_to_api(updated, data_source_id_for=_data_source_id_for)
    assert key == entry["id"]
    assert config == _recorded_config(entry)


def test_unique_id_prefix_update(cassette) -> None:
    """test_update_unique_id_prop.yaml #40: prefix change; `{}` when no prefix is declared."""
    entry = request_json(cassette("test_schema/test_update_unique_id_prop.yaml")[40])["properties"]["ID"]
    prop = Property(name="ID", type="unique_id", id=entry["id"], unique_id_prefix="NEWID11520")
    assert property_to_api(prop, data_source_id_for=_data_source_id_for) == \
        (entry["id"], _recorded_config(entry))
    assert property_to_api(prop.model_copy(update={"unique_id_prefix": None}),
                           data_source_id_for=_data_source_id_for)[1] == \
        {"type": "unique_id", "unique_id": {}}


def test_description_and_explicit_key() -> None:
    prop = Property(name="Notes", type="rich_text", id="abc", description="Free text")
    assert property_to_api(prop, data_source_id_for=_data_source_id_for, key="Notes") == \
        ("Notes", {"type": "rich_text", "rich_text": {}, "description": "Free text"})
    option = SelectOption(name="A", color="blue", description="first", id="o1")
    assert property_to_api(Property(name="S", type="select", options=(option,)),
                           data_source_id_for=_data_source_id_for)[1]["select"] == \
        {"options": [{"name": "A", "color": "blue", "description": "first", "id": "o1"}]}


@pytest.mark.parametrize("prop", [
    Property(name="R", type="relation"),
    Property(name="U", type="rollup"),
    Property(name="F", type="formula"),
])
def test_missing_settings_raise_value_error(prop: Property) -> None:
    with pytest.raises(ValueError, match=prop.name):
        property_to_api(prop, data_source_id_for=_data_source_id_for)


def test_two_properties_under_one_key_raise() -> None:
    with pytest.raises(ValueError, match="same key"):
        properties_to_api([Property(name="A", type="url", id="x"),
                           Property(name="B", type="url", id="x")],
                          data_source_id_for=_data_source_id_for)


def test_unknown_type_is_read_and_written_without_config() -> None:
    live = {"object": "data_source", "id": "ds", "title": [], "parent": {"type": "database_id",
            "database_id": "db"}, "properties": {"Loc": {"id": "q", "name": "Loc", "type": "location",
                                                          "location": {"some": "thing"}}}}
    db = database_from_api("k", None, live, database_name_for=lambda _id: None)
    assert db.properties == (Property(name="Loc", type="location", id="q"),)
    assert db.id == "db" and db.title == "" and db.parent_page_id is None
    assert properties_to_api(db.properties, data_source_id_for=_data_source_id_for) == \
        {"q": {"type": "location", "location": {}}}
