"""Rich text in content normal form: plain `str`, or a tuple of *runs* when some of it is styled.

A run is `{"text": str, "bold"?: True, "italic"?: True, "strikethrough"?: True,
"underline"?: True, "code"?: True, "color"?: str, "link"?: str}`: a piece of text and the Notion
annotations it carries (NOTION-API.md Appendix A: rich text objects carry `annotations` with
these five booleans and `color`, and `text.link.url`). Only non-default styles are kept.

`normal(value)` is the one normal form both sides of the diff use, so a value written through
the Notion writer and read back compares equal however Notion cuts it into objects:

- runs with empty text are dropped; adjacent runs with the same style are merged;
- when no run is styled the value is the plain text (`str`), and `""` is `None`;
- else it is a tuple of runs.

Pure; no I/O. The source side (markdown) is `project.markdown_text`; the API side is
`backends.notion.rich_text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: The boolean annotations of a Notion rich text object (NOTION-API.md Appendix A).
FLAGS = ("bold", "italic", "strikethrough", "underline", "code")
#: Every key a run may have besides `text`.
STYLE_KEYS = FLAGS + ("color", "link")

RichText = str | tuple[dict[str, Any], ...] | None


def style(run: Mapping[str, Any]) -> tuple:
    """The style of a run as a hashable tuple (equal styles merge)."""
    return tuple((k, run[k]) for k in STYLE_KEYS if run.get(k) not in (None, False, "default"))


def check_run(run: Any) -> dict[str, Any]:
    """A run as given (a mapping with `text` and style keys), with defaults dropped.

    Raises `ValueError` naming what is wrong: a non-mapping, unknown keys, a non-string text,
    a non-boolean flag, a non-string colour or link.
    """
    if not isinstance(run, Mapping) or not isinstance(run.get("text"), str):
        raise ValueError(f'a rich text run must be {{"text": str, …}}, not {run!r}')
    unknown = set(run) - {"text", *STYLE_KEYS}
    if unknown:
        raise ValueError(f"unknown rich text run keys {sorted(unknown)}: "
                         f"allowed are text, {', '.join(STYLE_KEYS)}")
    for flag in FLAGS:
        if not isinstance(run.get(flag, False), bool):
            raise ValueError(f"rich text {flag} must be true or false, not {run[flag]!r}")
    for key in ("color", "link"):
        if run.get(key) is not None and not isinstance(run[key], str):
            raise ValueError(f"rich text {key} must be a string, not {run[key]!r}")
    return {"text": run["text"], **dict(style(run))}


def normal(value: str | Iterable[Mapping[str, Any]] | None) -> RichText:
    """The normal form of plain text or of runs (see the module docstring).

    Raises `ValueError` for runs of the wrong shape (`check_run`)."""
    if value is None or isinstance(value, str):
        return value or None
    merged: list[dict[str, Any]] = []
    for run in (check_run(r) for r in value):
        if not run["text"]:
            continue
        if merged and style(merged[-1]) == style(run):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + run["text"]}
        else:
            merged.append(run)
    if not any(style(r) for r in merged):
        return "".join(r["text"] for r in merged) or None
    return tuple(merged)


def plain(value: RichText | Iterable[Mapping[str, Any]]) -> str | None:
    """The text of a rich text value without its styles; `None` stays `None`."""
    if value is None or isinstance(value, str):
        return value
    return "".join(r.get("text", "") for r in value) or None


def is_runs(value: Any) -> bool:
    """Whether `value` is a list or tuple of run mappings (not plain text)."""
    return isinstance(value, (list, tuple)) and bool(value) and \
        all(isinstance(r, Mapping) and "text" in r for r in value)
