"""Page values: normalised value → `value_to_api` → the API's response shape → `value_from_api`
gives the value back (hypothesis), long text splits at 2000 characters (NOTION-API.md §4.2), and
wrong shapes raise `ValueError` and nothing else."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.backends.notion.convert import (
    MAX_SAFE_INTEGER,
    MAX_TEXT_LENGTH,
    READ_ONLY_TYPES,
    WRITABLE_TYPES,
    rich_text_to_api,
    row_from_page,
    value_from_api,
    value_to_api,
)

_ANNOTATIONS = {"bold": False, "italic": False, "strikethrough": False, "underline": False,
                "code": False, "color": "default"}


# --------------------------------------------------------------------------------------------
# a small imitation of how Notion answers a write (shapes of NOTION-API.md Appendix A.2)

def _text_response(items: list[dict]) -> list[dict]:
    return [{"type": "text", "text": {"content": i["text"]["content"], "link": None},
             "annotations": dict(_ANNOTATIONS), "plain_text": i["text"]["content"], "href": None}
            for i in items]


def _option_response(option: dict | None) -> dict | None:
    return None if option is None else {"id": "opt-" + option["name"][:8], "name": option["name"],
                                        "color": "default"}


def _date_response(date: dict | None) -> dict | None:
    return None if date is None else {"start": date["start"], "end": date.get("end"),
                                      "time_zone": date.get("time_zone")}


def _place_response(place: dict | None) -> dict | None:
    if place is None:
        return None
    keys = ("lat", "lon", "name", "address", "aws_place_id", "google_place_id")
    return {k: place.get(k) for k in keys}


_RESPONSE_SHAPES = {
    "title": _text_response,
    "rich_text": _text_response,
    "select": _option_response,
    "status": _option_response,
    "multi_select": lambda options: [_option_response(o) for o in options],
    "date": _date_response,
    "people": lambda users: [{"object": "user", "id": u["id"]} for u in users],
    "relation": lambda pages: [{"id": p["id"]} for p in pages],
    "place": _place_response,
}


def as_response(written: dict) -> dict:
    """A page write `{"type": t, t: payload}` as the page property value Notion returns."""
    kind = written["type"]
    shape = _RESPONSE_SHAPES.get(kind, lambda payload: payload)
    response = {"id": "prop", "type": kind, kind: shape(written[kind])}
    if kind == "relation":
        response["has_more"] = False
    return response


def roundtrip(kind: str, value: Any) -> Any:
    written = value_to_api(kind, value)
    json.dumps(written, allow_nan=False)  # a request body is JSON
    return value_from_api(as_response(written))


# --------------------------------------------------------------------------------------------
# strategies of normalised values

_uuid = st.uuids().map(str)
_text = st.text(min_size=1, max_size=300)
_option_name = st.text(min_size=1, max_size=100).filter(lambda s: "," not in s)
_iso_date = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.datetimes(timezones=st.just(dt.timezone.utc)).map(dt.datetime.isoformat),
)
_date = st.fixed_dictionaries(
    {"start": _iso_date},
    optional={"end": _iso_date, "time_zone": st.sampled_from(["Europe/Berlin", "America/New_York"])},
)
_finite = st.floats(allow_nan=False, allow_infinity=False)
_url = st.text(max_size=80).map(lambda path: "https://example.com/" + path)
_place = st.fixed_dictionaries(
    {"lat": _finite, "lon": _finite},
    optional={"name": _text, "address": _text, "aws_place_id": _text, "google_place_id": _text},
)

VALUES: dict[str, st.SearchStrategy] = {
    "title": st.text(min_size=1, max_size=5000),
    "rich_text": st.text(min_size=1, max_size=5000),
    "number": st.one_of(st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER), _finite),
    "select": _option_name,
    "status": _option_name,
    "multi_select": st.lists(_option_name, max_size=100, unique=True).map(tuple),
    "date": _date,
    "people": st.lists(_uuid, max_size=100).map(tuple),
    "relation": st.lists(_uuid, max_size=100).map(tuple),
    "files": st.lists(st.fixed_dictionaries({"name": _text, "url": _url}), max_size=5).map(tuple),
    "checkbox": st.booleans(),
    "url": st.one_of(_url, st.text(min_size=1, max_size=2000)),
    "email": st.text(min_size=1, max_size=100).map(lambda s: s + "@example.com"),
    "phone_number": st.text(min_size=1, max_size=200),
    "place": _place,
}

#: What `None` (clear) reads back as, per type.
CLEARED = {"title": None, "rich_text": None, "number": None, "select": None, "status": None,
           "multi_select": (), "date": None, "people": (), "relation": (), "files": (),
           "checkbox": False, "url": None, "email": None, "phone_number": None, "place": None}


def test_every_writable_type_has_a_strategy() -> None:
    assert set(VALUES) == set(WRITABLE_TYPES) == set(CLEARED)


@pytest.mark.parametrize("kind", sorted(VALUES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_value_roundtrip(kind: str, data: st.DataObject) -> None:
    value = data.draw(VALUES[kind], label=kind)
    assert roundtrip(kind, value) == value


@pytest.mark.parametrize("kind", sorted(CLEARED))
def test_none_clears(kind: str) -> None:
    assert roundtrip(kind, None) == CLEARED[kind]


def test_empty_string_is_a_clear() -> None:
    assert value_to_api("rich_text", "") == {"type": "rich_text", "rich_text": []}
    assert value_to_api("url", "") == {"type": "url", "url": None}


def test_lenient_inputs() -> None:
    """A date string or `datetime.date` is the start; a bare URL string is a file named by it."""
    assert roundtrip("date", "2026-09-15") == {"start": "2026-09-15"}
    assert roundtrip("date", dt.date(2026, 9, 15)) == {"start": "2026-09-15"}
    assert roundtrip("files", ["https://x.org/a.png"]) == \
        ({"name": "https://x.org/a.png", "url": "https://x.org/a.png"},)
    assert roundtrip("multi_select", ["a", "b"]) == ("a", "b")


# --------------------------------------------------------------------------------------------
# long text


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@settings(max_examples=15, deadline=None)
@given(st.text(min_size=MAX_TEXT_LENGTH + 1, max_size=9000))
def test_long_text_splits_into_pieces_of_at_most_2000(text: str) -> None:
    pieces = [item["text"]["content"] for item in rich_text_to_api(text)]
    assert len(pieces) >= 2 or _utf16(text) <= MAX_TEXT_LENGTH
    assert all(0 < _utf16(p) <= MAX_TEXT_LENGTH for p in pieces)
    assert "".join(pieces) == text
    assert roundtrip("rich_text", text) == text


def test_split_counts_like_notion_and_never_cuts_a_character() -> None:
    """Notion measures `content.length` in JavaScript (UTF-16 code units): an emoji counts two."""
    text = "a" * 1999 + "\U0001F600" + "b" * 10
    pieces = [item["text"]["content"] for item in rich_text_to_api(text)]
    assert pieces == ["a" * 1999, "\U0001F600" + "b" * 10]
    assert [len(p) for p in (item["text"]["content"] for item in rich_text_to_api("x" * 4000))] == \
        [2000, 2000]


def test_text_needing_more_than_100_pieces_is_refused() -> None:
    assert len(rich_text_to_api("x" * 200_000)) == 100
    with pytest.raises(ValueError, match="at most 100"):
        rich_text_to_api("x" * 200_001)


# --------------------------------------------------------------------------------------------
# wrong shapes

_anything = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
              st.binary(max_size=10), st.dates(), st.just(object())),
    lambda children: st.one_of(st.lists(children, max_size=4), st.tuples(children),
                               st.dictionaries(st.one_of(st.text(max_size=8), st.integers()),
                                               children, max_size=4)),
    max_leaves=10,
)


@pytest.mark.parametrize("kind", sorted(WRITABLE_TYPES))
@settings(max_examples=30, deadline=None)
@given(value=_anything)
def test_any_value_is_written_or_refused_with_value_error(kind: str, value: Any) -> None:
    try:
        written = value_to_api(kind, value)
    except ValueError as error:
        assert str(error)
    else:
        json.dumps(written, allow_nan=False)


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("title", 42, "string"),
    ("rich_text", ["a"], "string"),
    ("number", "8", "number"),
    ("number", True, "number"),
    ("number", float("nan"), "finite"),
    ("number", 2 ** 53, "exactly"),
    ("number", -10 ** 400, "exactly"),
    ("select", {"name": "x"}, "option name"),
    ("select", "a,b", "commas"),
    ("select", "x" * 101, "100 characters"),
    ("multi_select", "single", "list of option names"),
    ("multi_select", [str(i) for i in range(101)], "at most 100"),
    ("date", {"begin": "2026-01-01"}, "start"),
    ("date", 20260101, "ISO"),
    ("people", [1, 2], "id"),
    ("relation", "page-id", "list of ids"),
    ("files", [{"name": "n"}], "url"),
    ("checkbox", "yes", "true or false"),
    ("checkbox", 1, "true or false"),
    ("url", "x" * 2001, "2000"),
    ("email", "x" * 201, "200"),
    ("place", {"lat": "52"}, "lat"),
])
def test_wrong_shapes_raise_value_error(kind: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        value_to_api(kind, value)


@pytest.mark.parametrize("kind", sorted(READ_ONLY_TYPES | {"no_such_type"}))
def test_read_only_and_unknown_types_raise_value_error(kind: str) -> None:
    with pytest.raises(ValueError, match="read-only|unknown property type"):
        value_to_api(kind, "x")


def test_read_only_types_cover_the_computed_ones() -> None:
    assert {"formula", "rollup", "created_time", "created_by", "last_edited_time",
            "last_edited_by", "unique_id", "button", "verification"} <= READ_ONLY_TYPES


# --------------------------------------------------------------------------------------------
# reading odd values


@pytest.mark.parametrize(("prop_value", "expected"), [
    ({"type": "formula", "formula": {"type": "unsupported", "unsupported": {}}}, None),
    ({"type": "rollup", "rollup": {"type": "incomplete", "incomplete": {}, "function": "sum"}}, None),
    ({"type": "rollup", "rollup": {"type": "date", "date": {"start": "2026-01-01", "end": None,
                                                            "time_zone": None}}},
     {"start": "2026-01-01"}),
    ({"type": "unique_id", "unique_id": {"prefix": "TASK", "number": 7}}, "TASK-7"),
    ({"type": "unique_id", "unique_id": {"prefix": None, "number": 7}}, "7"),
    ({"type": "files", "files": [{"name": "f.pdf", "type": "file",
                                  "file": {"url": "https://s3/f.pdf", "expiry_time": "…"}}]},
     ({"name": "f.pdf", "url": "https://s3/f.pdf"},)),
    ({"type": "verification", "verification": {"state": "verified", "date": None,
                                                "verified_by": {"object": "user", "id": "u1"}}},
     {"state": "verified", "verified_by": "u1"}),
    ({"type": "button", "button": {}}, None),
    ({"type": "brand_new", "brand_new": {"x": 1}}, {"x": 1}),
    ({"id": "x"}, None),
])
def test_value_from_api_edge_cases(prop_value: dict, expected: Any) -> None:
    assert value_from_api(prop_value) == expected


def test_row_from_page_with_archived_only_and_no_parent() -> None:
    row = row_from_page({"object": "page", "id": "p", "archived": True, "properties": {}})
    assert (row.id, row.data_source_id, row.in_trash, row.values) == ("p", None, True, {})


def test_long_text_is_split_up_to_100_pieces_and_refused_beyond():
    from reconciler.backends.notion.convert import (
        MAX_RICH_TEXT_LENGTH, payload_problem, rich_text_problem)

    fits = "é" * MAX_RICH_TEXT_LENGTH
    assert rich_text_problem(fits) is None
    assert len(rich_text_to_api(fits)) == 100
    assert "need 101 rich text objects" in rich_text_problem(fits + "x")
    assert "need 101" in rich_text_problem("😀" * 100_001)  # counted in UTF-16 units
    with pytest.raises(ValueError, match="at most 100 in one value"):
        rich_text_to_api(fits + "x")
    types = {"A": "rich_text", "B": "rich_text", "C": "rich_text"}
    assert payload_problem(types, {"A": "x" * 190_000, "B": "y" * 190_000}) is None
    assert "Notion accepts request bodies of at most 500,000" in payload_problem(
        types, {"A": "x" * 190_000, "B": "y" * 190_000, "C": "z" * 190_000})
