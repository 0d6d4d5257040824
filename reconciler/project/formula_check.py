"""Checking a Notion formula: the properties it names, functions, arity and types. Pure.

`check_formula(expression, properties)` returns the result type and every problem found, each
at a 0-based character index of the expression: syntax errors (`project.formula`), `prop("X")`
naming a property the database lacks, unknown functions and names, wrong argument counts, and
type errors where both types are known (`"a" * 2`); unknown types (`any`) never give an error.
Types are `number`, `text`, `boolean`, `date`, `person`, `page`, `list[<type>]` and `any`.
Functions and the type of each property in formulas: Notion's help page "Formula syntax &
functions" (notion.com/help/formula-syntax).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.property_types import PROPERTY_TYPES as _ROWS
from reconciler.project.formula import FormulaProblem, FormulaSyntaxError, Node, parse

N, T, B, D, A = "number", "text", "boolean", "date", "any"
LIST = "list[any]"

# -- types ----------------------------------------------------------------------------------

#: Formula type of `prop("X")` per Notion property type (the help page's "Properties" table,
#: kept as the `formula` column of `model.property_types`); types it gives none are `any`.
PROPERTY_TYPES: dict[str, str] = {n: t.formula for n, t in _ROWS.items() if t.formula != A}
#: Rollup functions with a known result type (NOTION-API.md §2 rollup functions).
ROLLUP_TYPES: dict[str, str] = {
    **{f: N for f in ("count", "count_values", "empty", "not_empty", "unique", "percent_empty",
                      "percent_not_empty", "sum", "average", "median", "min", "max", "range",
                      "checked", "unchecked", "percent_checked", "percent_unchecked")},
    **{f: D for f in ("earliest_date", "latest_date", "date_range")},
}


def _element(t: str) -> str:
    return t[5:-1] if t.startswith("list[") else A


def _first(args: list[str]) -> str:
    return args[0] if args else A


def _same(*types: str) -> str:
    return types[0] if types and all(t == types[0] for t in types) else A


def _plus(args: list[str]) -> str:
    if T in args:
        return T
    return N if args == [N, N] else A


#: name → (fewest arguments, most (None: any number), parameter types (the last repeats),
#: result type or a function of the argument types). Parameter types are only checked when
#: certain; `any` accepts everything.
FUNCTIONS: dict[str, tuple[int, int | None, tuple[str, ...], Any]] = {
    "if": (3, 3, (B, A, A), lambda a: _same(a[1], a[2])),
    "ifs": (3, None, (A,), lambda a: _same(*a[1::2], a[-1])),
    "empty": (1, 1, (A,), B), "length": (1, 1, (A,), N), "format": (1, 1, (A,), T),
    "substring": (2, 3, (T, N, N), T), "contains": (2, 2, (T, T), B), "test": (2, 2, (T, T), B),
    "match": (2, 2, (T, T), "list[text]"), "replace": (3, 3, (T, T, T), T),
    "replaceAll": (3, 3, (T, T, T), T), "lower": (1, 1, (T,), T), "upper": (1, 1, (T,), T),
    "repeat": (2, 2, (T, N), T), "padStart": (3, 3, (T, N, T), T), "padEnd": (3, 3, (T, N, T), T),
    "link": (2, 2, (T, T), T), "style": (2, None, (T, T), T), "unstyle": (1, 2, (T, T), T),
    "add": (2, 2, (A, A), _plus), "toNumber": (1, 1, (A,), N),
    **{f: (2, 2, (N, N), N) for f in ("subtract", "multiply", "divide", "mod", "pow")},
    **{f: (1, None, (A,), N) for f in ("min", "max", "sum", "median", "mean")},
    **{f: (1, 1, (N,), N) for f in ("abs", "ceil", "floor", "sqrt", "cbrt", "exp", "ln",
                                      "log10", "log2", "sign", "unaryMinus", "unaryPlus")},
    "round": (1, 2, (N, N), N), "pi": (0, 0, (), N), "e": (0, 0, (), N),
    "now": (0, 0, (), D), "today": (0, 0, (), D),
    **{f: (1, 1, (D,), N) for f in ("minute", "hour", "day", "date", "week", "month", "year",
                                      "timestamp")},
    "dateAdd": (3, 3, (D, N, T), D), "dateSubtract": (3, 3, (D, N, T), D),
    "dateBetween": (3, 3, (D, D, T), N), "dateRange": (2, 2, (D, D), D),
    "dateStart": (1, 1, (D,), D), "dateEnd": (1, 1, (D,), D), "fromTimestamp": (1, 1, (N,), D),
    "formatDate": (2, 3, (D, T, T), T), "parseDate": (1, 1, (T,), D),
    "name": (1, 1, (A,), T), "email": (1, 1, (A,), T), "id": (0, 1, (A,), T),
    "at": (2, 2, (A, N), lambda a: _element(a[0])), "first": (1, 1, (A,), lambda a: _element(a[0])),
    "last": (1, 1, (A,), lambda a: _element(a[0])), "slice": (2, 3, (A, N, N), _first),
    "concat": (1, None, (A,), A), "sort": (1, 2, (A, A), _first), "reverse": (1, 1, (A,), _first),
    "join": (2, 2, (A, T), T), "split": (2, 2, (T, T), "list[text]"), "unique": (1, 1, (A,), _first),
    "includes": (2, 2, (A, A), B), "find": (2, 2, (A, A), lambda a: _element(a[0])),
    "findIndex": (2, 2, (A, A), N), "filter": (2, 2, (A, A), _first), "some": (2, 2, (A, B), B),
    "every": (2, 2, (A, B), B), "map": (2, 2, (A, A), LIST), "flat": (1, 1, (A,), LIST),
    **{f: (2, 2, (A, A), B) for f in ("equal", "unequal", "larger", "largerEq", "smaller",
                                      "smallerEq")},
    "and": (1, None, (B,), B), "or": (1, None, (B,), B), "not": (1, 1, (B,), B),
}
#: List functions whose later arguments are evaluated per item, with `current` and `index`.
LAMBDAS = {"map", "filter", "find", "findIndex", "some", "every", "sort"}
_ARITH = {"-", "*", "/", "%", "^"}


@dataclass
class _Checker:
    properties: Mapping[str, str]
    problems: list[FormulaProblem] = field(default_factory=list)

    def error(self, index: int, message: str) -> str:
        self.problems.append(FormulaProblem(index, message))
        return A

    def type(self, node: Node, scope: Mapping[str, str]) -> str:
        kind = node.kind
        if kind in ("num", "str", "bool", "ref"):
            return {"num": N, "str": T, "bool": B, "ref": A}[kind]
        if kind == "list":
            return f"list[{_same(*(self.type(a, scope) for a in node.args))}]" if node.args else LIST
        if kind == "name":
            if node.op in scope:
                return scope[node.op]
            hint = f"; to use a property write prop(\"{node.op}\")" if node.op in self.properties \
                else ""
            return self.error(node.index, f"unknown name {node.op!r}{hint}")
        if kind == "unary":
            return self.unary(node, scope)
        if kind == "binary":
            return self.binary(node, scope)
        if kind == "ternary":
            cond, yes, no = (self.type(a, scope) for a in node.args)
            self.want(node.args[0], cond, B, "the condition of ?:")
            return _same(yes, no)
        return self.call(node, scope)

    def want(self, node: Node, got: str, wanted: str, what: str) -> None:
        if A not in (got, wanted) and got != wanted and not (wanted == LIST and got.startswith("list")):
            self.error(node.index, f"{what} must be {_a(wanted)}, not {_a(got)}")

    def unary(self, node: Node, scope: Mapping[str, str]) -> str:
        got = self.type(node.args[0], scope)
        if node.op == "not":
            self.want(node.args[0], got, B, "the operand of not")
            return B
        self.want(node.args[0], got, N, f"the operand of unary {node.op}")
        return N

    def binary(self, node: Node, scope: Mapping[str, str]) -> str:
        """Left-deep chains (`a + b + c + …`, hundreds long in real formulas) are walked in a
        loop, not by recursion."""
        spine = [node]
        while spine[-1].args[0].kind == "binary":
            spine.append(spine[-1].args[0])
        result = self.type(spine[-1].args[0], scope)
        for link in reversed(spine):
            result = self.combine(link, result, self.type(link.args[1], scope))
        return result

    def combine(self, node: Node, a: str, b: str) -> str:
        op, (left, right) = node.op, node.args
        if op in ("and", "or"):
            self.want(left, a, B, f"each side of {op}")
            self.want(right, b, B, f"each side of {op}")
            return B
        if op in _ARITH:
            for side, t in ((left, a), (right, b)):
                if t not in (N, A):
                    self.error(side.index, f"{op} works on numbers, not on {_a(t)}")
            return N
        if op == "+":
            if T not in (a, b) and A not in (a, b) and (a, b) != (N, N):
                return self.error(node.index, f"+ adds numbers or joins text, not {_a(a)} "
                                              f"and {_a(b)}")
            return _plus([a, b])
        if A not in (a, b) and a != b:
            self.error(node.index, f"{op} compares values of one type, not {_a(a)} with {_a(b)}")
        return B

    def call(self, node: Node, scope: Mapping[str, str]) -> str:
        name, args = node.op, node.args
        if name == "prop":
            return self.prop(node, scope)
        if name in ("let", "lets"):
            return self.let(node, scope)
        if name not in FUNCTIONS:
            near = difflib.get_close_matches(name, list(FUNCTIONS) + ["prop", "let", "lets"], 1)
            hint = f": did you mean {near[0]}?" if near else ""
            return self.error(node.index, f"unknown function {name!r}{hint}")
        low, high, params, result = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            count = str(low) if low == high else f"{low} to {high}" if high else f"{low} or more"
            self.error(node.index, f"{name} takes {count} argument(s), got {len(args)}"
                       + (" (the value before the dot is the first)" if node.value else ""))
        types = []
        for i, arg in enumerate(args):
            inner = scope
            if name in LAMBDAS and i > 0 and types:
                inner = {**scope, "current": _element(types[0]), "index": N}
            got = self.type(arg, inner)
            types.append(got)
            wanted = params[min(i, len(params) - 1)] if params else A
            self.want(arg, got, wanted, f"argument {i + 1} of {name}")
        return result(types) if callable(result) else result

    def prop(self, node: Node, scope: Mapping[str, str]) -> str:
        args = node.args
        if node.value == "method" or len(args) != 1 or args[0].kind != "str":
            if node.value != "method":
                self.error(node.index, 'prop takes one property name in double quotes: '
                                       'prop("Name")')
            for arg in args[1:] if node.value == "method" else args:
                self.type(arg, scope)
            return A  # current.prop("X") names a property of a related database
        name = args[0].value
        if name not in self.properties:
            near = difflib.get_close_matches(name, list(self.properties), 1)
            hint = f": did you mean {near[0]!r}?" if near else \
                f" (its properties: {', '.join(sorted(self.properties))})"
            return self.error(args[0].index, f'prop("{name}"): the database has no property '
                                             f"{name!r}{hint}")
        return self.properties[name]

    def let(self, node: Node, scope: Mapping[str, str]) -> str:
        args, inner = node.args, dict(scope)
        if len(args) < 3 or len(args) % 2 == 0 or (node.op == "let" and len(args) != 3):
            return self.error(node.index, f"{node.op} takes a name, a value"
                              + (", more names and values" if node.op == "lets" else "")
                              + " and the expression that uses them")
        for name, value in zip(args[:-1:2], args[1:-1:2]):
            if name.kind != "name":
                self.error(name.index, f"{node.op}: expected a variable name, found a {name.kind}")
                continue
            inner[name.op] = self.type(value, inner)
        return self.type(args[-1], inner)


def _a(t: str) -> str:
    if t.startswith("list"):
        return "a list"
    return {N: "a number", T: "text", B: "a boolean", D: "a date", "person": "a person",
            "page": "a page"}.get(t, t)


def check_formula(expression: str, properties: Mapping[str, str]) -> tuple[str, list[FormulaProblem]]:
    """`(result type, problems)` of `expression` in a database whose `prop()` names resolve
    through `properties` (name → formula type, see `PROPERTY_TYPES`). The result type is
    `any` when unknown or when the formula has problems."""
    try:
        tree = parse(expression)
        checker = _Checker(properties)
        result = checker.type(tree, {})
    except FormulaSyntaxError as exc:
        return A, [FormulaProblem(exc.index, exc.message)]
    except RecursionError:  # deep nesting the parser allowed but the checker cannot walk
        return A, [FormulaProblem(0, "the formula is too deeply nested to check: simplify it")]
    return (A if checker.problems else result), checker.problems
