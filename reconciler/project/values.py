"""Source values → *content normal form* (`model.content.SourceRow`), by the type of the field it
fills.

`to_notion(type, value, reading)` and `to_postgres(type, value, reading)` return the normal form
or raise `ValueError("expects …, got …")` (the caller prefixes the field name). Coercion is
sensible and never lossy: `"42"`, `"95%"`, `"120 ms"` and (with a declared locale) `"1 234,5"`
→ numbers (`project.written`); `"true"/"yes"/"1"` → True for a checkbox; dates as people write
them (`29. oktober 2025`, under the declared `languages`) → `{"start": ISO}`; numbers become text
for text types; a list of scalars becomes one line each for rich_text, and styled runs
(`model.rich_text`) stay runs. A single value where a list is taken (multi_select, people,
relation, files, arrays) is a one-item list; a string is never split here (the field's `split:`
does that, `project.fields`). Long text is kept (the engine splits it into 2000-character
pieces, NOTION-API.md §4.2) up to 100 pieces, and refused beyond; option names follow
NOTION-API.md §3.4 (no comma, ≤ 100); integers beyond ±(2⁵³ − 1) are refused for Notion.
Postgres types are the canonical spellings of `model.postgres.normalise_type`; their values
are the normal form a column of that type reads back (`backends.postgres.values`), so a
converged table plans nothing: a whole `numeric` is an int; a date alone is midnight UTC for
`timestamptz` (`2025-11-03T00:00:00+00:00`) and midnight for `timestamp`; an offset is
converted to UTC for `timestamptz`; a date-time is refused for `date`, one without an offset for
`timestamptz` and one with an offset for `timestamp`; a `time` is `HH:MM:SS[.ffffff]`, a `timetz`
the same with its offset (docs/content.md, "Values as written").
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from reconciler.backends.notion.convert import value_to_api
from reconciler.model.property_types import PROPERTY_TYPES
from reconciler.model.rich_text import is_runs, normal
from reconciler.project.documents import check_option_name
from reconciler.project.written import DEFAULT, Reading, read_date, read_number

_TRUE, _FALSE = {"true", "yes", "y", "on", "1"}, {"false", "no", "n", "off", "0", ""}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")


def _got(expected: str, value: Any) -> ValueError:
    return ValueError(f"expects {expected}, got {_short(value)}")


def _short(value: Any, limit: int = 80) -> str:
    """`repr(value)` cut to `limit` characters (values can be megabytes, ints 10⁵ digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"a {len(str(abs(value))) if value.bit_length() < 14_000 else 'huge'}-digit number"
    text = repr(value) if not isinstance(value, (str, list, dict)) or len(value) < limit \
        else repr(value[:limit] if not isinstance(value, dict) else dict(list(value.items())[:3]))
    return text if len(text) <= limit else text[:limit] + "…"


def _text(value: Any, _: Reading = DEFAULT) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise _got("text", value)


def _lines(value: Any, reading: Reading = DEFAULT) -> Any:
    """Text, styled runs (`model.rich_text`), or a list of scalars as one line each (seed 004's
    "formatted API list"). Runs are checked to fit one Notion write (≤ 100 text objects)."""
    if is_runs(value):
        return normal(value)  # checked to fit one write by `to_notion`
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) and
                                                not isinstance(v, bool) for v in value):
        return "\n".join(str(v) for v in value) or None
    return _text(value)


def _number(value: Any, reading: Reading = DEFAULT) -> int | float | None:
    number = read_number(value, reading)
    if isinstance(number, float) and not math.isfinite(number):  # ints of any size are fine
        raise _got("a number", value)
    return number


def _checkbox(value: Any, _: Reading = DEFAULT) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _got("true or false", value)


def _option(value: Any, _: Reading = DEFAULT) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _got("an option name", value)
    return check_option_name(str(value))


def _options(value: Any, _: Reading = DEFAULT) -> tuple[str, ...]:
    names = []
    for item in _listed(value):
        try:
            names.append(_option(item))
        except ValueError as exc:
            hint = " (to cut text into options, give the field `split: ','`)" \
                if isinstance(item, str) and "," in item else ""
            raise ValueError(f"{exc}{hint}") from None
    return tuple(dict.fromkeys(n for n in names if n is not None))


def _iso(value: Any, reading: Reading = DEFAULT) -> str:
    if isinstance(value, (_dt.date, _dt.datetime, str)):
        return read_date(value, reading)
    raise _got("a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][±HH:MM], or as declared in "
               "`languages:`)", value)


