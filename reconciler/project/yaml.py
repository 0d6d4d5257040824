"""YAML files read with ruamel.yaml, keeping the line and column of every key and item.

`load_yaml(path)` returns a `YamlDocument`: the data as plain dicts/lists plus a `locate(loc)` that
turns a pydantic error location (a tuple of keys and indexes) into a 1-based `(line, col)`.
`validate(model, doc, file)` validates with pydantic v2 and turns every error into a
`SpecProblem` (`file:line:col: message`), all at once, never raising pydantic's own error.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler.errors import SpecProblem
from reconciler.safe_yaml import MAX_SPEC_BYTES, check_size, load_text, not_utf8

M = TypeVar("M", bound=BaseModel)
#: Turns one pydantic error (`errors()` item) into `(data loc, message)`, or None for the default.
Explain = Callable[[dict], "tuple[tuple, str] | None"]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class YamlDocument:
    """A parsed YAML file: `data` (plain Python) and the positions of its nodes.

    `positions` maps a node path (keys and indexes) to its 1-based (line, col); a mapping
    value's own start is under `path + ("__value__",)`. `text` is the source (for locating
    characters inside a string, `locate_in_value`), whose line 1 is line `1 + line_offset`.
    """

    file: str
    data: Any
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    text: str = ""
    line_offset: int = 0

    def locate(self, loc: tuple) -> tuple[int, int]:
        """1-based (line, col) of the deepest node of `loc` that exists, else (1, 1)."""
        loc = tuple(loc)
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return self.positions.get((), (1, 1))

    def locate_in_value(self, loc: tuple, index: int) -> tuple[int, int]:
        """1-based (line, col) of character `index` of the string value at `loc` (e.g. inside a
        formula), following how the value is written: plain, quoted (`''`, backslash escapes,
        folded lines) or a literal block (`|`). The value's start when it cannot tell."""
        start = self.positions.get(tuple(loc) + ("__value__",))
        lines = self.text.splitlines()
        if start is None or not 0 <= start[0] - 1 - self.line_offset < len(lines):
            return self.locate(loc)
        row, col = start[0] - 1 - self.line_offset, start[1] - 1
        first = lines[row][col:col + 1]
        if first == "|":
            return self._in_block(lines, row, index)
        if first in ("'", '"'):
            return self._in_quoted(lines, row, col, index, first)
        return start[0], start[1] + index if first not in (">",) else start[1]

    def _in_block(self, lines: list[str], row: int, index: int) -> tuple[int, int]:
        body = lines[row + 1:]
        indent = next((len(x) - len(x.lstrip(" ")) for x in body if x.strip()), 0)
        value = "\n".join(x[indent:] for x in body)
        before = value[:index]
        return (row + 2 + before.count("\n") + self.line_offset,
                indent + len(before) - (before.rfind("\n") + 1) + 1)

    def _in_quoted(self, lines: list[str], row: int, col: int, index: int, quote: str
                   ) -> tuple[int, int]:
        i, done = col + 1, 0
        while row < len(lines):
            line = lines[row]
            while i < len(line):
                if done == index or line[i] == quote and not line.startswith(quote * 2, i):
                    return row + 1 + self.line_offset, i + 1
                step = 2 if line[i] == quote or (quote == '"' and line[i] == "\\") else 1
                if quote == '"' and line[i] == "\\":
                    step += {"x": 2, "u": 4, "U": 8}.get(line[i + 1:i + 2], 0)
                i, done = i + step, done + 1
            row, i, done = row + 1, 0, done + 1  # a line break folds into one space
            if row < len(lines):
                i = len(lines[row]) - len(lines[row].lstrip())
        return self.locate(())


@dataclass(frozen=True)
class Loaded(Generic[M]):
    """A valid document with its logical name (`name`: the file stem), file (as named in
    messages) and positions."""

    name: str
    file: str
    doc: M
    yaml: YamlDocument

    def problem(self, loc: tuple, message: str) -> SpecProblem:
        """A problem located at the node `loc` of this file (its nearest existing parent)."""
        line, col = self.yaml.locate(loc)
        return SpecProblem(self.file, line, col, message)


