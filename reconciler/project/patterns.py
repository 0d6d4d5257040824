"""Regular expressions a spec supplies, bounded in time (docs/content.md "Patterns").

A pattern written in YAML (a `markdown_sections` heading, `end`, `marker`, `until` or field
regex; a field's `split:` or `strip:`) runs on text the project does not control, and a pattern
that backtracks catastrophically (`((a+)+)$` on `aaaa…b`) could run for hours. Every such
pattern is compiled by `bounded()`: the syntax is Python's `re` (so `re`'s error messages), the
matching is done by the `regex` package (a superset of `re` that gives the same matches for
`re` patterns) with a `timeout=` of `TIME_LIMIT` seconds per call, and at most `TOTAL_LIMIT`
seconds over all the calls of one pattern in one load (a pattern just under the per-call bound
on every line of a long file would still hang; only calls of `SLOW_CALL` or more count, so a
healthy pattern on a large corpus or a busy machine is never taken for a backtracking one).
Going over either raises `PatternTimeout`,
which readers turn into a problem at the spec line of the pattern.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import regex

#: Longest one search, match, sub or split of a spec's pattern may take, in seconds.
TIME_LIMIT = 1.0
#: Longest all the slow calls of one pattern may take in one load of the project, in seconds.
TOTAL_LIMIT = 10.0
#: A call at least this long (seconds) counts towards `TOTAL_LIMIT`: a healthy pattern's calls
#: take microseconds, however many lines a large project has, and never add up to it.
SLOW_CALL = 0.01


class PatternTimeout(Exception):
    """A spec's pattern ran longer than `TIME_LIMIT` on one text.

    `pattern`: the pattern as written; `loc`: where it is written (as its `Pattern` was given);
    `at`: `file:line` of the text, once a caller knows it (`located`)."""

    def __init__(self, pattern: str, loc: tuple, at: str | None = None, total: bool = False):
        super().__init__(pattern)
        self.pattern, self.loc, self.at, self.total = pattern, loc, at, total

    def located(self, at: str) -> PatternTimeout:
        """This timeout naming the text it ran on (`file:line`), unless it already does."""
        if self.at is None:
            self.at = at
        return self

    @property
    def message(self) -> str:
        """The problem as a user reads it at the pattern's spec line."""
        on = f" on {self.at}" if self.at else ""
        took = f"took longer than {TOTAL_LIMIT:g} s in all (the last search{on})" if self.total \
            else f"took longer than {TIME_LIMIT:g} s{on}"
        return (f"pattern {self.pattern!r} {took}: it backtracks; "
                "simplify it (no nested repetition such as (a+)+, no alternatives that match "
                "the same text such as (a|aa)+)")


@dataclass(frozen=True)
class Pattern:
    """A compiled spec pattern whose every call is bounded by `TIME_LIMIT` (raises
    `PatternTimeout`). Offers what readers use of `re.Pattern`: `search`, `match`, `sub`,
    `split`, `groups`, `pattern`."""

    compiled: Any  # regex.Pattern
    loc: tuple = ()
    spent: list[float] = field(default_factory=lambda: [0.0], compare=False, repr=False)

    @property
    def pattern(self) -> str:
        return self.compiled.pattern

    @property
    def groups(self) -> int:
        return self.compiled.groups

    def _run(self, method: str, *args: Any) -> Any:
        left = TOTAL_LIMIT - self.spent[0]
        began = time.monotonic()
        try:
            return getattr(self.compiled, method)(*args, timeout=max(min(TIME_LIMIT, left), 0.001))
        except TimeoutError:
            raise PatternTimeout(self.pattern, self.loc, total=left < TIME_LIMIT) from None
        finally:
            took = time.monotonic() - began
            if took >= SLOW_CALL:
                self.spent[0] += took

    def search(self, text: str) -> Any:
        """`re.Pattern.search`, bounded."""
        return self._run("search", text)

    def match(self, text: str) -> Any:
        """`re.Pattern.match`, bounded."""
        return self._run("match", text)

    def sub(self, replacement: str, text: str) -> str:
        """`re.Pattern.sub`, bounded."""
        return self._run("sub", replacement, text)

    def split(self, text: str) -> list[str]:
        """`re.Pattern.split`, bounded."""
        return self._run("split", text)


def bounded(pattern: str, loc: tuple = (), literal: bool = False) -> Pattern:
    """`pattern` compiled as a `Pattern` located at `loc` (`literal`: matches the text itself).

    Raises `re.error` (with `re`'s message) for a pattern Python's `re` refuses."""
    text = re.escape(pattern) if literal else pattern
    re.compile(text)  # the syntax users know, and its messages
    try:
        return Pattern(regex.compile(text), loc)
    except regex.error as exc:  # re accepts it, regex does not: say so in re's terms
        raise re.error(str(exc)) from None
