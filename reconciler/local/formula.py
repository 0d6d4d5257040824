"""Evaluate Notion formula expressions for page values (``{"type": "number", "number": 4}``).

The language (Notion formulas 2.0, DOC26:property-object; shapes in REC:UN/test_query/test_query_formula.yaml):
literals (numbers, ``"strings"``, ``true``/``false``, ``[lists]``); property references written
``prop("Name")`` or stored as ``{{notion:block_property:<prop id>:<data source id>:<workspace id>}}``
(NOTION-API.md §2 "Formula expressions are not round-trippable"); ``+ - * / % ^``, comparisons
``== != < > <= >=``, ``and``/``&&``, ``or``/``||``, ``not``/``!``, ``cond ? a : b``; function calls
``f(x, …)`` and method calls ``x.f(…)`` (the recording uses ``format(…)``, ``.includes("Done")``,
``.length()``). Functions: see ``FUNCTIONS``.

The result type is inferred from the expression (a property's type, a function's declared result),
so an empty result is still typed: ``{"type": "number", "number": null}``. Empty values propagate
through arithmetic; an unknown function or property, or a type error, gives the typed null (Notion
rejects such formulas when they are written; the reconciler checks them before that).
"""

from __future__ import annotations

import calendar
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

#: ``lookup(kind, key)`` with kind "id" (a stored reference) or "name" (``prop("…")``) → (type, value),
#: type one of number, string, boolean, date, list; raises KeyError for an unknown property.
Lookup = Callable[[str, str], tuple[str, Any]]

_TOKEN = re.compile(r"""\s*(?:
    (?P<ref>\{\{notion:block_property:(?P<pid>[^:}]+):[^}]*\}\})
  | (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%^<>!?:(),.\[\]])
)""", re.VERBOSE)


@dataclass(frozen=True)
class DateValue:
    """A date value: ISO ``start`` and optional ``end`` as Notion stores them."""

    start: str
    end: str | None = None

    def moment(self) -> datetime:
        return datetime.fromisoformat(self.start.replace("Z", "+00:00"))