def _date(value: Any, reading: Reading = DEFAULT) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        if "start" not in value or set(value) - {"start", "end", "time_zone"}:
            raise _got('a date or {start, end?, time_zone?}', value)
        out = {"start": _iso(value["start"], reading)}
        out |= {"end": _iso(value["end"], reading)} if value.get("end") is not None else {}
        if value.get("time_zone") is not None:
            out["time_zone"] = _text(value["time_zone"])
        return out
    return {"start": _iso(value, reading)}


def _listed(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _each(value: Any, ok: Callable[[Any], bool], expected: str) -> list[Any]:
    """The items of `value` (one value is a one-item list); the first bad one is named."""
    items = _listed(value)
    bad = next((v for v in items if not ok(v)), _each)
    if bad is not _each:
        raise _got(expected, bad)
    return items


def _people(value: Any, _: Reading = DEFAULT) -> tuple[str, ...]:
    items = _each(value, lambda v: isinstance(v, str) and bool(_EMAIL.match(v.strip())),
                  "e-mail addresses (one or a list)")
    return tuple(v.strip() for v in items)


def _relation(value: Any, _: Reading = DEFAULT) -> tuple[str, ...]:
    items = _each(value, lambda v: isinstance(v, (str, int)) and not isinstance(v, bool)
                  and bool(str(v)), "keys of rows of the related database (one or a list)")
    return tuple(dict.fromkeys(str(v) for v in items))


def _files(value: Any, _: Reading = DEFAULT) -> tuple[dict[str, str], ...]:
    out = []
    for item in _listed(value):
        item = {"url": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or not isinstance(item.get("url"), str) or \
                set(item) - {"name", "url"}:
            raise _got('file URLs or {name?, url} (one or a list)', value)
        out.append({"name": str(item.get("name") or item["url"]), "url": item["url"]})
    return tuple(out)


def _email(value: Any, _: Reading = DEFAULT) -> str | None:
    text = _text(value)
    if text is not None and not _EMAIL.match(text):
        raise _got("an e-mail address", value)
    return text


def _place(value: Any, _: Reading = DEFAULT) -> Any:
    return None if value is None else value


#: The coercer of each value form of a writable type (`model.property_types.ValueForm`).
FORMS: dict[str, Callable[[Any, Reading], Any]] = {
    "text": _text, "rich": _lines, "number": _number, "option": _option, "options": _options,
    "date": _date, "users": _people, "pages": _relation, "files": _files, "bool": _checkbox,
    "place": _place,
}

#: The only rules that belong to a type rather than to its value form: an e-mail address is text
#: of a syntax of its own (Notion itself stores any string; checking it here finds typos early).
BY_TYPE: dict[str, Callable[[Any, Reading], Any]] = {"email": _email}

#: Value forms whose normal form `value_to_api` checks further (limits, shapes): text is split
#: into up to 100 pieces of 2000 characters there and refused beyond (NOTION-API.md §4.2).
#: Booleans, users and pages are complete once coerced.
_API_CHECKED = {"text", "rich", "number", "option", "options", "date", "files", "place"}


def to_notion(prop_type: str, value: Any, reading: Reading = DEFAULT) -> Any:
    """A source value → normal form for a Notion property of `prop_type` (writable), dates and
    numbers read as `reading` declares; ValueError if it can't."""
    form = PROPERTY_TYPES[prop_type].value
    out = (BY_TYPE.get(prop_type) or FORMS[form])(value, reading)
    if form in _API_CHECKED and out is not None:
        try:
            value_to_api(prop_type, list(out) if isinstance(out, tuple) else out)
        except ValueError as exc:
            raise ValueError(f"cannot be written: {exc}") from None
    return out


# --------------------------------------------------------------------------------------------
# Postgres


def _pg_int(value: Any, reading: Reading = DEFAULT) -> int | None:
    number = _number(value, reading)
    if isinstance(number, float):
        if not number.is_integer():
            raise _got("an integer", value)
        number = int(number)
    return number


def _pg_numeric(value: Any, reading: Reading = DEFAULT) -> int | float | None:
    """A number; a whole one as an int (`1.0` → 1), as a numeric column reads back
    (`backends.postgres.values`), so a numeric key `1.0` is the row `"1"`."""
    number = _number(value, reading)
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _pg_moment(value: Any, reading: Reading) -> _dt.date | _dt.datetime | None:
    """The date (no time of day) or date-time `value` names, or None for no value."""
    if value is None or value == "":
        return None
    text = _iso(value, reading)
    try:
        return (_dt.date if len(text) == 10 else _dt.datetime).fromisoformat(
            text.replace("Z", "+00:00"))
    except ValueError:  # pragma: no cover - read_date returns ISO 8601 only
        raise _got("an ISO date", value) from None


def _when(value: Any) -> str:
    """A date or date-time as the message quotes it: as written, or ISO for a parsed one."""
    return repr(value.isoformat()) if isinstance(value, _dt.date) else _short(value)


def _pg_date(value: Any, reading: Reading = DEFAULT) -> str | None:
    """`YYYY-MM-DD`. A date-time is refused: a date column would drop its time of day."""
    moment = _pg_moment(value, reading)
    if isinstance(moment, _dt.datetime):
        raise ValueError(f"expects a date without a time of day (the column is date), got "
                         f"{_when(value)}: drop the time, or make the column timestamptz")
    return None if moment is None else moment.isoformat()


def _pg_timestamptz(value: Any, reading: Reading = DEFAULT) -> str | None:
    """An instant, in UTC (`2025-11-03T08:00:00+00:00`, as a timestamptz column reads back). A
    date alone is midnight UTC; a date-time without a UTC offset is refused (which zone it
    means is unknown)."""
    moment = _pg_moment(value, reading)
    if moment is None:
        return None
    if not isinstance(moment, _dt.datetime):
        return _dt.datetime.combine(moment, _dt.time(), _dt.timezone.utc).isoformat()
    if moment.tzinfo is None:
        raise ValueError(f"expects a date-time with a UTC offset (the column is timestamptz), "
                         f"got {_when(value)}: add Z or +HH:MM, or give the date alone "
                         "(midnight UTC)")
    return moment.astimezone(_dt.timezone.utc).isoformat()


def _pg_timestamp(value: Any, reading: Reading = DEFAULT) -> str | None:
    """A date-time without offset (`2025-11-03T10:00:00`); a date alone is midnight. A
    date-time with a UTC offset is refused: a timestamp column keeps none."""
    moment = _pg_moment(value, reading)
    if moment is None:
        return None
    if not isinstance(moment, _dt.datetime):
        return _dt.datetime.combine(moment, _dt.time()).isoformat()
    if moment.tzinfo is not None:
        raise ValueError(f"expects a date-time without a UTC offset (the column is timestamp, "
                         f"which keeps none), got {_when(value)}: drop the offset, or make the "
                         "column timestamptz")
    return moment.isoformat()


def _pg_time(value: Any, _: Reading = DEFAULT, *, zoned: bool = False) -> str | None:
    """A time of day as a time column reads back (`10:00` → `10:00:00`); for timetz
    (`zoned`) with its UTC offset (`10:00+02:00` → `10:00:00+02:00`), which it must have."""
    if value is None or value == "":
        return None
    try:
        moment = value if isinstance(value, _dt.time) else _dt.time.fromisoformat(value.strip())
    except (AttributeError, ValueError):  # not a str, or no time of day
        raise _got("a time of day (HH:MM[:SS])", value) from None
    if zoned and moment.tzinfo is None:
        raise ValueError(f"expects a time of day with a UTC offset (the column is timetz), got "
                         f"{_short(value)}: add Z or +HH:MM")
    if not zoned and moment.tzinfo is not None:
        raise ValueError(f"expects a time of day without a UTC offset (the column is time), got "
                         f"{_short(value)}: drop the offset, or make the column timetz")
    return moment.isoformat()


def _pg_uuid(value: Any, _: Reading = DEFAULT) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise _got("a UUID", value) from None


def _pg_json(value: Any, _: Reading = DEFAULT) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise _got("JSON data", value) from None
    return value


POSTGRES: dict[str, Callable[[Any, Reading], Any]] = {
    "text": _text, "character varying": _text, "character": _text, "citext": _text,
    "smallint": _pg_int, "integer": _pg_int, "bigint": _pg_int,
    "numeric": _pg_numeric, "real": _number, "double precision": _number,
    "boolean": _checkbox, "date": _pg_date, "timestamptz": _pg_timestamptz,
    "timestamp": _pg_timestamp, "time": _pg_time,
    "timetz": lambda value, reading=DEFAULT: _pg_time(value, reading, zoned=True),
    "uuid": _pg_uuid, "json": _pg_json, "jsonb": _pg_json,
}


def to_postgres(column_type: str, value: Any, reading: Reading = DEFAULT) -> Any:
    """A source value → JSON-able value for a column of `column_type` (canonical spelling).

    Arrays (`text[]`) take a list whose items follow the element type (a single value is a
    one-item list); unknown types (enums, domains) take text. Raises ValueError when the value
    does not fit.
    """
    if column_type.endswith("[]"):
        if value is None:
            return None
        return [to_postgres(column_type[:-2], v, reading) for v in _listed(value)]
    base = re.sub(r"\(.*\)", "", column_type)
    coerce = POSTGRES.get(base, _text)
    if base == "boolean" and value is None:
        return None
    return coerce(value, reading)
