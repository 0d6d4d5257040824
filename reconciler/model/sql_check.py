"""Evaluating simple Postgres CHECK expressions on a row before it is written. Pure, no I/O.

`compile_check(expression)` turns the subset of SQL that CHECK constraints usually hold into a
function of a row, or returns None when the expression uses anything else (then nothing is
claimed about it: the server stays the judge). The subset: column names (plain or quoted),
numbers, 'strings' (with `::type` casts ignored), TRUE/FALSE/NULL, `+ - * /`, comparisons
(`= <> != < <= > >=`), `[NOT] IN (…)`, `= ANY (ARRAY[…])` (how Postgres prints IN),
`[NOT] BETWEEN … AND …`, `IS [NOT] NULL`, `AND`, `OR`, `NOT`, parentheses, and the functions
`length`, `char_length`, `character_length`, `lower`, `upper`, `btrim`, `trim`, `abs`.

Semantics follow Postgres (docs §5.4.1 "Check Constraints"): a row passes unless the
expression is FALSE; NULL (unknown) passes. Columns the row does not set are *unknown* (their
default or stored value is not known here), so a check that depends on them is never failed.
Values of different kinds (a number against text) are unknown too, not false.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: A row's value for a column it does not set (distinct from an explicit NULL, `None`).
UNKNOWN = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()
Row = Mapping[str, Any]
Check = Callable[[Row], "bool | None"]

_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<str>'(?:[^']|'')*')|(?P<qid>"(?:[^"]|"")+")|(?P<id>[A-Za-z_][A-Za-z0-9_$]*)
    |(?P<op>::|<>|!=|<=|>=|[=<>+\-*/(),\[\]]))""", re.VERBOSE)
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "length": len, "char_length": len, "character_length": len, "lower": str.lower,
    "upper": str.upper, "btrim": str.strip, "trim": str.strip, "abs": abs,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class Unsupported(ValueError):
    """The expression uses SQL outside the subset evaluated here."""


def compile_check(expression: str) -> Check | None:
    """A function of a row (column name → value; absent = unknown) returning True, False or
    None (NULL/unknown) as Postgres would; None when the expression is outside the subset."""
    try:
        parser = _Parser(_tokens(expression))
        node = parser.expr()
        if parser.peek() is not None:
            raise Unsupported(parser.peek())
    except (Unsupported, IndexError):
        return None
    return lambda row: _truth(node(row))


def columns_of(expression: str) -> set[str]:
    """The column names an expression mentions (plain names lower-cased, as Postgres folds)."""
    names = set()
    for kind, text in _tokens(expression):
        if kind == "qid":
            names.add(text)
        elif kind == "id" and text.upper() not in _KEYWORDS and text.lower() not in _FUNCTIONS:
            names.add(text.lower())
    return names


_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "BETWEEN", "ANY", "ARRAY"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise Unsupported(text[pos:pos + 10])
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace("''", "'")
        elif kind == "qid":
            value = value[1:-1].replace('""', '"')
        out.append((kind, value))
        pos = m.end()
    return out


def _null(value: Any) -> bool:
    return value is None or value is UNKNOWN


def _truth(value: Any) -> bool | None:
    return None if _null(value) else bool(value) if isinstance(value, bool) else None


def _same_kind(a: Any, b: Any) -> bool:
    number = (int, float)
    return (isinstance(a, bool) == isinstance(b, bool)) and (
        (isinstance(a, number) and isinstance(b, number)) or (isinstance(a, str) and isinstance(b, str))
        or (isinstance(a, bool) and isinstance(b, bool)))


def _compare(op: str, a: Any, b: Any) -> bool | None:
    if _null(a) or _null(b) or not _same_kind(a, b):
        return None
    return _COMPARE[op](a, b)