class FormulaError(Exception):
    """An expression that cannot be parsed or evaluated."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    text = text.lstrip("=")  # recorded expressions sometimes start with "=" (NOTION-API.md A.1)
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise FormulaError(f"unexpected text at {pos}: {text[pos:pos + 10]!r}")
        pos = m.end()
        kind = m.lastgroup if m.lastgroup != "pid" else "ref"
        if m.group("ref"):
            out.append(("ref", m.group("pid")))
        elif kind == "num":
            out.append(("num", float(m.group("num"))))
        elif kind == "str":
            out.append(("str", json.loads(m.group("str"))))
        elif kind == "name":
            out.append(("name", m.group("name")))
        else:
            out.append(("op", m.group("op")))
    return out


class _Parser:
    """Precedence climbing over the tokens; nodes are tuples ``(tag, …)``."""

    BINARY = [("?",), ("or", "||"), ("and", "&&"), ("==", "!=", "<", ">", "<=", ">="), ("+", "-"),
              ("*", "/", "%")]

    def __init__(self, tokens: list[tuple[str, Any]]):
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise FormulaError(f"expected {value or 'more'}, found {tok[1] if tok else 'the end'}")
        self.pos += 1
        return tok

    def is_op(self, *values: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] in ("op", "name") and tok[1] in values

    def parse(self) -> tuple:
        node = self.level(0)
        if self.peek() is not None:
            raise FormulaError(f"unexpected {self.peek()[1]!r}")
        return node

    def level(self, n: int) -> tuple:
        if n == len(self.BINARY):
            return self.unary()
        if self.BINARY[n] == ("?",):
            cond = self.level(n + 1)
            if self.is_op("?"):
                self.take("?")
                then = self.level(0)
                self.take(":")
                return ("call", "if", [cond, then, self.level(0)])
            return cond
        node = self.level(n + 1)
        while self.is_op(*self.BINARY[n]):
            op = self.take()[1]
            node = ("bin", {"||": "or", "&&": "and"}.get(op, op), node, self.level(n + 1))
        return node

    def unary(self) -> tuple:
        if self.is_op("-"):
            self.take()
            return ("bin", "-", ("lit", 0.0), self.unary())
        if self.is_op("!", "not"):
            self.take()
            return ("call", "not", [self.unary()])
        return self.power()

    def power(self) -> tuple:
        node = self.postfix()
        if self.is_op("^"):
            self.take()
            return ("bin", "^", node, self.unary())
        return node

    def postfix(self) -> tuple:
        node = self.primary()
        while self.is_op("."):
            self.take(".")
            name = self.take()[1]
            args = self.arguments() if self.is_op("(") else []
            node = ("call", name, [node, *args])
        return node

    def arguments(self) -> list[tuple]:
        self.take("(")
        args = []
        while not self.is_op(")"):
            args.append(self.level(0))
            if not self.is_op(")"):
                self.take(",")
        self.take(")")
        return args

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind in ("num", "str"):
            return ("lit", value)
        if kind == "ref":
            return ("prop", "id", value)
        if kind == "name":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "prop":
                args = self.arguments()
                if len(args) != 1 or args[0][0] != "lit" or not isinstance(args[0][1], str):
                    raise FormulaError('prop() takes one "name"')
                return ("prop", "name", args[0][1])
            return ("call", value, self.arguments() if self.is_op("(") else [])
        if value == "(":
            node = self.level(0)
            self.take(")")
            return node
        if value == "[":
            items = []
            while not self.is_op("]"):
                items.append(self.level(0))
                if not self.is_op("]"):
                    self.take(",")
            self.take("]")
            return ("list", items)
        raise FormulaError(f"unexpected {value!r}")


@lru_cache(maxsize=512)
def parse(expression: str) -> tuple:
    """The syntax tree of ``expression`` (cached). Raises FormulaError."""
    return _Parser(_tokens(expression)).parse()


def _text(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() else repr(x)
    if isinstance(x, DateValue):
        return x.start
    if isinstance(x, list):
        return ",".join(_text(i) for i in x)
    return str(x)


def _number(x: Any) -> float | None:
    if x is None or x == "":
        return None
    if isinstance(x, bool):
        return 1.0 if x else 0.0
    if isinstance(x, (int, float)):
        return float(x)
    try:
        return float(str(x).strip())
    except ValueError:
        return None


def _empty(x: Any) -> bool:
    return x is None or x == "" or x == [] or x is False or x == 0


def _key(x: Any) -> Any:
    return x.moment() if isinstance(x, DateValue) else x


_ARITH: dict[str, Callable[[float, float], float]] = {
    "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b, "%": math.fmod,
    "^": lambda a, b: a ** b}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        if isinstance(a, str) or isinstance(b, str):
            return _text(a) + _text(b)
        if a is None or b is None:
            return None
        return float(a) + float(b)
    if op in _ARITH:
        x, y = _number(a), _number(b)
        return None if x is None or y is None else _ARITH[op](x, y)
    if op in _COMPARE:
        if op in ("==", "!="):
            return _COMPARE[op](_key(a), _key(b))
        if a is None or b is None:
            return False
        return _COMPARE[op](_key(a), _key(b))
    if op == "and":
        return not _empty(a) and not _empty(b)
    if op == "or":
        return not _empty(a) or not _empty(b)
    raise FormulaError(f"unknown operator {op}")


def _round(x: Any, places: Any = 0) -> float | None:
    n = _number(x)
    return None if n is None else round(n, int(_number(places) or 0))


def _ifs(*args: Any) -> Any:
    for i in range(0, len(args) - 1, 2):
        if not _empty(args[i]):
            return args[i + 1]
    return args[-1] if len(args) % 2 else None


def _numbers(args: tuple[Any, ...]) -> list[float]:
    flat = [i for a in args for i in (a if isinstance(a, list) else [a])]
    return [n for n in (_number(i) for i in flat) if n is not None]


#: Units of dateBetween / dateAdd / dateSubtract (Notion's help page "Formula syntax &
#: functions"), as fixed lengths; months, quarters and years are calendar units (`_months`).
_FIXED = {"milliseconds": timedelta(milliseconds=1), "seconds": timedelta(seconds=1),
          "minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1),
          "weeks": timedelta(weeks=1)}
_CALENDAR = {"months": 1, "quarters": 3, "years": 12}


def _months(moment: datetime, n: int) -> datetime:
    """`moment` moved by `n` calendar months (the day clamped to the month's last)."""
    total = moment.year * 12 + moment.month - 1 + n
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last))


