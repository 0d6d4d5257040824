"""What a Postgres column accepts: content values checked before any row is written. Pure.

`value_problem(column, value)` checks one value (in content normal form, `model.content`)
against the column's type as Postgres would on INSERT: NOT NULL, `varchar(n)`/`char(n)`
length, integer ranges, `numeric(p,s)` precision, `real` range, NUL characters (text and jsonb
cannot hold them), array element types, and the labels of an enum type when the live column
carries them (`Column.enum_values`). `row_problems(table, values)` adds the table's CHECK
constraints that `sql_check` can evaluate. `unset_required(table, written)` names the NOT NULL
columns without a default that a content set never writes (every insert would fail).

Facts from the PostgreSQL docs: §8.1 "Numeric Types" (ranges, numeric overflow), §8.3
"Character Types" (length in characters; "the character with code zero cannot be stored"),
§8.14 "JSON Types" (jsonb rejects `\\u0000`), §5.4 "Constraints".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from typing import Any

from reconciler.model.postgres import SERIAL_TYPES, Column, Table
from reconciler.model.sql_check import UNKNOWN, columns_of, compile_check

_TYPE = re.compile(r"(?P<base>[a-z][a-z ]*?)(?:\((?P<a>\d+)(?:,(?P<b>\d+))?\))?(?P<arr>(?:\[\])*)\Z")
#: Integer ranges (PostgreSQL docs §8.1, Table 8.2).
INTEGER_RANGES = {"smallint": 2 ** 15, "integer": 2 ** 31, "bigint": 2 ** 63}
_REAL_MAX = 3.4028234663852886e38
_TEXT = ("text", "character varying", "character", "citext")
#: Column types whose values a CHECK can compare here (text, numbers, booleans as read).
_COMPARABLE = set(_TEXT) | set(INTEGER_RANGES) | {"numeric", "real", "double precision",
                                                   "boolean"}


def value_problem(column: Column, value: Any) -> str | None:
    """Why `value` cannot go into `column` (a message without the column name), or None."""
    if value is None:
        return None if column.nullable else "is NOT NULL: give it a value"
    return _typed_problem(column.type, value, column.enum_values)


def _typed_problem(type_: str, value: Any, labels: tuple[str, ...] | None) -> str | None:
    m = _TYPE.match(type_)
    if m is None:
        return _label_problem(type_, value, labels)
    if m.group("arr"):
        if not isinstance(value, list):
            return None  # coercion (project.values) already reports the shape
        element = type_[:-2]
        return next((f"item {i + 1} {p}" for i, item in enumerate(value) if item is not None
                     for p in [_typed_problem(element, item, labels)] if p), None)
    base, a, b = m.group("base"), m.group("a"), m.group("b")
    if base in _TEXT and isinstance(value, str):
        return _text_problem(base, value, int(a) if a else None)
    if base in INTEGER_RANGES and isinstance(value, int) and not isinstance(value, bool):
        bound = INTEGER_RANGES[base]
        return None if -bound <= value < bound else \
            f"is {_digits(value)}, outside the {base} range {-bound:,} to {bound - 1:,}"
    if base == "numeric" and a and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _numeric_problem(value, int(a), int(b or 0))
    if base == "real" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if abs(value) <= _REAL_MAX else f"is {value!r}, beyond the real range ±3.4e38"
    if base == "jsonb" and has_nul(value):
        return "holds a NUL character (\\u0000), which jsonb cannot store"
    return _label_problem(type_, value, labels)


def _text_problem(base: str, value: str, length: int | None) -> str | None:
    if "\x00" in value:
        return "holds a NUL character, which Postgres text cannot store"
    if length is not None and len(value) > length and (base != "character" or value[length:].strip()):
        return f"is {len(value):,} characters long; the column is {base}({length})"
    return None


def _numeric_problem(value: int | float, precision: int, scale: int) -> str | None:
    """Postgres rounds to `scale` digits first, then refuses more than `precision - scale`
    digits before the point ("numeric field overflow")."""
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        return None
    with localcontext() as ctx:
        ctx.prec = max(len(number.as_tuple().digits) + scale + 2, 28)
        rounded = abs(number).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    whole = int(rounded)
    if len(str(whole)) - (whole == 0) > precision - scale:
        return (f"is {_digits(value)}: numeric({precision},{scale}) holds at most "
                f"{precision - scale} digit(s) before the decimal point")
    return None


def _digits(value: int | float) -> str:
    if isinstance(value, float) or value.bit_length() < 200:
        return f"{value:,}" if isinstance(value, int) else repr(value)
    return f"a {len(str(abs(value))) if value.bit_length() < 14_000 else 'huge'}-digit number"


def _label_problem(type_: str, value: Any, labels: tuple[str, ...] | None) -> str | None:
    if not labels or not isinstance(value, str) or value in labels:
        return None
    return (f"{value!r} is not a value of the enum type {type_} (its values: "
            f"{', '.join(labels)}): fix the value, or add it to the type")


def has_nul(value: Any) -> bool:
    """A NUL character in any string, key or item of JSON data (jsonb cannot store one; a
    backslash followed by `u0000` is just text)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack += list(item.keys()) + list(item.values())
        elif isinstance(item, list):
            stack += item
    return False


@lru_cache(maxsize=1024)
def _check(expression: str):
    return compile_check(expression), columns_of(expression)


def row_problems(table: Table, values: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """`(column, message)` for every value that `table` would refuse, then for every CHECK of
    `table` the row makes FALSE (`column` is the first column the check names that the row
    sets, or None). Columns not in `values` are unknown, never assumed NULL."""
    problems: list[tuple[str | None, str]] = []
    for name, value in values.items():
        column = table.column(name)
        problem = value_problem(column, value) if column is not None else None
        if problem:
            problems.append((name, f"{name} {problem}"))
    row = {name: value if _comparable(table.column(name), value) else UNKNOWN
           for name, value in values.items()}
    for check in table.checks:
        evaluate, names = _check(check.expression)
        if evaluate is not None and evaluate(row) is False:
            where = next((n for n in values if n in names), None)
            value = f"{where} {str(values[where])[:80]!r} " if where else "the row "
            problems.append((where, f"{value}breaks the check ({check.expression}) of "
                                    f"{table.schema_name}.{table.name}"))
    return problems


def _comparable(column: Column | None, value: Any) -> bool:
    if column is None or value is None:
        return value is None
    base = re.sub(r"\(.*", "", column.type)
    if base not in _COMPARABLE or isinstance(value, (list, dict)):
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


def unset_required(table: Table, written: Iterable[str]) -> list[str]:
    """NOT NULL columns with no default that are not in `written`: an INSERT leaving them out
    fails (PostgreSQL docs §5.4.2), whatever the values. Serial and identity columns draw
    their values from their sequence (§8.1.4, "CREATE TABLE"), like a default."""
    written = set(written)
    return [c.name for c in table.columns
            if not c.nullable and c.default is None and c.identity is None
            and c.type not in SERIAL_TYPES and c.name not in written]