class _Parser:
    """Recursive descent over the tokens; each method returns a function of the row."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.i = tokens, 0

    def peek(self, upper: bool = True) -> str | None:
        if self.i >= len(self.tokens):
            return None
        kind, text = self.tokens[self.i]
        return text.upper() if upper and kind == "id" else text if kind != "str" else "'"

    def take(self, *expected: str) -> str:
        got = self.peek()
        if expected and got not in expected:
            raise Unsupported(got)
        self.i += 1
        return self.tokens[self.i - 1][1]

    def expr(self) -> Callable[[Row], Any]:
        left = self.conj()
        while self.peek() == "OR":
            self.take()
            a, b = left, self.conj()
            left = lambda r, a=a, b=b: _or(_truth(a(r)), _truth(b(r)))  # noqa: E731
        return left

    def conj(self) -> Callable[[Row], Any]:
        left = self.neg()
        while self.peek() == "AND":
            self.take()
            a, b = left, self.neg()
            left = lambda r, a=a, b=b: _and(_truth(a(r)), _truth(b(r)))  # noqa: E731
        return left

    def neg(self) -> Callable[[Row], Any]:
        if self.peek() == "NOT":
            self.take()
            inner = self.neg()
            return lambda r: None if _truth(inner(r)) is None else not _truth(inner(r))
        return self.predicate()

    def predicate(self) -> Callable[[Row], Any]:
        left = self.sum()
        op = self.peek()
        negate = op == "NOT" and self.tokens[self.i + 1][1].upper() in ("IN", "BETWEEN")
        if negate:
            self.take()
            op = self.peek()
        if op in _COMPARE:
            self.take()
            if self.peek() == "ANY":
                return self._any(left, op)
            right = self.sum()
            return lambda r: _compare(op, left(r), right(r))
        if op == "IN":
            self.take()
            items = self._list("(", ")")
            return _negated(lambda r: _member(left(r), [f(r) for f in items]), negate)
        if op == "BETWEEN":
            self.take()
            low = self.sum()
            self.take("AND")
            high = self.sum()
            return _negated(lambda r: _and(_compare(">=", left(r), low(r)),
                                           _compare("<=", left(r), high(r))), negate)
        if op == "IS":
            self.take()
            want_null = self.take("NOT", "NULL").upper() == "NULL"
            if not want_null:
                self.take("NULL")
            return lambda r: None if left(r) is UNKNOWN else (left(r) is None) == want_null
        return left

    def _any(self, left, op: str) -> Callable[[Row], Any]:
        self.take("ANY")
        self.take("(")
        self.take("ARRAY")
        items = self._list("[", "]")
        self.take(")")
        self._cast()
        if op != "=":
            raise Unsupported(op)
        return lambda r: _member(left(r), [f(r) for f in items])

    def _list(self, open_: str, close: str) -> list[Callable[[Row], Any]]:
        self.take(open_)
        items = [self.sum()]
        while self.peek() == ",":
            self.take()
            items.append(self.sum())
        self.take(close)
        return items

    def sum(self) -> Callable[[Row], Any]:
        left = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            a, b = left, self.term()
            left = lambda r, a=a, b=b, op=op: _arith(op, a(r), b(r))  # noqa: E731
        return left

    def term(self) -> Callable[[Row], Any]:
        left = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            a, b = left, self.unary()
            left = lambda r, a=a, b=b, op=op: _arith(op, a(r), b(r))  # noqa: E731
        return left

    def unary(self) -> Callable[[Row], Any]:
        if self.peek() == "-":
            self.take()
            inner = self.unary()
            return lambda r: _arith("-", 0, inner(r))
        node = self.atom()
        self._cast()
        return node

    def _cast(self) -> None:
        while self.peek() == "::":
            self.take()
            self.take()  # the type name: values are compared as read
            while self.peek() in ("VARYING", "PRECISION") or (
                    self.peek() == "[" and self.tokens[self.i + 1][1] == "]"):
                self.take()
                if self.tokens[self.i - 1][1] == "[":
                    self.take("]")

    def atom(self) -> Callable[[Row], Any]:
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            number = float(text) if any(c in text for c in ".eE") else int(text)
            return lambda r: number
        if kind == "str":
            return lambda r: text
        if kind == "qid":
            return lambda r: r.get(text, UNKNOWN)
        if kind == "op" and text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind != "id":
            raise Unsupported(text)
        word = text.upper()
        constants = {"TRUE": True, "FALSE": False, "NULL": None}
        if word in constants:
            return lambda r: constants[word]
        if word in _KEYWORDS:
            raise Unsupported(text)
        if self.peek() == "(":
            return self._call(text.lower())
        name = text.lower()
        return lambda r: r.get(name, UNKNOWN)

    def _call(self, name: str) -> Callable[[Row], Any]:
        if name not in _FUNCTIONS:
            raise Unsupported(name)
        self.take("(")
        arg = self.sum()
        self.take(")")
        fn = _FUNCTIONS[name]

        def call(r: Row) -> Any:
            value = arg(r)
            wanted = (int, float) if fn is abs else str
            if _null(value) or isinstance(value, bool) or not isinstance(value, wanted):
                return UNKNOWN if value is UNKNOWN or not _null(value) else None
            return fn(value)
        return call


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _negated(fn: Callable[[Row], Any], negate: bool) -> Callable[[Row], Any]:
    if not negate:
        return fn
    return lambda r: None if fn(r) is None else not fn(r)


def _member(value: Any, items: list[Any]) -> bool | None:
    if _null(value):
        return None
    results = [_compare("=", value, item) for item in items]
    if True in results:
        return True
    return None if None in results else False


def _arith(op: str, a: Any, b: Any) -> Any:
    number = (int, float)
    if _null(a) or _null(b):
        return UNKNOWN if UNKNOWN in (a, b) else None
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, number) \
            or not isinstance(b, number):
        return UNKNOWN
    if op == "/":
        return UNKNOWN if b == 0 else a / b
    return {"+": a + b, "-": a - b, "*": a * b}[op]