def _date_between(a: Any, b: Any, unit: Any) -> float | None:
    """Whole `unit`s from `b` to `a` (positive when `a` is later), truncated toward zero."""
    if not isinstance(a, DateValue) or not isinstance(b, DateValue):
        return None
    x, y, unit = a.moment(), b.moment(), _text(unit)
    if (x.tzinfo is None) != (y.tzinfo is None):
        x, y = x.replace(tzinfo=None), y.replace(tzinfo=None)
    if unit in _FIXED:
        return float(math.trunc((x - y) / _FIXED[unit]))
    if unit in _CALENDAR:
        months = (x.year - y.year) * 12 + x.month - y.month
        if months > 0 and _months(y, months) > x:
            months -= 1
        elif months < 0 and _months(y, months) < x:
            months += 1
        return float(math.trunc(months / _CALENDAR[unit]))
    return None


def _date_add(d: Any, n: Any, unit: Any, sign: int = 1) -> DateValue | None:
    """`d` moved by `n` `unit`s (a date-only start stays date-only for whole days and more)."""
    count = _number(n)
    if not isinstance(d, DateValue) or count is None:
        return None
    moment, unit, dated = d.moment(), _text(unit), "T" not in d.start
    if unit in _FIXED:
        moved = moment + sign * count * _FIXED[unit]
    elif unit in _CALENDAR:
        moved = _months(moment, sign * int(count) * _CALENDAR[unit])
    else:
        return None
    keep_date = dated and (unit in _CALENDAR or unit in ("days", "weeks")) and \
        float(count).is_integer()
    return DateValue(moved.date().isoformat() if keep_date
                     else moved.isoformat(timespec="milliseconds"))


#: name → (implementation, result type: a type name, or "arg<N>" for the type of argument N).
FUNCTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "if": (lambda c, a, b=None: a if not _empty(c) else b, "arg1"),
    "ifs": (_ifs, "arg1"),
    "concat": (lambda *xs: [i for x in xs for i in (x if isinstance(x, list) else [x])]
               if any(isinstance(x, list) for x in xs) else "".join(_text(x) for x in xs), "string"),
    "format": (_text, "string"),
    "length": (lambda x: float(len(x)) if isinstance(x, list) else float(len(_text(x))), "number"),
    "lower": (lambda x: _text(x).lower(), "string"),
    "upper": (lambda x: _text(x).upper(), "string"),
    "trim": (lambda x: _text(x).strip(), "string"),
    "contains": (lambda s, sub: _text(sub) in _text(s), "boolean"),
    "includes": (lambda xs, x: x in xs if isinstance(xs, list) else _text(x) in _text(xs), "boolean"),
    "startsWith": (lambda s, p: _text(s).startswith(_text(p)), "boolean"),
    "endsWith": (lambda s, p: _text(s).endswith(_text(p)), "boolean"),
    "join": (lambda xs, sep="": _text(sep).join(_text(x) for x in (xs or [])), "string"),
    "replaceAll": (lambda s, a, b: _text(s).replace(_text(a), _text(b)), "string"),
    "substring": (lambda s, a, b=None: _text(s)[int(_number(a) or 0):None if b is None else int(_number(b) or 0)],
                  "string"),
    "empty": (_empty, "boolean"),
    "not": (lambda x: _empty(x), "boolean"),
    "and": (lambda *xs: all(not _empty(x) for x in xs), "boolean"),
    "or": (lambda *xs: any(not _empty(x) for x in xs), "boolean"),
    "toNumber": (_number, "number"),
    "round": (_round, "number"),
    "abs": (lambda x: None if _number(x) is None else abs(_number(x)), "number"),
    "floor": (lambda x: None if _number(x) is None else float(math.floor(_number(x))), "number"),
    "ceil": (lambda x: None if _number(x) is None else float(math.ceil(_number(x))), "number"),
    "sqrt": (lambda x: None if _number(x) is None else math.sqrt(_number(x)), "number"),
    "min": (lambda *xs: min(_numbers(xs), default=None), "number"),
    "max": (lambda *xs: max(_numbers(xs), default=None), "number"),
    "sum": (lambda *xs: sum(_numbers(xs)), "number"),
    "dateBetween": (_date_between, "number"),
    "dateAdd": (_date_add, "date"),
    "dateSubtract": (lambda d, n, unit: _date_add(d, n, unit, -1), "date"),
    "pi": (lambda: math.pi, "number"),
    "e": (lambda: math.e, "number"),
}


