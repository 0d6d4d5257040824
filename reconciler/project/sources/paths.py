"""Records read from content sources, and dotted paths into them.

A `Record` is one future row before its values are typed: the data a path walks (a JSON object,
front matter, a CSV line as a dict), the special values (`$body`, `$stem`, `$path`,
`$heading.N`), where it came from (`file`, `line`) and the positions of its nodes (for messages).
Paths: `sla.p95_ms`, `apis[0].name`, `tags` (keys are split on dots; `[n]` indexes a list).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_PATH = re.compile(r"[^.\[\]]+(?:\[\d+\])*(?:\.[^.\[\]]+(?:\[\d+\])*)*\Z")

#: A missing value (distinct from a present null).
MISSING = object()


class PathSyntaxError(ValueError):
    """A field path that is not `name(.name|[n])*`."""


def parse_path(path: str) -> tuple[str | int, ...]:
    """`"a.b[2].c"` → `("a", "b", 2, "c")`; raises `PathSyntaxError` for a malformed path."""
    if not _PATH.match(path):
        raise PathSyntaxError(f"path {path!r} is not a dotted path (name.name[0].name)")
    return tuple(int(m.group(2)) if m.group(2) is not None else m.group(1)
                 for m in _PART.finditer(path))


def lookup(data: Any, parts: tuple[str | int, ...]) -> Any:
    """The value at `parts` in `data`, or `MISSING` when any step is absent or of another shape."""
    node = data
    for part in parts:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


@dataclass
class Record:
    """One row-to-be.

    - `data`: what paths walk (dict/list/scalars); `specials`: `$name` → value.
    - `file` (relative to the root), `line` (1-based, or None when unknown).
    - `positions`: node path (a tuple of keys/indexes, relative to `data`) → (line, col), when
      the reader knows them; `finder`: for markdown sections, regex fields are searched with it
      (`pattern → (value or MISSING, line or None, col)`);
      `flat`: paths are literal keys (CSV column names), not dotted paths.
    """

    data: Any
    file: str
    line: int | None = None
    specials: dict[str, Any] = field(default_factory=dict)
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    finder: Callable[[str], tuple[Any, int | None, int]] | None = None
    flat: bool = False  # paths are literal keys of `data` (CSV column names)

    def get(self, path: str) -> tuple[Any, tuple[int, int]]:
        """`(value or MISSING, (line, col))` of a field path in this record.

        Raises `PathSyntaxError` for a malformed dotted path."""
        if path.startswith("$"):
            return self.specials.get(path, MISSING), self.positions.get((path,), (self.line or 1, 1))
        if self.finder is not None:
            value, line, col = self.finder(path)
            return value, (line or self.line or 1, col if line else 1)
        parts = (path,) if self.flat else parse_path(path)
        found = self.data.get(path, MISSING) if self.flat and isinstance(self.data, dict) \
            else lookup(self.data, parts)
        return found, self.locate(parts)

    @property
    def where(self) -> str:
        """`file:line` or `file`."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def locate(self, parts: tuple) -> tuple[int, int]:
        """(line, col) of the deepest known node of `parts` (its value when known), else the
        record's own line."""
        if parts + ("__value__",) in self.positions:
            return self.positions[parts + ("__value__",)]
        while parts:
            if parts in self.positions:
                return self.positions[parts]
            parts = parts[:-1]
        return self.positions.get((), (self.line or 1, 1))
