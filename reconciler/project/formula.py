"""Notion's formula language (formulas 2.0): the tokenizer and parser. Pure.

No maintained Python library parses Notion formulas (PyPI has `notion-formulas`, a 2023 builder
of formula-1.0 text, not a parser), so this is a hand-written recursive-descent parser.
`parse(expression)` returns the syntax tree (`Node`s carrying the 0-based index of their first
character) or raises `FormulaSyntaxError` at the index where the syntax breaks;
`referenced(expression)` lists the `prop("Name")` it uses. Types and names are checked by
`project.formula_check`.

The language, from Notion's help page "Formula syntax & functions" (notion.com/help/formula-syntax)
and its formulas-2.0 announcement: literals (numbers, "double-quoted" text with backslash
escapes, true/false, [lists]), `prop("Name")`, `{{notion:block_property:…}}` references (what
the API returns, NOTION-API.md §2), operators `+ - * / % ^`, `== != > >= < <=`,
`and or not` (`&& || !`), `cond ? a : b`, function calls `f(x, y)` and method calls `x.f(y)`
(the same as `f(x, y)`), `let`/`lets` variables, and `/* comments */`. Operator precedence
(tightest first): not, ^, unary -/+, * / %, + -, comparisons, == !=, and, or, ?:
(`notion-formulas`' table, the same as Notion's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: How deep expressions may nest (parentheses, calls) before the parser gives up.
MAX_DEPTH = 50


@dataclass(frozen=True)
class FormulaProblem:
    """A problem at character `index` (0-based) of the expression."""

    index: int
    message: str


class FormulaSyntaxError(ValueError):
    """The expression does not parse: `index` (0-based) and `message` say where and why."""

    def __init__(self, index: int, message: str):
        super().__init__(f"{index}: {message}")
        self.index, self.message = index, message


# -- tokens ---------------------------------------------------------------------------------

_TOKENS = re.compile(r"""(?P<ws>\s+)|(?P<comment>/\*.*?\*/)|(?P<ref>\{\{.*?\}\})
    |(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<str>"(?:[^"\\]|\\.)*")
    |(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|>=|<=|&&|\|\||[-+*/%^><!()\[\],.?:])""",
                     re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, str, id, op, ref, end
    text: str
    index: int


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    # Notion keeps a spreadsheet-style "=" in front of an expression written with one (a recorded
    # data source holds `={{notion:block_property:…}}* 2`: NOTION-API.md A.1): one is skipped
    lead = len(text) - len(text.lstrip())
    if text.startswith("=", lead) and not text.startswith("==", lead):
        pos = lead + 1
    while pos < len(text):
        m = _TOKENS.match(text, pos) if not text.startswith("/*", pos) \
            or "*/" in text[pos + 2:] else None
        if m is None:
            raise FormulaSyntaxError(pos, _bad_char(text, pos))
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _bad_char(text: str, pos: int) -> str:
    ch = text[pos]
    if ch == '"':
        return "text opened with \" is never closed: add the closing \""
    if text.startswith("/*", pos):
        return "comment opened with /* is never closed: add */"
    if text.startswith("{{", pos):
        return "reference opened with {{ is never closed: add }}"
    if ch in "'‘’“”":
        return f"{ch} is not a quote in formulas: write text in straight double quotes \"…\""
    if ch == "=":
        return "= alone is not an operator: compare with =="
    if ch in "&|":
        return f"{ch} alone is not an operator: write {ch * 2} (or {'and' if ch == '&' else 'or'})"
    return f"unexpected character {ch!r}"


# -- syntax tree and parser -----------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    """A node of the syntax tree: `kind` (num, str, bool, list, ref, name, unary, binary,
    ternary, call), `index` of its first character, `op` (operator or name), `args`."""

    kind: str
    index: int
    op: str = ""
    args: tuple["Node", ...] = ()
    value: Any = None


_BINARY = [("or", "||"), ("and", "&&"), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"),
           ("*", "/", "%")]
_WORDS = {"or": "or", "||": "or", "and": "and", "&&": "and"}


class _Parser:
    def __init__(self, text: str):
        self.toks, self.i, self.depth = _tokens(text), 0, 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "id") and self.tok.text in texts

    def take(self) -> _Tok:
        self.i += 1
        return self.toks[self.i - 1]

    def expect(self, text: str, what: str) -> _Tok:
        if not self.at(text):
            raise FormulaSyntaxError(self.tok.index, f"expected {text!r} {what}, found {_describe(self.tok)}")
        return self.take()

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise FormulaSyntaxError(0, "the formula is empty")
        node = self.expr()
        if self.tok.kind != "end":
            raise FormulaSyntaxError(self.tok.index, f"unexpected {_describe(self.tok)}: an operator or "
                                          "a comma may be missing before it")
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaSyntaxError(self.tok.index, f"the formula nests more than {MAX_DEPTH} levels deep")
        cond = self.binary(0)
        if self.at("?"):
            self.take()
            yes = self.expr()
            self.expect(":", "after the value if true of ?")
            no = self.expr()
            cond = Node("ternary", cond.index, "?", (cond, yes, no))
        self.depth -= 1
        return cond

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.at(*_BINARY[level]):
            op = self.take()
            right = self.binary(level + 1)
            left = Node("binary", op.index, _WORDS.get(op.text, op.text), (left, right))
        return left

    def unary(self) -> Node:
        if self.at("-", "+"):
            op = self.take()
            return Node("unary", op.index, op.text, (self.unary(),))
        base = self.negation()
        if self.at("^"):
            op = self.take()
            return Node("binary", op.index, "^", (base, self.unary()))
        return base

    def negation(self) -> Node:
        if self.at("not", "!"):
            op = self.take()
            return Node("unary", op.index, "not", (self.negation(),))
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.at("."):
            self.take()
            name = self.tok
            if name.kind != "id":
                raise FormulaSyntaxError(name.index, f"expected a function name after '.', found "
                                          f"{_describe(name)}")
            self.take()
            self.expect("(", f"after .{name.text} (methods are called: .{name.text}())")
            node = Node("call", name.index, name.text, (node, *self.arguments()), value="method")
        return node

    def arguments(self) -> tuple[Node, ...]:
        args = []
        if not self.at(")"):
            args.append(self.expr())
            while self.at(","):
                self.take()
                args.append(self.expr())
        self.expect(")", "to close the argument list")
        return tuple(args)

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            return Node("num", tok.index, value=float(tok.text))
        if tok.kind == "str":
            self.take()
            return Node("str", tok.index, value=re.sub(r"\\(.)", r"\1", tok.text[1:-1]))
        if tok.kind == "ref":
            self.take()
            return Node("ref", tok.index, value=tok.text)
        if tok.kind == "id":
            return self.name()
        if self.at("("):
            self.take()
            node = self.expr()
            self.expect(")", "to close the parenthesis")
            return node
        if self.at("["):
            self.take()
            items = []
            if not self.at("]"):
                items.append(self.expr())
                while self.at(","):
                    self.take()
                    items.append(self.expr())
            self.expect("]", "to close the list")
            return Node("list", tok.index, args=tuple(items))
        raise FormulaSyntaxError(tok.index, f"expected a value, found {_describe(tok)}")

    def name(self) -> Node:
        tok = self.take()
        if tok.text in ("true", "false"):
            return Node("bool", tok.index, value=tok.text == "true")
        if self.at("("):
            self.take()
            return Node("call", tok.index, tok.text, self.arguments())
        return Node("name", tok.index, tok.text)


def _describe(tok: _Tok) -> str:
    return "the end of the formula" if tok.kind == "end" else repr(tok.text[:30])


def parse(expression: str) -> Node:
    """The syntax tree of `expression`. Raises `FormulaSyntaxError` for bad syntax, also for
    unary operators chained thousands deep (Python's recursion limit)."""
    try:
        return _Parser(expression).parse()
    except RecursionError:
        raise FormulaSyntaxError(0, "the formula is too deeply nested: simplify it") from None


def referenced(expression: str) -> list[tuple[str, int]]:
    """`(property name, index)` of every `prop("Name")` of `expression` (none if it does not
    parse), in order: for finding formulas that refer to each other."""
    try:
        tree = parse(expression)
    except FormulaSyntaxError:
        return []
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node.kind == "call" and node.op == "prop" and node.value != "method" \
                and len(node.args) == 1 and node.args[0].kind == "str":
            found.append((node.args[0].value, node.args[0].index))
        stack += node.args
    return sorted(found, key=lambda f: f[1])