def _plain(node: Any, path: tuple, positions: dict, env: dict[str, str] | None,
           problems: list, file: str) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key in node:
            try:
                line, col = node.lc.key(key)
                positions[path + (str(key),)] = (line + 1, col + 1)
                vline, vcol = node.lc.value(key)
                positions.setdefault(path + (str(key), "__value__"), (vline + 1, vcol + 1))
            except (KeyError, TypeError, AttributeError):
                pass
            if key is None:  # `: value` reads as a null key, which str() would make "None"
                line, col = positions.get(path + (str(key),), (1, 1))
                problems.append(SpecProblem(file, line, col, "a key is empty: write a name "
                                            "before the colon"))
                continue
            if str(key) in out:  # `1:` and `"1":` are one key once read as text
                line, col = positions.get(path + (str(key),), (1, 1))
                problems.append(SpecProblem(file, line, col, f"duplicate key {key!r}"))
            out[str(key)] = _plain(node[key], path + (str(key),), positions, env, problems, file)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            try:
                line, col = node.lc.item(i)
                positions[path + (i,)] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_plain(item, path + (i,), positions, env, problems, file))
        return items
    if isinstance(node, str) and env is not None and "$" in node:
        return _interpolate(node, env, path, positions, problems, file)
    if node is not None and not isinstance(node, (str, int, float, bool)):
        return str(node)  # dates and timestamps stay text; the models parse them
    return node if not isinstance(node, str) else str(node)


def _interpolate(text: str, env: dict[str, str], path: tuple, positions: dict,
                 problems: list, file: str) -> str:
    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        line, col = positions.get(path, (1, 1))
        problems.append(SpecProblem(
            file, line, col,
            f"${{{name}}} is not set: export {name} or add it to .env "
            f"(or write ${{{name}:-default}})"))
        return m.group(0)

    return _VAR.sub(sub, text)


def load_yaml(path: Path, file: str, env: dict[str, str] | None = None, *,
              max_bytes: int = MAX_SPEC_BYTES, remember: bool = False
              ) -> tuple[YamlDocument | None, list[SpecProblem]]:
    """Parse `path` (named `file` in messages). `${VAR}` / `${VAR:-default}` are replaced from `env`.

    The text is parsed once (`safe_yaml.load_text`): recursive aliases, alias bombs, integers
    of more than 4,300 digits and files over `max_bytes` are refused with a located problem,
    and every duplicate key is reported. Returns the document, or None with the problems when
    the YAML itself is broken or refused. Never raises for bad content; OSError propagates for
    unreadable files. `remember`: keep the parse of a text of at most `_MEMO_CHARS` for the next
    load of the same text (spec files, which a process may load many times).
    """
    too_big = check_size(path, max_bytes, "file")
    if too_big is not None:
        return None, [SpecProblem(file, too_big.line, too_big.col, too_big.message)]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        where = not_utf8(exc)
        return None, [SpecProblem(file, where.line, where.col, where.message)]
    if not remember or len(text) > _MEMO_CHARS:
        return parse_yaml(text, file, env)
    doc, problems = _parsed(text, file)
    if doc is None:
        return None, list(problems)
    positions = dict(doc.positions)
    more: list[SpecProblem] = []
    # `_interpolated` builds every dict and list anew: the remembered data stays unshared
    data = copy.deepcopy(doc.data) if env is None else \
        _interpolated(doc.data, (), positions, env, more, file)
    return YamlDocument(file, data, positions, text=text), list(problems) + more


#: Longest file text `load_yaml(remember=True)` keeps, in characters (spec files are a few KiB).
_MEMO_CHARS = 32 * 1024