def _type_of(node: tuple, lookup: Lookup) -> str:
    tag = node[0]
    if tag == "lit":
        return {bool: "boolean", float: "number", str: "string"}[type(node[1])]
    if tag == "prop":
        return lookup(node[1], node[2])[0]
    if tag == "list":
        return "list"
    if tag == "bin":
        if node[1] in _COMPARE or node[1] in ("and", "or"):
            return "boolean"
        if node[1] == "+" and "string" in (_type_of(node[2], lookup), _type_of(node[3], lookup)):
            return "string"
        return "number"
    fn = FUNCTIONS.get(node[1])
    if fn is None:
        raise FormulaError(f"unknown function {node[1]}()")
    result = fn[1]
    if result.startswith("arg"):
        args = node[2]
        i = int(result[3:])
        return _type_of(args[i], lookup) if i < len(args) else "string"
    if node[1] == "concat" and any(_type_of(a, lookup) == "list" for a in node[2]):
        return "list"
    return result


def _eval(node: tuple, lookup: Lookup) -> Any:
    tag = node[0]
    if tag == "lit":
        return node[1]
    if tag == "prop":
        return lookup(node[1], node[2])[1]
    if tag == "list":
        return [_eval(n, lookup) for n in node[1]]
    if tag == "bin":
        return _binary(node[1], _eval(node[2], lookup), _eval(node[3], lookup))
    fn = FUNCTIONS.get(node[1])
    if fn is None:
        raise FormulaError(f"unknown function {node[1]}()")
    return fn[0](*[_eval(a, lookup) for a in node[2]])


def _as_result(kind: str, value: Any) -> dict[str, Any]:
    if kind == "list":
        kind, value = "string", (None if value is None else _text(value))
    if kind == "number" and isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            value = None
        elif value.is_integer() and abs(value) < 2 ** 53:
            value = int(value)
    if kind == "date":
        value = {"start": value.start, "end": value.end, "time_zone": None} if isinstance(value, DateValue) else None
    if kind == "boolean" and value is not None:
        value = bool(value)
    if kind == "string" and value is not None and not isinstance(value, str):
        value = _text(value)
    return {"type": kind, kind: value}


def evaluate(expression: str, lookup: Lookup) -> dict[str, Any]:
    """The formula value of ``expression`` for one page: ``{"type": t, t: value}`` with t one of
    ``string``, ``number``, ``boolean``, ``date`` (NOTION-API.md §2 formula row). Never raises: an
    expression that cannot be evaluated gives ``{"type": "string", "string": null}``."""
    try:
        tree = parse(expression)
        kind = _type_of(tree, lookup)
    except (FormulaError, KeyError, IndexError, TypeError, RecursionError):
        return {"type": "string", "string": None}
    try:
        return _as_result(kind, _eval(tree, lookup))
    except (FormulaError, KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError,
            RecursionError):
        return _as_result(kind, None)
