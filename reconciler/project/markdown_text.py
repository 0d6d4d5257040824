"""Markdown as people write it in notes → rich text runs, list items and heading levels.

Parsed with markdown-it-py (CommonMark, plus `~~strikethrough~~`), never with ad-hoc regexes:

- `to_rich_text(text)`: inline markdown becomes Notion annotations (`**bold**`, `*italic*`,
  `` `code` ``, `~~strike~~`, `[text](url)` links); line breaks stay where they were written;
  blocks separated by a blank line in the source are separated by one blank line; list items
  become one line each, `• item` (`1. item` in ordered lists, nested items indented by two
  spaces); headings are bold; code blocks are code. Returns the `model.rich_text` normal form.
- `list_items(text)`: the items a list property takes from a text: each list item, and each
  paragraph outside a list, as plain text (markdown markers removed) with its link, if any.
- `heading_levels(text)`: `{line index: level}` of the ATX and setext headings of a document
  (lines inside code fences are not headings); `outline(text)`: those and the fenced lines.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.model.rich_text import RichText, normal

_STYLE = {"strong": "bold", "em": "italic", "s": "strikethrough"}
_LEAVES = ("paragraph_open", "heading_open", "fence", "code_block", "html_block")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("strikethrough")


def _inline(children: list[Token], base: dict[str, Any], soft: str = "\n") -> list[dict]:
    """Runs of an inline token's children under the `base` style."""
    runs: list[dict] = []
    styles: dict[str, Any] = {}
    for tok in children:
        kind = tok.type
        if kind.endswith("_open") and kind[:-5] in _STYLE:
            styles[_STYLE[kind[:-5]]] = True
        elif kind.endswith("_close") and kind[:-6] in _STYLE:
            styles.pop(_STYLE[kind[:-6]], None)
        elif kind == "link_open":
            styles["link"] = tok.attrGet("href")
        elif kind == "link_close":
            styles.pop("link", None)
        elif kind in ("text", "html_inline"):
            runs.append({**base, **styles, "text": tok.content})
        elif kind == "code_inline":
            runs.append({**base, **styles, "code": True, "text": tok.content})
        elif kind in ("softbreak", "hardbreak"):
            runs.append({**base, "text": soft if kind == "softbreak" else "\n"})
        elif kind == "image":
            runs += _inline(tok.children or [], {**base, **styles}, soft)
    return runs


def _prefix(stack: list[list], item: Token) -> str:
    """`• ` or `N. ` for a list item, indented by its depth."""
    kind = stack[-1][0]
    mark = "• " if kind == "bullet_list_open" else f"{item.info or stack[-1][1]}. "
    stack[-1][1] += 1
    return "  " * (len(stack) - 1) + mark


def to_rich_text(text: str | None) -> RichText:
    """Markdown → rich text normal form (see the module docstring); `None`/blank → `None`."""
    if text is None or not text.strip():
        return None
    runs: list[dict] = []
    stack: list[list] = []
    prefix, last_end, heading = "", None, False
    for tok in _parser().parse(text):
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            stack.append([tok.type, 1])
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            stack.pop()
        elif tok.type == "list_item_open":
            prefix = _prefix(stack, tok)
        if tok.type in _LEAVES and tok.map:
            if last_end is not None:
                runs.append({"text": "\n" if tok.map[0] <= last_end else "\n\n"})
            last_end = tok.map[1]
            if prefix:
                runs.append({"text": prefix})
                prefix = ""
        if tok.type == "heading_open":
            heading = True
        elif tok.type == "heading_close":
            heading = False
        elif tok.type == "inline":
            runs += _inline(tok.children or [], {"bold": True} if heading else {})
        elif tok.type in ("fence", "code_block"):
            runs.append({"text": tok.content.rstrip("\n"), "code": True})
        elif tok.type == "html_block":
            runs.append({"text": tok.content.rstrip("\n")})
    return normal(runs)


def _plain(tok: Token) -> tuple[str, str | None]:
    runs = _inline(tok.children or [], {}, soft=" ")
    links = {r.get("link") for r in runs if r["text"].strip()}
    href = links.pop() if len(links) == 1 else None
    return "".join(r["text"] for r in runs).strip(), href


def list_items(text: str | None) -> list[tuple[str, str | None]]:
    """The items of a text for a list property: every list item's text, and every paragraph
    outside a list, in order, as `(plain text, link)`; `link` is the URL when the whole item is
    one link (`[spec](https://…)`), else None. Blank items are dropped."""
    if text is None:
        return []
    items: list[tuple[str, str | None]] = []
    depth = 0
    for tok in _parser().parse(text):
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif tok.type == "inline":
            items.append(_plain(tok))
        elif tok.type in ("fence", "code_block", "html_block") and not depth:
            items.append((tok.content.strip(), None))
    return [i for i in items if i[0]]


def heading_levels(text: str) -> dict[int, int]:
    """`{0-based line index: level 1-6}` of the document's headings."""
    return outline(text)[0]


def outline(text: str) -> tuple[dict[int, int], frozenset[int]]:
    """`(heading levels, fenced lines)` of a document, from one markdown-it parse: the levels
    as `heading_levels` gives them, and the 0-based indexes of every line of a ``` or ~~~ code
    fence, its fence lines included (an unclosed fence runs to the end of the document, as
    CommonMark reads it)."""
    levels, fenced = {}, set()
    for tok in _parser().parse(text):
        if tok.type == "heading_open" and tok.map:
            levels[tok.map[0]] = int(tok.tag[1])
        elif tok.type == "fence" and tok.map:
            fenced.update(range(tok.map[0], tok.map[1]))
    return levels, frozenset(fenced)
