"""Normal form round-trips through a real table: to_normal(read(write(from_normal(v)))) == v."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.backends.postgres.content import read_rows, write_rows
from reconciler.backends.postgres.values import (
    float32_value,
    from_normal,
    parse_type,
    to_normal,
)
from reconciler.model.postgres import Check, Column

pytestmark = pytest.mark.postgres

UTC = dt.timezone.utc
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXT = st.text(_chars, max_size=40)
SPECIALS = st.sampled_from(["NaN", "Infinity", "-Infinity"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 30, 10 ** 30)
    | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)


def _decimals(places: int, digits: int):
    bound = 10 ** (digits - places) - 1
    return st.decimals(-bound, bound, places=places, allow_nan=False,
                       allow_infinity=False).map(lambda d: to_normal(d, "numeric"))


#: column type → strategy over its normal form (None is added for every type).
TYPES = {
    "text": TEXT,
    "varchar(20)": st.text(_chars, max_size=20),
    "integer": st.integers(-2 ** 31, 2 ** 31 - 1),
    "bigint": st.integers(-2 ** 63, 2 ** 63 - 1),
    "smallint": st.integers(-2 ** 15, 2 ** 15 - 1),
    "numeric(12,3)": _decimals(3, 12) | st.integers(-10 ** 8, 10 ** 8),
    "numeric": st.integers(-10 ** 40, 10 ** 40) | _decimals(12, 40) | SPECIALS
    | st.floats(allow_nan=False, allow_infinity=False),
    "real": st.floats(width=32, allow_nan=False, allow_infinity=False).map(float32_value)
    | SPECIALS,
    "double precision": st.floats(allow_nan=False, allow_infinity=False) | SPECIALS,
    "boolean": st.booleans(),
    "date": st.dates().map(dt.date.isoformat),
    "timestamptz": st.datetimes(timezones=st.just(UTC)).map(dt.datetime.isoformat),
    "timestamp": st.datetimes().map(dt.datetime.isoformat),
    "uuid": st.uuids().map(str),
    "jsonb": JSON,
    "json": JSON,
    "text[]": st.lists(st.none() | TEXT, max_size=5),
    "integer[]": st.lists(st.none() | st.integers(-2 ** 31, 2 ** 31 - 1), max_size=5),
    "uuid[]": st.lists(st.none() | st.uuids().map(str), max_size=5),
    "status": st.sampled_from(["todo", "doing", "done"]),  # enum as text with a check
}


def _column(name: str) -> Column:
    return Column(name=name.replace(" ", "_").replace("(", "_").replace(")", "")
                  .replace(",", "_").replace("[]", "_arr"), type="text" if name == "status"
                  else name)


COLUMNS = {t: _column(t) for t in TYPES}


@pytest.fixture
def all_types(conn, make_table):
    from tests.postgres.conftest import converge

    table = make_table("all_types", Column(name="k", type="text", nullable=False),
                       *COLUMNS.values(), primary_key=("k",),
                       checks=(Check(name="all_types_status_check",
                                     expression="status IN ('todo', 'doing', 'done')"),))
    converge(conn, [table])
    conn.commit()
    return table


def _values():
    return st.fixed_dictionaries({COLUMNS[t].name: st.none() | s for t, s in TYPES.items()})


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(_values(), min_size=1, max_size=8))
def test_every_type_round_trips(conn, all_types, rows):
    keyed = {str(uuid.uuid4()): row for row in rows}
    assert write_rows(conn, all_types, "k", [{"k": k, **row} for k, row in keyed.items()]) \
        == len(keyed)
    names = [c.name for c in COLUMNS.values()]
    back = read_rows(conn, all_types, "k", names)
    for k, row in keyed.items():
        assert back[k] == row
    conn.rollback()


@pytest.mark.parametrize("pg_type, value", [
    ("numeric(10,2)", 1.5), ("numeric", "0.12345678901234567890123"), ("numeric", 10 ** 30),
    ("timestamptz", "2024-05-01T12:00:00.250000+00:00"), ("date", "2024-02-29"),
    ("text[]", ["a", None]), ("jsonb", {"a": [1, 2.5, None, "x"]}), ("real", 0.1),
    ("jsonb", {"a": "\\u0000 is text, not a NUL"}),
])
def test_from_normal_then_to_normal_without_server(pg_type, value):
    """The pure part: the Python values from_normal makes normalise back to the input."""
    assert to_normal(from_normal(value, pg_type).obj if pg_type == "jsonb"
                     else from_normal(value, pg_type), pg_type) == value


def test_offsets_are_normalised_to_utc(conn, all_types):
    write_rows(conn, all_types, "k", [{"k": "a", "timestamptz": "2024-05-01T14:30:00+02:00"}])
    assert read_rows(conn, all_types, "k", ["timestamptz"])["a"] == {
        "timestamptz": "2024-05-01T12:30:00+00:00"}


@pytest.mark.parametrize("value, pg_type, message", [
    (1.234, "numeric(10,2)", "3 decimal places"),
    (123456789, "numeric(10,2)", "digits before"),
    (0.123456789, "real", "reads back from real"),
    ("2024-05-01T12:00:00", "timestamptz", "no UTC offset"),
    ("2024-05-01T12:00:00Z", "timestamp", "has a UTC offset"),
    ("abc", "uuid", "not a UUID"),
    ("x" * 21, "varchar(20)", "do not fit in 20"),
    ("a\x00b", "text", "NUL"),
    (True, "integer", "needs an integer"),
    (2 ** 31, "integer", "out of range"),
    (1.5, "bigint", "needs an integer"),
    ("1", "boolean", "needs a bool"),
    (float("nan"), "double precision", "not JSON"),
    ({"a": float("inf")}, "jsonb", "not JSON"),
    ({1: "a"}, "jsonb", "not a str"),
    ("a", "text[]", "needs a list"),
    ("2024-13-01", "date", "not an ISO date"),
])
def test_wrong_shapes_raise_value_error(value, pg_type, message):
    with pytest.raises(ValueError, match=message) as info:
        from_normal(value, pg_type)
    assert str(info.value).startswith(pg_type)


def test_parse_type_accepts_aliases():
    assert parse_type("INT4") == ("integer", (), 0)
    assert parse_type("decimal(10, 2)[]") == ("numeric", (10, 2), 1)
    assert parse_type("timestamp with time zone") == ("timestamptz", (), 0)
