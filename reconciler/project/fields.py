"""From the text people wrote to a field's value, before it is typed (docs/content.md "Values
as written"): lists, `split`, `strip`, `map`, `default`, markdown.

`shaper(spec, field_type, list_type, markdown)` compiles a field's `FieldDoc` (or bare path) into
a `Shaper`, or returns the problems of its options as `(loc, message)` pairs (loc relative to
the field's spec). `Shaper.shape(raw)` is pure and never raises:

- A field whose type takes a list (multi_select, people, relation, files, array columns): a list
  stays a list (its items as they are); markdown text gives its list items (and its paragraphs
  outside a list); other text is one item. Text items are cut at every `split` separator. Items are stripped of `strip`
  matches, trimmed, looked up in `map` (ignoring case; a null maps the item away) and empty
  ones dropped. A markdown item that is one link gives a file `{name, url}`.
- Any other field: `strip`, trim, `map` on text; rich_text from a markdown source becomes
  styled runs (`project.markdown_text.to_rich_text`).
- `default` replaces what is absent, and what nothing is left of.

`split:` and `strip:` regexes are `patterns.Pattern`s, bounded in time: `shape` raises
`patterns.PatternTimeout` (its `loc` relative to `content:`) for one that runs too long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.property_types import LIST_TYPES
from reconciler.project.content_docs import FieldDoc, FieldSpec
from reconciler.project.markdown_text import list_items, to_rich_text
from reconciler.project.patterns import Pattern, bounded
from reconciler.project.sources.paths import MISSING

#: Notion property types whose value is a list (the others hold one value).
NOTION_LIST_TYPES = LIST_TYPES
_GONE = object()


@dataclass(frozen=True)
class Shaper:
    """One field's rules: see the module docstring."""

    listed: bool = False
    rich: bool = False
    files: bool = False
    markdown: bool = False
    split: Pattern | None = None
    strip: Pattern | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    default: Any = None

    def shape(self, raw: Any) -> Any:
        """The value to type for `raw` (`MISSING` when the source has none)."""
        if raw is MISSING:
            return self.default
        value = self._list(raw) if self.listed else self._one(raw)
        if value is _GONE or value in (None, "", []):
            return self.default if self.default is not None else ([] if self.listed else None)
        return value

    def _one(self, raw: Any) -> Any:
        if not isinstance(raw, str):
            return self._mapped(raw)
        text = self._stripped(raw)
        if self.rich and self.markdown and text is not _GONE:
            mapped = self._mapped(text)
            return to_rich_text(mapped) if isinstance(mapped, str) else mapped
        return text if text is _GONE else self._mapped(text)

    def _list(self, raw: Any) -> list[Any]:
        listed = isinstance(raw, (list, tuple))  # a list's items are taken as they are
        out: list[Any] = []
        for item in raw if listed else [raw]:
            for piece in self._pieces(item, self.markdown and not listed):
                shaped = self._mapped(self._stripped(piece)) if isinstance(piece, str) \
                    else self._link(piece) if isinstance(piece, tuple) else self._mapped(piece)
                if shaped not in (_GONE, None, ""):
                    out.append(shaped)
        return out

    def _pieces(self, item: Any, markdown: bool) -> list[Any]:
        if not isinstance(item, str):
            return [item]
        found = list_items(item) if markdown else [(item, None)]
        pieces: list[Any] = []
        for text, link in found:
            if link is not None and self.files:
                pieces.append((text, link))
            else:
                pieces += self.split.split(text) if self.split is not None else [text]
        return pieces

    def _link(self, piece: tuple[str, str]) -> dict[str, str]:
        return {"name": piece[0], "url": piece[1]}

    def _stripped(self, text: str) -> Any:
        text = text.strip()
        if self.strip is not None:
            text = self.strip.sub("", text).strip()
        return text or _GONE

    def _mapped(self, value: Any) -> Any:
        if value is _GONE or not self.mapping or not isinstance(value, (str, int, float)):
            return value
        return self.mapping.get(str(value).casefold(), value)


def _regex(pattern: str, loc: tuple, what: str, at: tuple, literal: bool = False
           ) -> tuple[Pattern | None, list[tuple[tuple, str]]]:
    try:
        return bounded(pattern, at + loc, literal=literal), []
    except re.error as exc:
        return None, [(loc, f"{what}: invalid regular expression {pattern!r}: {exc}")]


def shaper(spec: FieldSpec, field_type: str, list_type: bool, markdown: bool, at: tuple = ()
           ) -> tuple[Shaper | None, list[tuple[tuple, str]]]:
    """A field's `Shaper`, or None and its problems `[(loc under the field, message)]`.

    `list_type`: the field's type takes a list; `markdown`: the source is markdown (a `format:`
    on the field overrides it); `at`: where the field is written (under `content:`), where a
    `PatternTimeout` of its `split`/`strip` points."""
    if not isinstance(spec, FieldDoc):
        return Shaper(listed=list_type, rich=field_type == "rich_text",
                      files=field_type == "files", markdown=markdown), []
    problems: list[tuple[tuple, str]] = []
    split = None
    if spec.split is not None:
        if not list_type:
            problems.append((("split",), f"split: a {field_type} holds one value; split is for "
                             "multi_select, people, relation, files and array columns"))
        elif isinstance(spec.split, str):
            if not spec.split:
                problems.append((("split",), "split: give a separator (e.g. ',')"))
            else:
                split = _regex(spec.split, ("split",), "split", at, literal=True)[0]
        else:
            split, more = _regex(spec.split.regex, ("split", "regex"), "split", at)
            problems += more
            if split is not None and split.match(""):
                problems.append((("split", "regex"), "split: the regex matches empty text; "
                                 "it must match the separators only"))
    strip, more = _regex(spec.strip, ("strip",), "strip", at) if spec.strip else (None, [])
    problems += more
    if problems:
        return None, problems
    mapping = {str(k).casefold(): (_GONE if v is None else v) for k, v in (spec.map or {}).items()}
    return Shaper(listed=list_type, rich=field_type == "rich_text", files=field_type == "files",
                  markdown=markdown if spec.format is None else spec.format == "markdown",
                  split=split, strip=strip, mapping=mapping, default=spec.default), []