@functools.lru_cache(maxsize=128)
def _parsed(text: str, file: str) -> tuple[YamlDocument | None, tuple[SpecProblem, ...]]:
    """`parse_yaml` of a spec file's text without `${VAR}` interpolation, remembered by the
    text and the file's name, so that a process that loads one project several times (the test
    suite, a library caller) parses each file once: about 60 ms for the bundled example.
    `load_yaml` interpolates a copy (`_interpolated`): nobody shares the data."""
    doc, problems = parse_yaml(text, file, None)
    return doc, tuple(problems)


def _interpolated(node: Any, path: tuple, positions: dict, env: dict[str, str],
                  problems: list, file: str) -> Any:
    """`node` (plain data, as `_plain` builds it) with `${VAR}` replaced in every string value
    from `env`, as `_plain` does when given `env` (same paths, same problems, same order)."""
    if isinstance(node, dict):
        return {k: _interpolated(v, path + (k,), positions, env, problems, file)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolated(v, path + (i,), positions, env, problems, file)
                for i, v in enumerate(node)]
    if isinstance(node, str) and "$" in node:
        return _interpolate(node, env, path, positions, problems, file)
    return node


def parse_yaml(text: str, file: str, env: dict[str, str] | None = None, *, line_offset: int = 0
               ) -> tuple[YamlDocument | None, list[SpecProblem]]:
    """`load_yaml` for a text already read; `line_offset` is added to every line (e.g. 1 for
    front matter that starts on a file's second line)."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    parsed = load_text(yaml, text)
    problems = [SpecProblem(file, i.line + line_offset, i.col, i.message) for i in parsed.issues]
    if parsed.fatal:
        return None, problems
    positions: dict[tuple, tuple[int, int]] = {(): (1, 1)}
    more: list[SpecProblem] = []
    data = _plain(parsed.data, (), positions, env, more, file)
    if line_offset:
        positions = {k: (line + line_offset, col) for k, (line, col) in positions.items()}
        more = [SpecProblem(p.file, p.line + line_offset, p.col, p.message) for p in more]
    return YamlDocument(file, data, positions, text=text, line_offset=line_offset), problems + more


def environment(root: Path) -> dict[str, str]:
    """The process environment over the project's `.env` file (the environment wins)."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(root / ".env").items() if v is not None} \
        if (root / ".env").is_file() else {}
    values.update(os.environ)
    return values


def _message(err: dict) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int) or True)
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}: remove it or check its spelling"
    if kind == "missing":
        return f"missing required key {err['loc'][-1]!r}: add it"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return f"{loc}: {msg}" if loc else msg


def validate(model: type[M], doc: YamlDocument, explain: Explain | None = None
             ) -> tuple[M | None, list[SpecProblem]]:
    """Validate `doc.data` with `model`; every pydantic error becomes a located `SpecProblem`.

    `explain(err)` may replace the location and message of an error (e.g. a friendlier message
    for an unknown tag of a tagged union); it gets the raw pydantic error, tags included.
    """
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            custom = explain({**err, "loc": loc}) if explain else None
            if custom is not None:
                line, col = doc.locate(_data_loc(doc, custom[0]))
                problems.append(SpecProblem(doc.file, line, col, custom[1]))
                continue
            # union/tagged-union members add their tag to the loc; drop parts that are not data keys
            data_loc = _data_loc(doc, loc)
            line, col = doc.locate(data_loc)
            problems.append(SpecProblem(doc.file, line, col, _message({**err, "loc": data_loc or loc})))
        return None, problems


def _data_loc(doc: YamlDocument, loc: tuple) -> tuple:
    """Keep only the parts of a pydantic loc that walk through the actual data."""
    out: tuple = ()
    node = doc.data
    for part in loc:
        if isinstance(node, dict) and str(part) in node:
            out += (str(part),)
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out += (part,)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and part == loc[-1]:
            out += (part,)  # a missing or extra key: point at its parent
        # other parts (union tags like 'str' or 'Property') are skipped
    return out
