"""Finding a page again by its key after a create that may have committed (the retry lookup of
`backends.notion.execute`): the filter names the key property's own type, for every type a
content key may have (Notion refuses a filter of another type: a `rich_text` filter on a status
property), and finds the page through the real notion-client."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.backends.notion.convert import value_to_api
from reconciler.backends.notion.execute import key_filter
from reconciler.local import local_client, root_page_id
from reconciler.model.property_types import KEY_TYPES

KEYS = {"title": "A-1", "rich_text": "A-1", "number": "42", "select": "A-1", "status": "A-1",
        "url": "https://example.com/a", "email": "a@example.com", "phone_number": "+47 123"}
SETTINGS = {"select": {"options": [{"name": "A-1"}, {"name": "B-2"}]},
            "status": {"options": [{"name": "A-1"}, {"name": "B-2"}]}}


def test_every_key_type_has_a_value_here():
    assert set(KEY_TYPES) == set(KEYS)


@pytest.mark.parametrize("prop_type", sorted(KEYS))
def test_the_filter_names_the_key_type_and_finds_the_one_page(prop_type: str, tmp_path: Path):
    assert set(key_filter(prop_type, "Key", KEYS[prop_type])) == {"property", prop_type}
    notion = local_client(tmp_path / "notion", retry=False)
    props = {"Name": {"title": {}}} if prop_type != "title" else {}
    props["Key"] = {prop_type: SETTINGS.get(prop_type, {})}
    db = notion.databases.create(parent={"type": "page_id", "page_id": root_page_id(notion)},
                                 initial_data_source={"properties": props})
    source = db["data_sources"][0]["id"]
    other = "B-2" if prop_type in ("select", "status", "title", "rich_text") else None
    pages = {}
    for key in filter(None, (KEYS[prop_type], other)):
        value = float(key) if prop_type == "number" else key
        pages[key] = notion.pages.create(parent={"data_source_id": source}, properties={
            "Key": value_to_api(prop_type, value)})["id"]
    found = notion.data_sources.query(source, filter=key_filter(prop_type, "Key", KEYS[prop_type]))
    assert [p["id"] for p in found["results"]] == [pages[KEYS[prop_type]]]
