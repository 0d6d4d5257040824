"""Postgres column values ⇄ content normal form (see `model.content.SourceRow`).

`to_normal` turns what psycopg returned for a column into plain JSON data; `from_normal` turns
such data into a value psycopg adapts for the column. They are inverse on the normal form, so a
row written from a desired `SourceRow` reads back equal and a converged table plans no content
change: `to_normal(<read back of from_normal(v, t)>, t) == v`.

Normal form per type (`pg_type` in any spelling `model.postgres.normalise_type` accepts):

| type                                         | normal form                                     |
|----------------------------------------------|-------------------------------------------------|
| text, varchar(n), char(n), citext, enums     | str (no NUL character; `varchar(n)` ≤ n chars)  |
| smallint, integer, bigint                    | int within the type's range                     |
| numeric(p,s)                                 | int when integral, else float when the float is |
|                                              | exactly the decimal, else the decimal as a str  |
| real, double precision                       | float (`real`: only values a float4 keeps)      |
| numeric/real/double specials                 | "NaN", "Infinity", "-Infinity" (JSON has none)  |
| boolean                                      | bool                                            |
| date                                         | "YYYY-MM-DD"                                    |
| timestamptz                                  | ISO date-time in UTC: "2024-05-01T12:00:00+00:00"|
|                                              | (".ffffff" when there are microseconds)         |
| timestamp                                    | ISO date-time without offset                    |
| time, timetz                                 | ISO time ("12:00:00", "12:00:00+02:00")         |
| uuid                                         | lower-case hyphenated str                       |
| json, jsonb                                  | the JSON value (dict, list, str, int, float, …) |
| bytea                                        | "\\x" + hex                                     |
| any of these + `[]`                          | list (elements as above, None for NULL)          |

None is SQL NULL for every type (so a jsonb `null` reads back as None too). `from_normal` is
lenient where nothing is lost (an ISO date-time with any offset for timestamptz, an integral float
for an integer column, a tuple for an array) and raises ValueError naming the type and the value
for anything that would be rejected by the server or read back different (1.234 for
numeric(10,2), 0.1234567 for real, a naive date-time for timestamptz, "abc" for uuid).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from psycopg.types.json import Json, Jsonb

from reconciler.model.column_values import has_nul
from reconciler.model.postgres import normalise_type

_INT_RANGES = {"smallint": 16, "integer": 32, "bigint": 64}
_TEXT = {"text", "character varying", "character", "citext"}
_SPECIALS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_PARSED = re.compile(r"^(?P<base>.*?)(?:\((?P<a>\d+)(?:,(?P<b>\d+))?\))?(?P<dims>(?:\[\])*)$")
#: Integral floats at or beyond this magnitude may not equal their shortest decimal spelling.
_EXACT_INT = 2 ** 53


def parse_type(pg_type: str) -> tuple[str, tuple[int, ...], int]:
    """`numeric(10,2)[]` → ("numeric", (10, 2), 1): canonical base, modifiers, array dims."""
    canonical = normalise_type(pg_type)
    m = _PARSED.match(canonical)
    assert m is not None  # the pattern matches every string
    mods = tuple(int(g) for g in (m.group("a"), m.group("b")) if g is not None)
    return m.group("base"), mods, m.group("dims").count("[")


def to_normal(value: Any, pg_type: str) -> Any:
    """The normal form of `value`, as psycopg returned it for a column of type `pg_type`."""
    base, mods, dims = parse_type(pg_type)
    return _to_normal(value, base, dims)


def _to_normal(value: Any, base: str, dims: int) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_to_normal(v, base, max(dims - 1, 0)) for v in value]
    if base in ("json", "jsonb"):
        return value  # psycopg's json loaders already returned plain JSON data
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return _decimal_normal(value)
    if isinstance(value, float):
        return _float_normal(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and base != "timestamp":
            return value.astimezone(dt.timezone.utc).isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _decimal_normal(d: Decimal) -> Any:
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "Infinity" if d > 0 else "-Infinity"
    if d == d.to_integral_value():
        return int(d)
    f = float(d)
    if Decimal(repr(f)) == d:
        return f
    return str(d)


def _float_normal(f: float) -> Any:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def from_normal(value: Any, pg_type: str) -> Any:
    """A value psycopg adapts for a column of type `pg_type`, from the normal form `value`.

    Returns str, int, Decimal, float, bool, date, datetime (aware for timestamptz), time, UUID,
    bytes, `Jsonb`/`Json`, or a list of these; None for None. Raises ValueError with the type and
    the offending value when `value` has the wrong shape or would not read back equal."""
    base, mods, dims = parse_type(pg_type)
    return _from_normal(value, base, mods, dims, pg_type)


def column_writer(pg_type: str) -> Callable[[Any], Any]:
    """`from_normal` for one column: the type is parsed once, here, and the function returned
    converts each value (writing N rows parses each column's type once, not N times: issue 15
    point 3). Raises what `from_normal` raises."""
    base, mods, dims = parse_type(pg_type)

    def general(value: Any) -> Any:
        return None if value is None else _from_normal(value, base, mods, dims, pg_type)

    if dims:
        return general
    if base in _TEXT and not mods:  # the common cases first, each kept to its cheapest checks
        def text(value: Any) -> Any:
            if value is None or type(value) is str and "\x00" not in value:
                return value
            return general(value)
        return text
    if base in _INT_RANGES:
        low, high = -(2 ** (_INT_RANGES[base] - 1)), 2 ** (_INT_RANGES[base] - 1)

        def integer(value: Any) -> Any:
            if type(value) is int and low <= value < high:
                return value
            return general(value)
        return integer
    if base == "date":
        def date(value: Any) -> Any:
            if type(value) is str and len(value) == 10:
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    pass
            return general(value)
        return date
    return general


def _from_normal(value: Any, base: str, mods: tuple[int, ...], dims: int, shown: str) -> Any:
    if value is None:
        return None
    if dims:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{shown} needs a list, got {_show(value)}")
        return [_from_normal(v, base, mods, dims - 1, shown) for v in value]
    try:
        convert = _CONVERTERS.get(base, _other)
        return convert(value, mods)
    except ValueError as exc:
        raise ValueError(f"{shown}: {exc}") from None
    except (TypeError, InvalidOperation, OverflowError):
        raise ValueError(f"{shown} cannot hold {_show(value)}") from None


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


def _need(value: Any, kinds: tuple[type, ...], what: str) -> None:
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise ValueError(f"needs {what}, got {_show(value)}")


def _text(value: Any, mods: tuple[int, ...]) -> str:
    _need(value, (str,), "a str")
    if "\x00" in value:
        raise ValueError("text cannot contain the NUL character (\\x00)")
    if mods and len(value) > mods[0]:
        raise ValueError(f"{len(value)} characters do not fit in {mods[0]}")
    return value


def _integer(bits: int):
    def convert(value: Any, mods: tuple[int, ...]) -> int:
        _need(value, (int, float), "an integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"needs an integer, got {value!r}")
            value = int(value)
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ValueError(f"{value} is out of range ({bits}-bit)")
        return value
    return convert


def _numeric(value: Any, mods: tuple[int, ...]) -> int | Decimal:
    if isinstance(value, str) and value in _SPECIALS:
        return Decimal(value)
    _need(value, (int, float, str), "a number (or a decimal str)")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not JSON; write it as \"NaN\"/\"Infinity\"")
        d = Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
        if not d.is_finite():
            raise ValueError(f"{value!r}: write specials as \"NaN\", \"Infinity\", \"-Infinity\"")
    else:
        d = Decimal(value)
    if mods:
        precision, scale = mods[0], (mods[1] if len(mods) > 1 else 0)
        sign, digits, exponent = d.normalize().as_tuple()
        places = max(-int(exponent), 0)
        if places > scale:
            raise ValueError(f"{value!r} has {places} decimal places; the column keeps {scale}")
        if d != 0 and d.adjusted() + 1 > precision - scale:
            raise ValueError(f"{value!r} has more than {precision - scale} digits before the "
                             "decimal point")
    return int(d) if isinstance(value, int) else d


def _float(width: int):
    def convert(value: Any, mods: tuple[int, ...]) -> float:
        if isinstance(value, str) and value in _SPECIALS:
            return _SPECIALS[value]
        _need(value, (int, float), "a number")
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(f"{value!r} is not JSON; write it as \"NaN\"/\"Infinity\"")
        if width == 32:
            kept = float32_value(f)
            if kept != f:
                raise ValueError(f"{value!r} reads back from real as {kept!r}; use a value a "
                                 "4-byte float keeps, or double precision / numeric")
        return f
    return convert


def float32_value(f: float) -> float:
    """The float a `real` column reads back for `f`: Postgres prints a float4 in its shortest
    exact form (docs §8.1.3, extra_float_digits ≥ 1) and psycopg parses that text."""
    try:
        packed = struct.unpack("f", struct.pack("f", f))[0]
    except OverflowError:
        raise ValueError(f"{f!r} is out of range for real") from None
    if math.isinf(packed):
        raise ValueError(f"{f!r} is out of range for real")
    for digits in range(1, 10):
        text = f"{packed:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == packed:
            return float(text)
    return packed  # pragma: no cover - 9 significant digits always round-trip a float4


def _boolean(value: Any, mods: tuple[int, ...]) -> bool:
    _need(value, (bool,), "a bool")
    return value


def _date(value: Any, mods: tuple[int, ...]) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    _need(value, (str,), "an ISO date str")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    _need(value, (str,), "an ISO date-time str")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date-time") from None


def _timestamptz(value: Any, mods: tuple[int, ...]) -> dt.datetime:
    result = _datetime(value)
    if result.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (add +00:00 or Z)")
    return result


def _timestamp(value: Any, mods: tuple[int, ...]) -> dt.datetime:
    result = _datetime(value)
    if result.tzinfo is not None:
        raise ValueError(f"{value!r} has a UTC offset; a timestamp column keeps none")
    return result


def _time(value: Any, mods: tuple[int, ...]) -> dt.time:
    if isinstance(value, dt.time):
        return value
    _need(value, (str,), "an ISO time str")
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO time") from None


def _uuid(value: Any, mods: tuple[int, ...]) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    _need(value, (str,), "a UUID str")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a UUID") from None


def _json_value(value: Any, path: str = "$") -> Any:
    """Check that `value` is JSON data; integral floats too large to spell exactly become ints
    (jsonb prints numbers in full, so 1e300 would read back as the integer 10**300)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} is not JSON")
        return int(value) if value.is_integer() and abs(value) >= _EXACT_INT else value
    if isinstance(value, (list, tuple)):
        return [_json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{path}: object key {k!r} is not a str")
            out[k] = _json_value(v, f"{path}.{k}")
        return out
    raise ValueError(f"{path}: {_show(value)} is not JSON data")


def _jsonb(value: Any, mods: tuple[int, ...]) -> Jsonb:
    checked = _json_value(value)
    if has_nul(checked):
        raise ValueError("jsonb cannot contain the NUL character (\\u0000)")
    return Jsonb(checked)


def _json(value: Any, mods: tuple[int, ...]) -> Json:
    return Json(_json_value(value))


def _bytea(value: Any, mods: tuple[int, ...]) -> bytes:
    _need(value, (str,), 'a "\\x…" hex str')
    if not value.startswith("\\x"):
        raise ValueError(f"{value[:20]!r} is not \"\\x\" followed by hex digits")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise ValueError(f"{value[:20]!r} is not \"\\x\" followed by hex digits") from None


def _other(value: Any, mods: tuple[int, ...]) -> Any:
    """Enums, domains over unknown types, …: psycopg sends a str untyped and the server parses
    it for the column."""
    if isinstance(value, str):
        return _text(value, ())
    _need(value, (int, float, bool), "a str or a number")
    return value


_CONVERTERS = {
    **{name: _text for name in _TEXT},
    **{name: _integer(bits) for name, bits in _INT_RANGES.items()},
    "numeric": _numeric,
    "real": _float(32),
    "double precision": _float(64),
    "boolean": _boolean,
    "date": _date,
    "timestamptz": _timestamptz,
    "timestamp": _timestamp,
    "time": _time,
    "timetz": _time,
    "uuid": _uuid,
    "jsonb": _jsonb,
    "json": _json,
    "bytea": _bytea,
}
