"""The property-type table (`model.property_types`) covers every type Notion sends, and every
layer that reads it agrees with it: the Notion backend's value readers and writers, the
`mirror:` column types, and the local Notion."""

from __future__ import annotations

import json

import pytest

from reconciler.backends.notion import convert
from reconciler.local import props as local_props
from reconciler.model.notion import Property
from reconciler.model.property_types import (
    KEY_TYPES, LIST_TYPES, PROPERTY_TYPES, TEXT_COLUMN_TYPES, TEXT_TYPES, WRITABLE_TYPES)
from reconciler.project.mirror import to_column


def _property_types_in(value, found: set[str]) -> None:
    """Every `type` of an entry of a data source's `properties` object in a response body."""
    if isinstance(value, dict):
        if value.get("object") == "data_source" and isinstance(value.get("properties"), dict):
            found.update(p.get("type") for p in value["properties"].values()
                         if isinstance(p, dict) and p.get("type"))
        for item in value.values():
            _property_types_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _property_types_in(item, found)


def test_every_property_type_in_the_recorded_sessions_has_a_row(cassettes):
    assert cassettes, "the recorded Notion sessions are part of the test suite"
    found: set[str] = set()
    for interactions in cassettes.values():
        for interaction in interactions:
            response = interaction.get("response", {})
            text = (response.get("body") or {}).get("string") or response.get("content")
            try:
                _property_types_in(json.loads(text), found)
            except (TypeError, ValueError):
                continue
    assert len(found) >= 20, found  # every type of mod_all_props_db is recorded
    assert found <= set(PROPERTY_TYPES), sorted(found - set(PROPERTY_TYPES))


def test_the_notion_backend_reads_every_type_and_writes_the_writable_ones():
    assert set(convert._READERS) == set(PROPERTY_TYPES)
    assert convert.WRITABLE_TYPES == WRITABLE_TYPES
    assert convert.READ_ONLY_TYPES == set(PROPERTY_TYPES) - WRITABLE_TYPES


def test_mirror_gives_each_type_its_column_type():
    for name, row in PROPERTY_TYPES.items():
        column = to_column(Property(name="X", type=name))
        assert (column.type if column else None) == row.postgres, name


def test_the_local_notion_knows_every_type():
    assert set(local_props.TYPES) == set(PROPERTY_TYPES)


def test_the_sets_derived_from_the_rows_are_the_lists_the_layers_kept_by_name():
    """These sets were literal lists in `project.content`, `project.sync`, `diff.sync_values`,
    `project.fields` and `project.formula_check`; the rows give them unchanged for the types of
    that time (a type added later joins them by its row alone)."""
    known = ("title", "rich_text", "number", "select", "multi_select", "status", "date",
             "people", "files", "checkbox", "url", "email", "phone_number", "formula",
             "relation", "rollup", "created_time", "created_by", "last_edited_time",
             "last_edited_by", "unique_id", "place", "verification", "button")
    assert set(known) <= set(PROPERTY_TYPES)

    def of(types):
        return tuple(t for t in types if t in known)

    assert of(KEY_TYPES) == ("title", "rich_text", "number", "select", "status", "url",
                             "email", "phone_number")  # in this order: the key error lists them
    assert set(of(TEXT_TYPES)) == {"title", "rich_text", "url", "email", "phone_number",
                                   "select", "status"}
    assert set(of(TEXT_COLUMN_TYPES)) == {"title", "rich_text", "url", "email", "phone_number",
                                          "select", "status", "unique_id"}
    assert set(of(LIST_TYPES)) == {"multi_select", "people", "relation", "files"}
    T, N, B, D = "text", "number", "boolean", "date"
    assert {n: PROPERTY_TYPES[n].formula for n in known if PROPERTY_TYPES[n].formula != "any"} == {
        "title": T, "rich_text": T, "url": T, "email": T, "phone_number": T, "select": T,
        "status": T, "multi_select": "list[text]", "number": N, "checkbox": B, "date": D,
        "created_time": D, "last_edited_time": D, "people": "list[person]",
        "created_by": "person", "last_edited_by": "person", "relation": "list[page]"}


def test_content_values_coerce_every_writable_type_by_its_value_form():
    from reconciler.project import values

    for name, row in PROPERTY_TYPES.items():
        if row.writable:
            assert row.value in values.FORMS, name
    assert set(values.BY_TYPE) <= WRITABLE_TYPES
    assert values.to_notion("phone_number", 42) == "42"  # text form: numbers become text
    assert values.to_notion("rich_text", ["a", "b"]) == "a\nb"
    with pytest.raises(ValueError, match="expects an e-mail address"):
        values.to_notion("email", "not an address")
    with pytest.raises(ValueError, match="cannot be written"):
        values.to_notion("url", "x" * 2001)
