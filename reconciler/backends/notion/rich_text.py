"""Rich text values ⇄ Notion rich text arrays. Pure, no I/O.

The normal form (`model.rich_text`) is plain text or a tuple of styled runs. Writing cuts each run
into text objects of at most 2000 characters as Notion counts them (UTF-16 code units) and sends
at most 100 objects (NOTION-API.md §4.2); styled runs carry `annotations` and `text.link`
(NOTION-API.md Appendix A, e.g. REC:UN/fixtures/mod_notion_cleanups.yaml: every returned text
object has `annotations` with bold/italic/strikethrough/underline/code/color and `href`).
Reading merges the objects back through `model.rich_text.normal`, so what was written reads back
equal however the objects are cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.notion_docs import REQUEST_LIMITS
from reconciler.model.rich_text import FLAGS, RichText, is_runs, normal

#: Maximum length of one rich text `text.content`, counted like Notion counts it (JavaScript
#: string length = UTF-16 code units) (NOTION-API.md §4.2).
MAX_TEXT_LENGTH = 2000
#: Maximum number of items in any array of a request: rich text objects, multi_select options,
#: relation pages, people (NOTION-API.md §4.2).
MAX_ARRAY_ITEMS = 100
#: Largest text one rich text array can carry: 100 objects of 2000 characters (§4.2).
MAX_RICH_TEXT_LENGTH = MAX_ARRAY_ITEMS * MAX_TEXT_LENGTH


def utf16_len(text: str) -> int:
    """Length of `text` as Notion counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Pieces of at most `limit` UTF-16 code units, never splitting a character."""
    pieces: list[str] = []
    start = 0
    size = 0
    for index, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > limit:
            pieces.append(text[start:index])
            start, size = index, 0
        size += width
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _objects(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The text objects of one run (plain runs keep the minimal request shape)."""
    styled = {k: True for k in FLAGS if run.get(k)}
    if run.get("color"):
        styled["color"] = run["color"]
    link = {"link": {"url": run["link"]}} if run.get("link") else {}
    out = []
    for piece in split_text(run["text"]):
        item: dict[str, Any] = {"type": "text", "text": {"content": piece, **link}}
        if styled:
            item["annotations"] = styled
        out.append(item)
    return out


def _runs(value: RichText | Iterable[Mapping[str, Any]]) -> tuple[Mapping[str, Any], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return ({"text": value},)
    if isinstance(value, (list, tuple)) and (not value or is_runs(value)):
        runs = normal(value)
        return () if runs is None else ({"text": runs},) if isinstance(runs, str) else runs
    raise ValueError(f"rich text must be a string or a list of runs, not {type(value).__name__}")


def rich_text_problem(value: RichText | Iterable[Mapping[str, Any]]) -> str | None:
    """Why `value` cannot be one rich text array (title, description, rich_text value), or None.

    Plain text fits when its 2000-character pieces are at most 100 (§4.2): about 200,000
    characters, counted in UTF-16 code units as Notion counts them. Styled text needs one object
    per piece of each run. Raises `ValueError` for a value that is not text or runs."""
    runs = _runs(value)
    pieces = sum(len(split_text(r["text"])) for r in runs)
    if pieces <= MAX_ARRAY_ITEMS:
        return None
    size = sum(utf16_len(r["text"]) for r in runs)
    if len(runs) == 1 and not set(runs[0]) - {"text"}:
        return (f"{size:,} characters need {pieces} rich text objects of {MAX_TEXT_LENGTH:,}; "
                f"Notion accepts at most {MAX_ARRAY_ITEMS} in one value ({REQUEST_LIMITS}), "
                f"that is {MAX_RICH_TEXT_LENGTH:,} characters: shorten it")
    return (f"{size:,} characters in {len(runs)} styled runs need {pieces} rich text objects; "
            f"Notion accepts at most {MAX_ARRAY_ITEMS} in one value ({REQUEST_LIMITS}): "
            "shorten it, or give the field `format: plain`")


def rich_text_to_api(value: RichText | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A rich text value as a request rich text array.

    Plain text gives `[{"type":"text","text":{"content": piece}}, …]`; runs add `annotations`
    (only the styles set) and `text.link`. Pieces hold at most 2000 characters as Notion counts
    them and are never split inside a character (NOTION-API.md §4.2); joining the pieces gives
    the text back. `None`, `""` and `()` give `[]` (empty strings are not supported, §2).
    Raises `ValueError` for another type, a malformed run, or more than 100 objects
    (`rich_text_problem`, §4.2).
    """
    runs = _runs(value)
    items = [item for run in runs for item in _objects(run)]
    if len(items) > MAX_ARRAY_ITEMS:
        raise ValueError(rich_text_problem(runs))
    return items


def _run(item: Mapping[str, Any]) -> dict[str, Any]:
    text = item.get("plain_text")
    if text is None:
        text = (item.get("text") or {}).get("content")
    annotations = item.get("annotations") or {}
    run = {"text": text or "", **{k: True for k in FLAGS if annotations.get(k)}}
    if annotations.get("color") not in (None, "default"):
        run["color"] = annotations["color"]
    link = (item.get("text") or {}).get("link") if item.get("type", "text") == "text" else None
    if link and link.get("url"):
        run["link"] = link["url"]
    return run


def rich_text_from_api(items: Iterable[Mapping[str, Any]] | None) -> RichText:
    """A response rich text array in normal form: plain `str` when nothing is styled, else runs.

    Mentions and equations count as their `plain_text` with their annotations (a mention's
    page URL is not a link: it is not something the sync writes). `[]` gives `None`.
    """
    return normal([_run(item) for item in items or ()])
