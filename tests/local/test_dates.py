"""Regression: the local Notion stores dates the way Notion answers them (to the minute, the
time zone folded into the offset), so tests against it see what a real workspace returns."""

from __future__ import annotations

import pytest
from notion_client import APIResponseError

from tests.local.test_local_notion import make_db


@pytest.mark.parametrize("sent, read", [
    ({"start": "2026-06-27T06:57:51.462999", "time_zone": "Europe/London"},
     {"start": "2026-06-27T06:57:00.000+01:00", "end": None, "time_zone": None}),
    ({"start": "2024-11-25T14:08:00", "time_zone": "UTC"},
     {"start": "2024-11-25T14:08:00.000+00:00", "end": None, "time_zone": None}),
    ({"start": "2024-11-25T14:08:59Z", "end": "2024-11-26"},
     {"start": "2024-11-25T14:08:00.000+00:00", "end": "2024-11-26", "time_zone": None}),
    ({"start": "2021-01-01"}, {"start": "2021-01-01", "end": None, "time_zone": None}),
])
def test_dates_are_stored_as_notion_answers_them(notion, root, sent, read):
    _, ds = make_db(notion, root, props={"Name": {"title": {}}, "When": {"date": {}}})
    page = notion.pages.create(parent={"data_source_id": ds},
                               properties={"When": {"date": sent}})
    assert page["properties"]["When"]["date"] == read


def test_an_offset_with_a_time_zone_is_refused(notion, root):
    _, ds = make_db(notion, root, props={"Name": {"title": {}}, "When": {"date": {}}})
    with pytest.raises(APIResponseError) as info:
        notion.pages.create(parent={"data_source_id": ds}, properties={"When": {"date": {
            "start": "2024-11-25T14:08:00+01:00", "time_zone": "Europe/Berlin"}}})
    assert info.value.code == "validation_error"
